"""The diffusion family's sampler and model: DDIM is deterministic, inversion finds the latent back,
guidance and eta change what is drawn, the schedules are the published ones, and a few real training
steps on MNIST lower the denoising loss."""

import math

import pytest
import torch

from genstudio.core import registry
from genstudio.core.families.diffusion.sampler import ddim_invert, ddim_sample, sdedit_start
from genstudio.core.families.diffusion.schedule import NoiseSchedule, make_betas

FAMILY = registry.get("diffusion")


def build(preset: str = "digits", **changes):
    values = {**FAMILY.presets[preset].model, "data_shape": [1, 28, 28], **changes}
    torch.manual_seed(0)
    return FAMILY.build(values).eval()


@pytest.fixture(scope="module")
def trained(mnist):
    """The digits U-Net after 40 real steps on MNIST (EMA off, so sampling uses what was trained),
    and its denoising losses before and after."""
    model = build(ema_decay=0.0).train()
    optimizers = model.make_optimizers({"lr": 2e-3})
    x, y = mnist.batch(torch.arange(256))
    before = float(model.evaluate(x[:128])["loss"])
    generator = torch.Generator().manual_seed(0)
    for _ in range(40):
        index = torch.randint(0, len(mnist), (32,), generator=generator)
        model.train_step(*mnist.batch(index), optimizers)
    after = float(model.evaluate(x[:128])["loss"])
    return model.eval(), before, after


@pytest.fixture(scope="module")
def demo():
    """The bundled demo DDPM (resources/checkpoints/diffusion-mnist.safetensors): inversion is only as
    exact as the network's noise estimate, so it is checked on a trained model."""
    from genstudio.core.io.open_model import open_model
    from genstudio.core.runtime.resources import resource_path

    return open_model(resource_path("checkpoints", "diffusion-mnist.safetensors")).model


def test_training_lowers_the_denoising_loss(trained):
    _, before, after = trained
    assert after < 0.6 * before


def test_schedules_are_the_published_ones():
    linear = make_betas("linear", 1000)
    assert linear[0].item() == pytest.approx(1e-4) and linear[-1].item() == pytest.approx(0.02)
    alpha_bar = torch.cumprod(1 - linear, 0)
    assert alpha_bar[-1].item() == pytest.approx(4.04e-5, rel=0.02)       # x_T is almost pure noise
    cosine = torch.cumprod(1 - make_betas("cosine", 1000), 0)
    # Nichol & Dhariwal: alpha-bar(t) = f(t) / f(0), f(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2).
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    assert cosine[499].item() == pytest.approx(f(500) / f(0), rel=1e-6)
    assert make_betas("cosine", 1000).max().item() <= 0.999


@pytest.mark.parametrize("spacing,steps,expected", [("trailing", 4, [999, 749, 499, 249]),
                                                    ("leading", 4, [750, 500, 250, 0]),
                                                    ("linspace", 3, [999, 500, 0])])
def test_timestep_spacing(spacing, steps, expected):
    schedule = NoiseSchedule.from_betas(make_betas("linear", 1000), spacing=spacing)
    assert schedule.sampling_timesteps(steps) == expected


def test_ddim_is_exact_for_a_perfect_denoiser():
    """For data that is a single point x*, the true eps is (x_t - sqrt(a) x*) / sqrt(1 - a): DDIM from
    any x_T lands on x*, and inversion runs the path back to x_T."""
    schedule = NoiseSchedule.from_betas(make_betas("linear", 1000), clip=None)
    target = torch.tensor([[0.3, -0.7]])

    def predict(x, t):
        a = schedule.alpha_bar(t)
        return (x - a ** 0.5 * target) / (1 - a) ** 0.5

    x_T = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    x0 = ddim_sample(predict, schedule, x_T, steps=10)
    assert torch.allclose(x0, target.expand(5, 2), atol=1e-5)


