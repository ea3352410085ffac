"""Where the app keeps things of the user's: runs, logs, settings."""

from __future__ import annotations

from pathlib import Path

from genstudio.core.runtime.user_dirs import user_data_dir


def data_folder() -> Path:
    """The per-user data folder (genstudio.core.runtime.user_dirs, the same one the core and the command
    line use): ~/.local/share/genstudio, ~/Library/Application Support/genstudio, or
    %LOCALAPPDATA%/genstudio."""
    return user_data_dir()


def runs_folder() -> Path:
    return data_folder() / "runs"
