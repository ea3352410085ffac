"""Data-parallel training on the CPU under `torchrun --nproc_per_node=2` (gloo), the code path torchrun
uses on GPUs: a GAN and a VAE trained through `genstudio train` write one run folder and one checkpoint,
both processes end with the same weights, and the 2-process checkpoint resumes with one process."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genstudio import cli
from genstudio.core.data.bundled import load_bundled_mnist
from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.training.engine import TrainConfig, Trainer, resumed_data_offset, steps_per_epoch

SCRIPT = Path(__file__).with_name("torchrun_train.py")
RUNS = {  # name: (`genstudio train` arguments, steps)
    "gan": ("--family gan --preset mlp --batch-size 16 --seed 5", 6),
    "vae": ("--family vae --preset map --batch-size 32", 8),
    "stopped": ("--family gan --preset mlp --batch-size 16", 200),     # rank 1 alone is asked to stop at step 3
}
STOP_AT = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def records(folder: Path) -> list[dict]:
    text = (folder / "metrics.jsonl").read_text()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def torchrun_runs(tmp_path_factory):
    """Both runs in one torchrun launch (two processes start once): their folders, and each rank's
    weights and batches in weights/runN-rankR.pt."""
    root = tmp_path_factory.mktemp("torchrun")
    (root / "weights").mkdir()
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    assert torchrun, "torchrun ships with torch"
    lines = [f"train {args} --steps {steps} --device cpu --quiet --out {root / name}"
             for name, (args, steps) in RUNS.items()]
    result = subprocess.run([torchrun, "--nproc_per_node", "2", "--master_port", str(free_port()), str(SCRIPT),
                             str(root / "weights"), *lines],
                            cwd=root, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "STOP_RANK_1": f"2:{STOP_AT}"})
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.mark.parametrize("name", ["gan", "vae"])
def test_torchrun_writes_one_log_and_one_checkpoint(torchrun_runs, name):
    folder, steps = torchrun_runs / name, RUNS[name][1]
    # One log per run, in its folder, and nowhere else (not rank 1's, not a runs/ of the working folder).
    assert sorted(p.relative_to(torchrun_runs).as_posix() for p in torchrun_runs.rglob("metrics.jsonl")) == \
        [f"{run}/metrics.jsonl" for run in sorted(RUNS)]
    assert sorted(p.name for p in torchrun_runs.rglob("*.safetensors")) == ["checkpoint.safetensors"] * len(RUNS)
    assert len(list(folder.glob("samples/*.png"))) == 2            # the first and the last grid
    described = json.loads((folder / "run.json").read_text())
    assert described["world_size"] == 2 and described["devices"] == ["cpu", "cpu"]
    assert described["family"] == name and described["config"]["steps"] == steps
    log = records(folder)
    assert log[0]["kind"] == "start" and log[0]["world_size"] == 2 and log[0]["step"] == 0
    assert [r["step"] for r in log if r["kind"] == "step"] == [steps]      # report_every 10 > steps
    assert log[-1]["kind"] == "end" and log[-1]["state"] == "finished" and log[-1]["step"] == steps
    assert log[-1]["path"] == "checkpoint.safetensors"
    saved = load_checkpoint(folder / "checkpoint.safetensors")
    assert saved.step == steps and saved.card.train["world_size"] == 2


@pytest.mark.parametrize("name", ["gan", "vae"])
def test_torchrun_ranks_hold_identical_weights(torchrun_runs, name):
    number = list(RUNS).index(name)
    rank0, rank1 = (torch.load(torchrun_runs / "weights" / f"run{number}-rank{rank}.pt", weights_only=True)
                    for rank in (0, 1))
    # Each process drew its own shard of the data...
    assert not set(rank0["first_batch"].tolist()) & set(rank1["first_batch"].tolist())
    # ...yet, with averaged gradients, both hold the very same weights, which the checkpoint holds.
    saved = load_checkpoint(torchrun_runs / name / "checkpoint.safetensors").model.state_dict()
    assert rank0["weights"].keys() == rank1["weights"].keys() == saved.keys()
    for key, value in rank0["weights"].items():
        assert torch.equal(value, rank1["weights"][key]), key
        assert torch.equal(value, saved[key]), key


def test_a_stop_that_reaches_one_process_stops_both_after_the_same_step(torchrun_runs):
    """Rank 1 alone was asked to stop (as a signal reaching one process first): both processes agree
    to stop after the same step, so rank 0 is not left waiting in an all-reduce and saves that step."""
    folder = torchrun_runs / "stopped"
    log = records(folder)
    assert log[-1]["kind"] == "end" and log[-1]["state"] == "stopped"
    assert STOP_AT <= log[-1]["step"] <= STOP_AT + 1
    assert load_checkpoint(folder / "checkpoint.safetensors").step == log[-1]["step"]
    rank0, rank1 = (torch.load(torchrun_runs / "weights" / f"run2-rank{rank}.pt", weights_only=True)
                    for rank in (0, 1))
    for key, value in rank0["weights"].items():
        assert torch.equal(value, rank1["weights"][key]), key


def test_two_process_checkpoint_resumes_with_one(torchrun_runs, tmp_path):
    folder = tmp_path / "gan"
    shutil.copytree(torchrun_runs / "gan", folder)
    old_steps = RUNS["gan"][1]
    # No --seed: a resume takes the checkpoint's (5), from which the data order derives.
    assert cli.main(["train", "--resume", str(folder / "checkpoint.safetensors"), "--steps", "10",
                     "--device", "cpu", "--quiet"]) == 0
    log = records(folder)
    starts = [i for i, r in enumerate(log) if r["kind"] == "start"]
    assert len(starts) == 2
    resumed = log[starts[1]:]
    assert resumed[0]["step"] == old_steps and resumed[0]["world_size"] == 1 and resumed[0]["batch_size"] == 16
    assert [r["step"] for r in resumed if r["kind"] == "step"] == [10]
    assert resumed[-1]["kind"] == "end" and resumed[-1]["step"] == 10 and resumed[-1]["state"] == "finished"
    card = load_checkpoint(folder / "checkpoint.safetensors").card
    assert card.step == 10 and card.train["world_size"] == 1 and card.train["config"]["seed"] == 5
    # 6 steps of 2 x 16 samples went by: one process goes on from sample 192 of the epoch, at step 6,
    # so its data offset is 12 - 6.
    assert card.train["data_offset"] == 6

    # The batches go on where the two processes stopped: step 6 of one process is what rank 0 would have
    # drawn at step 6, step 7 what rank 1 would have.
    # The CLI's n_samples (64): the generator that draws the fixed latents then draws the held-out slice.
    config = TrainConfig(family="gan", steps=10, seed=5, device="cpu")
    trainer = Trainer(config, dataset=load_bundled_mnist(), resume=torchrun_runs / "gan" / "checkpoint.safetensors")
    rank0, rank1 = (torch.load(torchrun_runs / "weights" / f"run0-rank{rank}.pt", weights_only=True)
                    for rank in (0, 1))
    assert trainer.step == old_steps and trainer.data_offset == 6
    assert torch.equal(trainer._batch_index(old_steps), rank0["next_batch"])
    assert torch.equal(trainer._batch_index(old_steps + 1), rank1["next_batch"])


def test_resumed_data_offset():
    count, batch = 100, 10
    # The same world size and batch keep the offset: the resume is exact.
    for step in (0, 7, 25):
        for offset in (0, 3, -4):
            assert resumed_data_offset(step, count, (batch, 2, offset), (batch, 2)) == offset
    # 3 processes, 2 steps in: 60 samples of epoch 0 seen; 2 processes go on at their step 3 (sample 60).
    offset = resumed_data_offset(2, count, (batch, 3, 0), (batch, 2))
    assert offset == 1 and divmod(2 + offset, steps_per_epoch(count, batch, 2)) == (0, 3)
    # 1 process, 3 steps in: 30 samples seen; 2 processes round up to their step 2 (sample 40).
    offset = resumed_data_offset(3, count, (batch, 1, 0), (batch, 2))
    assert divmod(3 + offset, steps_per_epoch(count, batch, 2)) == (0, 2)
    # Step 25 of one process is epoch 2, sample 50; 4 processes take 40 a step and 80 an epoch, so
    # sample 80 and on are never drawn: they go on at the start of epoch 3.
    offset = resumed_data_offset(25, count, (batch, 1, 0), (batch, 4))
    assert divmod(25 + offset, steps_per_epoch(count, batch, 4)) == (3, 0)
    # A chain of resumes: 1 -> 2 -> 1 process comes back to the very order of one process throughout.
    there = resumed_data_offset(4, count, (batch, 1, 0), (batch, 2))      # sample 40: step 2 of 2
    back = resumed_data_offset(8, count, (batch, 2, there), (batch, 1))    # 4 steps of 20 later: sample 120
    assert divmod(8 + back, 10) == (1, 2)                                  # epoch 1, sample 20 = step 12 of one
