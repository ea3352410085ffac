"""The autoregressive family: the gated PixelCNN is causal with no blind spot, its likelihood is the
sum of its per-pixel terms, the cached sampler draws what the naive one does, seeds reproduce,
completion keeps the given pixels, and a few real training steps on MNIST lower bits/dim."""

import math
import re

import pytest
import torch
import torch.nn.functional as F

from genstudio.core import registry
from genstudio.core.errors import Cancelled
from genstudio.core.families.autoregressive import sampler
from genstudio.core.families.autoregressive.gated_pixelcnn import LEVELS, GatedPixelCNN
from genstudio.core.families.config import ConfigError

FAMILY = registry.get("autoregressive")


def random_net(channels: int, layers: int = 3, num_classes: int = 0) -> GatedPixelCNN:
    """Weights drawn wide enough that every path a mask leaves open carries a visible signal."""
    torch.manual_seed(0)
    net = GatedPixelCNN(channels, 8, layers, 3, 7, 8, num_classes).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.3)
    return net


@pytest.mark.parametrize("channels", [1, 3])
def test_outputs_never_see_their_own_or_later_subpixels(channels):
    net = random_net(channels)
    side = 6
    x = torch.randint(0, LEVELS, (1, channels, side, side)).float() / 255
    with torch.no_grad():
        base = net(x)
        for r in range(side):
            for c in range(side):
                for ch in range(channels):
                    changed = x.clone()
                    changed[0, ch, r, c] = 1 - changed[0, ch, r, c]
                    moved = (net(changed) - base).abs().amax(2)[0] > 1e-6               # (C, H, W)
                    for rr in range(side):
                        for cc in range(side):
                            for k in range(channels):
                                if (rr, cc, k) <= (r, c, ch):
                                    assert not moved[k, rr, cc], f"output {(rr, cc, k)} saw input {(r, c, ch)}"
                    # ... and the very next sub-pixel does see it (the masks are not over-strict).
                    following = (r, c, ch + 1) if ch + 1 < channels else (r, c + 1, 0) if c + 1 < side else None
                    if following is not None:
                        fr, fc, fk = following
                        assert moved[fk, fr, fc]


def test_no_blind_spot():
    """With a receptive field as large as the image, the last pixel depends on every pixel before
    it, the ones up and to the right included (a plain masked-conv stack misses those)."""
    net = random_net(1, layers=4)
    side = 6
    x = torch.rand(1, 1, side, side)
    with torch.no_grad():
        base = net(x)[0, 0, :, side - 1, side - 1]
        for r in range(side):
            for c in range(side):
                if (r, c) == (side - 1, side - 1):
                    continue
                changed = x.clone()
                changed[0, 0, r, c] = 1 - changed[0, 0, r, c]
                assert (net(changed)[0, 0, :, side - 1, side - 1] - base).abs().max() > 1e-7, (r, c)


def build(preset="digits", **changes):
    torch.manual_seed(0)
    return FAMILY.build({**FAMILY.presets[preset].model, "data_shape": [1, 28, 28], **changes}).eval()


def test_log_likelihood_is_the_sum_of_the_pixel_terms(mnist):
    model = build()
    x, _ = mnist.batch(torch.arange(3))
    with torch.no_grad():
        per_pixel = model.pixel_nll(x)                                       # (3, 28, 28)
        log_p = model.log_prob(x)
        levels = (x * 255).round().long()
        manual = -F.log_softmax(model.net(levels.float() / 255), dim=2).gather(2, levels.unsqueeze(2)).sum((1, 2, 3, 4))
        bpd = model.bits_per_dim(x)
    assert per_pixel.shape == (3, 28, 28) and (per_pixel > 0).all()
    torch.testing.assert_close(log_p, -per_pixel.sum((1, 2)))
    torch.testing.assert_close(log_p, -manual)
    torch.testing.assert_close(bpd, -log_p / (784 * math.log(2)))


def test_cached_sampler_draws_what_the_naive_loop_draws():
    net = random_net(3, layers=1, num_classes=4)
    side = 8                                  # more than the 4 rows a pixel sees: the row crops are used
    assert net.rows_seen < side - 1
    z = torch.randn(2, 3, side, side)
    labels = torch.tensor([1, 4])                                            # a class and "no label"
    fast = sampler.sample(net, z, labels, temperature=0.8)
    u, slow = sampler.uniforms(z), torch.zeros_like(z)
    with torch.no_grad():
        for r in range(side):
            for c in range(side):
                for ch in range(3):                                          # the whole network, every sub-pixel
                    logits = net(slow, labels)[:, ch, :, r, c]
                    slow[:, ch, r, c] = sampler.draw(logits, u[:, ch, r, c], 0.8).float() / 255
    assert torch.equal(fast, slow)


def test_sampling_is_reproducible_and_temperature_matters():
    model = build(layers=2)
    z = model.sample_latents(2, torch.Generator().manual_seed(5))
    first, again = model.decode(z), model.decode(z.clone())
    assert torch.equal(first, again)
    assert torch.equal(first, (first * 255).round() / 255)                   # 8-bit values
    other = model.decode(model.sample_latents(2, torch.Generator().manual_seed(6)))
    assert not torch.equal(first, other)
    cold = model.decode(z, softmax_temperature=0.3)
    assert not torch.equal(first, cold)
    with pytest.raises(ValueError, match="positive"):
        model.decode(z, softmax_temperature=0.0)


def test_rows_are_reported_and_sampling_cancels():
    model = build(layers=2)
    rows = []
    model.decode(model.sample_latents(1), on_row=lambda r, x: rows.append((r, x[0, 0, r + 1:].abs().sum().item()
                                                                            if r + 1 < 28 else 0.0)))
    assert [r for r, _ in rows] == list(range(28))
    assert all(rest == 0 for _, rest in rows)                               # rows below r are still empty
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        model.decode(model.sample_latents(1), should_stop=stop)


