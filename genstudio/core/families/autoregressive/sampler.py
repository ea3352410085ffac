"""Pixel-by-pixel sampling of a GatedPixelCNN, reusing what the next pixel does not change.

A naive sampler runs the whole network on the whole image for each of the H x W pixels. Here the
vertical stack runs once per row, on a crop of the rows it can see (`rows_seen` above the row),
and the horizontal stack, whose convs span one row, advances one column per pixel on cached
column states (row_cache.py): the same logits as the naive loop (tested), with a small fraction
of its work.

Draws are by inverse CDF: sub-pixel i takes the first level whose cumulative probability reaches
u_i, with u = Phi(z) for a standard-normal z shaped like the image. So z is a latent: the same z,
temperature and label give the same image, and a new seed is a new z. Softmax temperature divides
the logits (below 1: the likeliest values, sharper and less varied; above 1: more varied).

`known` pixels (completion) are never drawn: they keep their values, and the pixels after them
are drawn given them, as the model's causal order allows.
"""

from __future__ import annotations

from typing import Callable

import torch

from genstudio.core.errors import Cancelled
from genstudio.core.families.autoregressive.gated_pixelcnn import LEVELS, GatedPixelCNN
from genstudio.core.families.autoregressive.row_cache import RowCache

RowDone = Callable[[int, torch.Tensor], None]        # (row index, the image so far (B, C, H, W))


def uniforms(z: torch.Tensor) -> torch.Tensor:
    """Standard-normal latents -> uniforms in (0, 1), the same shape: u = Phi(z)."""
    return (0.5 * (1 + torch.erf(z.double() / 2 ** 0.5))).clamp(1e-12, 1 - 1e-12)


def draw(logits: torch.Tensor, u: torch.Tensor, temperature: float) -> torch.Tensor:
    """Levels (...) from logits (..., 256) by inverse CDF at u (...): the first level whose
    cumulative probability reaches u."""
    cdf = torch.softmax(logits.double() / temperature, dim=-1).cumsum(-1)      # (..., 256)
    level = torch.searchsorted(cdf, u.unsqueeze(-1).contiguous()).squeeze(-1)
    return level.clamp(max=LEVELS - 1)


@torch.no_grad()
def sample(net: GatedPixelCNN, z: torch.Tensor, labels: torch.Tensor | None = None, temperature: float = 1.0,
           start: torch.Tensor | None = None, known: torch.Tensor | None = None,
           on_row: RowDone | None = None, should_stop: Callable[[], bool] | None = None,
           rows: range | None = None) -> torch.Tensor:
    """Images in [0, 1] (B, C, H, W), k/255 values, drawn in raster order from latents z (same shape).

    start (B, C, H, W) and known (H, W) or (B, H, W) bool: pixels where `known` is true keep start's
    values. `rows` draws only those rows (default all), the others keep start's values: an image can
    be drawn a few rows at a time. on_row(r, x) is called after each row; should_stop() before each."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, not {temperature}")
    b, c, height, width = z.shape
    u = uniforms(z)
    x = torch.zeros(z.shape, device=z.device) if start is None else start.clone().float()
    if known is not None:
        known = known.to(z.device).bool().expand(b, height, width)
    for r in range(height) if rows is None else rows:
        if should_stop is not None and should_stop():
            raise Cancelled("sampling was cancelled")
        top = max(0, r - net.rows_seen)
        terms = [t[:, :, -1:] for t in net.vertical_terms(x[:, :, top:r + 1], labels)]     # row r: (B, ., 1, W)
        row = RowCache(net, x[:, :, r], terms, labels)
        for col in range(width):
            h = row.features(col)                          # every column: later ones read its history
            if known is not None and bool(known[:, r, col].all()):
                continue
            for ch in range(c):
                # Channel ch of pixel (r, col), given the row so far and this pixel's earlier channels.
                value = draw(row.logits(h, col, ch), u[:, ch, r, col], temperature).float() / (LEVELS - 1)
                if known is not None:
                    value = torch.where(known[:, r, col], x[:, ch, r, col], value)
                x[:, ch, r, col] = value
                row.set_pixel(col, ch, value)
        if on_row is not None:
            on_row(r, x)
    return x
