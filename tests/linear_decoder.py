"""A linear decoder, x = sigmoid(W z + b) reshaped to the image: the smallest real model a test can
register as a family of its own (a toy family refused or accepted at register(), a family offered by
the CLI and the app, the family a registered file format opens as). Tests subclass it to name the
family and add what they need (training, a capability's method)."""

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from genstudio.core.families.base import GenerativeModel
from genstudio.core.families.config import ModelConfig


@dataclass(frozen=True)
class LinearConfig(ModelConfig):
    latent_dim: int = field(default=3, metadata={"min": 1, "max": 64})


class LinearDecoder(GenerativeModel):
    def __init__(self, config: LinearConfig):
        super().__init__(config)
        self.net = nn.Linear(config.latent_dim, math.prod(self.data_shape))

    @property
    def latent_shape(self):
        return (self.config.latent_dim,)

    def _out(self, z):
        """z (n, latent_dim) -> images (n, *data_shape) in [0, 1], with the autograd graph."""
        return torch.sigmoid(self.net(z.reshape(len(z), -1).to(self.net.weight))).view(-1, *self.data_shape)

    @torch.no_grad()
    def decode(self, z, labels=None):
        return self._out(z)
