"""Shared fixtures: the real bundled MNIST test set, loaded once per session, the main window, and a small trained PixelCNN."""

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")     # Qt tests need no display

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


@pytest.fixture
def window(qtbot, tmp_path):
    """A real MainWindow with its settings in a temporary file."""
    from PySide6.QtCore import QSettings

    from genstudio.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    if win.isVisible():
        win.close()


@pytest.fixture(scope="session")
def pixelcnn(mnist, tmp_path_factory) -> Path:
    """A small PixelCNN checkpoint trained 2 real steps (2 gated layers of 8 maps: rows draw in
    milliseconds, so a test can watch, count or cancel them)."""
    from genstudio.core.training.engine import TrainConfig, Trainer

    config = TrainConfig(family="autoregressive", preset="digits", steps=2, batch_size=8, sample_every_s=0, n_samples=2,
                         eval_batch=8, device="cpu", out_dir=str(tmp_path_factory.mktemp("pixelcnn")), seed=3,
                         model={"width": 8, "layers": 2, "head": 8})
    return Path(list(Trainer(config, dataset=mnist).run())[-1].path)