def test_completion_keeps_the_given_pixels(mnist):
    model = build(layers=2)
    x, _ = mnist.batch(torch.tensor([0]))
    top = torch.zeros(28, 28, dtype=torch.bool)
    top[:14] = True
    painted = torch.rand(28, 28, generator=torch.Generator().manual_seed(0)) < 0.3
    level = (x[0] * 255).round() / 255
    for known in (top, painted):
        completions = model.complete(x[0], known, n=3, seed=1)
        assert completions.shape == (3, 1, 28, 28)
        assert torch.equal(completions[:, 0][:, known], level[0][known].expand(3, -1))
        assert not torch.equal(completions[0], completions[1])                # different completions
    assert torch.equal(model.complete(x[0], top, n=2, seed=1), model.complete(x[0], top, n=2, seed=1))


def test_training_lowers_bits_per_dim(mnist):
    model = build().train()
    optimizers = model.make_optimizers({"lr": 2e-3})
    held_out, _ = mnist.batch(torch.arange(9000, 9064))
    before = float(model.evaluate(held_out)["bits_per_dim"])
    generator = torch.Generator().manual_seed(0)
    for _ in range(30):
        index = torch.randint(0, 8000, (16,), generator=generator)
        figures = model.train_step(*mnist.batch(index), optimizers)
        assert math.isfinite(float(figures["bits_per_dim"]))
    after = float(model.evaluate(held_out)["bits_per_dim"])
    assert before > 7.0 and after < before - 2.0, (before, after)           # 8 bits/dim is a uniform guess


def test_conditional_model_uses_the_label(mnist):
    model = build("digits-conditional", num_classes=10, layers=2)
    with torch.no_grad():
        for p in model.net.label_bias.parameters():
            p.normal_(0, 1.0)
    x, _ = mnist.batch(torch.arange(2))
    assert not torch.allclose(model.log_prob(x, torch.tensor([1, 1])), model.log_prob(x, torch.tensor([7, 7])))
    assert torch.allclose(model.log_prob(x), model.log_prob(x, torch.tensor([10, 10])))    # none = "no label"


def test_config_rules():
    with pytest.raises(ConfigError, match="odd"):
        FAMILY.make_config({"data_shape": [1, 28, 28], "kernel": 4})
    with pytest.raises(ConfigError, match="2-D points"):
        FAMILY.make_config({"data_shape": [2]})
    with pytest.raises(ConfigError, match="grey or RGB"):
        FAMILY.make_config({"data_shape": [2, 28, 28]})


def test_live_samples_fill_in_row_by_row(mnist):
    """Between the first and the last sample report a training run draws the live grid a few rows at
    a time (at least one per report), each row under the weights of its moment."""
    from genstudio.core.training.engine import TrainConfig, Trainer

    config = TrainConfig(family="autoregressive", preset="digits", steps=6, batch_size=8, report_every=1,
                         sample_every_s=1e-6, n_samples=2, eval_batch=8, device="cpu",
                         model={"width": 8, "layers": 2, "head": 8})
    reports = [r for r in Trainer(config, dataset=mnist).run() if r.kind == "samples"]
    assert reports[0].rows_drawn is None and reports[-1].rows_drawn is None     # whole grids
    live = reports[1:-1]
    assert [r.rows_drawn for r in live] == list(range(1, len(live) + 1)) and len(live) == 5
    for report in live:
        assert report.samples.shape == (2, 1, 28, 28)
        assert not report.samples[:, :, report.rows_drawn:].any()             # rows not drawn yet are empty


def test_info_reports_held_out_bits_per_dim_three_ways(mnist, tmp_path, capsys):
    """`genstudio info --data` of a class-conditional model: p(x | no label), p(x) as the exact mean over
    classes, and p(x | y); the mean over classes lies between the best class and the true label's
    figure plus log2(K) / D, as a mixture must."""
    from genstudio.cli import main
    from genstudio.core.data import load_dataset
    from genstudio.core.explore.likelihood import bits_per_dim
    from genstudio.core.io.checkpoints import save_checkpoint
    from genstudio.core.io.model_card import DataDescription, ModelCard

    model = build("digits-conditional", num_classes=10, layers=2)
    with torch.no_grad():
        for p in model.net.label_bias.parameters():
            p.normal_(0, 1.0)
    path = save_checkpoint(tmp_path / "pcnn.safetensors", model,
                           ModelCard.describe(model, preset="digits-conditional", data=DataDescription.of(mnist),
                                              step=0))
    assert main(["info", str(path), "--data", "mnist[9990:]"]) == 0
    found = (re.match(r"^\s*(.*?)\s+(\d+\.\d+) \+- ", line) for line in capsys.readouterr().out.splitlines())
    figures = {match[1]: float(match[2]) for match in found if match}
    held = load_dataset("mnist[9990:]")
    per_class = torch.stack([torch.from_numpy(bits_per_dim(model, held.data, labels=torch.full((10,), c)))
                             for c in range(10)], 1)
    given = torch.from_numpy(bits_per_dim(model, held.data, labels=held.labels))
    assert math.isclose(figures["bits/dim mnist[9990:10000] (no label)"],
                        float(torch.from_numpy(bits_per_dim(model, held.data)).mean()), abs_tol=1e-4)
    assert math.isclose(figures["given each label"], float(given.mean()), abs_tol=1e-4)
    mixture = figures["mean over classes"]
    assert float(per_class.min(1).values.mean()) - 1e-4 <= mixture <= float(given.mean()) + math.log2(10) / 784 + 1e-4
