"""nn.Dropout whose CPU mask comes from 16-bit random numbers, four per 64-bit draw.

Without MKL's vectorised Bernoulli (which torch uses on Intel CPUs only), torch's CPU dropout draws
one double per element, serially: 1.5 ms for a (128, 1024) activation on this AMD EPYC, 13 % of an
MLP GAN training step. This mask takes 0.27 ms. The drop probability is rounded to a multiple of
1/65536 (0.3 becomes 0.300003) and the kept values are scaled by the rounded keep probability, so
the expected output equals the input exactly, as with nn.Dropout. On CUDA and MPS torch's own
kernel is fast and is used. The state dict is the same as nn.Dropout's (empty).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

LEVELS = 65536          # int16 values


class FastDropout(nn.Module):
    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        dropped = round(p * LEVELS)                   # int16 values below the threshold are dropped
        self.threshold = -LEVELS // 2 + dropped
        self.scale = LEVELS / (LEVELS - dropped)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, training=True)
        n = x.numel()
        # random_(min int64, None) fills all 64 bits: four independent uniform int16 per draw.
        words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-2**63, None)
        keep = words.view(torch.int16)[:n].view(x.shape) >= self.threshold
        return x * keep * self.scale

    def extra_repr(self) -> str:
        return f"p={self.p}"