def test_same_latent_same_image_and_seeded_eta(trained):
    model, _, _ = trained
    z = model.sample_latents(3, torch.Generator().manual_seed(1))
    first, again = model.decode(z, steps=5), model.decode(z, steps=5)
    assert torch.equal(first, again)
    assert first.shape == (3, 1, 28, 28) and first.min() >= 0 and first.max() <= 1
    noisy = model.decode(z, steps=5, eta=1.0, seed=3)
    assert torch.equal(noisy, model.decode(z, steps=5, eta=1.0, seed=3))      # eta's noise is seeded
    assert (noisy - first).abs().mean() > 1e-3                                  # and it changes the image
    assert (model.decode(z, steps=5, eta=1.0, seed=4) - noisy).abs().mean() > 1e-3
    assert (model.decode(z, steps=2) - first).abs().mean() > 1e-4               # steps matter


def test_inversion_recovers_the_latent_of_a_decoded_image(demo):
    """DDIM inversion of a decoded sample gives a latent that decodes to the same image and points the
    way of the latent that made it. Few-step DDIM maps many x_T to nearly one image (the digits'
    black background absorbs most of the noise), so the latent is not recovered exactly: measured on
    the demo at 20 steps, cosine 0.33 to the original against 0.00 for an unrelated latent."""
    model = demo
    z = model.sample_latents(4, torch.Generator().manual_seed(2))
    image = model.decode(z, steps=20)
    found = model.encode(image, steps=20)
    assert found.shape == z.shape
    other = model.sample_latents(4, torch.Generator().manual_seed(3))
    cosine = lambda a, b: torch.nn.functional.cosine_similarity(a.flatten(1), b.flatten(1))
    # cos of two unrelated 784-D Gaussians is 0 +- 0.036
    assert cosine(found, z).mean() > 0.25 and (cosine(found, z) > 0.05).all()
    assert cosine(other, z).abs().max() < 0.15
    again = model.decode(found, steps=20)
    assert (again - image).abs().mean() < 0.07
    assert (model.decode(other, steps=20) - image).abs().mean() > 0.15


