"""Where a result worked out from a checkpoint is kept in the user cache folder, so that opening the
same file again (also after a restart) reads it back instead of computing it once more.

The checkpoint is identified by its resolved path, size and modification time: hashing a large
checkpoint's bytes would cost more than most of what is kept (a 1024 px StyleGAN2 is 120 MB), and a
file trained further or replaced gets a new key. The settings the result was computed with are part
of the key. Used by the latent-map cache (core/explore/latent_map_cache.py) and the principal
directions' (core/explore/directions_cache.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from genstudio.core.runtime.user_dirs import user_cache_dir


def checkpoint_cache_file(folder: str, checkpoint: str | Path, suffix: str, settings: dict) -> Path | None:
    """`user_cache_dir()/folder/<key><suffix>` for `checkpoint` and `settings` (JSON-able: numbers,
    strings, lists); None when the checkpoint is not a file or folder on disk (a live training
    snapshot has nothing stable to key on)."""
    path = Path(checkpoint)
    try:
        stat = path.stat()
        resolved = str(path.resolve())
    except OSError:
        return None
    identity = json.dumps({"checkpoint": resolved, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                           **settings}, sort_keys=True)
    return user_cache_dir() / folder / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}{suffix}"
