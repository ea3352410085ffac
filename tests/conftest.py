"""Shared fixtures: the real bundled MNIST test set, loaded once per session, and the main window."""

import os

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
