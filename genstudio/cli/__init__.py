"""The `genstudio` command: one module per subcommand; no subcommand opens the app.

Each command module has `add_parser(subparsers)` and `run(args) -> exit code`. Bad input (a file,
a header, a data folder, an argument) raises a GenStudioError whose one line is printed as
`genstudio: error: ...` with exit code 2, the code argparse itself uses for a bad argument. An
OSError about a named file (an --out in a missing folder, a full disk) is printed the same way.
Anything else is a bug and keeps its traceback. Exit codes: 0 done, 2 bad input, 3 training
diverged (train), 130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import sys
import time

from genstudio.cli import (
    bench,
    convert,
    diagnose,
    follow,
    info,
    presets,
    sample,
    train,
    translate,
)
from genstudio.core.errors import GenStudioError
from genstudio.core.io.file_checks import printable

EPILOG = "Run 'genstudio COMMAND --help' for a command's options."
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
APP_OPTIONS = {"-v", "--verbose", "--smoke-test"}   # all that `genstudio` takes without a command
COMMANDS = {module.NAME: module for module in (train, info, sample, translate, convert, diagnose, presets, bench,
                                                follow)}
# Commands that open the app: parsed without the registry (it imports torch), so that the start-up
# shell shows at once (ui/app.py), as for `genstudio` alone.
APP_COMMANDS = {follow.NAME}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument prints one line (with a pointer to --help), not the whole usage.

    The usage of `genstudio train` runs to a dozen lines, which buried the one that says what was
    wrong; every other bad input gets one line too. Subcommand parsers inherit the class."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A value that starts with a minus and a digit is a value, not an option: argparse's own
        # rule (before Python 3.13) reads only '-1' or '-0.5' so, and the README's
        # `--output-range -1,1` ended in "expected one argument". No genstudio option looks like it.
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {printable(message)} (see '{self.prog} --help')\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, that command's parser alone and no family names in the
    description (nothing that imports torch)."""
    if only is None:
        from genstudio.core import registry

        labels = ", ".join(f.label + "s" if not f.label.endswith("s") else f.label for f in registry.families())
        models = f" ({labels})"
    else:
        models = ""
    parser = OneLineParser(prog="genstudio", epilog=EPILOG,
                                     description=f"Train, load and explore generative models{models}. "
                                                 "Without a command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"genstudio {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("--smoke-test", action="store_true",
                        help="build the window, open a demo checkpoint, render an image and exit 0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values() if only is None else [COMMANDS[only]]:
        module.add_parser(sub)
    return parser


def _version() -> str:
    from genstudio import __version__
    return __version__


def _ensure_stdio() -> None:
    """A windowed (frozen) app on Windows or macOS starts with sys.stdout/sys.stderr = None."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def _tolerate_unprintable() -> None:
    """Print what the console cannot encode as escapes instead of dying with UnicodeEncodeError.

    File names need not be UTF-8 and a checkpoint's label names may hold any character, while the
    console may be strict UTF-8 or even ASCII (LANG=C): a message about such a file, a logged
    warning or `genstudio info` output would otherwise end in a traceback of its own.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _error(message: str) -> None:
    """The one line: newlines folded (a message quoting a multi-line reason), odd bytes escaped."""
    print(f"genstudio: error: {printable(' '.join(message.splitlines()))}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    _ensure_stdio()
    _tolerate_unprintable()
    given = sys.argv[1:] if argv is None else argv
    if set(given) <= APP_OPTIONS:
        # No command: the app, whose window shows before torch is imported (ui/app.py); the parser
        # would import it first (its description lists the registry's families).
        args = argparse.Namespace(command=None, verbose=bool({"-v", "--verbose"} & set(given)),
                                  smoke_test="--smoke-test" in given)
    else:
        command = next((word for word in given if not word.startswith("-")), None)
        args = build_parser(command if command in APP_COMMANDS else None).parse_args(argv)
        args.started = started          # an app command times its start-up from here
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        from genstudio.ui.app import run_app  # Qt is imported only for the app

        return run_app(smoke=args.smoke_test, started=started)
    # Libraries' warnings (Pillow, torch, diffusers) go to the log, shown with -v: printed raw, they
    # came before the one-line error and buried it. diffusers logs to a stderr handler of its own, at
    # the level this variable names when it is first imported (later, lazily, by the folder reader).
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.INFO if args.verbose else logging.ERROR)
    if not args.verbose:
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    try:
        return COMMANDS[args.command].run(args)
    except GenStudioError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    except OSError as exc:
        # Only an error about a named file is the input's: a missing --out folder, a read-only or
        # full disk. One without a file name is the system's or a bug's, and keeps its traceback.
        if exc.filename is None:
            raise
        _error(f"{exc.filename}: {exc.strerror or type(exc).__name__}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        # train stops cleanly on Ctrl-C by itself; elsewhere (loading, diagnose) stop without a traceback.
        print("genstudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
