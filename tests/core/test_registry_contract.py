"""Every registered family keeps the same contract: built from each preset, trained a few real steps
on real data, saved, loaded, decoded and sampled, and whatever its capabilities promise works."""

import math

import numpy as np
import pytest
import torch

from genstudio.core import registry
from genstudio.core.data.toy import load_toy
from genstudio.core.families.base import GenerativeModel
from genstudio.core.families.family import Capability
from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.latent import SpaceEdit
from genstudio.core.training.engine import TrainConfig, Trainer

HEAVY_PARAMETERS = 4_000_000
HEAVY_ACTIVATIONS = 1_000_000     # per image


def _case(family, preset: str):
    # Every family's default presets run with `make test`. Its other presets run there too unless
    # they are slow on MNIST: pixel-by-pixel sampling (784 sequential steps per decode), or a model
    # made for larger RGB data (over 4 M parameters or 1 M activations per image, 15-30 s each);
    # those run with `make test-long`.
    default = preset in family.presets_for(points=False)[:1] + family.presets_for(points=True)[:1]
    spec = family.presets[preset]
    heavy = False
    if spec.data == "images":
        size = family.size_of(family.make_config({**spec.model, "data_shape": [1, 28, 28],
                                                  **({"num_classes": 10} if spec.conditional else {})}))
        heavy = size.parameters > HEAVY_PARAMETERS or size.activations > HEAVY_ACTIVATIONS
    slow = not default and (family.has(Capability.SEQUENTIAL_DECODE) or heavy)
    return pytest.param(family.name, preset, id=f"{family.name}-{preset}", marks=[pytest.mark.long] if slow else [])


CASES = [_case(family, preset) for family in registry.families() for preset in family.presets]


@pytest.fixture(scope="module")
def ring8():
    return load_toy("ring8", n=4096)


@pytest.fixture(scope="module")
def digit_pair():
    from genstudio.core.data.spec import load_dataset

    return load_dataset("mnist-thick")


@pytest.mark.parametrize("family_name,preset_name", CASES)
def test_family_contract(family_name, preset_name, mnist, ring8, digit_pair, tmp_path):
    family = registry.get(family_name)
    preset = family.presets[preset_name]
    points = preset.data == "points"
    data = ring8 if points else digit_pair if family.has(Capability.TRANSLATION) else mnist
    config = TrainConfig(family=family_name, preset=preset_name, steps=3, batch_size=16, report_every=1,
                         sample_every_s=0, n_samples=4, eval_batch=16, device="cpu", out_dir=str(tmp_path), seed=3)
    trainer = Trainer(config, dataset=data)
    reports = list(trainer.run())
    steps = [r for r in reports if r.kind == "step"]
    assert [r.step for r in steps] == [1, 2, 3]
    assert all(math.isfinite(v) for r in steps for v in r.scalars.values())
    plotted = {key for spec in family.plots for key in spec.keys}
    assert plotted & set(steps[-1].scalars), "the family's plots show none of the figures it reports"
    assert reports[-1].kind == "finished" and reports[-1].path

    # Save, load: the card carries every config field and rebuilds the same model.
    loaded = load_checkpoint(reports[-1].path)
    model = loaded.model.eval()
    trainer.model.eval()
    assert isinstance(model, GenerativeModel) and model.family == family_name
    assert loaded.card.config == trainer.model.config and loaded.card.preset == preset_name
    assert loaded.card.latent_shape == tuple(model.latent_shape)
    z = model.sample_latents(5, torch.Generator().manual_seed(0))
    labels = torch.arange(5) % model.num_classes if model.num_classes else None
    with torch.no_grad():
        images = model.decode(z, labels)
        assert torch.equal(images, trainer.model.decode(z, labels))
        assert images.shape == (5, *data.shape) and torch.isfinite(images).all()
        if not points:
            assert images.min() >= 0 and images.max() <= 1
        sampled = model.sample(3, torch.Generator().manual_seed(1), labels=None if labels is None else labels[:3])
        assert sampled.shape == (3, *data.shape)

    # The size the memory budget checks, from the config alone, is the built model's (within 10 %).
    actual = sum(t.numel() for t in (*model.parameters(), *model.buffers()))
    assert 0.9 * actual <= family.size_of(loaded.card.config).parameters <= 1.1 * actual

    # Capabilities: what the family declares for this model works, and nothing else is claimed.
    capabilities = registry.capabilities_of(model)
    assert capabilities <= family.capabilities
    assert (Capability.POINTS in capabilities) == points
    assert (Capability.CLASS_CONDITIONAL in capabilities) == (preset.conditional and family.has(Capability.CLASS_CONDITIONAL))
    x, _ = data.batch(torch.arange(4))
    if Capability.ENCODE not in capabilities:
        with pytest.raises(NotImplementedError):
            model.encode(x)
    for capability in capabilities:
        CAPABILITY_CHECKS[capability](model, x, z, data, steps[-1].scalars)
    check_decode_settings(family, model, z[:1], None if labels is None else labels[:1], loaded.card.config.to_dict())


