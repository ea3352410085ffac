"""Differentiable augmentation of everything D sees (DiffAugment, Zhao et al. 2020).

With a few thousand training images D memorises them: the demo conv GAN, trained 24k steps on 9,000
MNIST digits, gave its training digits a mean logit of 1.66 and held-out real digits 0.49 (fakes
-0.58); 95 % of training digits but 62 % of held-out ones scored as real. G then chases the digits D
remembers, not the distribution. Karras et al. (2020, ADA) measure this overfitting as E[sign(D(real))]
and keep it near 0.6 by augmenting; Zhao et al. show that the same random transform must be applied
to real and generated images, and in G's step too, so it has to be differentiable (G's gradient
flows through it). D then never sees a training digit twice in the same place.

Two transforms, both written here because they are a few tensor ops on (B, C, H, W) images in G's
range [-1, 1] (the reference code's are the same ideas; no library offers them for torch alone):
- translation: each image moved by a whole number of pixels, up to 1/8 of its side in each
  direction, the uncovered border filled with -1 (black, the MNIST background);
- cutout: a square of half the side, at a random place, set to 0 (mid grey).
"""

from __future__ import annotations

import torch

POLICIES = ("none", "translation", "translation-cutout")


def translate(x: torch.Tensor, fraction: float = 0.125) -> torch.Tensor:
    """(B, C, H, W) -> same shape, each image shifted by its own integer (dy, dx) within
    +-round(fraction * side) pixels, vacated pixels -1. Gradients flow to the moved pixels."""
    b, _, h, w = x.shape
    sy, sx = round(h * fraction), round(w * fraction)
    dy = torch.randint(-sy, sy + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-sx, sx + 1, (b, 1, 1), device=x.device)
    padded = torch.nn.functional.pad(x, (sx, sx, sy, sy), value=-1.0)            # (B, C, H + 2sy, W + 2sx)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + sy - dy             # (B, H, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + sx - dx             # (B, 1, W)
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)     # (B, H, W, C) -> (B, C, H, W)


def cutout(x: torch.Tensor, fraction: float = 0.5) -> torch.Tensor:
    """(B, C, H, W) -> same shape with a (fraction * H) x (fraction * W) square per image set to 0;
    the square's centre is anywhere in the image, so it may be cut by the border."""
    b, _, h, w = x.shape
    ch, cw = round(h * fraction), round(w * fraction)
    top = torch.randint(0, h + 1, (b, 1, 1), device=x.device) - ch // 2        # (B, 1, 1) centre - half
    left = torch.randint(0, w + 1, (b, 1, 1), device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)    # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """x (B, C, H, W) through `policy` (one of POLICIES); 'none' returns x itself."""
    if policy == "none":
        return x
    x = translate(x)
    return cutout(x) if policy == "translation-cutout" else x
