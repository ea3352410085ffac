"""Pixel conventions: data sets hold 8-bit images, models take floats in [0, 1] (models/base.py)."""

from __future__ import annotations

import torch


def to_unit_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images 0..255 -> float32 in [0, 1]; float input (already in [0, 1]) is returned as float32."""
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images.float()
