"""The latent map: a data set encoded by a VAE (or flow), projected to 2-D, and the way back.

`encode_dataset` gives posterior means (N, D); a `Projection` maps them to the plane and maps plane
points back to latents: the identity for D = 2, PCA (exact inverse onto the principal plane through
the mean), or t-SNE (scikit-learn; no inverse exists, so a plane point decodes as the latent of the
nearest encoded point).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from genstudio.core import registry
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.errors import Cancelled
from genstudio.core.explore.decoding import accepted
from genstudio.core.families.family import Capability

PROJECTIONS = ("pca", "tsne", "umap")       # umap needs the umap-learn package (optional)


def _float_batches(images: torch.Tensor, batch: int, device):
    """(images seen so far, the next batch as float [0, 1] on `device`) from uint8 or float images."""
    for start in range(0, len(images), batch):
        x = images[start:start + batch]
        yield start + len(x), to_unit_float(x.to(device))


@torch.no_grad()
def encode_dataset(model, images: torch.Tensor, batch: int = 2000,
                   progress: Callable[[float], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, options: dict | None = None) -> np.ndarray:
    """Posterior means (VAE), exact latents (flow) or DDIM inversions (diffusion), (N, D) float32,
    from uint8 or [0, 1] images. `options`: decode settings, of which encode gets those it takes
    (a diffusion model's steps); an encode that takes `should_stop` can be cancelled mid-batch."""
    if Capability.ENCODE not in registry.capabilities_of(model):
        raise ValueError(f"a {model.family} has no encoder: the latent map needs a model that encodes (VAE, flow)")
    extra = accepted(model.encode, {**(options or {}), **({"should_stop": should_stop} if should_stop else {})})
    out = []
    for done, x in _float_batches(images, batch, model.device):
        if should_stop and should_stop():
            raise Cancelled()
        out.append(model.encode(x, **extra).reshape(len(x), -1).float().cpu())
        if progress:
            progress(done / len(images))
    return torch.cat(out).numpy()


@torch.no_grad()
def kl_per_dimension(model, images: torch.Tensor, batch: int = 2000) -> np.ndarray:
    """Mean KL(q(z|x) || N(0, I)) of each latent dimension over `images`, (D,) nats, from a model
    with the KL_PER_DIMENSION capability (a VAE); a dimension near 0 carries no information about x
    (posterior collapse). Encoder only: no decoding."""
    if Capability.KL_PER_DIMENSION not in registry.capabilities_of(model):
        raise ValueError(f"a {model.family} has no posterior: KL per dimension needs a VAE")
    total = None
    for _, x in _float_batches(images, batch, model.device):
        kl = model.kl_per_dimension(x).double() * len(x)                      # (D,) summed over the batch
        total = kl if total is None else total + kl
    return (total / len(images)).float().cpu().numpy()


@dataclass
class Projection:
    kind: str                       # "identity" | "pca" | "tsne" | "umap"
    latents: np.ndarray             # (N, D) the encoded points
    points: np.ndarray              # (N, 2) where they land on the map
    pca: "PCA | None" = None    # sklearn.decomposition.PCA

    @property
    def description(self) -> str:
        if self.kind == "identity":
            return "2-D latent, plotted directly"
        if self.kind == "pca":
            share = 100 * float(self.pca.explained_variance_ratio_.sum())
            return f"PCA of the {self.latents.shape[1]}-D latents ({share:.0f}% of their variance)"
        name = {"tsne": "t-SNE", "umap": "UMAP"}[self.kind]
        return (f"{name} of the {self.latents.shape[1]}-D latents (decoding uses the nearest encoded "
                f"point's latent)")

    @property
    def exact_inverse(self) -> bool:
        return self.kind in ("identity", "pca")

    def to_plane(self, latents: np.ndarray) -> np.ndarray:
        """(M, D) latents -> (M, 2); t-SNE and UMAP place new latents at their nearest encoded point."""
        latents = np.asarray(latents, dtype=np.float32).reshape(len(latents), -1)
        if self.kind == "identity":
            return latents.copy()
        if self.kind == "pca":
            return self.pca.transform(latents).astype(np.float32)
        return self.points[self.nearest_latent(latents)]

    def to_latent(self, plane: np.ndarray) -> np.ndarray:
        """(M, 2) map points -> (M, D) latents."""
        plane = np.asarray(plane, dtype=np.float32).reshape(-1, 2)
        if self.kind == "identity":
            return plane.copy()
        if self.kind == "pca":
            return self.pca.inverse_transform(plane).astype(np.float32)
        return self.latents[self.nearest_point(plane)]

    def nearest_point(self, plane: np.ndarray) -> np.ndarray:
        """Index (M,) of the encoded point nearest to each map point."""
        d = torch.cdist(torch.from_numpy(np.asarray(plane, np.float32)), torch.from_numpy(self.points))
        return d.argmin(1).numpy()

    def nearest_latent(self, latents: np.ndarray) -> np.ndarray:
        d = torch.cdist(torch.from_numpy(latents), torch.from_numpy(self.latents))
        return d.argmin(1).numpy()


def project(latents: np.ndarray, kind: str = "pca", seed: int = 0,
            should_stop: Callable[[], bool] | None = None) -> Projection:
    """2-D map of (N, D) latents: identity when D = 2, else PCA, t-SNE or (with umap-learn) UMAP."""
    latents = np.asarray(latents, dtype=np.float32)
    if latents.shape[1] == 2:
        return Projection("identity", latents, latents.copy())
    # scikit-learn is imported only when a projection needs it: the import alone takes about a
    # second here, most of the time a 2-D map would otherwise take to build.
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if kind == "pca":
        pca = PCA(n_components=2, random_state=seed).fit(latents)
        return Projection("pca", latents, pca.transform(latents).astype(np.float32), pca)
    if kind == "tsne":
        if should_stop and should_stop():
            raise Cancelled()
        # Barnes-Hut t-SNE on a 50-D PCA of the latents, as the sklearn docs advise for speed.
        reduced = PCA(n_components=min(50, latents.shape[1]), random_state=seed).fit_transform(latents)
        points = TSNE(n_components=2, init="pca", perplexity=30, random_state=seed,
                      n_jobs=2).fit_transform(reduced)
        return Projection("tsne", latents, points.astype(np.float32))
    if kind == "umap":
        if should_stop and should_stop():
            raise Cancelled()
        try:
            import umap
        except ImportError:
            raise ValueError("the UMAP projection needs the umap-learn package (pip install umap-learn)") from None
        reduced = PCA(n_components=min(50, latents.shape[1]), random_state=seed).fit_transform(latents)
        points = umap.UMAP(n_components=2, random_state=seed).fit_transform(reduced)
        return Projection("umap", latents, points.astype(np.float32))
    raise ValueError(f"unknown projection '{kind}': choose one of {', '.join(PROJECTIONS)}")


def manifold_grid(bounds: tuple[float, float, float, float], tiles: int) -> np.ndarray:
    """Centres (tiles*tiles, 2) of a tiles x tiles grid over (x0, x1, y0, y1), rows from the top."""
    x0, x1, y0, y1 = bounds
    xs = x0 + (np.arange(tiles) + 0.5) * (x1 - x0) / tiles
    ys = y1 - (np.arange(tiles) + 0.5) * (y1 - y0) / tiles
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def tile_images(images: np.ndarray, tiles: int) -> np.ndarray:
    """(tiles*tiles, C, H, W) in [0, 1] -> one (tiles*H, tiles*W) grey or (.., 3) RGB mosaic, row-major."""
    n, c, h, w = images.shape
    grid = images.reshape(tiles, tiles, c, h, w).transpose(0, 3, 1, 4, 2).reshape(tiles * h, tiles * w, c)
    return grid[:, :, 0] if c == 1 else grid
