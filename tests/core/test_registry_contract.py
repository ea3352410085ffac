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


@pytest.mark.parametrize("family_name,preset_name", CASES)
def test_family_contract(family_name, preset_name, mnist, ring8, tmp_path):
    family = registry.get(family_name)
    preset = family.presets[preset_name]
    points = preset.data == "points"
    data = ring8 if points else mnist
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
    if Capability.ENCODE in capabilities:
        with torch.no_grad():
            latents = model.encode(x)
        assert latents.shape == (4, *model.latent_shape) and torch.isfinite(latents).all()
    else:
        with pytest.raises(NotImplementedError):
            model.encode(x)
    if Capability.EXACT_LIKELIHOOD in capabilities:
        from genstudio.core.explore.likelihood import bits_per_dim

        bpd = bits_per_dim(model, data.data[:6])
        assert bpd.shape == (6,) and np.isfinite(bpd).all() and (bpd > 0).all()
    if Capability.IMAGE_PROJECTION in capabilities:
        from genstudio.core.explore.inversion import project_image

        latent, info = project_image(model, x[0], steps=5, restarts=2)
        assert latent.shape == (model.latent_dim,) and info["final_error"] <= info["start_error"] + 1e-6
        assert all(p.grad is None for p in model.parameters())       # the model was only read
    if Capability.KL_PER_DIMENSION in capabilities:
        from genstudio.core.explore.latent_map import kl_per_dimension

        kl = kl_per_dimension(model, data.data[:32])
        assert kl.shape == (model.latent_dim,) and (kl >= 0).all()
    if Capability.VARIATIONS in capabilities:
        with torch.no_grad():
            varied = model.variations(x[0], 3, strength=0.5)
        assert varied.shape == (3, *data.shape) and torch.isfinite(varied).all()
    if Capability.SEQUENTIAL_DECODE in capabilities:
        rows, first = [], labels[:1] if labels is not None else None
        with torch.no_grad():
            drawn = model.decode(z[:1], first, on_row=lambda row, so_far: rows.append(row), should_stop=lambda: False)
            assert torch.equal(drawn, model.decode(z[:1], first)) and rows == list(range(data.shape[1]))
        from genstudio.core.errors import Cancelled

        with pytest.raises(Cancelled):
            model.decode(z[:1], labels[:1] if labels is not None else None, should_stop=lambda: True)
    for setting in family.decode_settings:    # every decoder setting is accepted at its default
        if model.num_classes or not setting.conditional:
            with torch.no_grad():
                out = model.decode(z[:1], labels[:1] if labels is not None else None,
                                   **{setting.key: setting.default_for(loaded.card.config.to_dict())})
            assert out.shape == (1, *data.shape)
    if Capability.DECISION_SURFACE in capabilities:
        surface = model.decision_surface((-1.5, 1.5, -1.5, 1.5), resolution=8)
        assert surface.shape == (8, 8) and np.isfinite(surface).all()


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
