"""Stop and cancel that answer at once, through the real widgets: Stop ends a diffusion run in the
middle of a train step, and a PixelCNN run in the middle of its held-out evaluation, within about a
second, saving the last finished step; the panel says "Stopping…" on the click. Escape cancels a
PixelCNN decode in the explorer: the image stops changing and the model draws no further row."""

import re
import threading
import time

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.requests.render_requests import Decode
from genstudio.core.training.engine import TrainConfig

# Generous for a loaded CI machine: 0.1-0.3 s on 2 quiet cores (genstudio bench --only stop), up to 3 s
# when other processes oversubscribe them (the final health-check decode then crawls).
STOP_BAR_S = 5.0


def stop_and_time(qtbot, panel):
    """Click Stop; seconds from the click to the panel's end of the run, and its final report (the
    panel's signal, not the worker's: conftest's signals_awaited_from_the_gui_thread)."""
    with qtbot.waitSignal(panel.trainingFinished, timeout=60000) as finished:
        clicked = time.perf_counter()
        panel.stop_button.click()
        assert panel.phase_label.text() == "Stopping\u2026" and panel.stop_button.text() == "Stopping\u2026"
    latency = time.perf_counter() - clicked
    return latency, finished.args[0]


def test_stop_mid_step_of_diffusion_training(qtbot, window, tmp_path):
    """The digits preset at its batch (128): a CPU step takes a second or more, so Stop lands inside one."""
    panel = window.train
    config = TrainConfig(family="diffusion", preset="digits", steps=1000, report_every=1, sample_every_s=600,
                         n_samples=4, eval_batch=32, device="cpu", out_dir=str(tmp_path / "run"))
    panel.start(config)
    assert panel.phase_label.text() == "Loading data\u2026"
    qtbot.waitUntil(lambda: panel.last_report is not None, timeout=120000)      # step 1 done, step 2 under way
    assert panel.phase_label.text().startswith("Training (step ")
    at_click = panel.worker.trainer.step
    latency, report = stop_and_time(qtbot, panel)
    print(f"\ndiffusion 'digits': Stop -> finished {latency:.2f} s (stopped at step {report.step})")
    assert report.kind == "stopped" and report.step in (at_click, at_click + 1)
    assert latency < STOP_BAR_S
    assert load_checkpoint(tmp_path / "run" / "checkpoint.safetensors").step == report.step
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)       # the panel's own slot, after the signal
    assert panel.phase_label.text() == f"Stopped at step {report.step}"


def test_stop_mid_evaluation_of_pixelcnn_training(qtbot, window, tmp_path):
    """The digits preset at its batch (32), evaluating 256 held-out digits with every preview (seconds
    on a CPU): Stop comes while the phase line says it evaluates."""
    panel = window.train
    config = TrainConfig(family="autoregressive", preset="digits", steps=1000, report_every=1, sample_every_s=1e-6,
                         n_samples=4, device="cpu", out_dir=str(tmp_path / "run"))
    panel.start(config)
    evaluating = re.compile("Evaluating at step [1-9][0-9]*\u2026")      # after a step: not the first preview's
    qtbot.waitUntil(lambda: evaluating.fullmatch(panel.phase_label.text()) is not None, timeout=120000)
    at_click = panel.worker.trainer.step
    latency, report = stop_and_time(qtbot, panel)
    print(f"\nPixelCNN 'digits': Stop -> finished {latency:.2f} s (stopped at step {report.step})")
    assert report.kind == "stopped" and report.step == at_click
    assert latency < STOP_BAR_S
    assert load_checkpoint(tmp_path / "run" / "checkpoint.safetensors").step == report.step


def test_escape_cancels_a_pixelcnn_decode(qtbot, window, pixelcnn):
    explore, renderer = window.explore, window.renderer
    with qtbot.waitSignal(explore.imageRendered, timeout=60000):
        assert window.open_path(pixelcnn)
    window.tabs.setCurrentWidget(explore)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=10000)    # shortcuts need it
    explore.image_view.setFocus()
    assert not explore.cancel_button.isVisible()            # nothing runs: no Cancel
    rows: list[int] = []
    at_third_row = threading.Event()
    go_on = threading.Event()

    def drew(channel, stamp, part):      # in the render thread, after each row the model drew
        if channel == "image":
            rows.append(part[0])
            if part[0] == 2:
                at_third_row.set()
                go_on.wait(30)           # the decode is held here until Escape was pressed

    renderer._worker.partial.connect(drew, Qt.DirectConnection)
    explore.randomise()
    qtbot.waitUntil(at_third_row.is_set, timeout=30000)
    qtbot.waitUntil(explore.cancel_button.isVisible, timeout=10000)   # a decode this long shows its Cancel
    qtbot.waitUntil(lambda: "row 3 of 28" in explore.timing.text(), timeout=10000)
    shown = explore.image_view.image()
    qtbot.keyClick(explore.image_view, Qt.Key_Escape)
    go_on.set()
    assert not explore.cancel_button.isVisible() and explore.timing.text() == "cancelled at row 3 of 28"
    # The render thread runs requests in order: once a later one is done, the cancelled one has ended.
    with qtbot.waitSignal(renderer.done, timeout=30000, check_params_cb=lambda channel, *_: channel == "probe"):
        renderer.submit("probe", Decode(torch.zeros(1, 784)))
    assert rows == [0, 1, 2]                                   # the model drew no row after the cancel
    assert explore.image_view.image() == shown and explore.timing.text() == "cancelled at row 3 of 28"
