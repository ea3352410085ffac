"""SIGTERM (or Ctrl+C's SIGINT) to the running app closes it as the window's close button does:
the training run stops and saves its checkpoint, the threads join, the process ends, within 2 s."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from genstudio.core.io.checkpoints import read_card

APP_WITH_A_RUN = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from genstudio.ui import app, main_window

    opened = main_window.MainWindow.open_default

    def open_and_train(window):
        # The real start-up (app.run_app), plus a training run started as the Train tab starts one.
        opened(window)
        panel = window.train
        panel.family.setCurrentIndex(panel.family.findData("gan"))
        panel.data.setEditText("mnist")
        panel.preset.setCurrentIndex(panel.preset.findText("mlp"))
        panel.steps.setValue(1_000_000)
        panel.device.setCurrentText("cpu")
        panel.out_dir.setText(sys.argv[1])
        panel.start()
        poll = QTimer(window)
        poll.timeout.connect(lambda: panel.last_report and panel.last_report.step >= 20
                             and (print("training", panel.last_report.step, flush=True), poll.stop()))
        poll.start(50)

    main_window.MainWindow.open_default = open_and_train
    sys.exit(app.run_app())
""")


def _wait_for_line(stream, prefix: str, timeout_s: float) -> str:
    """The first line of `stream` that starts with `prefix`, read in a thread so a silent child cannot hang the test."""
    found: list[str] = []

    def read():
        for line in stream:
            if line.startswith(prefix):
                found.append(line)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout_s)
    if not found:
        raise AssertionError(f"the app never printed {prefix!r} within {timeout_s:.0f} s")
    return found[0]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is not delivered to a Windows process")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_training_saves_and_quits(tmp_path, signum):
    out = tmp_path / "run"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-c", APP_WITH_A_RUN, str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        _wait_for_line(child.stdout, "training", 180)
        assert not (out / "checkpoint.safetensors").exists()
        sent = time.perf_counter()
        child.send_signal(signum)
        child.wait(timeout=10)
        took = time.perf_counter() - sent
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, child.stderr.read()
    assert took < 2.0, f"the app took {took:.2f} s to stop, save and quit"
    card = read_card(out / "checkpoint.safetensors")
    assert card.family == "gan" and card.step >= 20
