"""Principal directions computed for a checkpoint are kept, and a second request for the same file
and settings reads them back without decoding: the same numbers. Another file, another setting, or
a damaged cache file means computing them again; a model with no file keeps nothing. A model folder
is keyed by every file in it."""

import logging
import shutil

import torch

from genstudio.core.explore.directions_cache import directions_file
from genstudio.core.io.open_model import open_model
from genstudio.core.requests.render_requests import PrincipalDirections
from genstudio.core.runtime.resources import resource_path


class CountingDecodes:
    """The model, with a count of the latents it decoded."""

    def __init__(self, model):
        self.decoded = 0
        decode = model.decode

        def counted(z, *args, **kwargs):
            self.decoded += len(z)
            return decode(z, *args, **kwargs)

        model.decode = counted


def test_directions_are_kept_per_checkpoint_and_settings(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checkpoint = tmp_path / "gan.safetensors"
    shutil.copy(resource_path("checkpoints", "gan-mnist.safetensors"), checkpoint)
    model = open_model(checkpoint).model
    counter = CountingDecodes(model)
    request = PrincipalDirections(k=4, samples=64, checkpoint=checkpoint)

    directions, explained = request.run(model, {})
    assert counter.decoded == 64 and directions.shape == (4, model.latent_dim) and explained.shape == (4,)
    kept = directions_file(checkpoint, 4, 64, 0, {})
    assert kept.parent == tmp_path / "cache" / "genstudio" / "directions" and kept.exists()

    again, again_explained = request.run(model, {})
    assert counter.decoded == 64                                    # read back: no decode
    assert torch.equal(again, directions) and (again_explained == explained).all()

    PrincipalDirections(k=5, samples=64, checkpoint=checkpoint).run(model, {})
    assert counter.decoded == 128                                   # another k: its own entry
    PrincipalDirections(k=4, samples=64, checkpoint=None).run(model, {})
    assert counter.decoded == 192                                   # no file: nothing to key on
    assert len(list(kept.parent.iterdir())) == 2

    kept.write_bytes(b"not an npz")
    with caplog.at_level(logging.WARNING):
        rebuilt, _ = request.run(model, {})
    assert counter.decoded == 256 and torch.equal(rebuilt, directions)      # computed again: the same
    assert "unreadable cached principal directions" in caplog.text

    checkpoint.write_bytes(checkpoint.read_bytes() + b" ")         # another file at the same path
    assert directions_file(checkpoint, 4, 64, 0, {}) != kept
    assert directions_file(checkpoint, 4, 64, 0, {"truncation": 0.7}) != directions_file(checkpoint, 4, 64, 0, {})
    assert directions_file(tmp_path / "missing.safetensors", 4, 64, 0, {}) is None

    folder = tmp_path / "pipeline"                                  # a model folder (diffusers)
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text("{}")
    (folder / "unet" / "weights.safetensors").write_bytes(b"1234")
    before = directions_file(folder, 4, 64, 0, {})
    (folder / "unet" / "weights.safetensors").write_bytes(b"12345")   # rewritten inside: the folder's time stays
    assert before is not None and directions_file(folder, 4, 64, 0, {}) != before
    (tmp_path / "empty").mkdir()
    assert directions_file(tmp_path / "empty", 4, 64, 0, {}) is None
