"""Read idx files (the format MNIST, Fashion-MNIST, KMNIST ship in) and MNIST-layout folders.

An idx file is a header, then the payload as one big-endian array:
    bytes 0-1  zero
    byte  2    dtype code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)
    byte  3    number of dimensions D
    4·D bytes  each dimension as a big-endian uint32
Files may be gzip-compressed; that is decided from the gzip magic bytes, never from the name.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"

# dtype code -> big-endian numpy dtype of the payload.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

SPLIT_PREFIXES = {"train": "train", "test": "t10k"}
SPLITS = ("all", "train", "test")


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in one idx file (gzip or raw), in native byte order and writable.

    Raises DataError naming the file for a missing or unreadable file, a foreign file (bad magic),
    an unknown dtype code, a header cut short, or a payload whose length disagrees with the header.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read idx file ({e.strerror or e})") from e
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except EOFError as e:
            raise DataError(f"{path}: truncated gzip stream (the download was probably cut short)") from e
        except (OSError, zlib.error) as e:
            raise DataError(f"{path}: corrupt gzip data ({e})") from e

    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an idx file (magic bytes {raw[:4].hex(' ') or 'none'}, expected 00 00 then dtype and rank)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise DataError(f"{path}: not an idx file (unknown dtype code 0x{code:02x})")
    if ndim == 0:
        raise DataError(f"{path}: not an idx file (header declares 0 dimensions)")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{path}: truncated idx file: header declares {ndim} dimensions but the file has {len(raw)} bytes")

    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_len
    if found != expected:
        what = "truncated idx file" if found < expected else "idx file longer than its header says"
        shape = "×".join(str(d) for d in dims)
        unit = "bytes" if dtype.itemsize == 1 else f"{dtype.name} values ({expected} bytes)"
        raise DataError(f"{path}: {what}: header says {shape} {unit}, found {found} bytes")

    array = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(dims)
    # astype copies: native byte order for torch, and a writable array (frombuffer's is read-only).
    return array.astype(dtype.newbyteorder("="))


def idx_file_names(split: str) -> tuple[str, str]:
    """(images, labels) base names of one split, e.g. ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')."""
    prefix = SPLIT_PREFIXES[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find(folder: Path, base: str) -> Path | None:
    """`base` or `base.gz` in `folder`; the content decides how it is read, the name only finds it."""
    for name in (base, base + ".gz"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def has_idx_files(folder: str | Path) -> bool:
    """True when `folder` holds any MNIST-layout idx file (either split, images or labels)."""
    folder = Path(folder)
    return any(_find(folder, base) is not None for split in SPLIT_PREFIXES for base in idx_file_names(split))


def _read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(images (N, H, W) uint8, labels (N,) uint8) of one split, or None when neither file is there."""
    image_base, label_base = idx_file_names(split)
    image_path, label_path = _find(folder, image_base), _find(folder, label_base)
    if image_path is None and label_path is None:
        return None
    if image_path is None or label_path is None:
        present, missing = (label_path, image_base) if image_path is None else (image_path, label_base)
        raise DataError(f"{present}: found without its partner {folder / missing}[.gz]")

    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{image_path}: expected uint8 images (N, H, W), header says {images.dtype.name} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{label_path}: expected uint8 labels (N,), header says {labels.dtype.name} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{image_path} has {len(images)} images but {label_path} has {len(labels)} labels")
    return images, labels


def load_idx_folder(folder: str | Path, split: str = "all", name: str | None = None) -> InMemoryDataset:
    """An MNIST-layout folder as images (N, 1, H, W) uint8 with int64 labels named "0".."9".

    The folder holds `train-images-idx3-ubyte[.gz]` + `train-labels-idx1-ubyte[.gz]` and/or the
    `t10k-` pair. split='all' takes every pair present (train first), 'train' or 'test' exactly one.
    """
    folder = Path(folder).expanduser()
    if split not in SPLITS:
        raise DataError(f"{folder}: unknown split {split!r} (expected one of {', '.join(SPLITS)})")
    wanted = list(SPLIT_PREFIXES) if split == "all" else [split]
    looked_for = ", ".join(f"{base}[.gz]" for s in wanted for base in idx_file_names(s))
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (looked for {looked_for})")

    parts = [part for part in (_read_split(folder, s) for s in wanted) if part is not None]
    if not parts:
        raise DataError(f"{folder}: no idx files (looked for {looked_for})")
    if len({images.shape[1:] for images, _ in parts}) > 1:
        shapes = " vs ".join("×".join(map(str, images.shape[1:])) for images, _ in parts)
        raise DataError(f"{folder}: train and test images differ in size ({shapes})")

    images = np.concatenate([images for images, _ in parts])       # (N, H, W) uint8
    labels = np.concatenate([labels for _, labels in parts])       # (N,) uint8
    # Digits need "0".."9"; a set with more classes (EMNIST letters) still gets a name per label.
    num_classes = max(10, int(labels.max(initial=0)) + 1)
    return InMemoryDataset(
        name=name or folder.name,
        data=torch.from_numpy(images).unsqueeze(1),                # (N, 1, H, W)
        labels=torch.from_numpy(labels.astype(np.int64)),
        label_names=[str(i) for i in range(num_classes)],
        source=str(folder),
    )
