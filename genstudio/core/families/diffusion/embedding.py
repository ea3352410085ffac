"""The conditioning both denoisers share: the timestep and, for class-conditional models, the label."""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) timesteps -> (B, dim) sin/cos features at geometric frequencies 1 .. 1/10000 (the
    Transformer's position code, as DDPM embeds t)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]                                   # (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ConditionEmbedding(nn.Module):
    """(B,) timesteps and optional (B,) labels -> (B, dim). Label index `num_classes` is "no label":
    training drops labels to it, and classifier-free guidance evaluates it beside the class."""

    def __init__(self, dim: int, num_classes: int = 0):
        super().__init__()
        self.dim = dim
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.label = nn.Embedding(num_classes + 1, dim) if num_classes else None

    def forward(self, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time(sinusoidal(t, self.dim))
        if self.label is not None:
            if labels is None:
                labels = torch.full_like(t, self.label.num_embeddings - 1)
            emb = emb + self.label(labels)
        return emb

    @staticmethod
    def size(dim: int, num_classes: int) -> int:
        return 2 * (dim * dim + dim) + ((num_classes + 1) * dim if num_classes else 0)
