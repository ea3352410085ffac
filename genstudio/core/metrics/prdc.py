"""Precision/recall (Kynkäänniemi et al. 2019, k = 3) and density/coverage (Naeem et al. 2020, k = 5).

Definitions, exactly as docs/diagnostics.md gives them, for real X (N, D) and fake Y (M, D):
    NND_k(x)  = distance from x to its k-th nearest neighbour in its own set (itself excluded)
    precision = mean_j 1[exists i: |y_j - x_i| <= NND_k(x_i)]           (k = 3)
    recall    = mean_i 1[exists j: |x_i - y_j| <= NND_k(y_j)]           (k = 3)
    density   = 1/(kM) sum_j sum_i 1[|y_j - x_i| < NND_k(x_i)]           (k = 5)
    coverage  = 1/N sum_i 1[min_j |x_i - y_j| < NND_k(x_i)]               (k = 5)

Distances come from torch.cdist on row chunks, so no N x M matrix is ever held whole: 10k x 10k
in 128-D is three passes of ~1e8 distances (real-real, fake-fake, real-fake).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

CHUNK = 2048          # rows per cdist block: (2048, 10k) float32 is 80 MB
K_PR = 3
K_DC = 5


@dataclass
class Neighbours:
    """The k nearest neighbours of every row of a set, itself excluded: distances (N, k) ascending,
    indices (N, k); and, when a threshold was given, how many others lie closer than it (N,)."""

    distances: torch.Tensor
    indices: torch.Tensor
    within: torch.Tensor | None = None

    def radius(self, k: int) -> torch.Tensor:
        """NND_k: distance to the k-th nearest neighbour (N,)."""
        if k > self.distances.shape[1]:
            raise ValueError(f"asked for the {k}-th neighbour of a table of {self.distances.shape[1]}")
        return self.distances[:, k - 1]


def _features(x: torch.Tensor) -> torch.Tensor:
    return x.detach().cpu().float().reshape(len(x), -1).contiguous()


def nearest_neighbours(x: torch.Tensor, k: int, threshold: float | None = None, chunk: int = CHUNK) -> Neighbours:
    """The k nearest neighbours of each row of x (N, D) within x; needs N > k."""
    x = _features(x)
    n = len(x)
    if n <= k:
        raise ValueError(f"{n} samples are too few for k = {k} nearest neighbours (need more than {k})")
    dists, index, within = [], [], []
    for start in range(0, n, chunk):
        d = torch.cdist(x[start:start + chunk], x)                     # (c, N)
        rows = torch.arange(start, min(start + chunk, n))
        d[rows - start, rows] = math.inf                                # exclude each row itself
        values, idx = torch.topk(d, k, dim=1, largest=False)           # (c, k) ascending
        dists.append(values)
        index.append(idx)
        if threshold is not None:
            # The k nearest already count the neighbours within the threshold, except in rows
            # whose k-th neighbour is itself within it: only those need a full count.
            count = (values < threshold).sum(1, dtype=torch.int32)      # (c,)
            full = values[:, -1] < threshold
            if bool(full.any()):
                count[full] = (d[full] < threshold).sum(1, dtype=torch.int32)
            within.append(count)
    return Neighbours(torch.cat(dists), torch.cat(index), torch.cat(within) if within else None)


def prdc(real: torch.Tensor, fake: torch.Tensor, k_pr: int = K_PR, k_dc: int = K_DC,
         real_neighbours: Neighbours | None = None, fake_neighbours: Neighbours | None = None,
         chunk: int = CHUNK) -> dict:
    """Precision, recall (k_pr), density, coverage (k_dc) of fake (M, D) against real (N, D).

    Neighbour tables computed elsewhere (with at least max(k) columns) are reused when given."""
    real, fake = _features(real), _features(fake)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real features are {real.shape[1]}-D but fake features {fake.shape[1]}-D")
    real_nb = real_neighbours or nearest_neighbours(real, max(k_pr, k_dc), chunk=chunk)
    fake_nb = fake_neighbours or nearest_neighbours(fake, k_pr, chunk=chunk)
    r_pr, r_dc = real_nb.radius(k_pr), real_nb.radius(k_dc)           # (N,), (N,)
    # Trimmed precision: only the real neighbourhoods no wider than the median one (the realism
    # score's pruning, Kynkaanniemi et al. 2019). Outlier real samples have wide neighbourhoods that a
    # constant grey image can fall into: it scores precision 1 against all of them, 0 against these.
    r_trim = torch.where(r_pr <= r_pr.median(), r_pr, torch.full_like(r_pr, -1.0))   # (N,)
    f_pr = fake_nb.radius(k_pr)                                         # (M,)
    precise = torch.zeros(len(fake), dtype=torch.bool)                  # (M,)
    precise_trimmed = torch.zeros(len(fake), dtype=torch.bool)          # (M,)
    density = torch.zeros(len(fake))                                    # (M,) real balls holding y_j
    recalled = torch.zeros(len(real), dtype=torch.bool)                 # (N,)
    nearest_fake = torch.full((len(real),), math.inf)                   # (N,) min_j |x_i - y_j|
    for start in range(0, len(fake), chunk):
        d = torch.cdist(fake[start:start + chunk], real)               # (c, N): y_j against every x_i
        precise[start:start + chunk] = (d <= r_pr).any(1)
        precise_trimmed[start:start + chunk] = (d <= r_trim).any(1)
        density[start:start + chunk] = (d < r_dc).sum(1, dtype=torch.int32).float()   # int32: 2x faster than bool
        recalled |= (d <= f_pr[start:start + chunk, None]).any(0)
        nearest_fake = torch.minimum(nearest_fake, d.min(0).values)
    return {
        "precision": float(precise.double().mean()),
        "precision_trimmed": float(precise_trimmed.double().mean()),
        "recall": float(recalled.double().mean()),
        "density": float(density.double().sum() / (k_dc * len(fake))),
        "coverage": float((nearest_fake < r_dc).double().mean()),
        "settings": {"k_precision_recall": k_pr, "k_density_coverage": k_dc,
                     "real_samples": len(real), "fake_samples": len(fake), "dim": real.shape[1],
                     "method": "Kynkäänniemi 2019 (P, R), Naeem 2020 (D, C); Euclidean k-NN balls"},
    }


def expected_self_coverage(n_real: int, n_fake: int, k: int = K_DC) -> float:
    """Expected coverage of two samples of one distribution: 1 - prod_{i=1..k} (N-i)/(N+M-i)."""
    product = 1.0
    for i in range(1, k + 1):
        product *= (n_real - i) / (n_real + n_fake - i)
    return 1.0 - product
