"""The layer view: every image-shaped layer of a decode is found by its module path, the chosen one's
channels are tiled in order each at its own range, and the decode it came from is the usual one."""

import numpy as np
import pytest
import torch

from genstudio.core import registry
from genstudio.core.explore.decoding import decode_numpy
from genstudio.core.explore.layer_view import ShowLayer, capture, tile_channels


def test_tiles_keep_channel_order_and_own_ranges():
    act = torch.stack([torch.full((2, 3), 5.0), torch.arange(6.0).view(2, 3), -torch.arange(6.0).view(2, 3)])
    tiles = tile_channels(act)
    assert tiles.shape == (2 * 3 - 1, 2 * 4 - 1)               # 3 channels: a 2 x 2 grid of 2 x 3 tiles
    assert np.allclose(tiles[0:2, 4:7], np.arange(6).reshape(2, 3) / 5)      # channel 1, scaled to [0, 1]
    assert np.allclose(tiles[3:5, 0:3], 1 - np.arange(6).reshape(2, 3) / 5)  # channel 2, its own range
    assert np.all(tiles[0:2, 0:3] == 0) and tiles[2, 0] == 0.5 and tiles[3, 4] == 0.5     # flat channel, gaps, empty cell


@pytest.mark.parametrize("family,preset", [("stylegan", "digits"), ("gan", "dcgan"), ("vae", "conv")])
def test_layers_of_a_decode(family, preset):
    spec = registry.get(family)
    model = spec.build({**spec.presets[preset].model, "data_shape": [1, 28, 28]}).eval()
    z = torch.randn(1, *model.latent_shape, generator=torch.Generator().manual_seed(0))
    result = ShowLayer(z[0]).run(model, {})
    features = [n for n in result.names if result.shapes[n][0] > 3]
    assert result.names and result.chosen == features[-1] and result.tiles is not None     # the last feature layer
    assert np.allclose(result.image, decode_numpy(model, z, None, {})[0], atol=1e-6)
    middle = result.names[len(result.names) // 2]
    shapes, chosen, activation, _ = capture(model, z, None, {}, middle)
    assert chosen == middle and tuple(activation.shape) == shapes[middle]
    low, high = ShowLayer(z[0], layer=middle).run(model, {}).value_range
    assert (low, high) == (float(activation.min()), float(activation.max())) and low < high
    if family == "stylegan":
        assert "generator_ema.synthesis.b16.conv1" in shapes and shapes["generator_ema.synthesis.b16.conv1"][1:] == (16, 16)
