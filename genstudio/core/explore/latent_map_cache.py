"""Built latent maps kept on disk, so a map comes back when its model is opened again (also after a
restart) instead of encoding the data set once more.

One .npz per (checkpoint, data set, projection, image limit, decode options) under
`user_cache_dir()/latent-maps/`, keyed as core/io/checkpoint_cache.py says (the checkpoint's
path, size and modification time: a file trained further or replaced gets a new key). The file
holds numbers only (read with allow_pickle=False): the latents (N, D), their map points (N, 2), the
projection's kind, a PCA's mean (D,), components (2, D) and explained variance ratio (2,), and the
KL per dimension (D,) when the model has one. The data set itself is not stored: it is loaded from
its spec as for a build.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from genstudio.core.explore.latent_map import Projection
from genstudio.core.io.checkpoint_cache import checkpoint_cache_file, read_arrays, write_arrays

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class SavedPCA:
    """A fitted 2-D PCA read back from the cache: what Projection uses of sklearn's PCA."""

    def __init__(self, mean: np.ndarray, components: np.ndarray, explained_variance_ratio: np.ndarray):
        self.mean_ = np.asarray(mean, np.float32)                                   # (D,)
        self.components_ = np.asarray(components, np.float32)                       # (2, D)
        self.explained_variance_ratio_ = np.asarray(explained_variance_ratio, np.float64)  # (2,)

    def transform(self, latents: np.ndarray) -> np.ndarray:
        return (np.asarray(latents, np.float32) - self.mean_) @ self.components_.T  # (N, 2)

    def inverse_transform(self, plane: np.ndarray) -> np.ndarray:
        return np.asarray(plane, np.float32) @ self.components_ + self.mean_        # (N, D)


def cache_file(checkpoint: str | Path, data_spec: str, method: str, limit: int, options: dict) -> Path | None:
    """Where the map of `checkpoint` on `data_spec` is kept; None when the checkpoint is not a file
    or folder on disk (a live training snapshot has nothing stable to key on)."""
    return checkpoint_cache_file("latent-maps", checkpoint, ".npz", {
        "version": FORMAT_VERSION, "data": data_spec, "method": method, "limit": int(limit),
        "options": sorted((str(k), float(v)) for k, v in options.items())})


def save_map(file: Path, projection: Projection, kl: np.ndarray | None) -> Path:
    arrays = {"kind": np.array(projection.kind), "latents": projection.latents, "points": projection.points}
    if projection.pca is not None:
        arrays.update(pca_mean=projection.pca.mean_, pca_components=projection.pca.components_,
                      pca_ratio=projection.pca.explained_variance_ratio_)
    if kl is not None:
        arrays["kl"] = kl
    return write_arrays(file, FORMAT_VERSION, arrays)


def load_map(file: Path, count: int) -> tuple[Projection, np.ndarray | None] | None:
    """The projection and KL kept in `file`, or None when it is missing, unreadable, of another
    format version or not of `count` points (the data set changed): the map is then built again."""
    saved = read_arrays(file, FORMAT_VERSION, "latent map", ("kind", "latents", "points"))
    if saved is None:
        return None
    kind, latents, points = str(saved["kind"]), saved["latents"], saved["points"]
    try:
        pca = (SavedPCA(saved["pca_mean"], saved["pca_components"], saved["pca_ratio"])
               if "pca_mean" in saved else None)
    except KeyError as exc:
        log.warning("%s: unreadable cached latent map (no %s); worked out again", file, exc)
        return None
    kl = saved.get("kl")
    if len(latents) != count or points.shape != (count, 2) or (kind == "pca") != (pca is not None):
        return None
    return Projection(kind, latents.astype(np.float32), points.astype(np.float32), pca), kl
