"""Mode coverage on the 2-D Gaussian mixtures, as the VEEGAN and PacGAN tables count it.

A sample is high quality (HQ) when its Mahalanobis distance to the nearest mode is < 3; every mode
of our mixtures is isotropic with the same std, so that is Euclidean distance < 3 std. Modes
covered = modes holding at least one HQ sample (docs/diagnostics.md); PacGAN's stricter count
(a mode needs >= 20 HQ samples of 2,500) is reported beside it. The tables evaluate 2,500 samples.
"""

from __future__ import annotations

import torch

from genstudio.core.data.toy import ToyMixture

TOY_SAMPLES = 2_500
HQ_STDS = 3.0
PACGAN_MIN_COUNT = 20     # of 2,500 samples (PacGAN: "less than 20 samples" means the mode is lost)


def toy_metrics(points: torch.Tensor, mixture: ToyMixture) -> dict:
    """Modes covered, %HQ and KL/JS of the HQ mode histogram vs uniform for points (n, 2)."""
    points = points.detach().float().cpu().reshape(len(points), -1)
    if points.shape[1] != 2:
        raise ValueError(f"toy metrics need (n, 2) points, got {tuple(points.shape)}")
    if len(points) == 0:
        raise ValueError("toy metrics need at least one sample")
    n_modes = mixture.num_modes
    distance, nearest = torch.cdist(points, mixture.centres).min(dim=1)       # (n,), (n,)
    hq = torch.isfinite(distance) & (distance < HQ_STDS * mixture.std)     # (n,) bool
    counts = torch.bincount(nearest[hq], minlength=n_modes).double()        # (K,) HQ samples per mode
    n_hq = int(hq.sum())
    if n_hq:
        p = counts / n_hq
        nz = p > 0
        # KL(p || uniform) = sum p log(p K): 0 for a perfect spread, log K for a single mode.
        kl = float((p[nz] * (p[nz] * n_modes).log()).sum())
        m = 0.5 * (p + 1.0 / n_modes)
        js = 0.5 * float((p[nz] * (p[nz] / m[nz]).log()).sum()) + 0.5 * float(
            ((1.0 / n_modes) * ((1.0 / n_modes) / m).log()).sum())
    else:
        kl = js = None   # no HQ sample: the histogram is undefined (None, as JSON has no NaN)
    return {
        "mixture": mixture.name,
        "samples": len(points),
        "num_modes": n_modes,
        "modes_covered": int((counts >= 1).sum()),
        "modes_covered_min20": int((counts >= PACGAN_MIN_COUNT * len(points) / TOY_SAMPLES).sum()),
        "hq_percent": 100.0 * n_hq / len(points),
        "kl_modes_uniform": kl,
        "js_modes_uniform": js,
        "mode_counts": [int(c) for c in counts],
        "settings": {"hq_rule": f"distance to nearest mode < {HQ_STDS:g} std (std {mixture.std:g})",
                     "covered_rule": "mode holds >= 1 HQ sample",
                     "min20_rule": f">= {PACGAN_MIN_COUNT} HQ samples per {TOY_SAMPLES} (PacGAN)",
                     "kl": "KL(HQ mode histogram || uniform), nats"},
    }
