"""Nearest training images of a sample: is the generator reproducing its training set?"""

from __future__ import annotations

import torch

from genstudio.core.data.pixels import to_unit_float


class NearestNeighbours:
    """Pixel-space L2 neighbours among a data set's images, flattened once: (N, P) float32."""

    def __init__(self, images: torch.Tensor):
        """images: (N, C, H, W) uint8 (as data sets hold them) or floats in [0, 1]."""
        flat = images.reshape(len(images), -1)
        self.data = to_unit_float(flat)
        self.squared_norms = self.data.pow(2).sum(1)                 # (N,)
        self.shape = tuple(images.shape[1:])

    def query(self, sample: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices (k,) and L2 distances (k,) of the k nearest data images to one sample (C, H, W)."""
        x = sample.reshape(-1).float()
        # ||a - x||^2 = ||a||^2 - 2 a.x + ||x||^2: one matrix-vector product over the whole set.
        d2 = (self.squared_norms - 2 * (self.data @ x) + x.pow(2).sum()).clamp_min(0)
        distances, index = torch.topk(d2, k, largest=False)
        return index, distances.sqrt()
