"""The MNIST test set shipped with genstudio: real data that works offline, the app's default."""

from __future__ import annotations

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.idx import load_idx_folder
from genstudio.core.runtime.resources import resource_path


def load_bundled_mnist() -> InMemoryDataset:
    """The 10,000 MNIST test digits from `resources/data/mnist/`: (10000, 1, 28, 28) uint8, labels 0..9."""
    dataset = load_idx_folder(resource_path("data", "mnist"), split="test", name="mnist")
    # The keyword, not the path: a checkpoint that names it must find it from any install or bundle.
    dataset.source = "mnist"
    return dataset