# --- each capability's promise (genstudio/core/families/capabilities.py), called on a trained model ---------
def _image_range(images, model, n):
    assert images.shape == (n, *model.data_shape) and images.dtype == torch.float32 and torch.isfinite(images).all()
    if not model.is_points:
        assert images.min() >= 0 and images.max() <= 1


def check_encode(model, x, z, data, scalars):
    with torch.no_grad():
        latents = model.encode(x)
    assert latents.shape == (4, *model.latent_shape) and latents.dtype == torch.float32
    assert torch.isfinite(latents).all() and not torch.equal(latents[0], latents[1])   # images differ, so do latents


def check_exact_likelihood(model, x, z, data, scalars):
    from genstudio.core.explore.likelihood import bits_per_dim

    bpd = bits_per_dim(model, data.data[:6])
    assert bpd.shape == (6,) and bpd.dtype == np.float32 and np.isfinite(bpd).all() and (bpd > 0).all()
    again = model.bits_per_dim(x, torch.Generator().manual_seed(0))
    assert torch.equal(again, model.bits_per_dim(x, torch.Generator().manual_seed(0)))   # repeatable
    if Capability.ENCODE in registry.capabilities_of(model):             # the round trip of an invertible model
        assert 0 <= model.invertibility_error(x) < 1e-3


def check_class_conditional(model, x, z, data, scalars):
    assert model.num_classes > 0
    with torch.no_grad():
        same = z[:1].expand(2, *z.shape[1:])
        torch.manual_seed(0)
        images = model.decode(same, torch.tensor([0, 1]))
    assert not torch.equal(images[0], images[1]), "the class label changes nothing"


def check_image_projection(model, x, z, data, scalars):
    from genstudio.core.explore.inversion import project_image

    latents = z[:2].reshape(2, -1).clone().requires_grad_(True)
    images = model.decode_differentiable(latents)
    _image_range(images.detach(), model, 2)
    grad, = torch.autograd.grad(images.sum(), latents)
    assert grad.abs().sum() > 0
    latent, info = project_image(model, x[0], steps=5, restarts=2)
    assert latent.shape == (model.latent_dim,) and info["final_error"] <= info["start_error"] + 1e-6
    assert all(p.grad is None for p in model.parameters())       # the model was only read


def check_points(model, x, z, data, scalars):
    assert model.data_shape == (2,) and data.is_points


def check_kl_per_dimension(model, x, z, data, scalars):
    from genstudio.core.explore.latent_map import kl_per_dimension

    with torch.no_grad():
        kl = model.kl_per_dimension(data.batch(torch.arange(32))[0])
    assert kl.shape == (model.latent_dim,) and kl.dtype == torch.float32 and (kl >= 0).all()
    mapped = kl_per_dimension(model, data.data[:32], batch=10)        # the latent map's batched mean: the same
    assert np.allclose(mapped, kl.numpy(), rtol=1e-4, atol=1e-6)


def check_decision_surface(model, x, z, data, scalars):
    surface = model.decision_surface((-1.5, 1.5, -1.5, 1.5), resolution=8)
    assert surface.shape == (8, 8) and surface.dtype == np.float32 and np.isfinite(surface).all()
    assert surface.std() > 0                                     # the critic tells points apart


def check_live_diagnostics(model, x, z, data, scalars):
    assert math.isfinite(scalars["d_real"]) and math.isfinite(scalars["d_fake"])


