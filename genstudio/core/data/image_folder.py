"""Any folder of images (searched recursively) as one uint8 tensor, resized and converted with Pillow.

Layout decides the labels: when every image lives in a first-level sub-folder (`cats/x.png`,
`dogs/a/y.jpg`), the sub-folder names are the classes (sorted); otherwise the set is unlabelled.
Files Pillow cannot decode are skipped, counted in the returned report and logged. Hidden files
and folders (names starting with '.') are ignored altogether.

Special files are skipped too, never opened: a FIFO, socket or device (or a link to one) in a
folder of photos is an accident of the file system, not an image, and opening a FIFO would block
forever. Skipping rather than refusing the whole folder follows the rule for undecodable files; the
report counts them as "special files", and a folder of nothing else fails with that count. Files
over image_io.MAX_IMAGE_FILE_BYTES, or whose header declares more than MAX_IMAGE_PIXELS (a
decompression bomb), are skipped as "too large" before anything is decoded.
"""

from __future__ import annotations

import logging
import os
import stat
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.image_io import (
    DECODE_ERRORS,
    MAX_IMAGE_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    ImageTooLarge,
    open_image,
)
from genstudio.core.errors import DataError
from genstudio.core.io.file_checks import printable
from genstudio.core.runtime.memory_budget import budget_bytes, check_memory

log = logging.getLogger(__name__)

NOT_IMAGE = "not images"
UNREADABLE = "unreadable"
SPECIAL = "special files"        # FIFOs, sockets, devices: never opened
TOO_LARGE = "too large"

MAX_SIDE = 1024                  # largest target height or width: far above what any family trains at
# Peak bytes one decode may hold: an RGBA image at the pixel bound, its composite over white and the
# converted copy. Fewer decoding threads run when memory is short, so that they all fit.
_DECODE_PEAK_BYTES = MAX_IMAGE_PIXELS * 4 * 3

_MODES = {1: "L", 3: "RGB"}


@dataclass
class ImageFolderReport:
    """What a folder load found: how many images were loaded, and which files were skipped and why."""

    folder: Path
    loaded: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)   # (file, NOT_IMAGE | UNREADABLE | ...)

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)

    def summary(self) -> str:
        """E.g. '3 files skipped: not images' or '4 files skipped: 3 not images, 1 unreadable'."""
        counts = Counter(reason for _, reason in self.skipped)
        noun = "file" if self.skipped_count == 1 else "files"
        if len(counts) == 1:
            reasons = next(iter(counts))
        else:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))
        return f"{self.skipped_count} {noun} skipped: {reasons}"


