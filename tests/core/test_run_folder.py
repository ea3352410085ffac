"""Every training run with an output folder writes its run folder (docs/run-folder.md): run.json, an
append-only metrics.jsonl of whole lines, and the sample grids it names; a stopped or diverged run
says so in its end record, and a RunFollower reads what the run wrote."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from diverging import report_nan_after  # tests/core is on sys.path (no package)

from genstudio import cli
from genstudio.core.data.toy import load_toy
from genstudio.core.training.engine import TrainConfig, Trainer
from genstudio.core.training.run_folder import this_command
from genstudio.core.training.run_follow import ENDED, RunFollower

DESCRIPTION = {"format", "version", "run_id", "started", "host", "versions", "command", "family", "preset",
               "model", "data", "devices", "world_size", "config"}


@pytest.fixture(scope="module")
def points():
    return load_toy("ring8", n=3000)


def records(folder) -> list[dict]:
    raw = (folder / "metrics.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.splitlines()]      # every line a whole JSON record


def toy_trainer(points, folder, **settings) -> Trainer:
    config = TrainConfig(family="gan", data="ring8", batch_size=64, report_every=2, sample_every_s=0,
                         n_samples=16, out_dir=str(folder), device="cpu", **settings)
    return Trainer(config, dataset=points)


def test_cli_run_writes_its_run_folder(tmp_path):
    assert cli.main(["train", "--family", "gan", "--data", "ring8", "--steps", "20", "--autosave-every", "10",
                     "--device", "cpu", "--quiet", "--out", str(tmp_path)]) == 0
    described = json.loads((tmp_path / "run.json").read_text())
    assert set(described) == DESCRIPTION
    assert described["world_size"] == 1 and described["devices"] == ["cpu"]
    assert described["family"] == "gan" and described["preset"] == "toy"
    assert described["model"]["family"] == "gan" and described["data"]["source"] == "ring8"
    assert described["config"]["sample_every_s"] == 30      # --sample-every's default
    assert all(isinstance(word, str) for word in described["command"])
    log = records(tmp_path)
    assert log[0] == {**log[0], "kind": "start", "step": 0, "run_id": described["run_id"], "total_steps": 20,
                      "world_size": 1}
    assert [r["step"] for r in log if r["kind"] == "step"] == [10, 20]
    assert all(r["images_per_sec"] > 0 and set(r["scalars"]) >= {"d_loss", "g_loss"}
               for r in log if r["kind"] == "step")
    assert [(r["step"], r["path"]) for r in log if r["kind"] == "saved"] == [(10, "checkpoint.safetensors"),
                                                                           (20, "checkpoint.safetensors")]
    # The first and the last grid, both referenced and on disk; nothing else in samples/.
    images = [r["image"] for r in log if r["kind"] == "samples"]
    assert images == ["samples/step-00000000.png", "samples/step-00000020.png"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "samples").iterdir()) == images
    assert log[-1] == {**log[-1], "kind": "end", "step": 20, "state": "finished",
                       "path": "checkpoint.safetensors"}
    assert (tmp_path / "samples.png").is_file()           # the CLI's own grid, as before

    follower = RunFollower(tmp_path)
    follower.poll()
    assert follower.records == log and follower.description["run_id"] == described["run_id"]
    assert follower.state() == ENDED and follower.step == 20
    assert follower.newest_image() == tmp_path / images[-1]
    assert follower.newest_checkpoint() == tmp_path / "checkpoint.safetensors"


def test_stopped_run_ends_with_stopped(points, tmp_path):
    trainer = toy_trainer(points, tmp_path, steps=1000)
    for report in trainer.run():
        if report.kind == "step" and report.step == 4:
            trainer.stop()
    log = records(tmp_path)
    assert log[-1]["kind"] == "end" and log[-1]["state"] == "stopped" and log[-1]["step"] == 4
    assert log[-1]["path"] == "checkpoint.safetensors" and "stopped at step 4" in log[-1]["message"]
    # A stopped run draws no final grid: the grid of its start is all there is.
    assert [r["image"] for r in log if r["kind"] == "samples"] == ["samples/step-00000000.png"]
    # The log is closed: a late figure from the app's live diagnostics is dropped, not appended.
    trainer.run_log.diagnostics(4, {"modes": 3.0})
    assert records(tmp_path) == log


def test_diverged_run_logs_nan_as_null(points, tmp_path):
    trainer = toy_trainer(points, tmp_path, steps=40, autosave_every=4)
    report_nan_after(trainer, 5, "d_loss")      # steps 6.. report NaN
    assert list(trainer.run())[-1].kind == "diverged"
    log = records(tmp_path)
    last_step = [r for r in log if r["kind"] == "step"][-1]
    assert last_step["step"] == 6 and last_step["scalars"]["d_loss"] is None
    assert isinstance(last_step["scalars"]["g_loss"], float)
    end = log[-1]
    assert end["kind"] == "end" and end["state"] == "diverged" and end["step"] == 6
    assert "NaN" in end["message"] and end["path"] == "checkpoint.safetensors"   # the last good one (step 4)


def test_resumed_run_appends_a_start(points, tmp_path):
    trainer = toy_trainer(points, tmp_path, steps=4)
    list(trainer.run())
    config = trainer.config
    config.steps = 8
    resumed = Trainer(config, dataset=points, resume=tmp_path / "checkpoint.safetensors")
    list(resumed.run())
    log = records(tmp_path)
    assert [(r["kind"], r["step"]) for r in log if r["kind"] in ("start", "end")] == [("start", 0), ("end", 4), ("start", 4), ("end", 8)]
    assert [r["step"] for r in log if r["kind"] == "step"] == [2, 4, 6, 8]
    follower = RunFollower(tmp_path)
    follower.poll()
    assert follower.step == 8 and follower.state() == ENDED


def test_no_output_folder_no_run_log(points):
    trainer = Trainer(TrainConfig(family="gan", data="ring8", steps=2, batch_size=64, sample_every_s=0,
                                  n_samples=4, device="cpu"), dataset=points)
    list(trainer.run())
    assert trainer.run_log is None


def test_run_json_names_the_command_as_typed():
    """argv of the installed command, of `python -m genstudio` and of a torchrun worker become the line a
    person would type again; any other program's argv is kept."""
    args = ["train", "--steps", "5"]
    assert this_command(["/venv/bin/genstudio", *args], {}) == ["genstudio", *args]
    assert this_command(["/src/genstudio/__main__.py", *args], {}) == ["genstudio", *args]
    worker = {"WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4"}
    assert this_command(["/src/genstudio/__main__.py", *args], worker) == \
        ["torchrun", "--nproc_per_node=4", "--nnodes=2", "-m", "genstudio", *args]
    assert this_command(["/src/genstudio/__main__.py", *args], {"WORLD_SIZE": "2"}) == \
        ["torchrun", "--nproc_per_node=2", "-m", "genstudio", *args]
    assert this_command(["pytest", "-q"], worker) == ["pytest", "-q"]


