"""The layer view: any intermediate activation of a model's decoder, shown as a tiled image of its
channels (what the StyleGAN3 visualizer's layer widget shows), for every model whose decoder is made
of torch modules.

A decode runs with a forward hook on every sub-module; each module whose output is an image-shaped
tensor (N, C, H, W) is a layer, named by its module path ('generator_ema.synthesis.b16.conv1'). A
module that runs more than once in a decode (a diffusion U-Net runs once per sampling step) shows
its last run, the one that shaped the final image. A model whose decode never calls its modules'
forward (the PixelCNN's sampler uses their weights directly) has no layers to show.

Shapes: a layer's activation for the first image, (C, H, W); the tile image, (rows * (H + 1) - 1,
cols * (W + 1) - 1) in [0, 1], one tile per channel in channel order, each tile scaled to its own
range so weak channels stay visible (the figure's caption gives the layer's overall range).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genstudio.core.explore.decoding import decode_numpy
from genstudio.core.families.base import one_label

MAX_TILES = 256


@dataclass
class LayerActivations:
    names: list[str]                       # every image-shaped layer of the decode, in the order they ran
    shapes: dict[str, tuple[int, ...]]     # name -> (C, H, W)
    chosen: str                            # the layer shown ('' when there are none)
    tiles: np.ndarray | None               # the tile image of `chosen` (see the module docstring)
    value_range: tuple[float, float]       # min, max of `chosen` over all its channels
    image: np.ndarray                      # (C, H, W) the decoded image itself


def _better(channels: int, kept: dict[str, torch.Tensor]) -> bool:
    """Without a wanted layer: the latest feature layer (more than 3 channels) beats any image-like one
    (the decoder's RGB or grey output), so the page opens on features, not on the picture again."""
    return channels > 3 or not kept or next(iter(kept.values())).shape[0] <= 3


def capture(model, latent: torch.Tensor, labels: torch.Tensor | None, options: dict,
            wanted: str | None = None) -> tuple[dict[str, tuple[int, ...]], str, torch.Tensor | None, np.ndarray]:
    """Decode one latent (1, *latent_shape) with hooks on every sub-module. Returns each image-shaped
    layer's (C, H, W) by name in running order, the layer kept (`wanted`, or when it is None or never
    ran the last feature layer that ran, see `_better`; '' when none did), its activation (C, H, W) for the first
    image, and the decoded image (C, H, W). Only one activation is held at a time."""
    shapes: dict[str, tuple[int, ...]] = {}
    kept: dict[str, torch.Tensor] = {}        # the wanted layer's last run, or else the latest layer's only

    def hook(name):
        def record(module, inputs, output):
            if isinstance(output, torch.Tensor) and output.ndim == 4 and output.is_floating_point():
                shapes.pop(name, None)                      # a module that runs again moves to its last run
                shapes[name] = tuple(output.shape[1:])
                if name == wanted or wanted not in shapes and _better(output.shape[1], kept):
                    kept.clear()
                    kept[name] = output[0].detach().float().cpu()
        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in model.named_modules() if name]
    try:
        image = decode_numpy(model, latent, labels, options)[0]
    finally:
        for handle in handles:
            handle.remove()
    chosen = next(iter(kept), "")
    return shapes, chosen, kept.get(chosen), image


def tile_channels(activation: torch.Tensor, max_tiles: int = MAX_TILES) -> np.ndarray:
    """(C, H, W) -> a grid of the first `max_tiles` channels, each scaled to [0, 1] by its own range,
    one-pixel gaps at 0.5 grey."""
    channels = activation[:max_tiles].float()
    count, h, w = channels.shape
    low = channels.flatten(1).min(1).values[:, None, None]
    high = channels.flatten(1).max(1).values[:, None, None]
    scaled = ((channels - low) / (high - low).clamp_min(1e-12)).numpy()
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), 0.5, np.float32)
    for i in range(count):
        r, c = divmod(i, cols)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = scaled[i]
    return out


@dataclass(frozen=True)
class ShowLayer:
    """A render request: the layers of one latent's decode and the tiles of one of them."""

    latent: torch.Tensor                   # (*latent_shape,)
    label: int | None = None
    options: dict | None = None
    layer: str | None = None               # None: the last feature layer that ran

    @torch.no_grad()
    def run(self, model, cache: dict) -> LayerActivations:
        shapes, chosen, activation, image = capture(model, self.latent.reshape(1, *model.latent_shape),
                                                    one_label(model, self.label),
                                                    dict(self.options or {}), self.layer)
        tiles = tile_channels(activation) if activation is not None else None
        value_range = (float(activation.min()), float(activation.max())) if activation is not None else (0.0, 0.0)
        return LayerActivations(list(shapes), shapes, chosen, tiles, value_range, image)
