"""Data-parallel training on the CPU with two gloo processes: the same code path torchrun uses on GPUs."""

import os
import shutil
import socket
import subprocess
import sys

import torch
import torch.multiprocessing as mp

from genstudio.core.io.checkpoints import load_checkpoint


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, out_dir):
    import torch.distributed as dist

    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.training.engine import TrainConfig, Trainer

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    config = TrainConfig(family="gan", preset="mlp", steps=6, batch_size=16, sample_every_s=0,
                         n_samples=2, device="cpu", out_dir=out_dir, seed=5)
    trainer = Trainer(config, dataset=load_bundled_mnist())
    first_batch = trainer._batch_index(0).tolist()
    list(trainer.run())
    torch.save({"weights": trainer.model.state_dict(), "batch": torch.tensor(first_batch)},
               os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_two_processes_average_gradients(tmp_path):
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    # Each process saw a different shard of the data...
    assert not set(r0["batch"].tolist()) & set(r1["batch"].tolist())
    # ...yet, with averaged gradients, both hold the very same weights after 6 steps.
    for key, value in r0["weights"].items():
        assert torch.equal(value, r1["weights"][key]), key
    # Only the main process wrote the checkpoint, and it holds those weights.
    saved = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert saved.step == 6
    for key, value in saved.model.state_dict().items():
        assert torch.equal(value, r0["weights"][key]), key


def test_torchrun_cli(tmp_path):
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    assert torchrun, "torchrun ships with torch"
    result = subprocess.run(
        [torchrun, "--nproc_per_node", "2", "--master_port", str(free_port()), "-m", "genstudio", "train",
         "--family", "vae", "--preset", "map", "--steps", "8", "--device", "cpu", "--quiet",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_checkpoint(tmp_path / "checkpoint.safetensors").step == 8
