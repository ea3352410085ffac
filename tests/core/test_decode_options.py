"""Decode options end to end without the GUI: a family's decode settings reach model.decode through
the render requests, the latent record and `genstudio sample`'s generated flags; families without
settings (and foreign generators, which have no family) are called as before and refuse the flags;
encode requests and the latent map hand encode only the settings it takes."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from foreign_generators import TinyGenerator
from PIL import Image

from genstudio.cli import main
from genstudio.core.errors import Cancelled, GenStudioError
from genstudio.core.explore.decoding import accepted, decode_numpy
from genstudio.core.explore.explore_session import ExploreSession, check_latent_record
from genstudio.core.explore.latent_map import encode_dataset
from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.io.export import to_uint8_hwc
from genstudio.core.io.foreign import trust_code
from genstudio.core.io.open_model import open_model
from genstudio.core.latent import seeded_latents
from genstudio.core.requests.encode_requests import EncodeRoundTrip, Variations, round_trip_error
from genstudio.core.requests.render_requests import Decode, PrincipalDirections
from genstudio.core.requests.tasks import BuildLatentMap, TaskState
from genstudio.core.training.engine import TrainConfig, Trainer
from genstudio.ui.model_list import demo_checkpoints


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The models here are tiny: one thread runs them faster than two that wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def diffusion(mnist, tmp_path_factory, one_thread):
    """A tiny diffusion checkpoint: 3 training steps, 4 sampling steps by default, 2 to preview."""
    config = TrainConfig(family="diffusion", preset="digits", steps=3, batch_size=16, sample_every_s=0, n_samples=4,
                         eval_batch=16, device="cpu", out_dir=str(tmp_path_factory.mktemp("diffusion")), seed=5,
                         model={"sample_steps": 4, "preview_steps": 2, "channels": 8, "channel_mults": [1, 2]})
    reports = list(Trainer(config, dataset=mnist).run())
    return Path(reports[-1].path)


def test_model_info_describes_the_settings(diffusion):
    info = open_model(diffusion).info
    assert [s.key for s in info.decode_settings] == ["steps", "eta"]       # guidance needs classes
    assert info.decode_defaults() == {"steps": 4, "eta": 0.0}
    assert info.preview_options() == {"steps": 2}
    assert info.check_decode_options({"steps": 3.0, "eta": 1}, "here") == {"steps": 3, "eta": 1.0}
    for bad, reason in [({"guidance": 2.0}, "'guidance' is not a decode setting of this diffusion model"),
                        ({"steps": 0}, "steps must be a number from 1 to 1000"),
                        ({"steps": 2.5}, "steps must be a whole number"),
                        ({"eta": True}, "eta must be a number"),
                        ({"eta": float("nan")}, "eta must be a number"),
                        ([1, 2], "decode options must be an object")]:
        with pytest.raises(GenStudioError, match="^here: ") as exc:
            info.check_decode_options(bad, "here")
        assert reason in str(exc.value)
    vae = open_model(demo("vae-mnist")).info
    assert vae.decode_settings == () and vae.decode_defaults() == {} and vae.preview_options() == {}
    gan = open_model(demo("gan-mnist")).info                  # BigGAN's truncation, off by default
    assert [s.key for s in gan.decode_settings] == ["truncation"] and gan.decode_defaults() == {"truncation": 0.0}


def test_requests_pass_options_only_when_there_are_some(diffusion):
    model = load_checkpoint(diffusion).model.eval()
    z = seeded_latents(2, (784,), 3)
    with torch.no_grad():
        two = model.decode(z.view(2, 1, 28, 28), steps=2).numpy()
        four = model.decode(z.view(2, 1, 28, 28)).numpy()
    assert np.allclose(Decode(z, options={"steps": 2}).run(model, {}), two, atol=1e-5)
    assert np.allclose(Decode(z).run(model, {}), four, atol=1e-5)
    assert not np.allclose(two, four, atol=1e-3)
    # A decoder that takes no settings is called exactly as before: decode(z, labels).
    calls = []

    class Plain(torch.nn.Module):
        latent_shape, device = (3,), torch.device("cpu")

        def decode(self, z, labels=None):
            calls.append(labels)
            return z

    assert decode_numpy(Plain(), torch.ones(2, 3), options={}).shape == (2, 3) and calls == [None]
    directions, explained = PrincipalDirections(k=2, samples=16, options={"steps": 1}).run(model, {})
    assert directions.shape == (2, 784) and explained.shape == (2,)


def test_the_record_keeps_decode_options():
    session = ExploreSession()
    session.configure((4,), 0, "diffusion", "x.safetensors", decode_options={"steps": 20, "eta": 0.0})
    seen = []
    session.events.settings.connect(lambda s: seen.append(dict(s.decode_options)))
    session.set_decode_option("steps", 5)
    assert seen == [{"steps": 5, "eta": 0.0}]
    with pytest.raises(ValueError, match="'guidance' is not a decode setting"):
        session.set_decode_option("guidance", 1.0)
    record = json.loads(json.dumps(session.to_record()))
    assert record["decode_options"] == {"steps": 5, "eta": 0.0}
    other = ExploreSession()
    other.configure((4,), 0, "diffusion", "x.safetensors", decode_options={"steps": 20, "eta": 0.0})
    other.apply_record(record)
    assert other.decode_options == {"steps": 5, "eta": 0.0} and torch.equal(other.z, session.z)
    # A record made with a setting this model does not take, or with malformed options, is refused.
    plain = ExploreSession()
    plain.configure((4,), 0, "gan", "g.safetensors")
    with pytest.raises(GenStudioError, match="decode option 'eta' is not a setting of this model"):
        plain.apply_record(record)
    with pytest.raises(GenStudioError, match="'decode_options' must map setting names to finite numbers"):
        check_latent_record({**record, "decode_options": {"steps": "many"}}, 4, "f.json")
    # Reopening a fresher snapshot of the same run keeps the person's settings.
    session.configure((4,), 0, "diffusion", "x.safetensors", keep_latent=True, decode_options={"steps": 20, "eta": 0.0})
    assert session.decode_options == {"steps": 5, "eta": 0.0}


def test_sample_flags_come_from_the_family(diffusion, tmp_path, capsys):
    model = load_checkpoint(diffusion).model.eval()
    out = tmp_path / "grid.png"
    assert main(["sample", str(diffusion), "--grid", "1x2", "--seed", "4", "--steps", "2", "--eta", "0.5",
                 "--padding", "0", "--out", str(out)]) == 0
    assert "steps 2, eta 0.5" in capsys.readouterr().out
    with torch.no_grad():
        expected = model.decode(seeded_latents(2, (1, 28, 28), 4), steps=2, eta=0.5).numpy()
    with Image.open(out) as im:
        cli = np.asarray(im.convert("RGB"))
    assert np.array_equal(cli, np.concatenate(list(to_uint8_hwc(expected)), axis=1))
    # A flag the family does not take, a value out of range, a flag for a model with no settings.
    assert main(["sample", str(diffusion), "--guidance", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(diffusion) in err
    assert "--guidance does not apply to this diffusion model (it takes --steps, --eta)" in err
    assert main(["sample", str(diffusion), "--steps", "5000", "--out", str(out)]) == 2
    assert "steps must be a number from 1 to 1000, not 5000" in capsys.readouterr().err
    assert main(["sample", str(demo("vae-mnist")), "--steps", "3", "--out", str(out)]) == 2
    assert "--steps does not apply to this vae model (it takes no decode settings)" in capsys.readouterr().err
    assert main(["sample", str(demo("gan-mnist")), "--steps", "3", "--out", str(out)]) == 2
    assert "--steps does not apply to this gan model (it takes --truncation)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["sample", str(diffusion), "--steps", "three", "--out", str(out)])
    assert exit_.value.code == 2
    assert "--steps: a whole number from 1 to 1000, not 'three'" in capsys.readouterr().err


def test_a_foreign_generator_takes_no_decode_settings(tmp_path, capsys):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(TinyGenerator().eval()), path)
    args = [str(path), "--trust-code", "--latent-dim", "8", "--output-range=-1,1", "--out", str(tmp_path / "o.png")]
    info = open_model(path, latent_dim=8, output_range=(-1.0, 1.0), consent=trust_code).info
    assert info.family_spec is None and info.decode_settings == () and info.decode_defaults() == {}
    assert main(["sample", *args]) == 0
    capsys.readouterr()
    assert main(["sample", *args, "--eta", "0.5"]) == 2
    assert "--eta does not apply to a foreign generator (it takes no decode settings)" in capsys.readouterr().err


def test_encode_requests_give_each_method_what_it_takes(diffusion, mnist):
    def encode(x, labels=None, steps=None, should_stop=None):
        pass

    assert accepted(encode, {"steps": 3, "eta": 0.5, "labels": None}) == {"steps": 3, "labels": None}
    assert accepted(lambda x, **kw: None, {"eta": 1}) == {"eta": 1}
    model = load_checkpoint(diffusion).model.eval()
    x = mnist.data[:1].float() / 255
    report = EncodeRoundTrip(x, options={"steps": 3, "eta": 0.0}, source="mnist #0").run(model, {})
    with torch.no_grad():
        z = model.encode(x, steps=3)
        back = model.decode(z, steps=3).numpy()
    assert torch.allclose(report.latent, z.reshape(-1), atol=1e-5) and np.allclose(report.decoded, back, atol=1e-5)
    mean_abs, max_abs, psnr = round_trip_error(x.numpy(), back)
    assert (report.mean_abs, report.max_abs) == pytest.approx((mean_abs, max_abs))
    assert psnr == pytest.approx(10 * np.log10(1 / np.mean((x.numpy() - back) ** 2)))
    assert round_trip_error(back, back)[2] == float("inf")
    # A VAE's encode(x) takes no settings and still round-trips through the same request.
    vae = load_checkpoint(demo("vae-mnist")).model.eval()
    report = EncodeRoundTrip(x, options={}).run(vae, {})
    with torch.no_grad():
        assert torch.allclose(report.latent, vae.encode(x).reshape(-1))
    with pytest.raises(ValueError, match="one source"):
        Variations(2, 0.5).run(model, {})
    result = Variations(3, 0.5, seed=1, latent=seeded_latents(1, (784,), 0), options={"steps": 4, "eta": 0.0}).run(model, {})
    assert result.images.shape == (3, 1, 28, 28) and np.allclose(result.source, Decode(seeded_latents(1, (784,), 0), options={"steps": 4}).run(model, {}))


def test_the_map_encodes_a_limited_set_with_the_given_settings(diffusion, mnist):
    model = load_checkpoint(diffusion).model.eval()
    subset = type(mnist)("mnist", mnist.data[:40], mnist.labels[:40], mnist.label_names, "mnist")
    result = BuildLatentMap("mnist", "pca", dataset=subset, limit=12, options={"steps": 2, "eta": 0.0},
                            batch=5).run(model, TaskState())
    assert len(result.dataset) == 12 and torch.equal(result.dataset.labels, subset.labels[:12])
    with torch.no_grad():
        expected = model.encode(subset.data[:12].float() / 255, steps=2).reshape(12, -1).numpy()
    assert np.allclose(result.projection.latents, expected, atol=1e-4)
    # An encode that takes should_stop gets it: a cancel lands inside a batch, between sampling steps.
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 3          # 1: before the first batch; 2, 3: its sampling steps

    with pytest.raises(Cancelled, match="sampling was cancelled"):
        encode_dataset(model, subset.data, batch=40, should_stop=should_stop, options={"steps": 4})
