"""A file format registered from inside a test opens in `genstudio info`, `sample` and `convert` and in
the app (File > Open, dropping it), with no other edit: the reader registry (core/io/readers.py) is
the one place, as the family registry is for families (test_registry_extension.py).

The format: a `.toyz` file, a small JSON object describing a linear decoder, x = sigmoid(W z + b)
reshaped to the image, and its weights. Read as data (nothing in it runs), it opens as a model of a
family the test registers too, so it also converts into a genstudio checkpoint.
"""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from genstudio.core import registry
from genstudio.core.errors import CheckpointError
from genstudio.core.families.family import Family, PlotSpec, Preset
from genstudio.core.io import readers
from genstudio.core.io.file_checks import read_regular_file
from genstudio.core.io.model_card import DataDescription, ModelCard
from genstudio.core.io.reader import Description, Reader
from genstudio.core.latent import seeded_latents
from linear_decoder import LinearConfig, LinearDecoder


# --- the family the format opens as ----------------------------------------------------------------
class ToyDecoder(LinearDecoder):
    family = "toy"


TOY = Family(name="toy", label="Toy linear decoder", description="A linear decoder read from a .toyz file.",
             model_class=ToyDecoder, config_class=LinearConfig,
             presets={"toyz": Preset("As a .toyz file describes it.", "images", {"latent_dim": 2})},
             plots=(PlotSpec("Toy", ("loss",)),))


# --- the format ----------------------------------------------------------------------------------
def read_toyz(path):
    """(model, card) from a .toyz file: {"shape": [C, H, W], "weight": (C*H*W) rows of latent_dim, "bias"}."""
    values = json.loads(read_regular_file(path, "a toyz file", error=CheckpointError, max_bytes=1 << 20))
    weight, bias = torch.tensor(values["weight"]), torch.tensor(values["bias"])          # (D, L), (D,)
    if weight.ndim != 2 or weight.shape[0] != math.prod(values["shape"]) or bias.shape != weight.shape[:1]:
        raise CheckpointError(f"{path}: its weights do not fit a {values['shape']} image")
    model = registry.build_model("toy", {"data_shape": values["shape"], "latent_dim": weight.shape[1]})
    model.net.load_state_dict({"weight": weight, "bias": bias})
    data = DataDescription(name=path.stem, shape=tuple(values["shape"]))
    return model, ModelCard.describe(model, preset="toyz", data=data, step=0)


def open_toyz(path, device, options):
    model, card = read_toyz(path)
    return model.to(device), card


def describe_toyz(path):
    model, card = read_toyz(path)
    rows = (("file", str(path)), ("kind", "toyz linear decoder"),
            ("sample shape", " x ".join(map(str, card.data_shape))), ("latent shape", str(model.latent_dim)))
    return Description(rows, {"file": str(path), "shape": list(card.data_shape)}, "a toyz file", "toy")


TOYZ = Reader(name="toyz", label="toyz linear decoders", sniff=lambda path: path.suffix == ".toyz",
              open=open_toyz, describe=describe_toyz, suffixes=(".toyz",), convert=read_toyz)


@pytest.fixture
def toyz(tmp_path):
    """The family and the reader registered (and unregistered afterwards), and a .toyz file of a
    1 x 3 x 4 decoder from 2 latents, with its weights."""
    registry.register(TOY)
    readers.register(TOYZ)
    generator = torch.Generator().manual_seed(3)
    weight, bias = torch.randn(12, 2, generator=generator), torch.randn(12, generator=generator)
    path = tmp_path / "decoder.toyz"
    path.write_text(json.dumps({"shape": [1, 3, 4], "weight": weight.tolist(), "bias": bias.tolist()}))
    yield path, lambda z: torch.sigmoid(z @ weight.T + bias).view(-1, 1, 3, 4)
    readers.unregister("toyz")
    registry.unregister("toy")


def test_info_sample_and_convert_take_it(toyz, tmp_path, capsys):
    from genstudio.cli import main
    from genstudio.core.io.checkpoints import load_checkpoint

    path, expected = toyz
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "toyz linear decoder" in out and "1 x 3 x 4" in out
    assert main(["info", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["shape"] == [1, 3, 4]

    grid = tmp_path / "grid.png"
    assert main(["sample", str(path), "--grid", "2x3", "--padding", "0", "--seed", "5", "--out", str(grid)]) == 0
    with Image.open(grid) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.float64) / 255               # (2 * 3, 3 * 4)
    images = expected(seeded_latents(6, (2,), 5)).numpy()                               # (6, 1, 3, 4)
    tiled = images[:, 0].reshape(2, 3, 3, 4).transpose(0, 2, 1, 3).reshape(6, 12)
    assert np.abs(pixels - tiled).max() <= 1 / 255 + 1e-9

    out = tmp_path / "converted.safetensors"
    assert main(["convert", str(path), str(out)]) == 0
    converted = load_checkpoint(out)
    z = torch.randn(4, 2)
    assert converted.card.family == "toy" and torch.allclose(converted.model.decode(z), expected(z))
    assert main(["convert", str(path), str(tmp_path / "x.safetensors"), "--network", "G"]) == 2
    assert "--network does not apply to toyz linear decoders" in capsys.readouterr().err


def test_the_app_opens_it_from_the_menu_and_by_dropping(toyz, qtbot, window, monkeypatch):
    path, expected = toyz
    filters = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda parent, title, folder, file_filter: filters.append(file_filter) or (str(path), ""))
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_dialog()
    assert "toyz linear decoders (*.toyz)" in filters[0] and "*.toyz" in filters[0].split(";;")[0]
    assert window.opened.path == path and window.opened.family == "toy"
    z = window.explore.current_latent().reshape(1, 2)
    assert np.allclose(window.explore.last_image, expected(z)[0].numpy(), atol=1e-6)

    from genstudio.ui.model_list import demo_checkpoints

    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(next(p for p in demo_checkpoints() if p.stem == "gan-mnist"))
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.drop_path(path)
    assert window.opened.path == path and window.explore.last_image.shape == (1, 3, 4)


def test_unregistered_it_is_no_longer_opened(tmp_path, capsys):
    from genstudio.cli import main

    path = tmp_path / "decoder.toyz"
    path.write_text("{}")
    assert readers.reader_for(path).name == "genstudio-checkpoint"     # an unknown file: read as a checkpoint
    assert main(["info", str(path)]) == 2
    assert str(path) in capsys.readouterr().err