def test_a_grid_still_being_drawn_row_by_row_is_not_kept(tmp_path):
    """A row-by-row model's live grid fills in a few rows per report: its figures are logged, but only
    a whole grid is kept as a picture."""
    from genstudio.core.training.run_folder import RunLog

    log = RunLog(tmp_path, grid_every_s=0)
    images = torch.rand(4, 1, 8, 8).numpy()
    assert log.samples(3, images, {"eval/bpd": 1.5}, whole=False) is None
    assert log.samples(5, images, {}) == "samples/step-00000005.png"
    log.close()
    follower = RunFollower(tmp_path)
    follower.poll()
    assert [r.get("image") for r in follower.records] == [None, "samples/step-00000005.png"]
    assert follower.series()["eval/bpd"] == ([3], [1.5])
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["step-00000005.png"]


def test_previews_between_kept_grids_are_drawn_as_the_latest(tmp_path):
    """A preview every two seconds is seen live (samples/latest.png, replaced each time) while only the
    first, one every GRID_EVERY_S and the last are kept; a stopped run keeps its newest preview."""
    from genstudio.core.training.run_folder import LATEST_GRID, RunLog

    log = RunLog(tmp_path, grid_every_s=3600)
    follower = RunFollower(tmp_path)
    first = torch.zeros(4, 1, 8, 8).numpy()
    assert log.samples(0, first, {}) == "samples/step-00000000.png"
    for step, value in ((1, 0.5), (2, 1.0)):
        assert log.samples(step, first + value, {}) == LATEST_GRID
        follower.poll()
        assert follower.newest_image() == tmp_path / LATEST_GRID
        with Image.open(tmp_path / LATEST_GRID) as grid:
            assert np.asarray(grid)[3, 3].max() == round(255 * value)       # this report's pixels
    log.end(2, "stopped", "stopped at step 2 of 10")
    log.close()
    follower.poll()
    assert follower.newest_image() == tmp_path / "samples/step-00000002.png"
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == \
        ["latest.png", "step-00000000.png", "step-00000002.png"]
