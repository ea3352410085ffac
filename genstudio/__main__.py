"""`python -m genstudio` is the same as the `genstudio` command."""

from genstudio.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
