"""The 2-D point denoiser: an MLP on (x_t, embedding of t and the label) for the toy mixtures."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core.families.diffusion.embedding import ConditionEmbedding


class MLPDenoiser(nn.Module):
    """eps(x_t, t, label): (B, D) -> (B, D). Each hidden layer gets the embedding added (as the
    U-Net's residual blocks do), so the noise level steers every layer, not only the first."""

    def __init__(self, dim: int, hidden: tuple[int, ...], emb_dim: int, num_classes: int = 0):
        super().__init__()
        self.embed = ConditionEmbedding(emb_dim, num_classes)
        sizes = [dim, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.emb = nn.ModuleList(nn.Linear(emb_dim, b) for b in hidden)
        self.out = nn.Linear(sizes[-1], dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        emb = F.silu(self.embed(t, labels))                                   # (B, E)
        h = x
        for layer, project in zip(self.layers, self.emb):
            h = F.silu(layer(h) + project(emb))
        return self.out(h)

    @staticmethod
    def size(dim: int, hidden: tuple[int, ...], emb_dim: int, num_classes: int) -> tuple[int, int]:
        sizes = [dim, *hidden]
        params = (ConditionEmbedding.size(emb_dim, num_classes) + sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
                  + sum(emb_dim * b + b for b in hidden) + sizes[-1] * dim + dim)
        return params, 3 * emb_dim + 2 * sum(hidden) + dim
