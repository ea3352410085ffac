"""RunFollower (core/training/run_follow.py) reading a run folder as it grows: whole lines only,
garbage skipped, a replaced or cut log read again, a resume dropping the steps it will redo, names
outside the folder ignored, and the status line of each state."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from genstudio.core.training import run_follow
from genstudio.core.training.run_folder import METRICS_FILE, RunLog
from genstudio.core.training.run_follow import ENDED, RUNNING, SILENT, WAITING, RunFollower, run_folders_under


def line(kind: str, step: int, **fields) -> bytes:
    return (json.dumps({"kind": kind, "step": step, "time": 0.0, **fields}) + "\n").encode()


def append(folder, data: bytes) -> None:
    with open(folder / METRICS_FILE, "ab") as handle:
        handle.write(data)


def test_a_partial_last_line_waits_for_its_newline(tmp_path):
    follower = RunFollower(tmp_path)
    whole = line("step", 1, scalars={"loss": 1.0})
    append(tmp_path, line("start", 0, total_steps=10) + whole[:20])
    assert [r["kind"] for r in follower.poll().records] == ["start"]
    append(tmp_path, whole[20:])
    update = follower.poll()
    assert [(r["kind"], r["step"]) for r in update.records] == [("step", 1)]
    assert follower.series()["loss"] == ([1], [1.0])


def test_lines_that_are_not_records_are_skipped(tmp_path):
    append(tmp_path, b"not json\n" + b"[1, 2]\n" + line("step", "3") + b'{"kind": "step"}\n'
           + b'{"kind": 4, "step": 1}\n' + b'{"kind": "step", "step": true}\n' + b"\xff\xfe\n\n"
           + line("step", 2, scalars={"loss": 0.5, "bad": "x", "flag": True, "gone": None}))
    follower = RunFollower(tmp_path)
    assert [r["step"] for r in follower.poll().records] == [2]
    assert follower.skipped_lines == 7
    assert follower.series() == {"loss": ([2], [0.5])}


def test_a_replaced_log_starts_over(tmp_path):
    append(tmp_path, line("start", 0) + line("step", 1) + line("step", 2))
    follower = RunFollower(tmp_path)
    assert len(follower.poll().records) == 3
    replacement = tmp_path / "new.jsonl"
    replacement.write_bytes(line("start", 0) + line("step", 1, scalars={"loss": 9.0}))
    os.replace(replacement, tmp_path / METRICS_FILE)
    update = follower.poll()
    assert update.restarted
    assert [r["step"] for r in follower.records] == [0, 1]
    assert follower.series()["loss"] == ([1], [9.0])


def test_a_cut_log_starts_over(tmp_path):
    append(tmp_path, line("start", 0) + line("step", 1) + line("step", 2))
    follower = RunFollower(tmp_path)
    follower.poll()
    (tmp_path / METRICS_FILE).write_bytes(line("start", 0))       # same file, shorter: truncated in place
    update = follower.poll()
    assert update.restarted and [r["kind"] for r in update.records] == ["start"]


def test_a_resume_at_an_earlier_step_drops_the_later_points(tmp_path):
    append(tmp_path, line("start", 0, total_steps=100)
           + b"".join(line("step", s, scalars={"loss": float(s)}) for s in (10, 20, 30))
           + line("end", 30, state="stopped", message=""))
    follower = RunFollower(tmp_path)
    follower.poll()
    assert follower.state() == ENDED
    append(tmp_path, line("start", 20, total_steps=100) + line("step", 30, scalars={"loss": -1.0}))
    update = follower.poll()
    assert update.restarted
    assert follower.series()["loss"] == ([10, 20, 30], [10.0, 20.0, -1.0])
    assert follower.end is None and follower.state() == RUNNING


def test_names_outside_the_folder_are_ignored(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"x")
    (tmp_path / "outside.safetensors").write_bytes(b"x")
    (run / "samples").mkdir()
    (run / "samples" / "link.png").symlink_to(secret)
    append(run, line("samples", 1, image="../secret.png") + line("samples", 2, image=str(secret))
           + line("samples", 3, image="samples/link.png") + line("saved", 3, path="../outside.safetensors"))
    follower = RunFollower(run)
    follower.poll()
    assert follower.newest_image() is None
    assert follower.newest_checkpoint() is None


def test_the_newest_grid_and_checkpoint_written_by_runlog(tmp_path):
    log = RunLog(tmp_path, grid_every_s=0)
    log.start(0, total_steps=4, world_size=1, batch_size=2)
    grid = log.samples(2, np.zeros((4, 1, 8, 8), np.float32), {"eval/fid": 3.0})
    (tmp_path / "checkpoint.safetensors").write_bytes(b"x")
    log.saved(2, tmp_path / "checkpoint.safetensors")
    log.close()
    follower = RunFollower(tmp_path)
    follower.poll()
    assert follower.newest_image() == (tmp_path / grid).resolve()
    assert follower.newest_checkpoint() == (tmp_path / "checkpoint.safetensors").resolve()
    assert follower.series()["eval/fid"] == ([2], [3.0])


def test_status_lines(tmp_path):
    follower = RunFollower(tmp_path, quiet_after_s=30)
    follower.poll()
    assert follower.state() == WAITING and follower.status().startswith("waiting for")
    append(tmp_path, line("start", 0, total_steps=100) + line("step", 10, images_per_sec=250.0))
    follower.poll()
    now = time.monotonic()
    assert follower.state(now) == RUNNING
    assert follower.status(now) == "running: step 10 of 100, 250 img/s"
    assert follower.state(now + 31) == SILENT
    assert follower.status(now + 125).startswith("stopped writing at step 10 of 100 (2 min")
    append(tmp_path, line("end", 10, state="diverged", message="the loss is NaN"))
    follower.poll()
    assert follower.status() == "diverged at step 10 of 100: the loss is NaN"
    # A message that says no more than the line itself is not said twice.
    append(tmp_path, line("start", 10, total_steps=100) + line("end", 20, state="stopped",
                                                               message="stopped at step 20 of 100"))
    follower.poll()
    assert follower.status() == "stopped at step 20 of 100"


def test_a_log_untouched_for_long_is_silent_at_once(tmp_path):
    append(tmp_path, line("start", 0) + line("step", 5))
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / METRICS_FILE, (an_hour_ago, an_hour_ago))
    follower = RunFollower(tmp_path)
    follower.poll()
    assert follower.state() == SILENT
    assert "1 h 0 min without a record" in follower.status()


def test_a_long_log_is_read_over_several_polls(tmp_path, monkeypatch):
    monkeypatch.setattr(run_follow, "READ_LIMIT", 64)
    append(tmp_path, b"".join(line("step", s, scalars={"loss": 1.0}) for s in range(20)))
    follower = RunFollower(tmp_path)
    polls = 0
    while polls == 0 or follower.behind:
        follower.poll()
        polls += 1
    assert polls > 5
    assert follower.series()["loss"][0] == list(range(20))


@pytest.mark.parametrize("layout", ["run", "parent", "neither"])
def test_run_folders_under(tmp_path, layout):
    if layout == "run":
        append(tmp_path, line("start", 0))
        assert run_folders_under(tmp_path) == [tmp_path]
    elif layout == "parent":
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "run.json").write_text("{}")
        (tmp_path / "other").mkdir()
        assert sorted(p.name for p in run_folders_under(tmp_path)) == ["a", "b"]
    else:
        (tmp_path / "other").mkdir()
        assert run_folders_under(tmp_path) == []
