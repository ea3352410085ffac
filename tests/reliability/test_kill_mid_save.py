"""SIGKILL at random moments, and in the middle of a save: the checkpoint on disk always loads and
resumes, and the next run leaves no temporary file behind."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genstudio.core.io.checkpoints import load_checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def start_training(out: Path, steps: int, resume: bool = False) -> subprocess.Popen:
    args = [sys.executable, "-m", "genstudio", "train", "--family", "vae", "--preset", "map", "--steps", str(steps),
            "--autosave-every", "1", "--keep", "2", "--out", str(out), "--quiet", "--device", "cpu"]
    if resume:
        args += ["--resume", str(out / "checkpoint.safetensors")]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
    return False


def temps(out: Path) -> list[Path]:
    return [out / name for name in os.listdir(out) if name.endswith(".tmp")]


@pytest.mark.long          # about 35 s on 2 cores: `make test-long`
def test_kill_at_random_moments_and_mid_save(tmp_path):
    rng = random.Random(11)
    out = tmp_path / "run"
    out.mkdir()
    checkpoint = out / "checkpoint.safetensors"
    mid_save_kills = 0
    steps_seen = []
    for trial in range(5):
        before = checkpoint.stat().st_mtime_ns if checkpoint.exists() else None
        process = start_training(out, steps=100_000, resume=before is not None)
        # Wait until this run has saved at least once: it is in the training loop.
        saved = lambda: checkpoint.exists() and checkpoint.stat().st_mtime_ns != before
        assert wait_for(lambda: saved() or process.poll() is not None, 120) and process.poll() is None, \
            process.stderr.read()
        if trial % 2:
            # Kill the moment a temporary file appears: the save is half written.
            caught = wait_for(lambda: bool(temps(out)), 30)
            process.send_signal(signal.SIGKILL)
            mid_save_kills += caught
        else:
            time.sleep(rng.uniform(0.0, 0.5))      # a random moment: mid-step, mid-save or between
            process.send_signal(signal.SIGKILL)
        process.wait(30)
        loaded = load_checkpoint(checkpoint)             # whatever the moment, the file is whole
        steps_seen.append(loaded.step)
        assert loaded.has_resume_state
    assert mid_save_kills >= 1, "no kill landed inside a save"
    assert steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0]
    # A last run resumes from the survivor, finishes, and the litter of the killed saves is gone.
    final = load_checkpoint(checkpoint).step + 3
    finished = start_training(out, steps=final, resume=True)
    assert finished.wait(120) == 0, finished.stderr.read()
    assert load_checkpoint(checkpoint).step == final
    assert temps(out) == []
    assert len(list(out.glob("checkpoint-step*.safetensors"))) == 1     # --keep 2: the latest and one more
