"""Data sets: loaders for bundled MNIST, torchvision sets, idx and image folders and 2-D toys.

`load_dataset(spec)` is the one entry point; every loader returns an `InMemoryDataset`.
This package is Qt-free (no PySide6, no pyqtgraph).
"""

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.spec import SPEC_HELP, load_dataset

__all__ = ["InMemoryDataset", "load_dataset", "SPEC_HELP"]
