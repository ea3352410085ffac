"""Diversity over time: how spread out a fixed-latent batch is compared with a real batch.

diversity = mean pairwise distance among generated features / the same among real features.
About 1 for a generator as varied as the data; it falls towards 0 as samples collapse onto few
outputs. Tracking it on the same latents every time makes the curve a property of the weights only.
"""

from __future__ import annotations

import torch


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


def diversity(fake: torch.Tensor, real: torch.Tensor) -> dict:
    """Generated (n, D) vs real (m, D) mean pairwise distance and their ratio."""
    fake_mean, real_mean = mean_pairwise_distance(fake), mean_pairwise_distance(real)
    return {
        "fake_mean_distance": fake_mean,
        "real_mean_distance": real_mean,
        "ratio": fake_mean / real_mean if real_mean > 0 else None,
        "settings": {"fake_samples": len(fake), "real_samples": len(real)},
    }
