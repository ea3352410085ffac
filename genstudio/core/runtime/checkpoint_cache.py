"""Where a result worked out from a checkpoint is kept in the user cache folder, so that opening the
same file again (also after a restart) reads it back instead of computing it once more.

The checkpoint is identified by its resolved path, size and modification time: hashing a large
checkpoint's bytes would cost more than most of what is kept (a 1024 px StyleGAN2 is 120 MB), and a
file trained further or replaced gets a new key. A model folder (diffusers) by those of every file
in it: a folder's own time does not change when a file in it is rewritten. The settings the result was computed with are part
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
        resolved = path.resolve()
        files = sorted(p for p in resolved.rglob("*") if p.is_file()) if resolved.is_dir() else [resolved]
        stats = [(str(file.relative_to(resolved.parent)), file.stat()) for file in files]
    except (OSError, ValueError):
        return None
    if not stats:
        return None
    identity = json.dumps({"checkpoint": str(resolved), "files": [(name, s.st_size, s.st_mtime_ns) for name, s in stats],
                           **settings}, sort_keys=True)
    return user_cache_dir() / folder / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}{suffix}"
