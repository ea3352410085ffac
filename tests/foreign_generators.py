"""A small generator module the foreign-generator tests save with TorchScript and torch.export."""

import json

import torch
from torch import nn


class TinyGenerator(nn.Module):
    """(B, 8) -> (B, 1, 12, 12) in [-1, 1], like most GANs' tanh output."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 144)

    def forward(self, z):
        return torch.tanh(self.linear(z)).view(-1, 1, 12, 12)


def save_export(generator: nn.Module, path):
    """`generator` saved with torch.export, its batch dimension left free (1..1024); returns path."""
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.export.save(torch.export.export(generator, (torch.randn(4, 8),), dynamic_shapes={"z": {0: batch}}), path)
    return path


def with_sidecar(path):
    """The `<file>.json` sidecar that gives TinyGenerator's latent size and output range; returns path."""
    path.with_name(path.name + ".json").write_text(json.dumps({"latent_dim": 8, "output_range": [-1, 1]}))
    return path
