"""Diagnostics of translation models on real digits: stand-in CycleGANs whose right answers are known.
One translates by the exact `thick` change (its translations ARE the target domain's kind of image),
one maps every input to the same thick digit; the domains are read from specs as the command line
and the app give them.

The stand-ins' domains split the 10,000 digits at random, not as the bundled pair mnist-thick does
(the first 5,000 against the last): MNIST's test set holds two groups of writers in those halves, so
even the exact thick change of the first half scores precision 0.75 against the second half's own
0.89 (measured at 600 samples), a real difference between the halves that this file does not test."""

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core import registry
from genstudio.cli import main
from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.domains import changed
from genstudio.core.errors import DataError, GenStudioError
from genstudio.core.families.demo_standard import demo_figures
from genstudio.core.metrics.classifier import load_or_train_classifier
from genstudio.core.metrics.summary import summary_lines
from genstudio.core.requests.tasks import Diagnose, TaskState
from genstudio.core.metrics.translation_report import (
    AtoB,
    BtoA,
    DomainSpecs,
    diagnose_translation,
    domain_specs,
    is_translation,
    load_domains,
    parse_direction,
    translate_inputs,
)

from stand_in_generators import OneDigit  # tests/core is on sys.path (no package)

SAMPLES = 600
CLASSIFIER_STEPS = 300          # held-out accuracy 0.976 on the thick digits (the app's recipe: 1,200 steps)
TINY = {"ngf": 8, "n_blocks": 1, "ndf": 8}


class Thicken(nn.Module):
    """The `thick` change on images in [-1, 1]: a 3 x 3 maximum of the (light) ink."""

    def forward(self, x, style=None):
        return F.max_pool2d(x, 3, stride=1, padding=1)


class Thin(nn.Module):
    """Its rough inverse, a 3 x 3 minimum: a round trip is a morphological opening of the input."""

    def forward(self, x, style=None):
        return -F.max_pool2d(-x, 3, stride=1, padding=1)


class Constant(nn.Module):
    """Whatever the input, one image (1, C, H, W) in [-1, 1]."""

    def __init__(self, image):
        super().__init__()
        self.register_buffer("image", image)

    def forward(self, x, style=None):
        return self.image.expand(len(x), *self.image.shape[1:]).clone()


def stand_in(g_ab: nn.Module, g_ba: nn.Module | None, style_dim: int = 0):
    """A tiny CycleGAN of the registered family with its generators replaced (g_ba None: A -> B only)."""
    family = registry.get("translation")
    preset = "multimodal-digits" if style_dim else "cyclegan-digits"
    model = family.build({**family.preset(preset).model, **TINY, "data_shape": [1, 28, 28],
                          "directions": 1 if g_ba is None else 2}).eval()
    model.g_ab, model.g_ba = g_ab, g_ba
    return model


@pytest.fixture(scope="module")
def thick(mnist):
    return changed(mnist, "thick")


@pytest.fixture(scope="module")
def domains(mnist, thick):
    """Two domains that share no image: A, 5,000 digits drawn at random, and B, the other 5,000 thickened."""
    perm = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(1))
    a, b = perm[:5000], perm[5000:]
    return (InMemoryDataset("mnist-a", mnist.data[a], mnist.labels[a], list(mnist.label_names)),
            InMemoryDataset("thick-b", thick.data[b], thick.labels[b], list(thick.label_names), cut_from=thick))


@pytest.fixture(scope="module")
def thick_space(thick, cache):
    """The target domain's classifier (all 10,000 thickened digits, the set B is cut from, as
    thick:mnist[1:10000:2] is), shortened, and cached where the command line looks for it."""
    return load_or_train_classifier(thick, cache, steps=CLASSIFIER_STEPS)


@pytest.fixture(scope="module")
def faithful(domains, thick_space):
    model = stand_in(Thicken(), Thin())
    return diagnose_translation(model, *domains, samples=SAMPLES, space=thick_space)[0]


