"""Where the app keeps things of the user's: runs, logs, settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def data_folder() -> Path:
    """The per-user data folder: ~/.local/share/genstudio, ~/Library/Application Support/genstudio,
    or %LOCALAPPDATA%/genstudio."""
    location = QStandardPaths.writableLocation(QStandardPaths.GenericDataLocation)
    return (Path(location) if location else Path.home()) / "genstudio"


def runs_folder() -> Path:
    return data_folder() / "runs"