def check_variations(model, x, z, data, scalars):
    with torch.no_grad():
        varied = model.variations(x[0], 3, 0.5, seed=1)
        _image_range(varied, model, 3)
        assert torch.equal(varied, model.variations(x[0], 3, 0.5, seed=1))      # a seed is one set
        assert not torch.equal(varied, model.variations(x[0], 3, 0.5, seed=2))
        assert not torch.equal(varied[0], varied[1])


def check_sequential_decode(model, x, z, data, scalars):
    from genstudio.core.errors import Cancelled

    first = torch.tensor([1]) if model.num_classes else None
    rows = []
    with torch.no_grad():
        torch.manual_seed(0)
        drawn = model.decode(z[:1], first, on_row=lambda row, so_far: rows.append(row), should_stop=lambda: False)
        assert rows == list(range(data.shape[1]))
        torch.manual_seed(0)
        assert torch.equal(drawn, model.decode(z[:1], first))
        live = torch.zeros_like(drawn)          # the Train panel's live grid: a few rows at a time
        for row in range(0, data.shape[1], 10):
            live = model.draw_rows(z[:1], live, row, min(row + 10, data.shape[1]), first)
        assert torch.equal(live, drawn)
    with pytest.raises(Cancelled):
        model.decode(z[:1], first, should_stop=lambda: True)


def check_pixel_likelihood(model, x, z, data, scalars):
    with torch.no_grad():
        nll = model.pixel_nll(x[:2])
    assert nll.shape == (2, *model.data_shape[1:]) and torch.isfinite(nll).all() and (nll >= 0).all()
    if Capability.EXACT_LIKELIHOOD in registry.capabilities_of(model):   # the surprise map sums to bits/dim
        bits = nll.flatten(1).sum(1) / (math.prod(model.data_shape) * math.log(2.0))
        assert torch.allclose(bits, model.bits_per_dim(x[:2]), rtol=1e-4)


