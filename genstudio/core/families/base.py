"""The interface every model family shares, so the engine, checkpoints, CLI and app treat them alike.

Conventions (all families):
- `data_shape` is (C, H, W) for images or (2,) for the 2-D toy point sets.
- Data reaches `train_step` as float tensors: images in [0, 1] (B, C, H, W); points (B, 2) in
  data coordinates. `decode`/`sample` return the same range and shape, so "the data set's range"
  is always [0, 1] for images whatever a model uses inside (a GAN's tanh works in [-1, 1]).
- `config` is the family's typed config (a frozen dataclass, see families/config.py): the family
  rebuilds the same module from it, and a checkpoint stores every field beside the weights.
- `train_step` does the whole update (forward, backward, optimiser steps) and returns detached
  tensors: 0-d scalars for curves, 1-d vectors (e.g. a VAE's KL per latent dimension) as extras.
  Returning tensors rather than floats avoids a device sync every step; the engine converts.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from genstudio.core.families.config import ModelConfig


class GenerativeModel(nn.Module):
    family: ClassVar[str] = ""
    # Names of the optimisers `make_optimizers` returns, in a stable order (checkpoint keys).
    optimizer_names: ClassVar[tuple[str, ...]] = ()
    # decode is a smooth function of the latent, so a path length along it means something
    # (False where the latent only seeds discrete sampling, as in an autoregressive model).
    smooth_latent: ClassVar[bool] = True
    # decode (and a translation's translate) with plain-number settings is a fixed graph of its tensor
    # inputs and the weights: the explorer may run it as a frozen trace (core/explore/traced_calls.py).
    traceable_decode: ClassVar[bool] = False

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.data_shape = tuple(config.data_shape)

    # --- shapes ---------------------------------------------------------------------------
    @property
    def is_points(self) -> bool:
        return len(self.data_shape) == 1

    @property
    def latent_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def latent_dim(self) -> int:
        return math.prod(self.latent_shape)

    @property
    def num_classes(self) -> int:
        """> 0 for class-conditional models, whose decode takes labels."""
        return self.config.num_classes

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # --- generation -----------------------------------------------------------------------
    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, *latent_shape) standard-normal latents on the model's device."""
        device = generator.device if generator is not None else self.device
        z = torch.randn((n, *self.latent_shape), generator=generator, device=device)
        return z.to(self.device)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(n, *latent_shape) latents -> (n, *data_shape) in the data range. No grad needed."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None,
               labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.sample_latents(n, generator), labels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(n, *data_shape) -> (n, *latent_shape) for families with the ENCODE capability: VAEs
        (posterior mean) and flows (exact inverse)."""
        raise NotImplementedError(f"a {self.family} has no encoder")

    def decode_differentiable(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """`decode` with the autograd graph kept, for families with IMAGE_PROJECTION (GANs)."""
        raise NotImplementedError(f"a {self.family} cannot project images")

    def decision_surface(self, bounds: tuple[float, float, float, float], resolution: int = 64):
        """A critic's score over the plane, (resolution, resolution), for DECISION_SURFACE families."""
        raise NotImplementedError(f"a {self.family} has no decision surface")

    # --- training -------------------------------------------------------------------------
    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def train_step(self, x: torch.Tensor, y: torch.Tensor | None,
                   optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Held-out figures (ELBO, bits/dim...) on a batch; empty for models without a likelihood."""
        return {}


def one_label(model, label: int | None) -> torch.Tensor | None:
    """(1,) the class `label` on the model's device for a class-conditional model, else None."""
    if label is None or not model.num_classes:
        return None
    return torch.tensor([int(label)], dtype=torch.long, device=model.device)


def adam(params, hyper: dict, lr_key: str = "lr") -> torch.optim.Adam:
    """Adam with the preset's betas. The fused kernel (CPU, CUDA, MPS) updates every parameter in
    one pass instead of ~6 elementwise ops each: about a fifth of an MLP GAN step on two CPU cores."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda", "mps") and p.is_floating_point() for p in params)
    betas = tuple(hyper.get("betas", (0.9, 0.999)))
    return torch.optim.Adam(params, lr=float(hyper[lr_key]), betas=betas,
                            weight_decay=float(hyper.get("weight_decay", 0.0)),
                            fused=fused or None, foreach=None if fused else True)
