"""Latent-space geometry: seeded latents, temperature, truncation, interpolation paths and principal
directions (GANSpace-style PCA)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def apply_temperature(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """Scale standard-normal latents by T: T < 1 trades diversity for cleaner samples (a flow's
    sampling temperature; the truncation of the Gaussian shell for the other families)."""
    return z * float(temperature)


def truncated_normal(z: torch.Tensor, threshold: float) -> torch.Tensor:
    """BigGAN's truncation trick (Brock et al. 2019): latents from N(0, 1) restricted to
    [-threshold, threshold]. BigGAN resamples each value beyond the threshold; mapping every value
    through the truncated normal's inverse CDF, z' = Phi^-1(Phi(-t) + Phi(z) (Phi(t) - Phi(-t))),
    draws from the same distribution but deterministically, so a latent keeps naming one image.
    A threshold of 0 leaves z unchanged (no truncation)."""
    if threshold <= 0:
        return z
    t = torch.tensor(float(threshold), dtype=torch.float64)
    low, high = torch.special.ndtr(-t), torch.special.ndtr(t)
    u = low + torch.special.ndtr(z.double()) * (high - low)
    return torch.special.ndtri(u).clamp(-t, t).to(z.dtype)


def seeded_latents(count: int, latent_shape: tuple[int, ...], seed: int, temperature: float = 1.0) -> torch.Tensor:
    """(count, *latent_shape) N(0, T^2 I) latents drawn on the CPU from `seed`: the same seed gives the
    same latents in the app's explorer, its exports and `genstudio sample` (latent i of a grid is
    the i-th draw, so the first is the explorer's latent for that seed)."""
    g = torch.Generator().manual_seed(int(seed))
    return apply_temperature(torch.randn((count, *latent_shape), generator=g), temperature)


def lerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation of flattened latents (..., D): keeps the norm Gaussian latents have,
    where a straight line passes through low-density space near the origin."""
    shape = a.shape
    a2, b2 = a.reshape(-1), b.reshape(-1)
    na, nb = a2.norm(), b2.norm()
    cos = torch.clamp(torch.dot(a2 / (na + eps), b2 / (nb + eps)), -1.0, 1.0)
    omega = torch.arccos(cos)
    if float(omega) < 1e-4:  # (almost) parallel: slerp degenerates to lerp
        return lerp(a, b, t)
    t = torch.as_tensor(t, dtype=a.dtype)
    sin = torch.sin(omega)
    out = (torch.sin((1 - t) * omega) / sin) * a2 + (torch.sin(t * omega) / sin) * b2
    return out.reshape(shape)


def path(a: torch.Tensor, b: torch.Tensor, frames: int, spherical: bool) -> torch.Tensor:
    """(frames, *a.shape) latents from a to b inclusive."""
    step = slerp if spherical else lerp
    return torch.stack([step(a, b, float(t)) for t in np.linspace(0.0, 1.0, frames)])


@torch.no_grad()
def principal_directions(decode, latent_dim: int, k: int = 10, samples: int = 2048,
                         seed: int = 0, batch: int = 256) -> tuple[torch.Tensor, np.ndarray]:
    """GANSpace (Härkönen et al. 2020), with the generator's output as the feature layer.

    Decode `samples` random latents z (S, D) to outputs y (S, P); PCA of y gives the principal
    components (k, P) and each sample's coordinates c (S, k); regressing z on c (least squares,
    z ~ c V) gives V (k, D): latent directions whose motion moves the output along the components.
    Returns unit directions (k, D) and each component's share of the output variance (k,).
    """
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, latent_dim, generator=g)
    outputs = torch.cat([decode(z[i:i + batch]).reshape(len(z[i:i + batch]), -1).float().cpu()
                         for i in range(0, samples, batch)])                     # (S, P)
    centred = outputs - outputs.mean(0, keepdim=True)
    k = min(k, latent_dim, samples - 1)
    # Low-rank randomised PCA: P can be thousands of pixels, and only k components are needed. Its
    # random projection is drawn from the seed too (not torch's global generator), so the same
    # model and seed give the same directions whenever they are computed: a latent record's alphas
    # are applied to recomputed directions.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        u, s, v = torch.pca_lowrank(centred, q=min(k + 8, min(centred.shape)), center=False)
    coords = centred @ v[:, :k]                                                  # (S, k)
    directions = torch.linalg.lstsq(coords, z).solution                          # (k, D)
    directions = directions / directions.norm(dim=1, keepdim=True).clamp_min(1e-8)
    total = centred.pow(2).sum()
    explained = (s[:k] ** 2 / total).numpy()
    return directions, explained


@dataclass(frozen=True)
class SpaceEdit:
    """An edit in a latent space a family declares (Family.latent_spaces: StyleGAN's W): offsets
    alphas (k,) along the space's principal directions (k, dim), on the layers of `group` (one of the
    space's EditGroup keys). The model applies it (its decode keyword is the space's `option`); a
    latent record keeps `to_record()`, and the directions are recomputed from the model (seeded)."""

    directions: torch.Tensor
    alphas: torch.Tensor
    group: str

    @property
    def offset(self) -> torch.Tensor:
        """(dim,) the move the edit adds to each latent of its layers: alphas @ directions."""
        return self.alphas.to(self.directions) @ self.directions

    def to_record(self) -> dict:
        return {"layers": self.group, "k": len(self.alphas), "alphas": [float(a) for a in self.alphas]}


def parse_seeds(text: str) -> list[int]:
    """'1, 2,3' -> [1, 2, 3]; ValueError for anything else or nothing."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or any(s < 0 for s in seeds):
        raise ValueError(f"seeds are whole numbers separated by commas, not {text!r}")
    return seeds
