"""`genstudio bench --only runs`: what the run folder costs training, and DCGAN throughput with one and
two processes under torchrun.

The run folder's cost: the same MLP GAN run (the fastest steps genstudio trains, so the largest share
for the log) trained whole, from the first sample report to the final save, with and without the run
folder (run.json, a metrics record every 10 steps, sample grids, TensorBoard events when that extra
is installed), in alternating runs so that the load of a shared machine hits both alike; each run a
fresh Trainer with its own folder, with `genstudio train`'s settings (a preview every 30 s). The
writer runs on the training thread, so the time spent inside it is time training waits: that share
of each run is the figure held to the bar. The two runs' wall-clock difference is printed beside it,
but on a shared machine whole runs swing by more than 10 % (6.3 to 7.9 s for the same run here), far
more than the 2 % it would have to resolve.

Processes: `torchrun --nproc_per_node=N -m genstudio train --preset dcgan` for N = 1 and 2, each run's
images/s (all processes together) read from its own metrics.jsonl, the first record (warm-up) left
out. On a CPU the processes share the cores (each gets cores / N threads), so this measures what
data-parallel training costs and gives there, not a speed-up a GPU per process would show.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.training.engine import TrainConfig, Trainer

OVERHEAD_BAR = 0.02
RUN_FOLDER_STEPS = 200
RUN_FOLDER_ROUNDS = 4
PROCESS_STEPS = 50
PROCESS_COUNTS = (1, 2)


class _WithoutRunFolder(Trainer):
    """The same run, its checkpoint saved, without the run folder's writer."""

    def _open_run_log(self, total: int):
        return None


class _TimedRunFolder(Trainer):
    """The run with its run folder, adding up the seconds spent inside the writer (`in_writer`)."""

    in_writer = 0.0

    def _timed(self, work, *args):
        began = time.perf_counter()
        try:
            return work(*args)
        finally:
            self.in_writer += time.perf_counter() - began

    def _open_run_log(self, total: int):
        run_log = self._timed(super()._open_run_log, total)
        close = run_log.close
        run_log.close = lambda: self._timed(close)
        return run_log

    def _log(self, run_log, report, total: int) -> None:
        self._timed(super()._log, run_log, report, total)


def _timed_run(trainer_class, dataset: InMemoryDataset, folder: Path, steps: int, device: str) -> tuple[float, float]:
    """Seconds of one whole run of the MLP GAN preset (built beforehand, so not timed), and of those
    the seconds inside the run folder's writer (0 without it)."""
    config = TrainConfig(family="gan", preset="mlp", steps=steps, device=device, out_dir=str(folder),
                         autosave_every=0, sample_every_s=30)
    trainer = trainer_class(config, dataset=dataset)
    began = time.perf_counter()
    for _ in trainer.run():
        pass
    return time.perf_counter() - began, getattr(trainer, "in_writer", 0.0)


def run_folder_overhead(dataset: InMemoryDataset, steps: int = RUN_FOLDER_STEPS, rounds: int = RUN_FOLDER_ROUNDS,
                        device: str = "cpu") -> dict:
    with_folder, without, shares = [], [], []
    with tempfile.TemporaryDirectory() as root:
        for number in range(rounds + 1):          # round 0 warms both up (allocator, kernels, imports): dropped
            base, _ = _timed_run(_WithoutRunFolder, dataset, Path(root) / f"without-{number}", steps, device)
            logged, in_writer = _timed_run(_TimedRunFolder, dataset, Path(root) / f"with-{number}", steps, device)
            if number:
                without.append(base)
                with_folder.append(logged)
                shares.append(in_writer / (logged - in_writer))
    base, logged = statistics.median(without), statistics.median(with_folder)
    return {"figure": "run folder overhead", "preset": "gan/mlp", "steps": steps, "rounds": rounds,
            "device": device, "overhead": statistics.median(shares), "bar": OVERHEAD_BAR,
            "without_s": base, "with_s": logged, "wall_clock_difference": logged / base - 1,
            "without_runs_s": without, "with_runs_s": with_folder, "load": os.getloadavg()[0]}


def _process_run(processes: int, steps: int, folder: Path) -> float:
    """Images/s of a `torchrun --nproc_per_node=processes` DCGAN run, from its metrics log."""
    env = {**os.environ, "OMP_NUM_THREADS": str(max((os.cpu_count() or 1) // processes, 1))}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", "genstudio", "train", "--family", "gan", "--preset", "dcgan", "--steps", str(steps),
               "--device", "cpu", "--sample-every", "0", "--autosave-every", "0", "--quiet", "--out", str(folder)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"torchrun with {processes} processes failed: {done.stderr.strip().splitlines()[-1:]}")
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    speeds = [r["images_per_sec"] for r in records if r["kind"] == "step"][1:]
    return statistics.median(speeds)


def process_throughput(steps: int = PROCESS_STEPS, counts: tuple[int, ...] = PROCESS_COUNTS) -> dict:
    with tempfile.TemporaryDirectory() as root:
        speeds = {str(n): _process_run(n, steps, Path(root) / f"processes-{n}") for n in counts}
    return {"figure": "DCGAN throughput by processes", "preset": "gan/dcgan", "unit": "images/s", "steps": steps,
            "device": "cpu (gloo)", "cores": os.cpu_count(), "images_per_sec": speeds,
            "load": os.getloadavg()[0]}


def bench_runs(dataset: InMemoryDataset | None = None, device: str = "cpu") -> dict:
    """Both figures, printed; returns them for --json."""
    if dataset is None:
        from genstudio.core.data.bundled import load_bundled_mnist
        dataset = load_bundled_mnist()
    cost = run_folder_overhead(dataset, device=device)
    print(f"run folder overhead, MLP GAN preset, {cost['steps']} steps a run, median of {cost['rounds']} "
          f"alternating runs on {device}:")
    print(f"  time training waits in the writer  {100 * cost['overhead']:5.2f} %   (bar <= {100 * OVERHEAD_BAR:.0f} %)")
    spread = max(cost["without_runs_s"]) / min(cost["without_runs_s"]) - 1
    print(f"  whole runs without / with          {cost['without_s']:.2f} / {cost['with_s']:.2f} s "
          f"({100 * cost['wall_clock_difference']:+.1f} %; the same run swung by {100 * spread:.0f} %)", flush=True)
    processes = process_throughput()
    print(f"DCGAN preset under torchrun on the CPU (gloo, {processes['cores']} cores shared), "
          f"{processes['steps']} steps, images/s of all processes:")
    for count, speed in processes["images_per_sec"].items():
        print(f"  {count} process{'es' if count != '1' else ''}  {speed:8.0f} images/s", flush=True)
    return {"run_folder": cost, "processes": processes}
