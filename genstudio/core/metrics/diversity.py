"""Diversity over time: how spread out a fixed-latent batch is compared with a real batch.

diversity = mean pairwise distance among generated features / the same among real features.
About 1 for a generator as varied as the data; it falls towards 0 as samples collapse onto few
outputs. Tracking it on the same latents every time makes the curve a property of the weights only.
With `max_samples`, each set is cut to a subset drawn by a seeded permutation (sample_order.py), not
to its first samples: a class-conditional model's samples or a replayed data set can come class by
class, and the first 200 of 2,000 class-sorted MNIST digits (tests/core/test_block_order.py) are
nearly all 0s, spread 0.63 times as far as 200 digits in a random order. The same seed and set
sizes give the same subset, so a fixed-latent batch stays fixed.
"""

from __future__ import annotations

import torch

from genstudio.core.metrics.sample_order import seeded_orders


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean Euclidean distance over all pairs i != j of rows of x (n, D), n >= 2."""
    x = x.detach().cpu().float().reshape(len(x), -1)
    n = len(x)
    if n < 2:
        raise ValueError(f"pairwise distances need at least 2 samples, got {n}")
    total = 0.0
    for start in range(0, n, 2048):
        total += float(torch.cdist(x[start:start + 2048], x).double().sum())   # diagonal adds 0
    return total / (n * (n - 1))


def diversity(fake: torch.Tensor, real: torch.Tensor, max_samples: int | None = None, seed: int = 0) -> dict:
    """Generated (n, D) vs real (m, D) mean pairwise distance and their ratio, over at most
    `max_samples` of each set drawn by a permutation seeded with `seed` (None: all of them)."""
    if max_samples is not None:
        fake_order, real_order = seeded_orders(seed, len(fake), len(real))           # (n,), (m,)
        fake, real = fake[fake_order[:max_samples]], real[real_order[:max_samples]]
    fake_mean, real_mean = mean_pairwise_distance(fake), mean_pairwise_distance(real)
    return {
        "fake_mean_distance": fake_mean,
        "real_mean_distance": real_mean,
        "ratio": fake_mean / real_mean if real_mean > 0 else None,
        "settings": {"fake_samples": len(fake), "real_samples": len(real),
                     "subset": ("all samples" if max_samples is None
                                else f"at most {max_samples} of each by a seeded permutation (seed {seed})")},
    }
