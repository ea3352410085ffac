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
import math
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.errors import DataError
from genstudio.core.io.file_checks import open_regular_file
from genstudio.core.runtime.memory_budget import check_memory

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

    Raises DataError naming the file for a missing or unreadable file (FIFOs and devices are refused
    before anything is opened), a foreign file (bad magic), an unknown dtype code, a header cut
    short, a payload whose length disagrees with the header, or a header asking for more memory than
    this process has. Sizes are multiplied as Python ints (numpy's int64 product of four large
    dimensions wraps around, to 0 for 2^22 x 2^21 x 2^21), and a gzip stream is decompressed only as
    far as the header says, so neither a lying header nor a gzip bomb can exhaust memory.
    """
    path = Path(path)
    with open_regular_file(path, "idx file", error=DataError) as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            compressed = handle.read(2) == _GZIP_MAGIC
            handle.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                    return _parse(path, stream, None)
            return _parse(path, handle, size)
        except EOFError as e:
            raise DataError(f"{path}: truncated gzip stream (the download was probably cut short)") from e
        except (gzip.BadGzipFile, zlib.error) as e:
            raise DataError(f"{path}: corrupt gzip data ({e})") from e
        except OSError as e:
            raise DataError(f"{path}: cannot read idx file ({e.strerror or e})") from e


def _parse(path: Path, stream, size: int | None) -> np.ndarray:
    """Header and payload from `stream` (decompressed already); `size` is the file's length when raw."""
    head = stream.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataError(f"{path}: not an idx file (magic bytes {head.hex(' ') or 'none'}, expected 00 00 then dtype and rank)")
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        raise DataError(f"{path}: not an idx file (unknown dtype code 0x{code:02x})")
    if ndim == 0:
        raise DataError(f"{path}: not an idx file (header declares 0 dimensions)")
    dim_bytes = stream.read(4 * ndim)
    if len(dim_bytes) < 4 * ndim:
        raise DataError(f"{path}: truncated idx file: header declares {ndim} dimensions but the file has "
                        f"{4 + len(dim_bytes)} bytes")

    dims = tuple(int.from_bytes(dim_bytes[4 * i:4 * i + 4], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize             # a Python int: never wraps around
    shape = "×".join(str(d) for d in dims)
    unit = "bytes" if dtype.itemsize == 1 else f"{dtype.name} values ({expected} bytes)"

    def mismatch(found: int, more: bool = False) -> DataError:
        what = "truncated idx file" if found < expected else "idx file longer than its header says"
        return DataError(f"{path}: {what}: header says {shape} {unit}, found {'more than ' if more else ''}{found} bytes")

    if size is not None and size - 4 - 4 * ndim != expected:
        raise mismatch(size - 4 - 4 * ndim)                 # raw file: decided from its length, nothing read
    check_memory(expected, f"{path}: an idx array of {shape} {dtype.name}", error=DataError)
    payload = stream.read(expected + 1)                      # one byte more tells a longer stream apart
    if len(payload) != expected:
        raise mismatch(len(payload) if len(payload) < expected else expected, more=len(payload) > expected)

    array = np.frombuffer(payload, dtype=dtype).reshape(dims)
    # astype copies: native byte order for torch, and a writable array (frombuffer's is read-only).
    return array.astype(dtype.newbyteorder("="))


def idx_file_names(split: str) -> tuple[str, str]:
    """(images, labels) base names of one split, e.g. ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')."""
    prefix = SPLIT_PREFIXES[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find(folder: Path, base: str) -> Path | None:
    """`base` or `base.gz` in `folder`; the content decides how it is read, the name only finds it.

    Anything by that name counts, a FIFO or a broken link too: read_idx then says what is wrong
    with it, where skipping it would report the file as absent."""
    for name in (base, base + ".gz"):
        candidate = folder / name
        if os.path.lexists(candidate):
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
    # Well-formed idx files, but nothing a model can learn from (and a 0x0 image breaks every model).
    if len(images) == 0:
        raise DataError(f"{image_path}: holds no images (its header says 0 of them)")
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise DataError(f"{image_path}: images of {images.shape[1]}×{images.shape[2]} pixels hold no pixels")
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
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: not a folder (idx: names a folder holding {looked_for})")
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
