"""RealNVP flow: exact invertibility, log-det against brute-force Jacobians, training lowers the NLL."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from genstudio.core import registry
from genstudio.core.families.flow.config import FlowConfig
from genstudio.core.families.flow.model import Flow

PRESETS = registry.get("flow").presets

torch.set_num_threads(2)

MNIST = Path(__file__).resolve().parents[2] / "resources" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"


@pytest.fixture(scope="module")
def mnist() -> torch.Tensor:
    """The first 512 bundled MNIST test images as floats in [0, 1], (512, 1, 28, 28)."""
    with gzip.open(MNIST, "rb") as f:
        raw = f.read(16 + 512 * 28 * 28)
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(512, 1, 28, 28)
    return torch.from_numpy(images.copy()).float() / 255.0


def ring8(n: int, generator: torch.Generator) -> torch.Tensor:
    """n points from 8 Gaussians at (cos 2*pi*i/8, sin 2*pi*i/8), std 0.01, (n, 2)."""
    angle = 2 * math.pi * torch.randint(0, 8, (n,), generator=generator) / 8
    centres = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return centres + 0.01 * torch.randn(n, 2, generator=generator)


def image_flow(**overrides) -> Flow:
    return Flow(FlowConfig.from_dict({"data_shape": [1, 28, 28], **PRESETS["realnvp"].model, **overrides}, complete=False))


def point_flow(**overrides) -> Flow:
    return Flow(FlowConfig.from_dict({"data_shape": [2], **PRESETS["toy"].model, **overrides}, complete=False))


def perturb(model: Flow, std: float, seed: int = 0) -> Flow:
    """Move every weight off its init (the zero-initialised output layers make a fresh flow the
    identity), so the checks below exercise non-trivial couplings."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(std * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


def test_preset_shapes_and_config_round_trip():
    assert set(PRESETS) >= {"realnvp", "toy"}
    assert PRESETS["realnvp"].data == "images" and PRESETS["toy"].data == "points"
    for preset in PRESETS.values():
        assert "data_shape" not in preset.model
        json.dumps(preset.model)
    model = image_flow()
    assert model.family == "flow" and model.optimizer_names == ("flow",)
    assert model.latent_shape == (1, 28, 28)
    assert FlowConfig.from_dict(json.loads(json.dumps(model.config.to_dict()))) == model.config
    weights_mb = sum(p.numel() for p in model.parameters()) * 4 / 2**20
    assert weights_mb < 4, f"the preset should stay small, has {weights_mb:.1f} MB of weights"


def test_too_many_scales_is_a_clear_error():
    with pytest.raises(ValueError, match="at most 3 scales"):
        image_flow(num_scales=4)
    with pytest.raises(ValueError, match="unknown config fields"):
        image_flow(hiden_channels=8)


def test_images_invert_exactly(mnist):
    torch.manual_seed(0)
    model = perturb(image_flow(), 0.02).eval()
    x = mnist[:32]
    with torch.no_grad():
        z = model.encode(x)
        assert z.shape == x.shape
        # Not the identity: the perturbed couplings change the latent well beyond the logit.
        assert (z - torch.logit(0.05 + 0.9 * x)).abs().max() > 0.1
        assert (model.decode(z) - x).abs().max() < 1e-4
    assert model.invertibility_error(x) < 1e-4
    assert model.evaluate(x)["invertibility_error"] < 1e-4


