"""The model card: one writer, one reader; format-1 files (the demos users have) still open and
decode exactly as they did, and a format-2 file rebuilds from what it stores, never from defaults."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from checkpoint_files import rewrite_header

from genstudio.core.data.toy import load_toy
from genstudio.core.errors import CheckpointError
from genstudio.core.io.checkpoints import load_checkpoint, read_card
from genstudio.core.io.model_card import ModelCard
from genstudio.core.training.engine import TrainConfig, Trainer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V1_DECODES = np.load(FIXTURES / "v1-decodes.npz")


@pytest.mark.parametrize("name", ["v1-gan-mlp", "v1-vae-toy"])
def test_format_1_files_decode_as_they_did(name):
    """Written by genstudio's format-1 code (the fixtures), decoded then: the same images now."""
    loaded = load_checkpoint(FIXTURES / f"{name}.safetensors")
    assert loaded.card.format_version == 1
    model = loaded.model.eval()
    z = torch.randn((5, *model.latent_shape), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():   # equal up to float32 summation order (thread count)
        np.testing.assert_allclose(model.decode(z).numpy(), V1_DECODES[name], rtol=0, atol=1e-6)


def test_format_1_file_resumes_and_is_written_back_as_format_2(mnist, tmp_path):
    source = tmp_path / "old.safetensors"
    shutil.copy(FIXTURES / "v1-gan-mlp.safetensors", source)
    config = TrainConfig(family="gan", steps=5, sample_every_s=0, n_samples=4, device="cpu", out_dir=str(tmp_path))
    trainer = Trainer(config, dataset=mnist, resume=source)
    assert trainer.step == 3
    reports = list(trainer.run())
    card = read_card(reports[-1].path)
    assert card.format_version == 2 and card.step == 5
    assert card.config.g_hidden == (32,) and card.config.latent_dim == 8 and card.config.dropout == 0.3
    assert card.config.activation == "leaky_relu"       # filled from the frozen v1 defaults


def test_v2_rebuilds_from_what_it_stores_not_from_defaults(tmp_path):
    ring8 = load_toy("ring8", n=512)
    config = TrainConfig(family="vae", preset="toy", steps=2, sample_every_s=0, n_samples=4, device="cpu",
                         out_dir=str(tmp_path), model={"beta": 0.5})
    list(Trainer(config, dataset=ring8).run())
    path = tmp_path / "checkpoint.safetensors"
    card = read_card(path)
    assert card.config.beta == 0.5 and card.config.hidden == (128, 128)
    # A file missing a field is refused; it is not filled in with today's default.
    broken = rewrite_header(path, tmp_path / "missing.safetensors", lambda h: h["model_config"].pop("beta"))
    with pytest.raises(CheckpointError, match="config fields missing: beta"):
        read_card(broken)


def test_a_field_added_later_gets_the_value_older_files_were_written_with(mnist, tmp_path):
    """d_augment came after format-2 GAN files existed: without it they trained with no augmentation,
    and they rebuild so; a file that lacks a field without such a value is still refused."""
    config = TrainConfig(family="gan", preset="mlp", steps=2, sample_every_s=0, n_samples=4, device="cpu",
                         out_dir=str(tmp_path), model={"d_augment": "translation"})
    list(Trainer(config, dataset=mnist).run())
    path = tmp_path / "checkpoint.safetensors"
    assert read_card(path).config.d_augment == "translation"
    older = rewrite_header(path, tmp_path / "older.safetensors", lambda h: h["model_config"].pop("d_augment"))
    assert read_card(older).config.d_augment == "none"
    assert load_checkpoint(older).model.d_augment == "none"
    broken = rewrite_header(older, tmp_path / "broken.safetensors", lambda h: h["model_config"].pop("latent_dim"))
    with pytest.raises(CheckpointError, match=r"config fields missing: latent_dim\)$"):
        read_card(broken)


@pytest.mark.parametrize("change,reason", [
    (lambda h: h["model_config"].update(latent_dim="two"), "latent_dim must be an integer"),
    (lambda h: h["model_config"].update(likelihood="poisson"), "likelihood 'poisson' is unknown"),
    (lambda h: h["model_config"].update(hidden=[10**9]), "must be at most"),
    (lambda h: h["model_config"].update(surprise=1), "unknown config fields surprise"),
    (lambda h: h.update(family=["gan"]), "unknown model family"),
    (lambda h: h.update(step=-3), "step must be a non-negative integer"),
    (lambda h: h.update(model_config=None), "no model_config"),
])
def test_bad_card_fields_are_one_line_errors(tmp_path, change, reason):
    ring8 = load_toy("ring8", n=512)
    config = TrainConfig(family="vae", preset="toy", steps=1, sample_every_s=0, n_samples=4, device="cpu",
                         out_dir=str(tmp_path))
    list(Trainer(config, dataset=ring8).run())
    bad = rewrite_header(tmp_path / "checkpoint.safetensors", tmp_path / "bad.safetensors", change)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(bad)
    assert reason in str(exc.value) and str(bad) in str(exc.value) and "\n" not in str(exc.value)


def test_card_header_round_trip(mnist):
    trainer = Trainer(TrainConfig(family="gan", preset="dcgan", model={"g_channels": 8, "d_channels": 8},
                                  device="cpu", n_samples=4), dataset=mnist)
    card = trainer.card()
    again = ModelCard.from_header(json.loads(json.dumps(card.to_header())), "memory")
    assert again == card
    assert again.data_source == "mnist" and again.label_names == [str(i) for i in range(10)]


def test_a_header_describing_a_huge_model_is_refused_before_building(tmp_path, monkeypatch):
    """No module is built for a description beyond the memory budget: a clear line instead."""
    ring8 = load_toy("ring8", n=512)
    config = TrainConfig(family="gan", preset="toy", steps=1, sample_every_s=0, n_samples=4, device="cpu",
                         out_dir=str(tmp_path))
    list(Trainer(config, dataset=ring8).run())
    huge = rewrite_header(tmp_path / "checkpoint.safetensors", tmp_path / "huge.safetensors",
                          lambda h: h["model_config"].update(g_hidden=[16384] * 32))
    built = []

    def build(*args, **kwargs):
        built.append(1)
        raise AssertionError("the model was built")

    monkeypatch.setattr("genstudio.core.families.gan.model.GAN.__init__", build)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(huge)
    assert re.search(r"\(\d{1,3}(,\d{3}){3} parameters\) would need [\d.]+ GiB", str(exc.value)), str(exc.value)
    assert built == []
    # A file larger than the budget is not even read.
    monkeypatch.setenv("GENSTUDIO_MEMORY_BUDGET", "100K")
    with pytest.raises(CheckpointError, match="KiB, more than the 100.0 KiB this reader accepts"):
        read_card(tmp_path / "checkpoint.safetensors")


def test_training_a_model_beyond_the_budget_is_refused(monkeypatch, mnist):
    from genstudio.core.errors import TrainingError

    monkeypatch.setenv("GENSTUDIO_MEMORY_BUDGET", "64M")
    with pytest.raises(TrainingError, match="training the GAN preset 'mlp' .* at batch 64 would need"):
        Trainer(TrainConfig(family="gan", preset="mlp", model={"g_hidden": [4096, 4096]}, device="cpu"), dataset=mnist)
