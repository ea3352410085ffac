"""Principal directions kept on disk, so a model's sliders are there as soon as it is opened again
(also after a restart) instead of decoding hundreds of samples once more: 0.3-0.6 s for the GAN demo
on two cores, up to the explorer's 30 s budget for a 1024 px StyleGAN2.

One .npz per (checkpoint, k, samples, seed, decode options) under
`user_cache_dir()/directions/`, keyed as core/io/checkpoint_cache.py says (a file trained
further or replaced gets a new key). The file holds numbers only (read with allow_pickle=False): the
unit directions (k, D) and their shares of the output variance (k,). What is read back is what the
computation gave on this machine, so a latent record's alphas land on the same directions as when
it was made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genstudio.core.io.checkpoint_cache import checkpoint_cache_file, read_arrays, write_arrays

FORMAT_VERSION = 1


def directions_file(checkpoint: str | Path, k: int, samples: int, seed: int, options: dict) -> Path | None:
    """Where the directions of `checkpoint` with these settings are kept; None when the checkpoint is
    not on disk."""
    return checkpoint_cache_file("directions", checkpoint, ".npz", {
        "version": FORMAT_VERSION, "k": int(k), "samples": int(samples), "seed": int(seed),
        "options": sorted((str(key), repr(value)) for key, value in options.items())})


def save_directions(file: Path, directions: torch.Tensor, explained: np.ndarray) -> Path:
    return write_arrays(file, FORMAT_VERSION, {"directions": directions.numpy(), "explained": np.asarray(explained)},
                        durable=False)      # a cache: computed again if lost


def load_directions(file: Path, latent_dim: int) -> tuple[torch.Tensor, np.ndarray] | None:
    """The directions (k, latent_dim) and shares (k,) kept in `file`, or None when it is missing,
    unreadable, of another format version or of another shape: they are then computed again."""
    saved = read_arrays(file, FORMAT_VERSION, "principal directions", ("directions", "explained"))
    if saved is None:
        return None
    directions, explained = saved["directions"], saved["explained"]
    if directions.ndim != 2 or directions.shape[1] != latent_dim or explained.shape != (len(directions),) \
            or not (np.isfinite(directions).all() and np.isfinite(explained).all()):
        return None
    return torch.from_numpy(directions), explained
