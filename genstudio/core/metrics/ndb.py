"""NDB, the number of statistically different bins (Richardson & Weiss 2018, docs/diagnostics.md).

K-means (K = 100, fixed seed) on the real samples; real and generated samples go to their nearest
centre; per bin a two-proportion z-test: p = (p1 n1 + p2 n2)/(n1 + n2),
SE = sqrt(p (1 - p) (1/n1 + 1/n2)), z = (p1 - p2)/SE, and the bin differs when the two-sided
p-value is < 0.05. A generator that drops a mode leaves its bins under-filled and others over-filled.
"""

from __future__ import annotations

import math

import torch

K_BINS = 100
ALPHA = 0.05


def _features(x: torch.Tensor) -> torch.Tensor:
    return x.detach().cpu().float().reshape(len(x), -1).contiguous()


def assign_bins(x: torch.Tensor, centres: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Index of the nearest centre (n,) for rows of x (n, D) and centres (K, D)."""
    return torch.cat([torch.cdist(x[s:s + chunk], centres).argmin(1) for s in range(0, len(x), chunk)])


def fit_bins(real: torch.Tensor, k: int = K_BINS, seed: int = 0) -> torch.Tensor:
    """K-means centres (k, D) of the real samples (n, D), n >= k: Lloyd's algorithm from k random
    real samples (fixed seed), one start. scikit-learn's k-means++ start costs 1-2 s for 10k x 128
    on two cores, 3x the whole fit, and NDB needs fixed bins of the real data, not the best ones."""
    from sklearn.cluster import KMeans  # imported here: scikit-learn is slow to import

    real = _features(real)
    if len(real) < k:
        raise ValueError(f"NDB with K = {k} bins needs at least {k} real samples, got {len(real)}")
    kmeans = KMeans(n_clusters=k, init="random", n_init=1, random_state=seed).fit(real.numpy())
    return torch.from_numpy(kmeans.cluster_centers_).float()


def _js(p: torch.Tensor, q: torch.Tensor) -> float:
    """Jensen-Shannon divergence of (K,) probability vectors, nats."""
    m = 0.5 * (p + q)

    def kl(a: torch.Tensor) -> float:
        nz = a > 0
        return float((a[nz] * (a[nz] / m[nz]).log()).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def ndb(real: torch.Tensor, fake: torch.Tensor, k: int = K_BINS, alpha: float = ALPHA, seed: int = 0,
        centres: torch.Tensor | None = None) -> dict:
    """NDB, NDB/K, JS of the bin proportions and the per-bin figures of fake (n2, D) vs real (n1, D).

    `centres` (k, D) from fit_bins may be passed to reuse one k-means fit for many queries."""
    real, fake = _features(real), _features(fake)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real samples are {real.shape[1]}-D but generated ones {fake.shape[1]}-D")
    if len(fake) == 0:
        raise ValueError("NDB needs at least one generated sample")
    if centres is None:
        centres = fit_bins(real, k, seed)
    k = len(centres)
    n1, n2 = len(real), len(fake)
    p1 = torch.bincount(assign_bins(real, centres), minlength=k).double() / n1       # (K,) real
    p2 = torch.bincount(assign_bins(fake, centres), minlength=k).double() / n2       # (K,) generated
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).sqrt()
    z = torch.where(se > 0, (p1 - p2) / se.clamp_min(1e-300), torch.zeros_like(se))
    p_values = torch.tensor([math.erfc(abs(float(v)) / math.sqrt(2)) for v in z], dtype=torch.float64)
    different = p_values < alpha
    return {
        "ndb": int(different.sum()),
        "ndb_over_k": float(different.sum()) / k,
        "js": _js(p1, p2),
        "different_bins": [int(i) for i in torch.nonzero(different).flatten()],
        # Bins the generator over-fills (p_gen > p_real) or under-fills, among the different ones.
        "overfilled_bins": [int(i) for i in torch.nonzero(different & (p2 > p1)).flatten()],
        "underfilled_bins": [int(i) for i in torch.nonzero(different & (p2 < p1)).flatten()],
        "real_proportions": [float(v) for v in p1],
        "fake_proportions": [float(v) for v in p2],
        "z": [float(v) for v in z],
        "settings": {"K": k, "alpha": alpha, "test": "two-proportion z-test, two-sided",
                     "kmeans": f"scikit-learn KMeans (Lloyd), random init, n_init 1, seed {seed}, fit on the real samples",
                     "real_samples": n1, "fake_samples": n2, "dim": real.shape[1], "js": "nats"},
    }
