"""Fréchet distance between Gaussians fitted to two feature sets (docs/diagnostics.md).

FD = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)). The trace of the matrix square root is the sum
of the square roots of the eigenvalues of S1 S2 (as torch-fidelity computes it): S1 S2 is similar
to the PSD matrix S1^(1/2) S2 S1^(1/2), so its eigenvalues are real and >= 0 up to rounding, and
no scipy sqrtm (which needs an eps retry when it fails) is involved. Computed in float64.

Only values from the same features and sample counts compare; the result says which. The estimate
is biased upwards by about b / n for n samples of each set (Chong and Forsyth 2020, "Effectively
Unbiased FID"): `frechet_by_samples` computes FD on nested subsets of n/8, n/4, n/2 and n samples,
fits FD(n) = FD_inf + b / n by least squares, and reports FD_inf and the bias b / n at the count used.
The subsets are the first n/8, n/4... of a seeded permutation of each set (real and generated
permuted independently, sample_order.py), not the first samples in the order they came: a
class-conditional model's samples or a replayed data set can come class by class, and then the
first n/8 hold a class or two. Measured on MNIST, 2,000 real digits sorted by label against 2,000
others: the first 500 in that order were at FD 385, 500 of the permutation at 13 (as unsorted,
tests/core/test_block_order.py), which would make the 1/n fit meaningless.
"""

from __future__ import annotations

import torch

from genstudio.core.metrics.sample_order import seeded_orders


def gaussian_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and unbiased covariance (D, D) of rows of x (n, D), float64; n >= 2."""
    x = x.detach().cpu().double().reshape(len(x), -1)
    if len(x) < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got {len(x)}")
    mu = x.mean(0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)


def frechet_distance(real: torch.Tensor, fake: torch.Tensor, feature_space: str = "") -> dict:
    """FD between real (N, D) and fake (M, D) features, with what it was computed on."""
    mu1, s1 = gaussian_stats(real)
    mu2, s2 = gaussian_stats(fake)
    if mu1.shape != mu2.shape:
        raise ValueError(f"real features are {mu1.numel()}-D but fake features {mu2.numel()}-D")
    product = s1 @ s2                                               # (D, D)
    if not (torch.isfinite(product).all() and torch.isfinite(mu1).all() and torch.isfinite(mu2).all()):
        # LAPACK's eigensolver given NaN or Inf may end the process (a segmentation fault), not raise.
        raise ValueError("the Fréchet distance needs finite features, and these hold NaN or Inf (or overflow "
                         "when their covariances are multiplied)")
    eigenvalues = torch.linalg.eigvals(product)                     # (D,) complex, ~real and >= 0
    trace_sqrt = eigenvalues.real.clamp_min(0).sqrt().sum()
    fd = (mu1 - mu2).pow(2).sum() + torch.trace(s1) + torch.trace(s2) - 2 * trace_sqrt
    return {
        "fd": float(fd.clamp_min(0)),   # rounding can leave a tiny negative for identical sets
        "mean_term": float((mu1 - mu2).pow(2).sum()),
        "settings": {"feature_space": feature_space, "dim": int(mu1.numel()),
                     "real_samples": len(real), "fake_samples": len(fake),
                     "sqrt": "sum of sqrt(eigenvalues of S1 S2), float64 (as torch-fidelity)"},
    }


MIN_SAMPLES_PER_DIM = 2          # subsets smaller than 2 x the feature dimension are left out of the fit
FRACTIONS = (0.125, 0.25, 0.5, 1.0)


def frechet_by_samples(real: torch.Tensor, fake: torch.Tensor, fractions=FRACTIONS, seed: int = 0) -> dict:
    """FD on the first n of a seeded permutation of each set for n = fraction x min(N, M), and the
    1/n fit through them (module docstring); `fd_infinity` and `bias` are None when fewer than two
    sizes qualify."""
    n = min(len(real), len(fake))
    dim = real.reshape(len(real), -1).shape[1]
    sizes = sorted({int(n * f) for f in fractions if int(n * f) >= max(MIN_SAMPLES_PER_DIM * dim, 2)})
    real_order, fake_order = seeded_orders(seed, len(real), len(fake))               # (N,), (M,)
    values = [frechet_distance(real[real_order[:s]], fake[fake_order[:s]])["fd"] for s in sizes]
    out = {"samples": sizes, "fd": values, "fd_infinity": None, "bias": None, "bias_at": n,
           "settings": {"fit": "FD(n) = FD_inf + b / n, least squares over nested subsets of both sets",
                        "subsets": "prefixes of a seeded permutation of each set", "order_seed": seed,
                        "min_samples": MIN_SAMPLES_PER_DIM * dim}}
    if len(sizes) >= 2:
        design = torch.tensor([[1.0, 1.0 / s] for s in sizes], dtype=torch.float64)       # (S, 2)
        solution = torch.linalg.lstsq(design, torch.tensor(values, dtype=torch.float64)[:, None]).solution
        out["fd_infinity"], slope = float(solution[0, 0]), float(solution[1, 0])
        out["bias"] = slope / n
    return out
