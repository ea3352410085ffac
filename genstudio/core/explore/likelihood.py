"""Exact likelihoods of a model with the EXACT_LIKELIHOOD capability, in bits per dimension."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genstudio.core import registry
from genstudio.core.data.image_io import load_image_as
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.families.base import one_label
from genstudio.core.families.family import Capability

DEQUANTISATION_SEED = 0   # the same uniform noise every time: a figure is repeatable


def check_likelihood(model) -> None:
    if Capability.EXACT_LIKELIHOOD not in registry.capabilities_of(model):
        raise ValueError(f"bits/dim needs a model with an exact likelihood over images; this is a {model.family}"
                         f"{' on 2-D points' if model.is_points else ''}")


@torch.no_grad()
def bits_per_dim(model, images: torch.Tensor, batch: int = 500,
                 progress: Callable[[float], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 labels: torch.Tensor | None = None) -> np.ndarray:
    """Per-image bits/dim (N,) of uint8 images (N, C, H, W), dequantised with a fixed seed. A class-
    conditional model is given each image's label (N,) when `labels` is passed, else no label."""
    check_likelihood(model)
    out = []
    generator = torch.Generator(device=model.device).manual_seed(DEQUANTISATION_SEED)
    for start in range(0, len(images), batch):
        if should_stop and should_stop():
            break
        x = to_unit_float(images[start:start + batch].to(model.device))
        given = {} if labels is None else {"labels": labels[start:start + batch].to(model.device)}
        out.append(model.bits_per_dim(x, generator, **given).float().cpu())
        if progress:
            progress(min(1.0, (start + batch) / len(images)))
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def image_bits_per_dim(model, path: str | Path) -> float:
    """bits/dim of one image file under the model (resized to its input shape)."""
    check_likelihood(model)
    image = load_image_as(path, tuple(model.data_shape))
    return float(bits_per_dim(model, image[None])[0])


# A dark-to-bright ramp (black, purple, red, orange, pale yellow) for surprise maps: readable on
# light and dark themes, and monotone in brightness, so it still reads in grey.
HEAT = np.array([[0.0, 0.0, 0.02], [0.34, 0.06, 0.43], [0.73, 0.21, 0.33], [0.98, 0.55, 0.04], [0.99, 1.0, 0.64]])


def heat_colours(values: np.ndarray) -> np.ndarray:
    """(H, W) non-negative values -> (3, H, W) RGB in [0, 1]: 0 is black, the maximum the brightest."""
    top = float(values.max())
    t = np.clip(values / top, 0.0, 1.0) if top > 0 else np.zeros_like(values)
    stops = np.linspace(0.0, 1.0, len(HEAT))
    return np.stack([np.interp(t, stops, HEAT[:, c]) for c in range(3)]).astype(np.float32)


@torch.no_grad()
def surprise_map(model, image: torch.Tensor, label: int | None = None) -> np.ndarray:
    """-log p(x_i | x_<i) in nats per pixel (H, W) of one image (C, H, W) in [0, 1] or uint8, under a
    model with the PIXEL_LIKELIHOOD capability (its channels summed)."""
    if Capability.PIXEL_LIKELIHOOD not in registry.capabilities_of(model):
        raise ValueError(f"a per-pixel likelihood needs an autoregressive image model; this is a {model.family}")
    x = to_unit_float(image) if image.dtype == torch.uint8 else image.float()
    return model.pixel_nll(x.reshape(1, *model.data_shape).to(model.device), one_label(model, label))[0].float().cpu().numpy()
