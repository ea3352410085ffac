"""The 2-D Gaussian mixtures of the classic mode-collapse benchmark (docs/diagnostics.md).

- ring8: 8 modes at (cos 2πi/8, sin 2πi/8), i = 0..7, std 0.01 (PacGAN's configuration).
  Not linspace(0, 2π, 8), which puts modes 0 and 7 on the same point.
- grid25: 25 modes at {−4, −2, 0, 2, 4}², std 0.05.

The centres and std are exposed because the mode-coverage metrics score samples against them
(a sample is high quality when within 3 std of its nearest centre).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.errors import DataError


@dataclass(frozen=True)
class ToyMixture:
    """An isotropic Gaussian mixture with equal weights: every mode has the same `std`."""

    name: str
    means: tuple[tuple[float, float], ...]
    std: float

    @property
    def num_modes(self) -> int:
        return len(self.means)

    @property
    def centres(self) -> torch.Tensor:
        """(K, 2) float32 mode centres; a fresh tensor each call, so callers may move or modify it."""
        return torch.tensor(self.means, dtype=torch.float32)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n points (n, 2) float32 and the mode each came from (n,) int64, modes drawn uniformly."""
        modes = torch.randint(self.num_modes, (n,), generator=generator)
        noise = torch.randn((n, 2), generator=generator)
        return self.centres[modes] + self.std * noise, modes


RING8 = ToyMixture(
    "ring8",
    tuple((math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)) for i in range(8)),
    0.01,
)
GRID25 = ToyMixture(
    "grid25",
    tuple((float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)),
    0.05,
)
TOY_MIXTURES = {m.name: m for m in (RING8, GRID25)}


def load_toy(name: str, n: int = 100_000, seed: int = 0) -> InMemoryDataset:
    """n points (n, 2) float32 from mixture `name` ('ring8' or 'grid25'), labelled by mode index.

    The same (name, n, seed) always gives the same points.
    """
    if name not in TOY_MIXTURES:
        raise DataError(f"unknown toy data set {name!r} (expected one of {', '.join(TOY_MIXTURES)})")
    mixture = TOY_MIXTURES[name]
    points, modes = mixture.sample(n, torch.Generator().manual_seed(seed))
    return InMemoryDataset(
        name=name,
        data=points,
        labels=modes,
        label_names=[f"mode {i}" for i in range(mixture.num_modes)],
        source=name,
    )


def plot_bounds(points: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """A square (x0, x1, y0, y1) around (N, 2) points with a margin, so the surface shows the edges."""
    lo, hi = points.min(0), points.max(0)
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * (1 + margin) + 1e-3
    return float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half)
