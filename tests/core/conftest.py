"""Fixtures shared by the diagnostics tests: the MNIST feature classifier and two halves of MNIST."""

import pytest
import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.metrics.classifier import default_cache_dir, load_or_train_classifier


@pytest.fixture(scope="session")
def cache():
    """The session's classifier cache (tests/conftest.py points XDG_CACHE_HOME at a temporary folder),
    so the MNIST classifier trains once for the core and UI tests together."""
    return default_cache_dir()


# Half the app's recipe (classifier.TRAIN_STEPS = 1200): the one-cycle schedule still reaches
# 98.9 % held out on MNIST (measured: 600 steps 0.9895 in 6 s, 1200 steps 0.992 in 12 s on two idle
# cores; 300 steps reach 0.9855 but blur then no longer lowers coverage enough for test_verdict).
# Cached in the session's folder, so every later user of MNIST's classifier (prepare_live, the UI's
# live diagnostics) loads this one instead of training again.
SESSION_CLASSIFIER_STEPS = 600


@pytest.fixture(scope="session")
def space(mnist, cache):
    return load_or_train_classifier(mnist, cache, steps=SESSION_CLASSIFIER_STEPS)


@pytest.fixture(scope="session")
def halves(mnist):
    """Two disjoint random halves of the MNIST test set as data sets."""
    perm = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(1))
    a, b = perm[:5000], perm[5000:]

    def subset(name, index):
        return InMemoryDataset(name, mnist.data[index], mnist.labels[index], list(mnist.label_names))

    return subset("mnist-a", a), subset("mnist-b", b)


