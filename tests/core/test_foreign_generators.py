"""A user's own TorchScript / torch.export generator opens through open_model and samples like ours."""

import json

import pytest
import torch
from torch import nn

from genstudio.core.errors import CheckpointError
from genstudio.core.open_model import open_model


class TinyGenerator(nn.Module):
    """(B, 8) -> (B, 1, 12, 12) in [-1, 1], like most GANs' tanh output."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 144)

    def forward(self, z):
        return torch.tanh(self.linear(z)).view(-1, 1, 12, 12)


@pytest.fixture
def generator():
    torch.manual_seed(0)
    return TinyGenerator().eval()


def test_torchscript_generator_with_sidecar(generator, tmp_path):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    (tmp_path / "g.pt.json").write_text(json.dumps({"latent_dim": 8, "output_range": [-1, 1]}))
    opened = open_model(path)
    assert opened.is_foreign and opened.family == "foreign"
    assert opened.model.latent_shape == (8,) and opened.model.data_shape == (1, 12, 12)
    z = torch.randn(5, 8)
    images = opened.model.decode(z)
    assert images.shape == (5, 1, 12, 12)
    assert torch.allclose(images, (generator(z) + 1) / 2, atol=1e-6)  # mapped from [-1, 1] to [0, 1]


def test_torch_export_generator(generator, tmp_path):
    path = tmp_path / "g.pt2"
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(generator, (torch.randn(4, 8),), dynamic_shapes={"z": {0: batch}})
    torch.export.save(program, path)
    opened = open_model(path, latent_dim=8, output_range=(-1.0, 1.0))
    assert opened.card.config.kind == "export" and opened.card.is_foreign
    z = torch.randn(3, 8)
    assert torch.allclose(opened.model.decode(z), (generator(z) + 1) / 2, atol=1e-6)


def test_missing_latent_size_is_explained(generator, tmp_path):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    with pytest.raises(CheckpointError, match="latent size.*--latent-dim") as exc:
        open_model(path)
    assert str(path) in str(exc.value)


def test_wrong_latent_size_is_explained(generator, tmp_path):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    with pytest.raises(CheckpointError, match="failed on latents of shape") as exc:
        open_model(path, latent_dim=5)
    assert "\n" not in str(exc.value)
