"""Checkpoints round-trip every family exactly and refuse bad files with a one-line message naming them."""

import json
import os
import struct

import pytest
import safetensors.torch
import torch
from checkpoint_files import rewrite_header

from genstudio.core import registry
from genstudio.core.errors import CheckpointError
from genstudio.core.families.family import Capability
from genstudio.core.io import model_card
from genstudio.core.io.checkpoints import load_checkpoint, read_header, save_checkpoint
from genstudio.core.training.engine import TrainConfig, Trainer


def trained(mnist, tmp_path, family, preset, steps=4, **model):
    config = TrainConfig(family=family, preset=preset, steps=steps, sample_every_s=0, n_samples=4,
                         out_dir=str(tmp_path), device="cpu", model=model, batch_size=32)
    trainer = Trainer(config, dataset=mnist)
    list(trainer.run())
    return trainer, tmp_path / "checkpoint.safetensors"


@pytest.mark.parametrize("family,preset,model", [
    ("gan", "mlp", {}),
    ("gan", "dcgan-hinge-sn", {"g_channels": 8, "d_channels": 8}),
    ("gan", "mlp-conditional", {}),
    ("gan", "dcgan-hinge-sn-conditional", {"g_channels": 8, "d_channels": 8}),   # label embedding and its EMA
    ("vae", "mlp", {}),
    ("vae", "conv", {"channels": 8}),
    ("flow", "realnvp", {}),
])
def test_round_trip_same_latents_same_images(mnist, tmp_path, family, preset, model):
    trainer, path = trained(mnist, tmp_path, family, preset, **model)
    loaded = load_checkpoint(path)
    assert loaded.family == family and loaded.step == 4
    z = trainer.model.sample_latents(6, torch.Generator().manual_seed(0))
    trainer.model.eval()
    loaded.model.eval()
    assert torch.equal(trainer.model.decode(z), loaded.model.decode(z))
    card = loaded.card
    assert card.data_shape == (1, 28, 28)
    assert card.value_range == (0.0, 1.0)
    assert card.label_names == [str(i) for i in range(10)]
    assert card.data.name == "mnist"
    assert card.data_source == "mnist"   # the keyword, not this machine's path: portable
    assert card.versions["torch"] == torch.__version__
    assert card.format_version == model_card.FORMAT_VERSION == 2
    assert card.config == trainer.model.config           # every architecture field, typed
    assert set(loaded.header["model_config"]) == set(type(card.config).field_names())
    assert loaded.has_resume_state
    if registry.get(family).has(Capability.ENCODE):
        x, _ = mnist.batch(torch.arange(3))
        assert torch.allclose(trainer.model.encode(x), loaded.model.encode(x))


def test_weights_only_checkpoint_has_no_resume_state(mnist, tmp_path):
    trainer, _ = trained(mnist, tmp_path, "vae", "map")
    path = save_checkpoint(tmp_path / "demo.safetensors", trainer.model, trainer.card())
    loaded = load_checkpoint(path)
    assert not loaded.has_resume_state
    assert path.stat().st_size < (tmp_path / "checkpoint.safetensors").stat().st_size


def one_line(exc_info, *fragments):
    message = str(exc_info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.fixture(scope="module")
def good_file(mnist, tmp_path_factory):
    _, path = trained(mnist, tmp_path_factory.mktemp("good"), "vae", "map")
    return path


def test_corrupt_file(tmp_path):
    bad = tmp_path / "noise.safetensors"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(bad)
    one_line(exc, str(bad), "not a genstudio checkpoint")


def test_truncated_file(good_file, tmp_path):
    raw = good_file.read_bytes()
    for cut in (len(raw) // 2, 40):  # inside the tensor data, inside the JSON header
        short = tmp_path / f"short{cut}.safetensors"
        short.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError) as exc:
            load_checkpoint(short)
        one_line(exc, str(short), "truncated")


def test_foreign_safetensors_file(tmp_path):
    other = tmp_path / "someone_elses.safetensors"
    safetensors.torch.save_file({"weight": torch.ones(3)}, other)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(other)
    one_line(exc, str(other), "without genstudio metadata")


def test_foreign_non_checkpoint_files(tmp_path):
    png = tmp_path / "picture.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    for path, reason in ((png, "not a genstudio checkpoint"), (empty, "not a genstudio checkpoint"),
                         (tmp_path / "missing.safetensors", "no such file"), (tmp_path, "is a folder")):
        with pytest.raises(CheckpointError) as exc:
            load_checkpoint(path)
        one_line(exc, str(path), reason)


def test_unknown_version(good_file, tmp_path):
    path = rewrite_header(good_file, tmp_path / "future.safetensors", lambda h: h.update(format_version=99))
    with pytest.raises(CheckpointError) as exc:
        read_header(path)
    one_line(exc, str(path), "version 99")


def test_wrong_family(good_file):
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(good_file, expect_family="gan")
    one_line(exc, str(good_file), "is a vae checkpoint, expected a gan")


def test_missing_keys(good_file, tmp_path):
    def grow(header):
        header["model_config"]["hidden"] = [512, 256, 128]  # the description now needs a layer the file lacks
    path = rewrite_header(good_file, tmp_path / "mismatch.safetensors", grow)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    one_line(exc, str(path), "missing weights")


def test_save_is_atomic(good_file, tmp_path, monkeypatch, mnist):
    """A crash during the rename leaves the previous checkpoint intact and no temporary file behind."""
    target = tmp_path / "ckpt.safetensors"
    target.write_bytes(good_file.read_bytes())
    before = target.read_bytes()
    loaded = load_checkpoint(good_file)

    def crash(*args):
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        save_checkpoint(target, loaded.model, loaded.card.with_step(99))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]


def test_loading_executes_nothing(good_file):
    """The file is safetensors: a JSON header and raw tensor bytes, no pickle opcodes."""
    raw = good_file.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    json.loads(raw[8:8 + n])  # the whole header is plain JSON
    assert b"\x80\x04\x95" not in raw[:8 + n]  # no pickle protocol-4 frame in it
