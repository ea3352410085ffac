"""The Train panel with several processes: it launches torchrun (gloo on the CPU), shows the command
line to paste on a cluster, follows the run folder into its curves and samples, and Stop ends the
processes with the last finished step saved."""

import sys
import time

import pytest
import torch

from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.training.run_follow import RunFollower
from genstudio.ui.panels.train_panel import TrainPanel
from genstudio.ui.torchrun_process import GRACE_S, failure_line


@pytest.fixture
def make_panel(qtbot):
    """New Train panels; a run still going when the test ends (it failed) is stopped, so that no
    torchrun workers train on after it."""
    panels = []

    def make() -> TrainPanel:
        panel = TrainPanel()
        qtbot.addWidget(panel)
        panel.resize(1280, 680)
        panel.show()
        panels.append(panel)
        return panel

    yield make
    for panel in panels:
        if panel.running:
            panel.stop(wait=True)


def configure(panel, tmp_path) -> None:
    panel.family.setCurrentIndex(panel.family.findData("vae"))
    panel.data.setEditText("mnist")
    panel.preset.setCurrentIndex(panel.preset.findText("map"))
    panel.steps.setValue(100_000)           # runs until stopped
    panel.device.setCurrentText("cpu")
    panel.out_dir.setText(str(tmp_path / "run"))


def test_two_processes_follow_and_stop(qtbot, make_panel, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")        # two processes on shared cores
    panel = make_panel()
    configure(panel, tmp_path)
    assert not panel.command_row.isVisibleTo(panel)    # one process: trains in the app, no command line
    panel.processes.setValue(2)
    assert panel.command_row.isVisibleTo(panel)
    assert panel.command_line.text().startswith("torchrun --nproc_per_node=2 -m genstudio train --family vae")

    panel.start_button.click()
    assert panel.running and panel.process is not None and panel.worker is None
    assert not panel.pause_button.isEnabled() and "torchrun" in panel.pause_button.toolTip()
    assert not panel.processes.isEnabled()
    shown = panel.command_line.text()
    assert shown.startswith("torchrun --nproc_per_node=2 -m genstudio train") and str(tmp_path / "run") in shown

    # The run folder's step records become the panel's curves; its first grid, the live samples.
    qtbot.waitUntil(lambda: panel.plot.point_count("loss") >= 2 and panel.sample_updates >= 1, timeout=60000)
    assert panel.plot.point_count("kl") >= 2
    assert panel.phase_label.text().startswith("Training (step") and "in 2 processes" in panel.phase_label.text()
    assert "steps/s" in panel.progress_label.text() and "ETA" in panel.progress_label.text()

    clicked = time.monotonic()
    with qtbot.waitSignal(panel.trainingFinished, timeout=GRACE_S * 1000) as finished:
        panel.stop_button.click()
        assert panel.phase_label.text() == "Stopping\u2026"
    assert time.monotonic() - clicked < GRACE_S
    report = finished.args[0]
    assert report.kind == "stopped"
    assert panel.phase_label.text() == f"Stopped at step {report.step}"
    assert not panel.running and panel.start_button.isEnabled() and panel.processes.isEnabled()

    follower = RunFollower(tmp_path / "run")
    follower.poll()
    assert follower.end["state"] == "stopped" and follower.end["step"] == report.step > 0
    assert load_checkpoint(report.path).step == report.step     # the end record's checkpoint holds its step


def test_frozen_app_trains_in_process_and_shows_the_command(make_panel, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    panel = make_panel()
    configure(panel, tmp_path)
    assert not panel.processes.isEnabled() and "paste the command" in panel.processes.toolTip()
    assert panel.processes_for_run() == 1
    assert panel.command_row.isVisibleTo(panel)
    assert panel.command_line.text().startswith("genstudio train --family vae --preset map")
    panel.apply_settings_record({**panel.settings_record(), "processes": 4})
    assert panel.processes.value() == 1              # a bundle's box keeps its default


def test_one_process_per_gpu_when_there_are_several(make_panel, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 12)
    panel = make_panel()
    assert panel.processes.value() == 12 and panel.processes.maximum() == 12
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    panel = make_panel()
    assert panel.processes.value() == 1 and panel.processes.maximum() == 8     # room to try several on the CPU
    assert not panel.command_row.isVisibleTo(panel)


def test_processes_are_kept_with_the_settings(make_panel):
    panel = make_panel()
    panel.processes.setValue(3)
    record = panel.settings_record()
    other = make_panel()
    other.apply_settings_record(record)
    assert other.processes.value() == 3 and other.command_line.text().startswith("torchrun --nproc_per_node=3")


def test_a_failed_launch_says_why(qtbot, make_panel, tmp_path, monkeypatch):
    """A run whose processes fail: the panel's error line is the worker's own `genstudio: error:` line
    (torchrun's report after it is in the log), and no checkpoint is offered."""
    import genstudio.ui.panels.train_panel as train_panel

    script = ("import sys; print('genstudio: error: data.bin: not a data set', file=sys.stderr); "
              "print('ChildFailedError', file=sys.stderr); print('=' * 60, file=sys.stderr); sys.exit(1)")
    monkeypatch.setattr(train_panel, "launch_arguments", lambda *args: ["-c", script])
    panel = make_panel()
    configure(panel, tmp_path)
    panel.processes.setValue(2)
    with qtbot.waitSignal(panel.trainingFinished, timeout=10000) as finished:
        panel.start_button.click()
    assert finished.args[0] is None
    assert panel.error_label.isVisibleTo(panel) and panel.error_label.text() == "genstudio: error: data.bin: not a data set"
    assert panel.phase_label.text() == "Failed" and not panel.running


def test_the_failure_line_is_genstudios_own():
    lines = ["genstudio: error: unknown data set 'x'", "Traceback (most recent call last):",
             "torch.distributed.elastic.multiprocessing.errors.ChildFailedError:", "=" * 60]
    assert failure_line(lines) == "genstudio: error: unknown data set 'x'"
    assert failure_line(["RuntimeError: boom", "-" * 20, ""]) == "RuntimeError: boom"