def test_inversion_is_exact_for_an_exact_denoiser_and_fine_steps():
    """For Gaussian data N(mu, s^2 I) the true noise predictor is linear; DDIM inversion with 100 steps
    then finds the starting noise itself (the sampler and inversion are consistent)."""
    schedule = NoiseSchedule.from_betas(make_betas("linear", 1000), clip=None)
    mu, s = 0.3, 0.05

    def predict(x, t):
        a = schedule.alpha_bar(t)
        return (1 - a) ** 0.5 * (x - a ** 0.5 * mu) / (a * s * s + 1 - a)

    z = torch.randn(4, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    found = ddim_invert(predict, schedule, ddim_sample(predict, schedule, z, 100), 100)
    assert torch.nn.functional.cosine_similarity(found, z).min() > 0.99


def test_inversion_round_trip_of_real_digits(demo, mnist):
    model = demo
    x, _ = mnist.batch(torch.arange(8))
    back = model.decode(model.encode(x, steps=10), steps=10)
    assert (back - x).abs().mean() < 0.08


def test_guidance_changes_a_conditional_model(mnist):
    model = build("digits-conditional", ema_decay=0.0, num_classes=10).train()
    optimizers = model.make_optimizers({"lr": 2e-3})
    for step in range(5):
        model.train_step(*mnist.batch(torch.arange(step * 16, step * 16 + 16)), optimizers)
    model.eval()
    z = model.sample_latents(2, torch.Generator().manual_seed(0))
    labels = torch.tensor([3, 7])
    plain = model.decode(z, labels, steps=3, guidance=0.0)
    guided = model.decode(z, labels, steps=3, guidance=4.0)
    assert (guided - plain).abs().mean() > 1e-3
    assert torch.equal(guided, model.decode(z, labels, steps=3, guidance=4.0))
    assert (model.decode(z, torch.tensor([1, 1]), steps=3) - plain).abs().mean() > 1e-4     # the class matters


def test_variations_stay_near_the_source_for_low_strength(trained, mnist):
    model, _, _ = trained
    x, _ = mnist.batch(torch.arange(1))
    weak = model.variations(x[0], 4, strength=0.2, steps=10, seed=0)
    strong = model.variations(x[0], 4, strength=1.0, steps=10, seed=0)
    assert weak.shape == (4, 1, 28, 28)
    assert (weak - x).abs().mean() < (strong - x).abs().mean()
    assert (weak[0] - weak[1]).abs().mean() > 1e-4                            # each has its own noise
    assert torch.equal(weak, model.variations(x[0], 4, strength=0.2, steps=10, seed=0))
    assert sdedit_start(model.schedule, 10, 0.2) == 8 and sdedit_start(model.schedule, 10, 1.0) == 0


def test_bad_settings_are_refused(trained):
    model, _, _ = trained
    z = model.sample_latents(1)
    with pytest.raises(ValueError, match="sampling steps"):
        model.decode(z, steps=0)
    with pytest.raises(ValueError, match="eta"):
        model.decode(z, steps=2, eta=1.5)
    with pytest.raises(ValueError, match="strength"):
        model.variations(z[0], 2, strength=0.0)


def test_config_rules():
    from genstudio.core.families.config import ConfigError

    with pytest.raises(ConfigError, match="preview_steps"):
        FAMILY.make_config({"data_shape": [1, 28, 28], "sample_steps": 4, "preview_steps": 8})
    with pytest.raises(ConfigError, match="MLP denoiser is for 2-D points"):
        FAMILY.make_config({"data_shape": [1, 28, 28], "arch": "mlp"})
    with pytest.raises(ConfigError, match="U-Net is for images"):
        FAMILY.make_config({"data_shape": [2], "arch": "unet"})
    # A side that the levels do not divide is padded inside: 28 px through 4 levels (28 -> 32).
    model = build("rgb-64", channels=4, res_blocks=1)
    assert model.decode(model.sample_latents(1), steps=1).shape == (1, 1, 28, 28)


def test_decode_settings_follow_the_model():
    """The explorer's controls and the CLI flags take their defaults and limits from the model's
    config: its own sampling steps and guidance, and no more steps than it has timesteps."""
    config = FAMILY.make_config({"data_shape": [1, 28, 28], "timesteps": 50, "sample_steps": 10, "preview_steps": 3,
                                 "num_classes": 10, "guidance": 1.5}).to_dict()
    assert FAMILY.decode_defaults(config, num_classes=10) == {"steps": 10, "eta": 0.0, "guidance": 1.5}
    assert "guidance" not in FAMILY.decode_defaults(config, num_classes=0)
    assert FAMILY.preview_options(config) == {"steps": 3}
    steps = next(s for s in FAMILY.decode_settings if s.key == "steps")
    assert steps.maximum_for(config) == 50 and steps.maximum_for({}) == steps.maximum


def test_cached_conditioning_follows_the_weights(mnist):
    """Inference reuses each (t, label)'s per-block shifts; an optimiser step and the EMA update must
    not leave it serving the old weights' shifts, and a batch of mixed timesteps must not use them."""
    model = build("digits-conditional", num_classes=10, ema_decay=0.99)
    net = model.ema
    x, y = mnist.batch(torch.arange(4))
    x_t = torch.randn(4, 1, 28, 28)
    same_t = torch.full((4,), 300)

    def fresh(t):                                  # train mode computes the shifts every time
        net.train()
        try:
            with torch.no_grad():
                return net(x_t, t, y)
        finally:
            net.eval()

    with torch.no_grad():
        first = net(x_t, same_t, y)
        assert len(net._shift_cache) == 0          # four different labels: not a shared condition
        shared = torch.full((4,), 3)
        cached = net(x_t, same_t, shared)
        assert len(net._shift_cache) == 1
    torch.testing.assert_close(first, fresh(same_t), rtol=0, atol=1e-5)
    torch.testing.assert_close(cached, net.train()(x_t, same_t, shared), rtol=0, atol=1e-5)
    net.eval()

    model.train()
    model.train_step(x, y, model.make_optimizers({"lr": 1e-2}))       # moves the EMA copy too
    model.eval()
    with torch.no_grad():
        after = net(x_t, same_t, shared)
    assert (after - cached).abs().max() > 1e-4
    net.train()
    with torch.no_grad():
        torch.testing.assert_close(after, net(x_t, same_t, shared), rtol=0, atol=1e-5)
    net.eval()
    mixed = torch.tensor([100, 200, 300, 400])
    with torch.no_grad():
        torch.testing.assert_close(net(x_t, mixed, y), fresh(mixed), rtol=0, atol=1e-5)
