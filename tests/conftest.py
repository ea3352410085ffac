"""Shared fixtures: the real bundled MNIST test set, loaded once per session."""

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Feature classifiers cache under a session folder: trained once per run, never the user's cache."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def mnist():
    from genstudio.core.data.bundled import load_bundled_mnist

    return load_bundled_mnist()