def _list_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(every non-hidden file under `folder` in a stable, sorted order, sub-folders that could not be listed)."""
    files, unlisted = [], []

    def failed(exc: OSError) -> None:
        if exc.filename is not None and Path(exc.filename) == folder:
            raise DataError(f"{folder}: cannot list folder ({exc.strerror or type(exc).__name__})")
        unlisted.append(Path(exc.filename) if exc.filename is not None else folder)

    for dirpath, dirnames, filenames in os.walk(folder, onerror=failed):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))   # prune hidden, fix order
        files.extend(Path(dirpath, f) for f in sorted(filenames) if not f.startswith("."))
    return files, unlisted


def _refuse_unopened(path: Path) -> str | None:
    """Why `path` is skipped without opening it (SPECIAL, TOO_LARGE, UNREADABLE), or None to decode it."""
    try:
        info = os.stat(path)                        # follows links: a link to /dev/zero is a device
    except (OSError, ValueError):
        return UNREADABLE                           # a broken link, or gone since the listing
    if not stat.S_ISREG(info.st_mode):
        return SPECIAL
    if info.st_size > MAX_IMAGE_FILE_BYTES:
        return TOO_LARGE
    return None


def _decode(path: Path, height: int, width: int, mode: str) -> np.ndarray:
    """One image as (C, height, width) uint8: upright, alpha over white, centre-cropped to aspect, resized."""
    # JPEG only: decode at a reduced scale no smaller than needed, much faster for photos.
    with open_image(path, draft=(mode, (max(height, width),) * 2)) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            # Plain convert() would expose whatever colour hides under transparent pixels.
            rgba = img.convert("RGBA")
            img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        # fit() crops to the target aspect ratio before resizing, so nothing is stretched.
        img = ImageOps.fit(img.convert(mode), (width, height), Image.Resampling.LANCZOS)
        pixels = np.asarray(img)                                   # (H, W) grey or (H, W, 3) RGB
    return pixels.reshape(height, width, -1).transpose(2, 0, 1)


def load_image_folder(folder: str | Path, size: int | tuple[int, int] = 64,
                      channels: int = 3) -> tuple[InMemoryDataset, ImageFolderReport]:
    """Every readable image under `folder` as (N, channels, H, W) uint8, plus a report of skipped files.

    `size` is an int for square images or (height, width); `channels` is 1 (grey) or 3 (RGB).
    Decoding runs on a small thread pool (Pillow releases the GIL while decoding and resizing).
    """
    folder = Path(folder).expanduser()
    height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if channels not in _MODES:
        raise DataError(f"{folder}: channels must be 1 (grey) or 3 (RGB), got {channels}")
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise DataError(f"{folder}: image size must be 1 to {MAX_SIDE} pixels a side, got {height}×{width}")
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    files, unlisted = _list_files(folder)
    if not files and not unlisted:
        raise DataError(f"{folder}: folder is empty")

    reasons: list[str | None] = [_refuse_unopened(f) for f in files]
    candidates = [i for i, r in enumerate(reasons) if r is None]
    # Workers write straight into the final (N, C, H, W) array: no per-image list to stack later.
    # Its size is known before anything is decoded, so a huge folder or size is refused here.
    check_memory(len(candidates) * channels * height * width,
                 f"{folder}: {len(candidates)} files at {channels}×{height}×{width}", error=DataError)
    data = np.empty((len(candidates), channels, height, width), dtype=np.uint8)
    image_extensions = set(Image.registered_extensions())

    def decode_into(slot: int) -> str | None:
        path = files[candidates[slot]]
        try:
            data[slot] = _decode(path, height, width, _MODES[channels])
            return None
        except ImageTooLarge as e:
            log.debug("%s: skipped, %s", printable(path), printable(str(e)))
            return TOO_LARGE
        except (DataError, *DECODE_ERRORS) as e:
            # DataError here: no pixels, or the file changed into a special one since the listing.
            reason = UNREADABLE if path.suffix.lower() in image_extensions else NOT_IMAGE
            log.debug("%s: skipped, %s (%s)", printable(path), reason, printable(str(e)))
            return reason

    threads = max(1, min(8, os.cpu_count() or 1, budget_bytes() // _DECODE_PEAK_BYTES))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for slot, reason in enumerate(pool.map(decode_into, range(len(candidates)))):
            reasons[candidates[slot]] = reason

    skipped = [(f, r) for f, r in zip(files, reasons) if r is not None] + [(d, UNREADABLE) for d in unlisted]
    report = ImageFolderReport(folder, skipped=skipped)
    ok = np.array([reasons[i] is None for i in candidates], dtype=bool)
    report.loaded = int(ok.sum())
    if report.loaded == 0:
        raise DataError(f"{folder}: no readable images ({report.summary()})")
    if report.skipped:
        log.warning("%s: %s", printable(folder), report.summary())
    if not ok.all():
        data = data[ok]

    loaded = [files[i].relative_to(folder) for i in candidates if reasons[i] is None]
    # Labels and the name are for people (checkpoints, consoles, the window): a non-UTF-8 folder
    # name shows its odd bytes as \xNN rather than as characters nothing can print.
    labels, label_names = None, []
    if all(len(rel.parts) > 1 for rel in loaded):
        classes = [printable(rel.parts[0]) for rel in loaded]
        label_names = sorted(set(classes))
        index = {name: i for i, name in enumerate(label_names)}
        labels = torch.tensor([index[c] for c in classes], dtype=torch.int64)
    elif any(len(rel.parts) > 1 for rel in loaded):
        log.info("%s: images both at the top level and in sub-folders, so the set is unlabelled", printable(folder))

    dataset = InMemoryDataset(name=printable(folder.name), data=torch.from_numpy(data), labels=labels,
                              label_names=label_names, source=str(folder))
    return dataset, report
