"""Exact likelihoods of a model with the EXACT_LIKELIHOOD capability, in bits per dimension."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genstudio.core import registry
from genstudio.core.data.image_io import load_image_as
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.families.family import Capability

DEQUANTISATION_SEED = 0   # the same uniform noise every time: a figure is repeatable


def check_likelihood(model) -> None:
    if Capability.EXACT_LIKELIHOOD not in registry.capabilities_of(model):
        raise ValueError(f"bits/dim needs a model with an exact likelihood over images; this is a {model.family}"
                         f"{' on 2-D points' if model.is_points else ''}")


@torch.no_grad()
def bits_per_dim(model, images: torch.Tensor, batch: int = 500,
                 progress: Callable[[float], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """Per-image bits/dim (N,) of uint8 images (N, C, H, W), dequantised with a fixed seed."""
    check_likelihood(model)
    out = []
    generator = torch.Generator(device=model.device).manual_seed(DEQUANTISATION_SEED)
    for start in range(0, len(images), batch):
        if should_stop and should_stop():
            break
        x = to_unit_float(images[start:start + batch].to(model.device))
        out.append(model.bits_per_dim(x, generator).float().cpu())
        if progress:
            progress(min(1.0, (start + batch) / len(images)))
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def image_bits_per_dim(model, path: str | Path) -> float:
    """bits/dim of one image file under the model (resized to its input shape)."""
    check_likelihood(model)
    image = load_image_as(path, tuple(model.data_shape))
    return float(bits_per_dim(model, image[None])[0])
