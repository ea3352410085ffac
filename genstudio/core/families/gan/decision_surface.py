"""A GAN's discriminator over the plane, for the 2-D toy sets (GAN Lab's heat map)."""

from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def decision_surface(gan, bounds: tuple[float, float, float, float], resolution: int = 64) -> np.ndarray:
    """D's verdict on a resolution x resolution grid (row 0 = bottom): the probability of "real" for a
    BCE GAN, the raw score for hinge / WGAN critics. A packed D (PacGAN) judges each grid point as a
    pack of copies of itself."""
    x0, x1, y0, y1 = bounds
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)).to(gan.device)
    pack = getattr(gan.discriminator, "pack", 1)
    was_training = gan.training
    gan.eval()
    try:
        scores = gan.discriminator(grid.repeat_interleave(pack, dim=0))     # (R*R,)
    finally:
        gan.train(was_training)
    if gan.loss_name == "bce":
        scores = torch.sigmoid(scores)
    return scores.view(resolution, resolution).float().cpu().numpy()
