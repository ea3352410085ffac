"""Where a result worked out from a checkpoint is kept in the user cache folder, so that opening the
same file again (also after a restart) reads it back instead of computing it once more.

The checkpoint is identified by its resolved path, size and modification time: hashing a large
checkpoint's bytes would cost more than most of what is kept (a 1024 px StyleGAN2 is 120 MB), and a
file trained further or replaced gets a new key. A model folder (diffusers) by those of every file
in it: a folder's own time does not change when a file in it is rewritten. The settings the result
was computed with are part of the key. What is kept is numbers only: one .npz of arrays with a
format version, read with allow_pickle=False. Used by the latent-map cache
(core/explore/latent_map_cache.py) and the principal directions' (core/explore/directions_cache.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path

import numpy as np

from genstudio.core.io.atomic import write_bytes_atomic
from genstudio.core.runtime.user_dirs import user_cache_dir

log = logging.getLogger(__name__)


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
    files = [(name, stat.st_size, stat.st_mtime_ns) for name, stat in stats]
    identity = json.dumps({"checkpoint": str(resolved), "files": files, **settings}, sort_keys=True)
    return user_cache_dir() / folder / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}{suffix}"


def write_arrays(file: Path, version: int, arrays: dict[str, np.ndarray], durable: bool = True) -> Path:
    """`arrays` and the format `version` as one .npz at `file`, written atomically (`durable`: as for
    core/io/atomic.py's write_atomic)."""
    buffer = io.BytesIO()
    np.savez(buffer, version=np.array(version), **arrays)
    return write_bytes_atomic(file, buffer.getvalue(), durable=durable)


def read_arrays(file: Path, version: int, what: str, required: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays kept in `file`, or None when it is missing, of another format version, or
    unreadable or without one of the `required` arrays (said in the log, naming `what` it held):
    the result is then worked out again."""
    try:
        with np.load(file, allow_pickle=False) as saved:
            if int(saved["version"]) != version:
                return None
            arrays = {key: saved[key] for key in saved.files}
        missing = [key for key in required if key not in arrays]
        if missing:
            raise ValueError(f"no {', '.join(missing)}")
        return arrays
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        log.warning("%s: unreadable cached %s (%s); worked out again", file, what, exc)
        return None