@pytest.mark.parametrize("shape, scales", [((3, 32, 32), 3), ((1, 28, 28), 1), ((1, 28, 28), 2)])
def test_other_shapes_and_scale_counts_invert(shape, scales):
    model = perturb(registry.build_model("flow", {"data_shape": list(shape), "num_scales": scales, "couplings_per_scale": 2,
                          "hidden_channels": 4, "num_blocks": 1}), 0.05)
    x = torch.rand(2, *shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert model.encode(x).shape == x.shape
        assert model.log_prob(x).shape == (2,)
    assert model.invertibility_error(x) < 1e-4


def test_points_invert_exactly():
    gen = torch.Generator().manual_seed(0)
    model = perturb(point_flow(), 0.05).eval()
    x = ring8(256, gen)
    with torch.no_grad():
        z = model.encode(x)
        assert (z - x).abs().max() > 0.1
        assert (model.decode(z) - x).abs().max() < 1e-4
    assert model.invertibility_error(x) < 1e-4


def brute_force_log_prob(model: Flow, x: torch.Tensor) -> torch.Tensor:
    """log N(f(x)) + log|det df/dx| with the full Jacobian of `encode`, one sample at a time."""
    out = []
    for sample in x:
        jac = torch.autograd.functional.jacobian(lambda v: model.encode(v.unsqueeze(0)).flatten(), sample)
        jac = jac.reshape(sample.numel(), sample.numel())
        z = model.encode(sample.unsqueeze(0)).flatten()
        log_normal = -0.5 * (z.pow(2).sum() + z.numel() * math.log(2 * math.pi))
        out.append(log_normal + torch.linalg.slogdet(jac).logabsdet)
    return torch.stack(out)


def test_image_log_det_matches_brute_force_jacobian():
    # (1, 4, 4) with two scales: checkerboard couplings, squeeze, channel couplings, factor-out.
    model = registry.build_model("flow", {"data_shape": [1, 4, 4], "num_scales": 2, "couplings_per_scale": 2,
                  "hidden_channels": 8, "num_blocks": 1})
    model = perturb(model.double(), 0.3).eval()
    x = torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expected = brute_force_log_prob(model, x)
    with torch.no_grad():
        got = model.log_prob(x)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    # In float32 the same flow agrees to float precision.
    with torch.no_grad():
        got32 = model.float().log_prob(x.float())
    torch.testing.assert_close(got32.double(), expected, rtol=1e-4, atol=1e-4)


def test_point_log_det_matches_brute_force_jacobian():
    model = perturb(point_flow(hidden_features=16).double(), 0.3).eval()
    x = ring8(5, torch.Generator().manual_seed(2)).double()
    with torch.no_grad():
        got = model.log_prob(x)
    torch.testing.assert_close(got, brute_force_log_prob(model, x), rtol=1e-9, atol=1e-9)


def test_fresh_flow_has_finite_bits_per_dim(mnist):
    model = image_flow()
    x = torch.cat([mnist[:16], torch.zeros(1, 1, 28, 28), torch.ones(1, 1, 28, 28)])
    with torch.no_grad():
        bpd = model.bits_per_dim(x)
    assert bpd.shape == (18,) and torch.isfinite(bpd).all()
    figures = model.evaluate(x)
    assert torch.isfinite(figures["bits_per_dim"]) and figures["bits_per_dim"] > 0
    # evaluate's dequantisation noise is seeded: the figure is repeatable.
    assert model.evaluate(x)["bits_per_dim"] == figures["bits_per_dim"]


def test_training_on_mnist_lowers_bits_per_dim(mnist):
    torch.manual_seed(0)
    model = image_flow()
    optimizers = model.make_optimizers(PRESETS["realnvp"].hyper)
    held_out = mnist[448:]
    before = float(model.evaluate(held_out)["bits_per_dim"])
    losses = []
    for step in range(12):
        batch = mnist[(step * 32) % 448:][:32]
        out = model.train_step(batch, None, optimizers)
        assert set(out) >= {"loss", "bits_per_dim"}
        assert all(v.ndim == 0 and not v.requires_grad for v in out.values())
        losses.append(float(out["loss"]))
    after = float(model.evaluate(held_out)["bits_per_dim"])
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 1.0
    assert after < before - 1.0, (before, after)


def test_toy_flow_learns_ring8():
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = point_flow()
    optimizers = model.make_optimizers(PRESETS["toy"].hyper)
    held_out = ring8(1024, gen)
    before = float(model.evaluate(held_out)["nll"])
    for _ in range(150):
        out = model.train_step(ring8(256, gen), None, optimizers)
        assert set(out) >= {"loss", "nll"} and math.isfinite(float(out["loss"]))
    figures = model.evaluate(held_out)
    assert float(figures["nll"]) < before - 1.0, (before, float(figures["nll"]))
    assert figures["invertibility_error"] < 1e-4


def test_rebuilt_flow_decodes_identically():
    source = perturb(image_flow(), 0.02)
    rebuilt = Flow(FlowConfig.from_dict(json.loads(json.dumps(source.config.to_dict()))))
    rebuilt.load_state_dict(source.state_dict())
    z = source.sample_latents(4, torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(source.decode(z), rebuilt.decode(z))


def test_sampling_with_temperature():
    model = perturb(image_flow(), 0.02)
    cold = model.sample_latents(8, torch.Generator().manual_seed(4), temperature=0.5)
    warm = model.sample_latents(8, torch.Generator().manual_seed(4))
    torch.testing.assert_close(cold, 0.5 * warm)
    images = model.sample(8, torch.Generator().manual_seed(4))
    assert images.shape == (8, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
