"""Training throughput of the `dcgan` preset against the plain PyTorch DCGAN loop, in one process.

As throughput.py does for the MLP preset: the two alternate in timed windows of `steps` steps after
a warm-up, and the medians are compared, so that the load of a shared machine hits both alike
(docs/performance.md: a comparison is a ratio measured in the same run). Both train the same
architecture (reference_dcgan.py) with the same hyper-parameters at the same batch size and image
size. The reference resizes each image as it loads it; ours resizes the data set once, up front,
and keeps it as uint8 on the training device, as the engine trains from any data set.
"""

from __future__ import annotations

import os
import statistics

import torch
import torch.nn.functional as F

from genstudio.bench.reference_dcgan import ReferenceDCGAN
from genstudio.bench.throughput import PresetWindows, alternate
from genstudio.core.data.dataset import InMemoryDataset

SIZES = (28, 32, 64)
BAR = 2.0
# Steps per timed window at each size: a step at 64 px costs about 16x one at 28 px (143 vs 9.4
# GFLOP at batch 64), so windows shrink with the size to keep the whole table near a minute on 2 quiet cores.
STEPS = {28: 6, 32: 3, 64: 1}


def resized(dataset: InMemoryDataset, size: int) -> InMemoryDataset:
    """The data set's images (N, C, h, w) uint8 resized once to (N, C, size, size), bilinear as
    transforms.Resize does, rounded back to uint8."""
    if dataset.shape[1:] == (size, size):
        return dataset
    images = F.interpolate(dataset.data.float(), size=(size, size), mode="bilinear", align_corners=False,
                           antialias=True)
    data = images.round_().clamp_(0, 255).to(torch.uint8)
    return InMemoryDataset(f"{dataset.name} at {size} px", data, dataset.labels, list(dataset.label_names),
                           source=dataset.source)


def compare_dcgan_throughput(dataset: InMemoryDataset, image_size: int = 64, batch_size: int = 64, rounds: int = 5,
                             steps: int | None = None, device: str = "cpu") -> dict:
    """Median images/s of the reference loop and of the dcgan preset over `rounds` alternating windows
    of `steps` steps each (None: STEPS for the size, scaled for batch 64), on `dataset` (28 px uint8
    images, e.g. the bundled MNIST) at `image_size`."""
    if steps is None:
        steps = max(1, round(STEPS.get(image_size, 2) * 64 / batch_size))
    reference = ReferenceDCGAN(dataset.data.cpu(), size=image_size, batch_size=batch_size)
    ours = PresetWindows(resized(dataset, image_size), batch_size, device, preset="dcgan")
    ref_runs, our_runs = alternate(reference, ours, rounds, steps, warm_up=2)
    ref, our = statistics.median(ref_runs), statistics.median(our_runs)
    return {"figure": "DCGAN training throughput", "unit": "images/s", "image_size": image_size,
            "batch_size": batch_size, "preset": "gan/dcgan", "data": dataset.name, "device": device,
            "threads": torch.get_num_threads(), "load": os.getloadavg()[0], "rounds": rounds,
            "steps_per_window": steps, "reference": ref, "genstudio": our, "ratio": our / ref, "bar": BAR,
            "reference_runs": ref_runs, "genstudio_runs": our_runs}


def bench_dcgan(dataset: InMemoryDataset | None = None, sizes: tuple[int, ...] = SIZES, batch_size: int = 64,
                rounds: int = 5, steps: int | None = None, device: str = "cpu") -> dict:
    """compare_dcgan_throughput at each image size; prints a table and returns {size: figures}."""
    if dataset is None:
        from genstudio.core.data.bundled import load_bundled_mnist
        dataset = load_bundled_mnist()
    print(f"DCGAN training throughput, dcgan preset vs the PyTorch examples' loop, batch {batch_size}, "
          f"{dataset.name}, {device}, {torch.get_num_threads()} threads, median of {rounds} alternating windows:")
    print(f"  {'size':>6} {'reference':>10} {'genstudio':>10} {'ratio':>7}  {'bar':<6} steps  load")
    rows = {}
    for size in sizes:
        row = rows[size] = compare_dcgan_throughput(dataset, size, batch_size, rounds, steps, device)
        print(f"  {size:>3} px {row['reference']:>10.0f} {row['genstudio']:>10.0f} {row['ratio']:>7.2f}  "
              f">= {BAR}  {row['steps_per_window']:>5}  {row['load']:.2f}", flush=True)
    return rows
