"""The translation family (CycleGAN) on real digits: its losses, its image pool, its round trip, its
style codes, its learning-rate decay and its two-domain data."""

import pytest
import torch
from torch import nn

from genstudio.core import registry
from genstudio.core.data.domains import changed, split_domains, two_domains
from genstudio.core.data.spec import load_dataset
from genstudio.core.errors import DataError, TrainingError
from genstudio.core.families.translation.image_pool import ImagePool
from genstudio.core.training.engine import TrainConfig, Trainer

TINY = {"ngf": 8, "n_blocks": 1, "ndf": 8}


@pytest.fixture(scope="module")
def pair():
    return load_dataset("mnist-thick")


def tiny_model(style_dim: int = 0):
    family = registry.get("translation")
    preset = "multimodal-digits" if style_dim else "cyclegan-digits"
    return family.build({**family.preset(preset).model, **TINY, "data_shape": [1, 28, 28]})


def test_cycle_loss_falls_over_a_few_real_steps(pair, tmp_path):
    config = TrainConfig(family="translation", preset="cyclegan-digits", steps=40, batch_size=16, report_every=1,
                         sample_every_s=0, n_samples=4, eval_batch=32, device="cpu", out_dir=str(tmp_path), seed=2,
                         model=TINY)
    steps = [r for r in Trainer(config, dataset=pair).run() if r.kind == "step"]
    cycle = [r.scalars["cycle_a"] + r.scalars["cycle_b"] for r in steps]
    assert sum(cycle[-5:]) / 5 < 0.7 * sum(cycle[:5]) / 5, cycle


def test_the_pool_hands_back_past_fakes():
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)                   # filling: every fake comes back
    seen = {float(v) for v in first.flatten()}
    returned_past = 0
    for step in range(1, 30):
        fakes = (torch.arange(4.0) + 4 * step).view(4, 1, 1, 1)
        out = pool.query(fakes)
        assert out.shape == fakes.shape
        for value in out.flatten().tolist():
            assert value in seen or value in fakes.flatten().tolist()     # nothing it was never given
            returned_past += value < 4 * step
        seen |= {float(v) for v in fakes.flatten()}
        assert len(pool.images) == 4
    assert 20 < returned_past < 100                              # about half of 116 come from the past
    assert torch.equal(ImagePool(0).query(first), first)


class Same(nn.Module):
    """A generator set to the identity map: its image is its input."""

    def forward(self, x, style=None):
        return x


def test_round_trip_through_identity_generators_returns_the_input(pair):
    model = tiny_model().eval()
    model.g_ab, model.g_ba = Same(), Same()
    x = pair.data[:6].float() / 255
    there, back = model.round_trip(x, direction=0)
    assert torch.allclose(there, x, atol=1e-6) and torch.allclose(back, x, atol=1e-6)
    there, back = model.round_trip(x, direction=1)
    assert torch.allclose(back, x, atol=1e-6)


def test_a_style_code_changes_the_output_and_the_same_code_gives_the_same(pair):
    torch.manual_seed(0)
    model = tiny_model(style_dim=8).eval()
    x = pair.data[:2].float() / 255
    s1, s2 = torch.randn(2, 8), torch.randn(2, 8)
    one = model.translate(x, direction=0, style=s1)
    assert torch.equal(one, model.translate(x, direction=0, style=s1))
    assert (one - model.translate(x, direction=0, style=s2)).abs().max() > 1e-3
    model.keep_examples(pair.data[[0, 1, 6000]].float() / 255, torch.tensor([0, 0, 1]))
    z = torch.randn(3, 8)
    assert torch.equal(model.decode(z), model.decode(z))
    assert not torch.equal(model.decode(z)[0], model.decode(z * 0 + 2)[0])
    one_to_one = tiny_model().eval()
    assert one_to_one.latent_shape == (1,) and one_to_one.style_dim == 0


