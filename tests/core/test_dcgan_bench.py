"""The DCGAN bench compares like with like: the reference loop (genstudio/bench/reference_dcgan.py)
builds the dcgan preset's architecture at 28, 32 and 64 px, both sides train for real (finite losses),
and the data set the preset trains on at 32 / 64 px is the MNIST digits resized once."""

import math

import pytest
import torch

from genstudio.bench.dcgan_throughput import PresetWindows, compare_dcgan_throughput, resized
from genstudio.bench.reference_dcgan import ReferenceDCGAN, reference_discriminator, reference_generator
from genstudio.core.data import InMemoryDataset
from genstudio.core.families.gan.presets import PRESETS
from genstudio.core.registry import build_model


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("size", [28, 32, 64])
def test_reference_builds_the_preset_architecture(size):
    model = build_model("gan", {**PRESETS["dcgan"].model, "data_shape": [1, size, size]})
    assert count(reference_generator(size)) == count(model.generator)
    assert count(reference_discriminator(size)) == count(model.discriminator)
    # Layer for layer: the same kinds of layers with the same weight shapes, in the same order.
    ours = [tuple(p.shape) for p in model.generator.parameters()] + [tuple(p.shape) for p in model.discriminator.parameters()]
    theirs = ([tuple(p.shape) for p in reference_generator(size).parameters()]
              + [tuple(p.shape) for p in reference_discriminator(size).parameters()])
    assert ours == theirs


def test_reference_refuses_other_sizes():
    with pytest.raises(ValueError, match="28, 32 or 64 px"):
        reference_generator(48)


def test_resized_keeps_uint8_and_labels(mnist):
    small = InMemoryDataset("mnist", mnist.data[:40], mnist.labels[:40], list(mnist.label_names))
    big = resized(small, 64)
    assert big.data.dtype == torch.uint8 and big.shape == (1, 64, 64)
    assert torch.equal(big.labels, small.labels)
    # A bilinear upscale keeps the picture: the mean brightness moves by under 2 grey levels.
    assert abs(big.data.float().mean() - small.data.float().mean()) < 2
    assert resized(small, 28) is small


def test_both_sides_train_with_finite_losses(mnist):
    data = InMemoryDataset("mnist", mnist.data[:128], mnist.labels[:128], list(mnist.label_names))
    reference = ReferenceDCGAN(data.data, size=32, batch_size=8)
    losses = [reference.step() for _ in range(2)]
    assert all(math.isfinite(v) for step in losses for v in step.values())
    ours = PresetWindows(resized(data, 32), batch_size=8, device="cpu").trainer
    ours.config.steps = 2
    steps = [r for r in ours.run() if r.kind == "step"]
    assert ours.step == 2 and steps
    assert all(math.isfinite(steps[-1].scalars[key]) for key in ("d_loss", "g_loss"))


def test_comparison_reports_a_ratio_of_alternated_windows(mnist):
    data = InMemoryDataset("mnist", mnist.data[:100], mnist.labels[:100], list(mnist.label_names))
    row = compare_dcgan_throughput(data, image_size=28, batch_size=8, rounds=2, steps=1)
    assert len(row["reference_runs"]) == len(row["genstudio_runs"]) == 2
    assert row["ratio"] == pytest.approx(row["genstudio"] / row["reference"])
    assert row["image_size"] == 28 and row["bar"] == 2.0


def test_channels_last_inside_the_conv_nets_changes_no_result(monkeypatch):
    """The conv G and D run channels-last inside (model._conv_layout): same outputs and gradients as
    in the usual layout, and G's images come out in the usual layout (RGB, where the two differ)."""
    import genstudio.core.families.gan.model as gan_model

    torch.manual_seed(0)
    model = build_model("gan", {**PRESETS["dcgan"].model, "data_shape": [3, 32, 32]}).train()
    z, x = torch.randn(4, 64), torch.rand(4, 3, 32, 32)

    def run():
        model.zero_grad(set_to_none=True)
        images = model.generator(z)
        logits = model.discriminator(torch.cat([x, images]))
        logits.sum().backward()
        return images, logits, [p.grad.clone() for p in model.parameters() if p.grad is not None]

    seen = []
    first_conv = next(m for m in model.discriminator.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_pre_hook(lambda _, inputs: seen.append(
        inputs[0].is_contiguous(memory_format=torch.channels_last) and not inputs[0].is_contiguous()))
    images, logits, grads = run()
    assert seen == [True] and images.is_contiguous()
    monkeypatch.setattr(gan_model, "_conv_layout", lambda t: torch.contiguous_format)
    plain_images, plain_logits, plain_grads = run()
    torch.testing.assert_close(images, plain_images, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(logits, plain_logits, rtol=1e-4, atol=1e-5)
    for a, b in zip(grads, plain_grads):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
