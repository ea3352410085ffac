"""Atomic file writes: a crash mid-save leaves the previous file intact, and no litter.

The temporary file is `.NAME.PID.XXXX.tmp` beside the target. A process killed mid-save leaves one
behind; the next write or read of NAME in that folder removes those whose writer is gone.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _default_mode(path: Path) -> int:
    """The replaced file's mode, or 0666 less the umask for a new file."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)            # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True                # exists, but is someone else's
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete temporary files an interrupted write of `path` left in its folder; return them."""
    path = Path(path)
    removed = []
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return removed
    for tmp in candidates:
        parts = tmp.name[len(path.name) + 2:].split(".")
        if parts and parts[0].isdigit() and not _alive(int(parts[0])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None], durable: bool = True) -> Path:
    """`write(tmp)` fills a temporary file in the same folder; it is fsynced, then os.replace'd over
    `path`. Whatever `write` raises (MemoryError included) removes the temporary file and leaves
    `path` as it was. For writers that stream to a file instead of building the bytes in memory.
    `durable=False` skips the fsyncs (tens of ms): a reader still never sees half a file, but a power
    cut may lose the write; for what a run can draw again (its sample grids), never for checkpoints."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.close(fd)
        # mkstemp makes the file private (0600); give it the mode an ordinary open() would.
        os.chmod(tmp, _default_mode(path))
        write(Path(tmp))
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable and hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def write_bytes_atomic(path: str | os.PathLike, payload: bytes, durable: bool = True) -> Path:
    """Write `payload` to a temporary file in the same folder, flush and fsync, then os.replace over
    `path` (`durable`: as for write_atomic)."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(payload), durable)