def test_a_translation_that_is_the_thick_change_keeps_every_digit(faithful, domains):
    agreement = faithful["translation"]["label_agreement"]
    assert agreement["agreement"] > 0.94 and agreement["agreement"] >= 0.97 * agreement["classifier_accuracy"]
    assert 0.08 < agreement["independent"] < 0.12                      # ten classes at about even shares
    v = faithful["verdict"]
    assert v["missing_modes"] == [] and v["low_fidelity"] == [], v
    assert v["verdict"] == "no problem found"
    assert v["sentence"].startswith("All 10 classes are drawn in their proportions; images look like the data")
    assert "keep their input's class" in v["sentence"]
    # The report is of translations against B's own images, in B's feature space.
    assert faithful["dataset"]["name"] == "thick-b" and faithful["real_samples"] == SAMPLES
    assert "trained on thick:mnist" in faithful["features"]["description"]
    assert faithful["fake_samples"] == SAMPLES and faithful["translation"]["source"]["name"] == "mnist-a"
    # A round trip through a 3 x 3 maximum then minimum (an opening) returns most pixels, not all.
    cycle = faithful["translation"]["cycle_error"]["mean"]
    assert 0 < cycle < 0.05
    keys = [row["key"] for row in faithful["figures"]]
    assert keys[:2] == ["label_agreement", "cycle_error"] and "path_length" not in faithful
    assert faithful["figures"][0]["gauge"] == "good"
    text = "\n".join(summary_lines(faithful))
    assert "Keeps the input's class" in text and "cycle error" in text and "label agreement" in text
    json.dumps(faithful)                                                # plain JSON, as the CLI writes it
    figures = demo_figures({}, faithful)
    assert figures["label_agreement"] == agreement["agreement"] and figures["cycle_error"] == cycle


def test_a_translation_to_one_image_loses_the_content_and_the_verdict_says_so(domains, thick_space):
    target = domains[1]
    seven = target.data[target.labels == 7][:1].float() / 255 * 2 - 1                     # (1, 1, 28, 28)
    model = stand_in(Constant(seven), Thin())
    report, drawn = diagnose_translation(model, *domains, samples=SAMPLES, space=thick_space)
    agreement = report["translation"]["label_agreement"]
    sevens = float((domains[0].labels[torch.tensor(report["translation"]["inputs"])] == 7).double().mean())
    assert agreement["agreement"] == pytest.approx(sevens, abs=0.02) and agreement["agreement"] < 0.15
    assert agreement["per_class"][7] > 0.9 and max(agreement["per_class"][:7]) < 0.05
    v = report["verdict"]
    assert v["verdict"] == "missing modes and low fidelity"
    assert any("label agreement" in s for s in v["low_fidelity"])
    assert "loses its input's content" in v["sentence"] and "same image every time" in v["sentence"]
    assert any("cycle weight" in a for a in v["advice"])
    assert report["figures"][0]["key"] == "label_agreement" and report["figures"][0]["gauge"] == "poor"
    assert torch.equal(drawn.fake[0], drawn.fake[-1])                 # Drawn holds the translations


def test_inputs_and_style_codes_are_seeded_and_the_other_direction_translates_b(domains):
    model = stand_in(Thicken(), Thin(), style_dim=8)
    one = translate_inputs(model, domains[0], 50, seed=3, batch=7)
    again = translate_inputs(model, domains[0], 50, seed=3, batch=50)
    assert torch.equal(one.index, again.index) and torch.equal(one.style, again.style) and one.style.shape == (50, 8)
    assert torch.equal(one.fake, again.fake)
    back = translate_inputs(model, domains[1], 20, direction=BtoA, seed=0)
    # B -> A through the minimum: thinner strokes than the inputs
    assert back.fake.sum() < (back.inputs.float() / 255).sum()


