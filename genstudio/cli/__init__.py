"""The `genstudio` command: one module per subcommand; no subcommand opens the app.

Each command module has `add_parser(subparsers)` and `run(args) -> exit code`. Bad input raises a
GenStudioError whose one line is printed as `genstudio: error: ...` with exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from genstudio.cli import bench, diagnose, info, presets, sample, train
from genstudio.core.errors import GenStudioError

EPILOG = "Run 'genstudio COMMAND --help' for a command's options."
COMMANDS = {module.NAME: module for module in (train, info, sample, diagnose, presets, bench)}


def build_parser() -> argparse.ArgumentParser:
    from genstudio.core import registry

    labels = ", ".join(f.label + "s" if not f.label.endswith("s") else f.label for f in registry.families())
    parser = argparse.ArgumentParser(prog="genstudio", epilog=EPILOG,
                                     description=f"Train, load and explore generative models ({labels}). "
                                                 "Without a command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"genstudio {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("--smoke-test", action="store_true",
                        help="build the window, open a demo checkpoint, render an image and exit 0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
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


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    _ensure_stdio()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        from genstudio.ui.app import run_app  # Qt is imported only for the app

        return run_app(smoke=args.smoke_test, started=started)
    try:
        return COMMANDS[args.command].run(args)
    except GenStudioError as exc:
        print(f"genstudio: error: {exc}", file=sys.stderr)
        return 1
