"""Render requests about a latent space a family declares beyond Z (Family.latent_spaces: StyleGAN's
W). Like render_requests.py, each is a frozen dataclass with `run(model, cache)` that the renderer's
thread runs; the model's methods are those of the space's capability Protocol
(families/capabilities.py)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


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
