"""The Runs tab (ui/panels/runs_panel.py) follows training runs by their run folders: a run written
by another process (tests/run_writer.py, paced by a gate file) grows its curves, shows its sample
grid and says how it ended; a run that stops writing says so; two runs overlay their curves; File ->
Follow run folder takes a folder of runs, once each, and the next start follows them again;
`genstudio follow DIR` opens the app on the Runs tab."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QFileDialog

from genstudio.cli import main as cli_main
from genstudio.core.training.run_folder import METRICS_FILE, RunLog
from genstudio.ui.panels.runs_panel import RunsPanel

WRITER = Path(__file__).resolve().parents[1] / "run_writer.py"
START_S = 60         # the writer's start: its run.json imports torch (about 7 s on a busy machine)


@pytest.fixture
def panel(qtbot, tmp_path):
    panel = RunsPanel(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    panel.timer.setInterval(50)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.show()
    return panel


def write_run(folder: Path, steps: int, family: str = "gan", end: str | None = None) -> RunLog:
    """A run folder written here (RunLog): run.json, a start and `steps` steps of "loss"."""
    log = RunLog(folder, grid_every_s=0)
    log.describe({"command": ["genstudio", "train", "--family", family], "family": family, "preset": "digits",
                  "devices": ["cpu"], "world_size": 1})
    log.start(0, total_steps=10, world_size=1, batch_size=4)
    for step in range(1, steps + 1):
        log.step(step, {"loss": 1.0 / step}, images_per_sec=50.0, elapsed=step)
    if end:
        log.end(steps, end, message="")
    return log


def test_a_run_written_by_another_process(qtbot, panel, tmp_path):
    folder, gate = tmp_path / "gan-run", tmp_path / "gate"
    gate.write_text("0")
    writer = subprocess.Popen([sys.executable, str(WRITER), str(folder), "--steps", "6", "--gate", str(gate),
                               "--grid-at", "3", "--end", "finished"],
                              env=dict(os.environ, OMP_NUM_THREADS="1"), stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: (folder / METRICS_FILE).exists(), timeout=START_S * 1000)
        assert panel.follow(folder) == [folder]
        key = panel.key_of(folder)
        qtbot.waitUntil(lambda: panel.status_of(folder).startswith("running: step 0 of 6"), timeout=START_S * 1000)
        assert panel.curves.shown_points(key, "loss") == 0
        assert "--family gan" in panel.command.text() and "Model: gan \u00b7 digits" in panel.details.text()

        gate.write_text("2")
        qtbot.waitUntil(lambda: panel.curves.shown_points(key, "loss") == 2, timeout=10_000)
        assert panel.image_view.image() is None and not panel.open_button.isEnabled()
        gate.write_text("4")
        qtbot.waitUntil(lambda: panel.curves.shown_points(key, "loss") == 4, timeout=10_000)
        qtbot.waitUntil(lambda: panel.image_view.image() is not None, timeout=10_000)
        # A 2 x 2 grid of 8 px images, with 2 px between and around them (run_folder's grid_image).
        assert (panel.image_view.image().width(), panel.image_view.image().height()) == (22, 22)
        assert panel.curves.shown_points(key, "eval/fid") == 1
        assert panel.open_button.isEnabled()
        with qtbot.waitSignal(panel.openRequested) as opened:
            panel.open_button.click()
        assert opened.args[0] == (folder / "checkpoint.safetensors").resolve()

        gate.write_text("6")
        qtbot.waitUntil(lambda: panel.status_of(folder).startswith("finished at step 6 of 6"), timeout=10_000)
        assert panel.curves.shown_points(key, "loss") == 6
        assert writer.wait(10) == 0, writer.stderr.read().decode()
    finally:
        writer.kill()
        writer.wait()


def test_a_run_that_stops_writing_says_so(qtbot, panel, tmp_path):
    panel.quiet_after_s = 0.3
    log = write_run(tmp_path / "run", steps=1)
    panel.follow(tmp_path / "run")
    qtbot.waitUntil(lambda: panel.status_of(tmp_path / "run").startswith("stopped writing at step 1 of 10"),
                    timeout=5_000)
    log.step(2, {"loss": 0.5}, images_per_sec=50.0, elapsed=2.0)       # it was only slow
    qtbot.waitUntil(lambda: panel.status_of(tmp_path / "run").startswith("running: step 2 of 10"), timeout=5_000)
    log.close()


def test_two_runs_overlay_their_curves(qtbot, panel, tmp_path):
    runs = tmp_path / "runs"
    for name, steps in (("a", 3), ("b", 5)):
        write_run(runs / name, steps, end="stopped").close()
    assert len(panel.follow(runs)) == 2
    a, b = panel.key_of(runs / "a"), panel.key_of(runs / "b")
    qtbot.waitUntil(lambda: (panel.curves.shown_points(a, "loss"), panel.curves.shown_points(b, "loss")) == (3, 5),
                    timeout=5_000)
    curves = panel.curves.curves_of("loss")
    assert len(curves) == 2 and curves[0].opts["pen"].color() != curves[1].opts["pen"].color()
    assert "a" in panel.curves.names.text and "b" in panel.curves.names.text
    assert panel.status_of(runs / "a") == "stopped at step 3 of 10"
    panel.runs[a].row.shown.setChecked(False)
    assert len(panel.curves.curves_of("loss")) == 1
    panel.runs[b].row.remove.click()
    assert panel.folders() == [(runs / "a").resolve()] and panel.curves.curves_of("loss") == []


def test_runs_of_two_families_get_a_plot_each(qtbot, panel, tmp_path):
    from genstudio.core import registry

    write_run(tmp_path / "runs" / "gan-a", steps=2, family="gan").close()
    write_run(tmp_path / "runs" / "vae-a", steps=8, family="vae").close()
    panel.follow(tmp_path / "runs")
    qtbot.waitUntil(lambda: len(panel.curves.curves_of("loss")) == 2, timeout=5_000)
    qtbot.waitUntil(lambda: panel.curves.titles == ["GAN runs: loss", "VAE runs: loss"], timeout=5_000)
    assert len(panel.curves.plots[0].listDataItems()) == len(panel.curves.plots[1].listDataItems()) == 1
    # The linked step axis spans the longer run in the second plot, not only the first plot's 2 steps.
    qtbot.waitUntil(lambda: panel.curves.plots[1].viewRange()[0][1] >= 8, timeout=5_000)
    panel.runs[panel.key_of(tmp_path / "runs" / "vae-a")].row.shown.setChecked(False)
    assert panel.curves.titles == [spec.title for spec in registry.get("gan").plots]     # one family: its plots


def test_a_resumed_run_redraws_from_its_resume(qtbot, panel, tmp_path):
    log = write_run(tmp_path / "run", steps=5)
    panel.follow(tmp_path / "run")
    key = panel.key_of(tmp_path / "run")
    qtbot.waitUntil(lambda: panel.curves.shown_points(key, "loss") == 5, timeout=5_000)
    log.start(2, total_steps=10, world_size=1, batch_size=4)           # resumed from step 2's checkpoint
    log.step(3, {"loss": 9.0}, images_per_sec=50.0, elapsed=3.0)
    qtbot.waitUntil(lambda: panel.curves.shown_points(key, "loss") == 3, timeout=5_000)
    assert list(panel.curves.curves_of("loss")[0].yData) == [1.0, 0.5, 9.0]
    log.close()


def test_file_follow_takes_a_folder_of_runs_once_and_remembers_it(qtbot, window, monkeypatch, tmp_path):
    runs, empty = tmp_path / "runs", tmp_path / "empty"
    empty.mkdir()
    for name in ("a", "b"):
        write_run(runs / name, steps=2, end="finished").close()
    chosen = [runs]
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(chosen[0]))
    action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text().startswith("Follow r&un"))
    action.trigger()
    assert sorted(p.name for p in window.runs.folders()) == ["a", "b"]
    assert window.tabs.currentWidget() is window.runs
    assert window.statusBar().currentMessage() == "following 2 runs"
    action.trigger()
    assert len(window.runs.folders()) == 2                               # not twice
    chosen[0] = empty
    action.trigger()
    assert window.statusBar().currentMessage().startswith(f"{empty}: not a run folder")
    assert len(window.runs.folders()) == 2

    shutil.rmtree(runs / "b")                                            # gone before the next start
    again = RunsPanel(window.settings)
    qtbot.addWidget(again)
    again.restore()
    assert again.folders() == [(runs / "a").resolve()]


def test_open_newest_checkpoint_opens_it_in_the_explorer(qtbot, window, tmp_path):
    from genstudio.ui.model_list import demo_checkpoints

    log = write_run(tmp_path / "run", steps=2)
    checkpoint = tmp_path / "run" / "checkpoint-step00000002.safetensors"
    shutil.copy(next(p for p in demo_checkpoints() if p.stem == "gan-mnist"), checkpoint)
    log.saved(2, checkpoint)
    log.close()
    window.follow_folders([tmp_path / "run"])
    qtbot.waitUntil(window.runs.open_button.isEnabled, timeout=5_000)
    window.runs.open_button.click()
    qtbot.waitUntil(lambda: window.opened is not None and window.opened.path == checkpoint.resolve(), timeout=30_000)
    assert window.tabs.currentWidget() is window.explore


def test_genstudio_follow(qtbot, tmp_path, monkeypatch, capsys):
    from genstudio.ui import app

    assert cli_main(["follow", str(tmp_path / "missing")]) == 2          # before any window
    assert capsys.readouterr().err == f"genstudio: error: {tmp_path / 'missing'}: no such folder\n"
    # Parsed without torch (the start-up shell shows before it loads, as for `genstudio` alone).
    code = ("import sys; from genstudio.cli import main; code = main(['follow', sys.argv[1]]); "
            "assert 'torch' not in sys.modules, 'follow imported torch'; raise SystemExit(code)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "missing")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    write_run(tmp_path / "run", steps=2, end="finished").close()
    asked = []
    monkeypatch.setattr(app, "run_app", lambda **kwargs: asked.append(kwargs) or 0)
    assert cli_main(["follow", str(tmp_path / "run")]) == 0
    assert asked[0]["follow"] == [(tmp_path / "run").resolve()]

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    startup = app.Startup(QApplication.instance(), time.perf_counter(), settings=settings, follow=asked[0]["follow"])
    startup.start()
    try:
        qtbot.waitUntil(lambda: startup.window is not None and startup.window.isVisible(), timeout=30_000)
        window = startup.window
        qtbot.addWidget(window)
        assert window.tabs.currentWidget() is window.runs
        assert window.runs.folders() == [(tmp_path / "run").resolve()]
        window.close()
    finally:
        if startup.quit_signals is not None:
            startup.quit_signals.uninstall()
