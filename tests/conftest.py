"""Shared fixtures: the real bundled MNIST test set, loaded once per session."""

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def mnist():
    from genstudio.core.data.bundled import load_bundled_mnist

    return load_bundled_mnist()