def test_domain_specs_from_the_pair_the_card_or_the_target_alone():
    pair = "A=mnist[0:10000:2],B=thick:mnist[1:10000:2]"
    assert domain_specs(AtoB, trained_on=pair) == DomainSpecs("mnist[0:10000:2]", "thick:mnist[1:10000:2]", AtoB)
    assert domain_specs(BtoA, data="mnist-thick") == DomainSpecs("thick:mnist[1:10000:2]", "mnist[0:10000:2]", BtoA)
    assert domain_specs(AtoB, data="thick:mnist", trained_on=pair).target == "thick:mnist"
    with pytest.raises(DataError, match="A=SPEC,B=SPEC"):
        domain_specs(AtoB, data="mnist")                               # a target with no source anywhere
    assert parse_direction("btoa") == BtoA
    with pytest.raises(DataError, match="AtoB or BtoA"):
        parse_direction("sideways")
    with pytest.raises(DataError, match="2-D points"):
        load_domains(DomainSpecs("mnist[0:100]", "ring8", AtoB))


def test_only_translation_models_and_their_directions_are_diagnosed(mnist, domains):
    assert not is_translation(OneDigit(mnist.data[0]))
    with pytest.raises(GenStudioError, match="not a translation model"):
        diagnose_translation(OneDigit(mnist.data[0]), *domains)
    one_way = stand_in(Thicken(), None)
    with pytest.raises(GenStudioError, match=r"one generator \(A -> B\) only"):
        diagnose_translation(one_way, *domains, direction=BtoA)


@pytest.mark.long          # trains a checkpoint (one step) and diagnoses it: about 24 s on 2 busy cores
def test_the_command_line_diagnoses_a_translation_checkpoint_against_its_target_domain(space, tmp_path,
                                                                                      capsys):
    out = tmp_path / "run"
    assert main(["train", "--family", "translation", "--preset", "cyclegan-digits", "--data", "mnist-thick",
                 "--steps", "1", "--batch-size", "4", "--model", "ngf=4", "--model", "n_blocks=1", "--device", "cpu",
                 "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    checkpoint = str(out / "checkpoint.safetensors")
    assert main(["diagnose", checkpoint, "--samples", "200", "--direction", "BtoA", "--json"]) == 0
    captured = capsys.readouterr()
    assert "translating 200 images of thick:mnist[1:10000:2] (B -> A), comparing with mnist[0:10000:2]" in captured.err
    report = json.loads(captured.out)
    assert report["dataset"]["source"] == "mnist[0:10000:2]" and report["translation"]["direction"] == "B -> A"
    assert report["translation"]["label_agreement"]["agreement"] is not None
    assert report["translation"]["cycle_error"]["mean"] > 0
    assert main(["diagnose", checkpoint, "--data", "mnist[0:100]", "--samples", "200"]) == 2    # 100 real: too few
    assert "genstudio: error:" in capsys.readouterr().err


def test_the_apps_diagnose_task_translates_the_bundled_pair_and_pictures_the_target(thick_space, cache):
    before = sorted(cache.iterdir())
    result = Diagnose("mnist-thick", 300, direction=AtoB).run(stand_in(Thicken(), Thin()), TaskState())
    report = result.report
    assert report["dataset"]["source"] == "thick:mnist[1:10000:2]" and report["translation"]["direction"] == "A -> B"
    assert report["features"]["cache_file"] == str(thick_space.path)              # the target's classifier
    assert sorted(cache.iterdir()) == before                                       # trained no other
    assert report["translation"]["label_agreement"]["agreement"] > 0.94
    for picture in result.missing:                  # real examples from the target domain, translations beside
        assert picture.real.shape[1:] == picture.generated.shape[1:] == (1, 28, 28)
    assert result.pair_images is not None and result.pair_images.shape[1:] == (2, 1, 28, 28)
    one_set = InMemoryDataset("blank", torch.zeros(60, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(GenStudioError, match="two domains named by a spec"):
        Diagnose("mnist", SAMPLES, dataset=one_set).run(stand_in(Thicken(), Thin()), TaskState())
