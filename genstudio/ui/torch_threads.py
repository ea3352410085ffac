"""Which of the app's threads run torch on every core, and which on one.

PyTorch's OpenMP runtime (libgomp) keeps a pool of worker threads for each thread that ever ran a
parallel region. Once the pools together hold more threads than there are cores, every pool stops
spin-waiting between regions, and each of the hundreds of small parallel regions of a training
step waits for a sleeping worker to wake. Measured on 2 cores, MLP GAN, batch 64: 2335 img/s in a
worker thread when the GUI thread had made a pool, 2731 when it had not.

So the long-lived threads that only do small things (the GUI thread, the render thread, the
live-diagnostics thread) run torch on one thread, which makes no pool, and decodes a single image
faster besides (3.7 ms vs 4.5-13 ms for the demo flow). The training thread and the short-lived
task threads (map, reports), whose pools end with them, use every core.
`torch.set_num_threads` sets OpenMP's thread count for the calling thread only.
"""

from __future__ import annotations

import torch

ALL_CORES = torch.get_num_threads()      # the process default, read before any thread changes its own


def single_threaded() -> None:
    """Run this thread's torch work on one thread (no OpenMP pool)."""
    torch.set_num_threads(1)


def all_cores() -> None:
    """Run this thread's torch work on every core."""
    torch.set_num_threads(ALL_CORES)
