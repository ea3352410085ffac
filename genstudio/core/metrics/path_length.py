"""Perceptual path length in the classifier's feature space (Karras et al. 2019, section 3).

For pairs of latents z0, z1 and t ~ U(0, 1), the squared feature distance between the images at t
and at t + eps along the spherical path from z0 to z1, divided by eps^2:
    l = |f(G(slerp(z0, z1, t))) - f(G(slerp(z0, z1, t + eps)))|^2 / eps^2,     eps = 1e-4,
averaged after dropping the values below the 1st and above the 99th percentile, as the paper does.
Karras et al. measure f with VGG16 LPIPS; here f is the data set's classifier's penultimate features
(the same space as the other figures, weights available offline), so values compare only between
models measured with the same classifier. Low: the image changes smoothly with the latent; high:
abrupt jumps (often where a GAN's latent space is folded between modes). Spherical paths because
the latents are Gaussian: a straight line would pass near the origin, where no latent is drawn.
Class-conditional models keep one label along each path. Written here because it is a loop over
decode and embed that genstudio already has; no library computes it for arbitrary generators.
"""

from __future__ import annotations

import torch

from genstudio.core.metrics import check_stop

EPSILON = 1e-4
PAIRS = 1000
BATCH = 250
PERCENTILES = (1.0, 99.0)
SEED_OFFSET = 7919        # the paths use their own stream, not the samples' latents


def slerp_rows(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Row-wise spherical interpolation of a, b (n, D) at t (n,): keeps the norm of Gaussian latents."""
    cos = torch.nn.functional.cosine_similarity(a, b, dim=1).clamp(-1.0, 1.0)         # (n,)
    omega = torch.arccos(cos)[:, None]                                                  # (n, 1)
    sin = torch.sin(omega).clamp_min(1e-7)
    t = t[:, None]
    return (torch.sin((1 - t) * omega) / sin) * a + (torch.sin(t * omega) / sin) * b


@torch.no_grad()
def path_length(generator, space, pairs: int = PAIRS, seed: int = 0, epsilon: float = EPSILON,
                batch: int = BATCH, progress=None, should_stop=None) -> dict:
    """Mean path length over `pairs` latent pairs of `generator` (sample_latents, decode), measured
    with `space.embed` (classifier features)."""
    if pairs < 10:
        raise ValueError(f"the path length needs at least 10 latent pairs, got {pairs}")
    rng = torch.Generator().manual_seed(seed + SEED_OFFSET)
    classes = int(getattr(generator, "num_classes", 0) or 0)
    lengths = []
    for start in range(0, pairs, batch):
        check_stop(should_stop, "measuring the path length")
        if progress is not None:
            progress(start / pairs, f"path length ({start}/{pairs} pairs)")
        n = min(batch, pairs - start)
        z0, z1 = generator.sample_latents(n, rng), generator.sample_latents(n, rng)    # (n, *latent_shape)
        shape = z0.shape
        z0, z1 = z0.reshape(n, -1).double(), z1.reshape(n, -1).double()
        t = torch.rand(n, generator=rng, dtype=torch.float64).to(z0.device) * (1 - epsilon)
        # float64 for the path, so eps = 1e-4 is not lost in float32 rounding of the latents
        ends = torch.cat([slerp_rows(z0, z1, t), slerp_rows(z0, z1, t + epsilon)]).float().reshape(2 * n, *shape[1:])
        if classes:
            labels = torch.arange(n, device=ends.device) % classes
            images = generator.decode(ends, torch.cat([labels, labels]))
        else:
            images = generator.decode(ends)
        features, _ = space.embed(images.float().cpu())                                 # (2n, F)
        lengths.append((features[:n].double() - features[n:].double()).square().sum(1) / epsilon ** 2)
    values = torch.cat(lengths)
    low, high = torch.quantile(values, torch.tensor(PERCENTILES, dtype=torch.float64) / 100)
    kept = values[(values >= low) & (values <= high)]
    return {"ppl": float(kept.mean()), "median": float(values.median()),
            "settings": {"pairs": pairs, "epsilon": epsilon, "path": "slerp in the latent space Z, t ~ U(0, 1)",
                         "kept": f"values between the {PERCENTILES[0]:g}th and {PERCENTILES[1]:g}th percentiles",
                         "feature_space": space.describe()["description"]}}
