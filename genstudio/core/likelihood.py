"""Exact likelihoods of a flow on a data set or on a user's image, in bits per dimension."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from genstudio.core.errors import DataError

DEQUANTISATION_SEED = 0   # the same uniform noise every time: a figure is repeatable


def load_image_as(path: str | Path, shape: tuple[int, int, int]) -> torch.Tensor:
    """A user's image file as the model's input: (C, H, W) uint8, grey or RGB, resized with Lanczos."""
    path = Path(path)
    channels, height, width = shape
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if image.size != (width, height):
                image = image.resize((width, height), Image.LANCZOS)
            array = np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(array.copy())


@torch.no_grad()
def bits_per_dim(model, images: torch.Tensor, batch: int = 500,
                 progress: Callable[[float], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """Per-image bits/dim (N,) of uint8 images (N, C, H, W), dequantised with a fixed seed."""
    if model.family != "flow" or model.is_points:
        raise ValueError("bits/dim needs a flow over images")
    out = []
    generator = torch.Generator(device=model.device).manual_seed(DEQUANTISATION_SEED)
    for start in range(0, len(images), batch):
        if should_stop and should_stop():
            break
        x = images[start:start + batch].to(model.device).float() / 255.0
        out.append(model.bits_per_dim(x, generator).float().cpu())
        if progress:
            progress(min(1.0, (start + batch) / len(images)))
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def image_bits_per_dim(model, path: str | Path) -> float:
    """bits/dim of one image file under the flow (resized to its input shape)."""
    image = load_image_as(path, tuple(model.data_shape))
    return float(bits_per_dim(model, image[None])[0])