def test_the_learning_rate_holds_then_falls_linearly_to_zero():
    model = tiny_model()
    optimizers = model.make_optimizers({"lr": 2e-4, "betas": [0.5, 0.999], "decay_start": 10, "decay_steps": 9})
    assert set(optimizers) == {"g", "d"}
    factors = []
    for step in (0, 10, 11, 15, 19, 30):
        model.steps.fill_(step)
        factors.append(model._learning_rate_factor())
    assert factors == pytest.approx([1.0, 1.0, 0.9, 0.5, 0.1, 0.0])


def test_the_bundled_pair_is_unpaired_and_balanced(pair, mnist):
    assert pair.two_domains and pair.label_names == ["A: mnist", "B: mnist (thick)"]
    assert (pair.labels == 0).sum() == (pair.labels == 1).sum() == 5000
    a, b = pair.data[pair.labels == 0], pair.data[pair.labels == 1]
    assert torch.equal(a, mnist.data[0::2])           # interleaved: the same writers on both sides
    assert torch.equal(b, changed(mnist.rows(1, 10000, 2), "thick").data)
    # Thicker strokes: more ink in every digit, and each B digit covers its thin original.
    thin = mnist.data[1::2]
    assert ((b > 127).flatten(1).sum(1) > (thin > 127).flatten(1).sum(1)).all() and (b >= thin).all()
    assert load_dataset(pair.source).source == pair.source
    inverted = load_dataset("mnist-inverted")
    assert torch.equal(inverted.data[5000:], 255 - mnist.data[1::2])
    assert load_dataset("mnist[1:7:3]").source == "mnist[1:7:3]" and len(load_dataset("mnist[1:7:3]")) == 2
    with pytest.raises(DataError, match="step must be a positive integer"):
        load_dataset("mnist[0:10:0]")


def test_two_domain_specs(tmp_path, mnist):
    folder = tmp_path / "a,b"                     # a comma in A's path: B's spec is after the last ',B='
    assert split_domains(f"A={folder},B=mnist") == (str(folder), "mnist")
    assert split_domains("mnist") is None
    assert split_domains("mnist-thick") == ("mnist[0:10000:2]", "thick:mnist[1:10000:2]")
    with pytest.raises(DataError, match="both domains need a spec"):
        split_domains("A=,B=mnist")
    small = mnist.rows(0, 10)
    uneven = two_domains(small, changed(mnist.rows(10, 14), "inverted"))
    assert len(uneven) == 20 and (uneven.labels == 1).sum() == 10          # the smaller domain repeated
    rgb = type(mnist)("rgb", torch.zeros(3, 3, 28, 28, dtype=torch.uint8))
    with pytest.raises(DataError, match="differ in image shape"):
        two_domains(small, rgb)


def test_translation_needs_two_domains_and_two_domains_need_translation(mnist, pair, tmp_path):
    config = TrainConfig(family="translation", preset="cyclegan-digits", steps=1, device="cpu", model=TINY)
    with pytest.raises(TrainingError, match="trains on two image domains"):
        Trainer(config, dataset=mnist)
    with pytest.raises(TrainingError, match="two domains are for image translation"):
        Trainer(TrainConfig(family="vae", preset="mlp", steps=1, device="cpu"), dataset=pair)


def test_a_tiny_pair_keeps_examples_of_both_domains(mnist):
    """Eight images hold one out: the kept examples still come from both domains (held-out ones first),
    so the live triples have an A and a B to show."""
    pair = two_domains(mnist.rows(0, 4), mnist.rows(4, 8))
    trainer = Trainer(TrainConfig(family="translation", preset="cyclegan-digits", steps=2, device="cpu", model=TINY),
                      dataset=pair)
    assert len(trainer.eval_index) == 1 and trainer.model.examples_kept.tolist() == [4, 4]
    assert [r.kind for r in trainer.run()][-1] == "finished"
    samples, columns = trainer.preview_samples()
    assert columns == 6 and samples.shape == (48, 1, 28, 28)
