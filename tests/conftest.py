"""Shared fixtures: the real bundled MNIST test set, loaded once per session, the main window, and a small trained PixelCNN."""

import os
import threading
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


@pytest.fixture(autouse=True)
def signals_awaited_from_the_gui_thread(monkeypatch):
    """Fails a test whose qtbot.waitSignal awaits a signal of an object living in another thread (a
    training or task worker). pytest-qt's slot is a plain method, which PySide runs in the emitting
    thread: there it stops the wait's timeout timer (Qt refuses, across threads, but the timer forgets
    its id) and quits a loop that may not have started, so an emit just before the wait leaves the test
    waiting for ever. That hung CI in test_train_live_pause_resume_stop. Await the GUI side instead: a
    panel's own signal or what its slot changed (qtbot.waitUntil)."""
    from pytestqt.wait_signal import SignalBlocker

    threads: list[str] = []
    quit_by_signal = SignalBlocker._quit_loop_by_signal

    def checked(self, *args):
        if threading.current_thread() is not threading.main_thread():
            threads.append(threading.current_thread().name)
        return quit_by_signal(self, *args)

    monkeypatch.setattr(SignalBlocker, "_quit_loop_by_signal", checked)
    yield
    assert not threads, f"qtbot.waitSignal got a signal in thread {threads[0]!r}, not the GUI thread: await a " \
                        "signal of an object living in the GUI thread (see signals_awaited_from_the_gui_thread)"


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
