"""A small generator module the foreign-generator tests save with TorchScript and torch.export."""

import torch
from torch import nn


class TinyGenerator(nn.Module):
    """(B, 8) -> (B, 1, 12, 12) in [-1, 1], like most GANs' tanh output."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 144)

    def forward(self, z):
        return torch.tanh(self.linear(z)).view(-1, 1, 12, 12)
