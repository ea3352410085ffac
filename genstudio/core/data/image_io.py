"""Read a person's image file as a model's input (a dropped file, `genstudio info --image`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from genstudio.core.errors import DataError


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
