"""Any folder of images (searched recursively) as one uint8 tensor, resized and converted with Pillow.

Layout decides the labels: when every image lives in a first-level sub-folder (`cats/x.png`,
`dogs/a/y.jpg`), the sub-folder names are the classes (sorted); otherwise the set is unlabelled.
Files Pillow cannot decode are skipped, counted in the returned report and logged. Hidden files
and folders (names starting with '.') are ignored altogether.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.errors import DataError

log = logging.getLogger(__name__)

NOT_IMAGE = "not images"
UNREADABLE = "unreadable"

_MODES = {1: "L", 3: "RGB"}


@dataclass
class ImageFolderReport:
    """What a folder load found: how many images were loaded, and which files were skipped and why."""

    folder: Path
    loaded: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)   # (file, NOT_IMAGE | UNREADABLE)

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


def _list_files(folder: Path) -> list[Path]:
    """Every non-hidden file under `folder`, in a stable (sorted) order."""
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))   # prune hidden, fix order
        files.extend(Path(dirpath, f) for f in sorted(filenames) if not f.startswith("."))
    return files


def _decode(path: Path, height: int, width: int, mode: str) -> np.ndarray:
    """One image as (C, height, width) uint8: upright, alpha over white, centre-cropped to aspect, resized."""
    with Image.open(path) as img:
        # JPEG only: decode at a reduced scale no smaller than needed, much faster for photos.
        img.draft(mode, (max(height, width),) * 2)
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
    if height < 1 or width < 1:
        raise DataError(f"{folder}: image size must be positive, got {height}×{width}")
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    files = _list_files(folder)
    if not files:
        raise DataError(f"{folder}: folder is empty")

    # Workers write straight into the final (N, C, H, W) array: no per-image list to stack later.
    data = np.empty((len(files), channels, height, width), dtype=np.uint8)
    image_extensions = set(Image.registered_extensions())

    def decode_into(i: int) -> str | None:
        try:
            data[i] = _decode(files[i], height, width, _MODES[channels])
            return None
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
            reason = UNREADABLE if files[i].suffix.lower() in image_extensions else NOT_IMAGE
            log.debug("%s: skipped, %s (%s)", files[i], reason, e)
            return reason

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        reasons = list(pool.map(decode_into, range(len(files))))

    report = ImageFolderReport(folder, skipped=[(f, r) for f, r in zip(files, reasons) if r is not None])
    ok = np.array([r is None for r in reasons])
    report.loaded = int(ok.sum())
    if report.skipped:
        log.warning("%s: %s", folder, report.summary())
    if report.loaded == 0:
        raise DataError(f"{folder}: no readable images ({report.summary()})")
    if not ok.all():
        data = data[ok]

    loaded = [f.relative_to(folder) for f, good in zip(files, ok) if good]
    labels, label_names = None, []
    if all(len(rel.parts) > 1 for rel in loaded):
        classes = [rel.parts[0] for rel in loaded]
        label_names = sorted(set(classes))
        index = {name: i for i, name in enumerate(label_names)}
        labels = torch.tensor([index[c] for c in classes], dtype=torch.int64)
    elif any(len(rel.parts) > 1 for rel in loaded):
        log.info("%s: images both at the top level and in sub-folders, so the set is unlabelled", folder)

    dataset = InMemoryDataset(name=folder.name, data=torch.from_numpy(data), labels=labels,
                              label_names=label_names, source=str(folder))
    return dataset, report
