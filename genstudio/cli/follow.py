"""`genstudio follow DIR [DIR ...]`: open the app with these run folders followed in its Runs tab.

A DIR is a run folder (docs/run-folder.md: a training run's run.json and metrics.jsonl) or a folder
of them (`runs/`, every run in it followed). Only the folders' existence is checked here, before any
window opens; the app says in its status bar which folders hold no run. Nothing here imports torch:
the start-up shell shows first, as for `genstudio` alone (ui/app.py)."""

from __future__ import annotations

from pathlib import Path

from genstudio.core.errors import GenStudioError
from genstudio.core.io.file_checks import printable

NAME = "follow"


def add_parser(sub) -> None:
    follow = sub.add_parser(NAME, help="open the app following training runs by their run folders",
                            description="Open the desktop app with these run folders (or folders of runs) "
                                        "followed in its Runs tab: live curves, the newest sample grid and "
                                        "checkpoint of runs training elsewhere (a server, another terminal).")
    follow.add_argument("folders", nargs="+", type=Path, metavar="DIR",
                        help="a run folder (it holds run.json and metrics.jsonl), or a folder of them")


def run(args) -> int:
    for folder in args.folders:
        if not folder.is_dir():
            reason = "not a folder" if folder.exists() else "no such folder"
            raise GenStudioError(f"{printable(str(folder))}: {reason}")
    from genstudio.ui.app import run_app  # Qt is imported only for the app

    return run_app(started=getattr(args, "started", None), follow=[folder.resolve() for folder in args.folders])
