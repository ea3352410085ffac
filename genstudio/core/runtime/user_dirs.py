"""The user's per-platform folders for genstudio, from `platformdirs` (Qt-free, so the core and the
command line use the same folders as the app).

| | Linux | macOS | Windows |
|---|---|---|---|
| user_data_dir (runs, logs, data sets) | `$XDG_DATA_HOME/genstudio`, default `~/.local/share/genstudio` | `~/Library/Application Support/genstudio` | `%LOCALAPPDATA%\\genstudio` |
| user_cache_dir (trained feature classifiers) | `$XDG_CACHE_HOME/genstudio`, default `~/.cache/genstudio` | `~/Library/Caches/genstudio` | `%LOCALAPPDATA%\\genstudio\\Cache` |

The data folder is where the app's QStandardPaths.GenericDataLocation/genstudio used to point, on all
three. Both are looked up on every call, so changes to the environment (tests set XDG_CACHE_HOME)
take effect; neither is created here.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "genstudio"


def user_data_dir() -> Path:
    """Per-user data: runs, logs, downloaded data sets."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def user_cache_dir() -> Path:
    """Per-user cache: things that can be rebuilt (trained feature classifiers)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
