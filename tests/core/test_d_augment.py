"""DiffAugment for the GAN's D (genstudio/core/families/gan/d_augment.py): what each transform does to
an image, that G's gradient passes through it, and that a GAN trains with it."""

import pytest
import torch

from genstudio.core.families.config import ConfigError
from genstudio.core.families.gan.config import GANConfig
from genstudio.core.families.gan.d_augment import augment, cutout, translate
from genstudio.core.training.engine import TrainConfig, Trainer


def dot_images(n: int, size: int = 28) -> tuple[torch.Tensor, int, int]:
    """(n, 1, size, size) black images (-1) with one white pixel at (row, col) = (13, 15)."""
    x = torch.full((n, 1, size, size), -1.0)
    x[:, :, 13, 15] = 1.0
    return x, 13, 15


def test_translation_moves_each_image_by_whole_pixels_within_an_eighth_and_fills_black():
    torch.manual_seed(0)
    x, row, col = dot_images(2000)
    moved = translate(x)
    assert moved.shape == x.shape
    # Exactly one white pixel survives in each image (the dot is 13-14 px from every border, the shift at most 4).
    assert torch.equal((moved == 1).sum((1, 2, 3)), torch.ones(2000, dtype=torch.long))
    assert torch.equal(((moved == 1) | (moved == -1)).all(3).all(2).all(1), torch.ones(2000, dtype=torch.bool))
    where = (moved[:, 0] == 1).flatten(1).int().argmax(1)
    dy, dx = where // 28 - row, where % 28 - col
    assert dy.abs().max() == 4 and dx.abs().max() == 4        # round(28 / 8) = 4 pixels
    assert len(set(zip(dy.tolist(), dx.tolist()))) == 81      # every shift in [-4, 4]^2 occurs


def test_translation_fills_what_moves_in_with_black():
    torch.manual_seed(1)
    moved = translate(torch.ones(500, 3, 32, 32))
    # Each image keeps a (32 - |dy|) x (32 - |dx|) block of ones; the rest is -1.
    ones = (moved == 1).sum((2, 3))[:, 0]
    assert torch.equal((moved == 1) | (moved == -1), torch.ones_like(moved, dtype=torch.bool))
    assert ones.min() == 28 * 28 and ones.max() == 32 * 32
    assert torch.equal(moved[:, 0], moved[:, 2])              # the channels move together


def test_cutout_zeroes_one_square_of_half_the_side_at_most():
    torch.manual_seed(2)
    cut = cutout(torch.ones(3000, 2, 28, 28))
    zero = cut[:, 0] == 0                                     # (B, H, W)
    assert torch.equal(cut[:, 0], cut[:, 1])
    assert torch.equal(cut[cut != 0], torch.ones(int((cut != 0).sum())))
    area = zero.sum((1, 2))
    assert area.max() == 14 * 14 and area.min() > 0           # cut by the border at worst
    rows, cols = zero.any(2), zero.any(1)                     # the zeros form one axis-aligned rectangle
    assert torch.equal(area, rows.sum(1) * cols.sum(1))


def test_gradients_reach_every_pixel_that_stays_visible():
    torch.manual_seed(3)
    x = (torch.rand(64, 1, 28, 28) * 2 - 1).requires_grad_(True)
    out = augment(x, "translation-cutout")
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    # Each output pixel copies one distinct input pixel or is a constant (-1 moved in, 0 cut out;
    # neither occurs in uniform random inputs), so x's gradient is the weights of the copies, moved back.
    visible = (out != -1) & (out != 0)
    assert torch.isclose(x.grad.abs().sum(), (weights * visible).abs().sum(), rtol=1e-5)
    assert int((x.grad != 0).sum()) == int(visible.sum())
    assert augment(x, "none") is x


def test_points_gan_refuses_augmentation():
    with pytest.raises(ConfigError, match="d_augment"):
        GANConfig(data_shape=(2,), d_augment="translation").check()


def test_a_conditional_gan_trains_with_augmentation_and_d_is_fed_augmented_images(mnist, monkeypatch):
    seen = []
    from genstudio.core.families.gan import model as gan_model
    real_augment = gan_model.augment

    def spy(x, policy):
        seen.append(policy)
        return real_augment(x, policy)

    monkeypatch.setattr(gan_model, "augment", spy)
    config = TrainConfig(family="gan", preset="dcgan-hinge-sn-conditional", steps=6, report_every=3, sample_every_s=0,
                         device="cpu", model={"g_channels": 16, "d_channels": 16, "d_augment": "translation-cutout"})
    trainer = Trainer(config, dataset=mnist)
    steps = [r for r in trainer.run() if r.kind == "step"]
    assert steps[-1].step == 6 and torch.isfinite(torch.tensor(steps[-1].scalars["d_loss"]))
    assert seen.count("translation-cutout") == 12             # D's step and G's step, 6 times