def check_completion(model, x, z, data, scalars):
    known = torch.zeros(model.data_shape[1:], dtype=torch.bool)
    known[: model.data_shape[1] // 2] = True                     # keep the top half
    with torch.no_grad():
        done = model.complete(x[0], known, 2, seed=3)
        _image_range(done, model, 2)
        kept = (x[0] * 255).round() / 255
        assert torch.allclose(done[:, :, known], kept[:, known].expand(2, -1, -1), atol=1e-6)
        assert torch.equal(done, model.complete(x[0], known, 2, seed=3))
        assert not torch.equal(done[:, :, ~known], model.complete(x[0], known, 2, seed=4)[:, :, ~known])


def check_style_space(model, x, z, data, scalars):
    labels = torch.arange(2) % model.num_classes if model.num_classes else None
    with torch.no_grad():
        ws = model.mapping(z[:2].reshape(2, -1), labels)
        assert ws.shape[:2] == (2, model.num_ws) and ws.ndim == 3 and torch.isfinite(ws).all()
        assert torch.allclose(model.synthesize(ws), model.decode(z[:2], labels), atol=1e-6)
        # The declared space's principal directions: unit, orthogonal, seeded; an edit along one moves the image.
        directions, explained = model.space_directions(3, label=0 if model.num_classes else None)
        assert directions.shape == (3, ws.shape[2]) and explained.shape == (3,) and 0 < float(explained.sum()) <= 1
        assert torch.allclose(directions @ directions.t(), torch.eye(3), atol=1e-4)
        assert torch.equal(directions, model.space_directions(3, label=0 if model.num_classes else None)[0])
        edit = SpaceEdit(directions, torch.tensor([3.0, 0, 0]), "all")
        assert not torch.allclose(model.decode(z[:2], labels, style_edit=edit), model.decode(z[:2], labels), atol=1e-4)
        # The mixing grid: a blank corner, the B row, then each A and A with B's latents on the layers.
        grid = model.mixing_grid([1, 2], [3], "0-0")
        assert grid.shape == (6, *model.data_shape) and torch.equal(grid[0], torch.ones(model.data_shape))
        with pytest.raises(ValueError):
            model.mixing_grid([1], [2], f"0-{model.num_ws}")


def check_translation(model, x, z, data, scalars):
    a = data.data[data.labels == 0][:3].float() / 255
    with torch.no_grad():
        there = model.translate(a, direction=0, style=z[:3])
        _image_range(there, model, 3)
        assert torch.equal(there, model.translate(a, direction=0, style=z[:3]))         # deterministic
        there_again, back = model.round_trip(a, direction=0, style=z[:3])
        assert torch.equal(there_again, there)
        _image_range(back, model, 3)
        examples = model.examples(1)
        assert examples.shape[1:] == model.data_shape and len(examples) > 0
        b_images = data.data[data.labels == 1].float() / 255
        assert (b_images == examples[0]).flatten(1).all(1).any()                          # one of B's images
        triples = model.triples(z[:2])
        assert triples.shape == (2, 6, *model.data_shape)
        assert torch.equal(triples[0, 0], model.examples(0)[0])                           # A, then A -> B, A -> B -> A
        if model.style_dim:                                                                # the code matters
            assert not torch.allclose(model.translate(a[:1], direction=0, style=z[:1]),
                                      model.translate(a[:1], direction=0, style=z[1:2] + 3), atol=1e-5)


CAPABILITY_CHECKS = {
    Capability.ENCODE: check_encode, Capability.EXACT_LIKELIHOOD: check_exact_likelihood,
    Capability.CLASS_CONDITIONAL: check_class_conditional, Capability.IMAGE_PROJECTION: check_image_projection,
    Capability.POINTS: check_points, Capability.KL_PER_DIMENSION: check_kl_per_dimension,
    Capability.DECISION_SURFACE: check_decision_surface, Capability.LIVE_DIAGNOSTICS: check_live_diagnostics,
    Capability.VARIATIONS: check_variations, Capability.SEQUENTIAL_DECODE: check_sequential_decode,
    Capability.PIXEL_LIKELIHOOD: check_pixel_likelihood, Capability.COMPLETION: check_completion,
    Capability.STYLE_SPACE: check_style_space, Capability.TRANSLATION: check_translation,
}


def test_every_capability_has_a_check():
    assert set(CAPABILITY_CHECKS) == set(Capability)


# --- decode settings change what is decoded -------------------------------------------------------------
def moved(setting, config: dict):
    """A value of the setting other than its default, inside its range for this model."""
    default = setting.default_for(config)
    top = setting.maximum_for(config)
    if setting.choices:
        return (default + 1) % len(setting.choices)
    if setting.kind is int:
        return default + 1 if default + 1 <= top else default - 1
    return default + (top - default) / 4 if default < top else default - (default - setting.minimum) / 4


def check_decode_settings(family, model, z, labels, config: dict):
    """Every setting the model takes is accepted and changes the image, at the others' defaults or
    with the others moved off them (a truncation cutoff matters only when psi truncates, a mixing
    seed only when styles are mixed). Each decode starts from one global seed, so a setting that
    draws noise compares like with like."""
    settings = [s for s in family.decode_settings if model.num_classes or not s.conditional]
    defaults = {s.key: s.default_for(config) for s in settings}
    away = {s.key: moved(s, config) for s in settings}
    decoded = {}

    def decode(options: dict) -> torch.Tensor:
        key = tuple(sorted(options.items()))
        if key not in decoded:
            torch.manual_seed(0)
            with torch.no_grad():
                decoded[key] = model.decode(z, labels, **options)
            assert decoded[key].shape == (1, *model.data_shape) and torch.isfinite(decoded[key]).all()
        return decoded[key]

    for setting in settings:
        contexts = (defaults, {**away, setting.key: defaults[setting.key]})
        assert any(not torch.equal(decode(context), decode({**context, setting.key: away[setting.key]}))
                   for context in contexts), f"decode setting {setting.key} changes nothing"


@pytest.mark.parametrize("family", registry.families(), ids=registry.names())
def test_family_description_is_complete(family):
    assert family.label and family.description and family.plots
    assert family.default_preset(points=False) in family.presets
    if family.has(Capability.POINTS):
        assert family.presets[family.default_preset(points=True)].data == "points"
    else:
        with pytest.raises(ValueError, match="no preset for points"):
            family.default_preset(points=True)
    for demo in family.demos:
        assert demo.preset in family.presets
    # Every config field has a default, and a stored config round-trips exactly.
    config = family.config_class.from_dict({"data_shape": [1, 28, 28]}, complete=False)
    assert family.config_class.from_dict(config.to_dict()) == config
