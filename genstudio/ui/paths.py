"""Where the app keeps things of the user's: runs, logs, settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def data_folder() -> Path:
    """The per-user data folder (e.g. ~/.local/share/genstudio on Linux)."""
    location = QStandardPaths.writableLocation(QStandardPaths.AppLocalDataLocation)
    folder = Path(location) if location else Path.home() / ".genstudio"
    if folder.name.lower() != "genstudio":
        folder = folder / "genstudio"
    return folder


def runs_folder() -> Path:
    return data_folder() / "runs"
