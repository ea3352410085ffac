"""Render requests about a latent space a family declares beyond Z (Family.latent_spaces: StyleGAN's
W). Like render_requests.py, each is a frozen dataclass with `run(model, cache)` that the renderer's
thread runs; the model's methods are those of the space's capability Protocol
(families/capabilities.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from genstudio.core.io.export import save_export_record, save_grid


@dataclass(frozen=True)
class SpaceDirections:
    """Principal directions (k, dim) of the declared space `space` and their variance shares (k,),
    from the capability's `space_directions`; seeded, so cached per space, k and class."""

    space: str
    k: int = 10
    label: int | None = None

    def run(self, model, cache: dict) -> tuple[torch.Tensor, torch.Tensor]:
        key = ("space-directions", self.space, self.k, self.label)
        if key not in cache:
            cache[key] = model.space_directions(self.k, label=self.label)
        return cache[key]


@dataclass(frozen=True)
class ExportMixingGrid:
    """The mixing grid of a declared space (LatentSpace.mixing: StyleGAN's style mixing) of seeds A x B
    with B's latents on `layers` (a group key or 'A-B'), drawn by the capability's `mixing_grid` and
    written as a PNG with its record. Returns the path written."""

    path: Path
    seeds_a: list[int]
    seeds_b: list[int]
    layers: str
    label: int | None = None
    scale: int = 2
    options: dict = field(default_factory=dict)

    def run(self, model, cache: dict) -> Path:
        images = model.mixing_grid(self.seeds_a, self.seeds_b, self.layers, label=self.label, **self.options)
        written = save_grid(images.numpy(), self.path, cols=len(self.seeds_b) + 1, padding=2, scale=self.scale)
        # The grid is drawn from seeds, not stored latents: the seeds, layers and settings redraw it.
        save_export_record(written, {"kind": "style-mixing", "seeds_a": self.seeds_a, "seeds_b": self.seeds_b,
                                     "layers": self.layers, "label": self.label, "decode_options": self.options})
        return written
