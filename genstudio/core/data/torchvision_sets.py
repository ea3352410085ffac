"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision.datasets, converted to an InMemoryDataset.

torchvision decides the on-disk layout; this module only checks for the files first, so that an
offline user is told exactly which files to put where instead of torchvision's generic
"Dataset not found". Nothing is downloaded unless `download=True`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.idx import read_idx
from genstudio.core.errors import DataError
from genstudio.core.io.file_checks import check_readable_file
from genstudio.core.runtime.user_dirs import user_data_dir


def default_root() -> Path:
    """Where torchvision data sets live unless a ROOT is given: `datasets` in the user data folder
    (~/.local/share/genstudio/datasets on Linux, ~/Library/Application Support/genstudio/datasets on
    macOS, %LOCALAPPDATA%\\genstudio\\datasets on Windows)."""
    return user_data_dir() / "datasets"


# genstudio name -> torchvision class name.
TORCHVISION_SETS = {"mnist": "MNIST", "fashionmnist": "FashionMNIST", "cifar10": "CIFAR10"}


def canonical_torchvision_name(name: str) -> str:
    """'Fashion-MNIST', 'fashion_mnist', 'CIFAR-10' -> the keys of TORCHVISION_SETS."""
    key = name.lower().replace("-", "").replace("_", "")
    if key not in TORCHVISION_SETS:
        raise DataError(f"unknown torchvision data set {name!r} (expected one of {', '.join(TORCHVISION_SETS)})")
    return key


def _is_idx_set(cls: type) -> bool:
    """MNIST-family classes read idx files; CIFAR reads pickled batches."""
    return not hasattr(cls, "base_folder")


def _expected_files(cls: type, root: Path) -> tuple[Path, list[str], str]:
    """(folder torchvision reads, file names it needs there, how to get them there by hand)."""
    if not _is_idx_set(cls):
        # CIFAR: the pickled batches unpacked from the tarball, all checked by md5 even for one split.
        names = [name for name, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
        return root / cls.base_folder, names, f"extract {cls.filename} into {root}"
    # MNIST family: torchvision needs all four *unpacked* idx files, whichever split is asked for.
    names = [os.path.splitext(name)[0] for name, _ in cls.resources]
    return root / cls.__name__ / "raw", names, "gunzipped, not the .gz downloads"


def load_torchvision(name: str, root: str | Path | None = None, train: bool = True,
                     download: bool = False) -> InMemoryDataset:
    """A torchvision data set as images (N, C, H, W) uint8 with int64 labels named by its `classes`.

    MNIST/Fashion-MNIST give (N, 1, 28, 28), CIFAR-10 (N, 3, 32, 32). `root` defaults to
    `default_root()`. `download=True` lets torchvision fetch missing files into `root` (needs a
    network connection).
    """
    from torchvision import datasets  # deferred: importing torchvision costs about a second

    key = canonical_torchvision_name(name)
    cls = getattr(datasets, TORCHVISION_SETS[key])
    root = Path(root).expanduser() if root is not None else default_root()
    folder, needed, by_hand = _expected_files(cls, root)
    # Present but not a regular file (a FIFO, a device, a folder): say so, rather than "missing",
    # and never let torchvision open it (a FIFO blocks the open forever).
    for name in needed:
        if os.path.lexists(folder / name):
            check_readable_file(folder / name, f"{cls.__name__} file", error=DataError)
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing and not download:
        raise DataError(f"{cls.__name__} not found: {folder}{os.sep} lacks {', '.join(missing)}; "
                        f"put them there ({by_hand}), or use --download to fetch them when online")
    try:
        ds = cls(str(root), train=train, download=download)
    except Exception as e:
        # torchvision checks file contents with asserts and lookups as well as exceptions, so any
        # failure here is about the user's files or network. For idx files our reader says which
        # file is wrong and how; otherwise fold torchvision's multi-line message (a line per mirror
        # tried) into one.
        if _is_idx_set(cls):
            for path in (folder / n for n in needed):
                if path.is_file():
                    read_idx(path)
        reason = " ".join(str(e).split()) or type(e).__name__
        if download:
            raise DataError(f"{folder}: could not download or read {cls.__name__} ({reason}); without a connection, "
                            f"put {', '.join(needed)} there by hand ({by_hand})") from e
        raise DataError(f"{folder}: could not read {cls.__name__} ({reason}); it needs {', '.join(needed)} "
                        f"there ({by_hand}), and --download fetches them when online") from e

    data = torch.as_tensor(ds.data)                                # MNIST: a tensor; CIFAR: a numpy array
    if data.ndim == 3:
        data = data.unsqueeze(1)                                   # MNIST (N, 28, 28) -> (N, 1, 28, 28)
    else:
        data = data.permute(0, 3, 1, 2).contiguous()               # CIFAR (N, 32, 32, 3) HWC -> (N, 3, 32, 32)
    return InMemoryDataset(
        name=key,
        data=data,
        labels=torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64),
        label_names=list(ds.classes),
        source=str(folder),
    )
