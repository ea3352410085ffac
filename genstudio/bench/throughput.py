"""Training throughput: genstudio's MLP GAN preset against the reference loop, in one process.

The two alternate in windows of `steps` steps and the medians are compared, so that the noise of
a shared machine hits both alike (docs/performance.md: a comparison is a ratio measured in the same
run). Both train the same architecture with the same hyper-parameters at the same batch size.
"""

from __future__ import annotations

import statistics

import torch

from genstudio.bench.reference_gan import ReferenceGAN
from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.training.engine import TrainConfig, Trainer


class PresetWindows:
    """Drives one Trainer of a GAN preset through successive timed windows (the engine's own images/s
    figure)."""

    def __init__(self, dataset: InMemoryDataset, batch_size: int, device: str, preset: str = "mlp"):
        config = TrainConfig(family="gan", preset=preset, steps=0, batch_size=batch_size, report_every=10**9,
                             sample_every_s=0, n_samples=1, eval_batch=1, device=device)
        self.trainer = Trainer(config, dataset=dataset)

    def images_per_second(self, steps: int) -> float:
        self.trainer.config.steps = self.trainer.step + steps
        return [r.images_per_sec for r in self.trainer.run() if r.kind == "step"][-1]


def alternate(reference, ours, rounds: int, steps: int, warm_up: int) -> tuple[list[float], list[float]]:
    """Images/s of each side's `rounds` windows of `steps` steps, taken in turn after `warm_up` steps
    each (allocator, MKL / oneDNN kernels, DataLoader start-up), so the machine's noise hits both."""
    reference.images_per_second(warm_up)
    ours.images_per_second(warm_up)
    ref_runs, our_runs = [], []
    for _ in range(rounds):
        ref_runs.append(reference.images_per_second(steps))
        our_runs.append(ours.images_per_second(steps))
    return ref_runs, our_runs


def compare_gan_throughput(dataset: InMemoryDataset, batch_size: int = 64, rounds: int = 5,
                           steps: int = 60, device: str = "cpu") -> dict:
    reference = ReferenceGAN(dataset.data.cpu(), batch_size=batch_size)
    ours = PresetWindows(dataset, batch_size, device)
    ref_runs, our_runs = alternate(reference, ours, rounds, steps, warm_up=10)
    ref, our = statistics.median(ref_runs), statistics.median(our_runs)
    return {"figure": "training throughput", "unit": "images/s", "batch_size": batch_size,
            "preset": "gan/mlp", "data": dataset.name, "device": device, "threads": torch.get_num_threads(),
            "rounds": rounds, "steps_per_window": steps,
            "reference": ref, "genstudio": our, "ratio": our / ref, "bar": 1.5,
            "reference_runs": ref_runs, "genstudio_runs": our_runs}
