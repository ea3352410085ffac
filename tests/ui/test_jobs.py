"""Background jobs (ui/jobs.py): every thread the app starts is retired in one way. After tasks, a
training run with live diagnostics and a model open have finished, no job thread is left running or
held beyond the job registry; closing the window cancels a running job and retires it within a second."""

import gc
import threading
import time

import shiboken6
from PySide6.QtCore import QThread

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.requests.tasks import TaskState
from genstudio.ui.jobs import running_jobs
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.task_runner import TaskRunner


def job_threads() -> list[QThread]:
    """Every QThread object of a job that Python still reaches and Qt has not deleted (the render
    thread is the renderer's own, for the window's life)."""
    gc.collect()
    return [t for t in gc.get_objects() if type(t) is QThread and shiboken6.isValid(t)
            and t.objectName().startswith("genstudio-") and t.objectName() != "genstudio-render"]


def test_finished_jobs_leave_no_thread_behind(qtbot, window, tmp_path, mnist):
    # Tasks that return, fail and are cancelled.
    runner = TaskRunner(window)
    with qtbot.waitSignal(runner.done, timeout=10000) as done:
        runner.start(lambda state: 42)
    assert done.args == [42]
    with qtbot.waitSignal(runner.failed, timeout=10000):
        runner.start(lambda state: 1 / 0)
    started = threading.Event()

    def until_cancelled(state: TaskState):
        started.set()
        while not state.is_interruption_requested():
            time.sleep(0.005)
        state.check("waiting")

    runner.start(until_cancelled)
    assert started.wait(10)
    runner.cancel()

    # A model opened off the GUI thread.
    assert window.open_path(next(p for p in demo_checkpoints() if p.stem == "gan-mnist"))

    # A short training run whose live diagnostics report: on unlabelled digits their features are the
    # pixels' PCA (no feature classifier to train first).
    panel = window.train
    panel.family.setCurrentIndex(panel.family.findData("gan"))
    panel.preset.setCurrentIndex(panel.preset.findText("mlp"))
    panel.steps.setValue(100_000)
    panel.device.setCurrentText("cpu")
    panel.out_dir.setText(str(tmp_path / "run"))
    panel.diagnostics_every.setValue(20)
    panel.start(panel.config(), dataset=InMemoryDataset("unlabelled digits", mnist.data[:2000]))
    qtbot.waitUntil(lambda: len(panel.metrics_history) >= 1, timeout=60000)
    live_job = panel.live.job
    with qtbot.waitSignal(panel.trainingFinished, timeout=30000) as finished:
        panel.stop_button.click()
    assert finished.args[0].kind == "stopped" and not panel.running

    # Retired: out of the registry, and each thread deleted by Qt once the deferred deletes ran.
    qtbot.waitUntil(lambda: not running_jobs() and not job_threads(), timeout=10000)
    assert not live_job.running
    assert window.renderer._thread.isRunning()      # the one long-lived thread, not a job


def test_closing_the_window_cancels_and_retires_a_running_job(qtbot, window):
    runner = window.inspect.tasks
    started = threading.Event()
    cancelled = threading.Event()

    def until_cancelled(state: TaskState):
        started.set()
        while not state.is_interruption_requested():
            time.sleep(0.005)
        cancelled.set()
        state.check("waiting")

    runner.start(until_cancelled)
    assert started.wait(10)
    [job] = running_jobs()
    began = time.perf_counter()
    window.close()
    seconds = time.perf_counter() - began
    assert cancelled.is_set() and not job.running and not running_jobs()
    assert seconds < 1.0, f"closing took {seconds:.2f} s"
    qtbot.waitUntil(lambda: not job_threads(), timeout=10000)
