"""Where the app keeps things of the user's: runs, logs, settings, the last picture shown."""

from __future__ import annotations

from pathlib import Path

from genstudio.core.runtime.user_dirs import user_cache_dir, user_data_dir


def data_folder() -> Path:
    """The per-user data folder (genstudio.core.runtime.user_dirs, the same one the core and the command
    line use): ~/.local/share/genstudio, ~/Library/Application Support/genstudio, or
    %LOCALAPPDATA%/genstudio."""
    return user_data_dir()


def runs_folder() -> Path:
    return data_folder() / "runs"



def last_picture_file() -> Path:
    """The explorer's last image, kept as a small PNG so that the next start shows it before the model
    engine has loaded (ui/last_picture.py). In the per-user cache folder (genstudio.core.runtime.user_dirs):
    it is rebuilt whenever an image lands."""
    return user_cache_dir() / "last-picture.png"
