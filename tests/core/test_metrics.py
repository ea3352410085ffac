"""Mode-collapse diagnostics (genstudio.core.metrics) on real MNIST and on known distributions.

The feature classifier trains once per session into a temporary cache (tests/core/conftest.py: a
half the app's steps, still 98 % held out); every image test reuses it.
"""

import json
import math

import numpy as np
import pytest
import torch
from stand_in_generators import MixtureSampler, OneDigit, Replay  # tests/core is on sys.path (no package)

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.toy import GRID25, RING8, load_toy
from genstudio.core.errors import Cancelled
from genstudio.core.metrics.classes import class_metrics
from genstudio.core.metrics.classifier import PCAFeatures, classifier_path, default_cache_dir, load_or_train_classifier
from genstudio.core.metrics.duplicates import birthday_test, closest_pairs, collision_support
from genstudio.core.metrics.frechet import frechet_distance
from genstudio.core.metrics.ndb import ndb
from genstudio.core.metrics.prdc import expected_self_coverage, nearest_neighbours, prdc
from genstudio.core.metrics.report import cheap_metrics, collapse_suspected, diagnose, prepare_live
from genstudio.core.metrics.toy import toy_metrics


@pytest.fixture(scope="session")
def half_features(space, halves):
    return space.embed(halves[0].data)[0], space.embed(halves[1].data)[0]


# --- classifier ----------------------------------------------------------------------------------
def test_classifier_reaches_98_percent_and_is_cached(mnist, space, cache):
    assert space.header["holdout_accuracy"] >= 0.98
    assert (space.header["train_samples"], space.header["holdout_samples"]) == (8000, 2000)
    info = space.describe()
    assert info["space"] == "classifier" and info["dim"] == 128 and "held-out accuracy" in info["description"]
    path = classifier_path(mnist, cache)
    assert path.exists() and path.suffix == ".safetensors"
    assert not list(cache.glob(".*.tmp"))  # the atomic write left no temporary file
    again = load_or_train_classifier(mnist, cache)  # from the file: no training
    features, classes = again.embed(mnist.data[:300])
    reference_features, reference_classes = space.embed(mnist.data[:300])
    assert features.shape == (300, 128) and torch.allclose(features, reference_features)
    assert torch.equal(classes, reference_classes)
    assert float((classes == mnist.labels[:300]).float().mean()) > 0.97


def test_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "genstudio" / "classifiers"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(default_cache_dir()).endswith(".cache/genstudio/classifiers")


def test_unreadable_cache_file_is_retrained(tmp_path):
    # Small 8x8 images keep this retrain to a few seconds.
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(400) % 2
    data = (torch.rand(400, 1, 8, 8, generator=g) * 60).to(torch.uint8)
    data[labels == 1, :, :4] += 150                       # class 1: bright top half
    ds = InMemoryDataset("tiny", data, labels, ["dark", "bright"])
    path = classifier_path(ds, tmp_path)
    path.write_bytes(b"not a safetensors file")
    space = load_or_train_classifier(ds, tmp_path)
    assert space.header["holdout_accuracy"] > 0.95
    assert path.stat().st_size > 1000


def test_unlabelled_images_fall_back_to_pca(mnist):
    unlabelled = InMemoryDataset("digits", mnist.data[:2000])
    space = PCAFeatures(unlabelled)
    features, classes = space.embed(mnist.data[:10])
    assert features.shape == (10, 64) and classes is None
    assert "PCA of pixels to 64-D" in space.describe()["description"]


# --- class histogram -----------------------------------------------------------------------------
def test_class_metrics_rules():
    even = class_metrics(torch.arange(1000) % 10, 10)
    assert even["classes_covered"] == 10 and even["kl_uniform"] == pytest.approx(0.0, abs=1e-12)
    one = class_metrics(torch.full((500,), 3), 10, data_labels=torch.arange(100) % 10)
    assert one["classes_covered"] == 1
    assert one["kl_uniform"] == pytest.approx(math.log(10)) and one["kl_data"] == pytest.approx(math.log(10))
    # 1 % rule: 9 of 1000 samples (0.9 %) do not cover a class, 10 do.
    predicted = torch.cat([torch.zeros(981, dtype=torch.long), torch.full((9,), 1), torch.full((10,), 2)])
    assert class_metrics(predicted, 3)["covered"] == [True, False, True]


# --- precision / recall / density / coverage -----------------------------------------------------
def _naive_prdc(real, fake, k_pr, k_dc):
    """The definitions of docs/diagnostics.md, written out with numpy on a full distance matrix."""
    real, fake = real.double().numpy(), fake.double().numpy()
    rr = np.linalg.norm(real[:, None] - real[None], axis=2)
    ff = np.linalg.norm(fake[:, None] - fake[None], axis=2)
    rf = np.linalg.norm(real[:, None] - fake[None], axis=2)        # (N, M)
    nnd = lambda d, k: np.sort(d, axis=1)[:, k]                    # column 0 is the point itself
    r_pr, r_dc, f_pr = nnd(rr, k_pr), nnd(rr, k_dc), nnd(ff, k_pr)
    precision = np.mean((rf <= r_pr[:, None]).any(axis=0))
    recall = np.mean((rf <= f_pr[None, :]).any(axis=1))
    density = (rf < r_dc[:, None]).sum() / (k_dc * fake.shape[0])
    coverage = np.mean(rf.min(axis=1) < r_dc)
    return precision, recall, density, coverage


def test_prdc_matches_the_definitions():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(300, 5, generator=g), torch.randn(200, 5, generator=g) * 1.3 + 0.3
    got = prdc(real, fake, chunk=64)  # several chunks
    expected = _naive_prdc(real, fake, 3, 5)
    for name, value in zip(("precision", "recall", "density", "coverage"), expected):
        assert got[name] == pytest.approx(value, abs=1e-9), name
    assert got["settings"]["k_precision_recall"] == 3 and got["settings"]["k_density_coverage"] == 5


def test_prdc_self_test_on_one_gaussian():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(3000, 16, generator=g), torch.randn(3000, 16, generator=g)
    got = prdc(real, fake)
    expected = expected_self_coverage(3000, 3000, 5)
    assert expected == pytest.approx(1 - 2 ** -5, abs=2e-3)
    assert got["coverage"] == pytest.approx(expected, abs=0.02)
    assert got["density"] == pytest.approx(1.0, abs=0.1)
    shifted = prdc(real, fake + 2.0)  # a different distribution covers little
    assert shifted["coverage"] < 0.5 and shifted["precision"] < 0.5


# --- NDB -----------------------------------------------------------------------------------------
def test_ndb_flags_a_missing_digit(half_features, halves):
    real, query = half_features
    same = ndb(real, query)
    assert same["settings"]["K"] == 100 and len(same["real_proportions"]) == 100
    assert same["ndb"] <= 10 and same["js"] < 0.02
    no_nines = query[halves[1].labels != 9]
    missing = ndb(real, no_nines)
    assert missing["ndb"] >= same["ndb"] + 5 and missing["js"] > 2 * same["js"]
    # the bins the nines lived in are the under-filled ones
    assert set(missing["underfilled_bins"]) and set(missing["underfilled_bins"]) <= set(missing["different_bins"])


# --- duplicates ----------------------------------------------------------------------------------
def test_closest_pairs_are_exact():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 8, generator=g)
    x[10] = x[3] + 1e-3          # planted near-duplicates
    x[200] = x[77] + 2e-3
    table = nearest_neighbours(x, 20)
    pairs = closest_pairs(table, 20)
    d = torch.cdist(x, x).double()
    iu = torch.triu_indices(400, 400, 1)
    brute = torch.sort(d[iu[0], iu[1]]).values[:20]
    assert [p["distance"] for p in pairs] == pytest.approx(brute.tolist(), rel=1e-4, abs=1e-5)
    assert (pairs[0]["i"], pairs[0]["j"]) == (3, 10) and (pairs[1]["i"], pairs[1]["j"]) == (77, 200)


def test_support_estimates_on_a_known_support():
    # 4,096 draws from 100 equally likely distinct outputs: support ~ 100.
    g = torch.Generator().manual_seed(0)
    atoms = torch.randn(100, 8, generator=g)
    x = atoms[torch.randint(100, (4096,), generator=g)]
    table = nearest_neighbours(x, 3, threshold=1e-3)
    pairs = int(table.within.sum()) // 2
    assert collision_support(len(x), pairs)["estimate"] == pytest.approx(100, rel=0.1)
    birthday = birthday_test(x, 1e-3)
    # P(duplicate in s) = 1/2 at s ~ 1.18 sqrt(100) = 12: the power-of-two ladder says 16.
    assert birthday["half_size"] == 16 and birthday["support_estimate"] == 256
    distinct = torch.randn(4096, 8, generator=g)
    assert birthday_test(distinct, 1e-3)["half_size"] is None
    assert collision_support(4096, 0)["estimate"] is None


# --- Fréchet distance ----------------------------------------------------------------------------
def test_frechet_distance_zero_on_itself_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 32, generator=g) @ torch.randn(32, 32, generator=g)
    assert abs(frechet_distance(x, x)["fd"]) < 1e-6
    fds = [frechet_distance(x, x + shift)["fd"] for shift in (0.1, 0.5, 1.0)]
    assert fds == pytest.approx([32 * 0.01, 32 * 0.25, 32 * 1.0], rel=1e-6)   # |shift|^2 per dimension
    from scipy import linalg

    y = torch.randn(2000, 32, generator=g) * 1.5
    mu1, mu2 = x.double().mean(0).numpy(), y.double().mean(0).numpy()
    s1, s2 = np.cov(x.double().numpy(), rowvar=False), np.cov(y.double().numpy(), rowvar=False)
    reference = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(x, y)["fd"] == pytest.approx(reference, rel=1e-6)


# --- 2-D mixtures --------------------------------------------------------------------------------
@pytest.mark.parametrize("mixture", [RING8, GRID25])
def test_toy_metrics_on_the_true_mixture_and_a_collapse(mixture):
    points, _ = mixture.sample(2500, torch.Generator().manual_seed(0))
    exact = toy_metrics(points, mixture)
    assert exact["modes_covered"] == exact["modes_covered_min20"] == mixture.num_modes
    # within 3 std in 2-D: P = 1 - exp(-9/2) = 98.9 %
    assert exact["hq_percent"] == pytest.approx(100 * (1 - math.exp(-4.5)), abs=1.0)
    assert exact["kl_modes_uniform"] < 0.02
    collapsed = toy_metrics(mixture.centres[3] + mixture.std * torch.randn(2500, 2), mixture)
    assert collapsed["modes_covered"] == 1 and collapsed["kl_modes_uniform"] == pytest.approx(math.log(mixture.num_modes))


def test_diagnose_points_uses_the_toy_tables():
    ring = load_toy("ring8", n=5000)
    report = diagnose(MixtureSampler(RING8), ring, samples=3000)
    assert report["features"]["space"] == "raw"
    assert report["toy"]["modes_covered"] == 8 and report["toy"]["samples"] == 2500
    assert report["toy"]["hq_percent"] > 97 and report["signals"] == []
    collapsed = diagnose(MixtureSampler(RING8, only_mode=2), ring, samples=3000)
    assert collapsed["toy"]["modes_covered"] == 1
    assert any("1 of 8 modes" in s for s in collapsed["signals"])


# --- full report on images -----------------------------------------------------------------------
def test_collapsed_generator_is_reported_and_real_data_is_not(mnist, space, halves):
    real_a, real_b = halves
    one = mnist.data[mnist.labels == 1][0]
    collapsed = diagnose(OneDigit(one), real_a, samples=2000, space=space)
    real = diagnose(Replay(real_b.data), real_a, samples=2000, space=space)
    json.dumps(collapsed, allow_nan=False), json.dumps(real, allow_nan=False)   # plain JSON

    assert collapsed["classes"]["classes_covered"] == 1
    assert collapsed["classes"]["kl_uniform"] > 2.0                  # log 10 = 2.30
    assert collapsed["prdc"]["recall"] < 0.01 and collapsed["prdc"]["coverage"] < 0.01
    assert collapsed["duplicates"]["duplicate_fraction"] == 1.0
    assert collapsed["duplicates"]["duplicate_pairs"] == 2000 * 1999 // 2
    assert collapsed["duplicates"]["collision_support"]["estimate"] == pytest.approx(1.0)
    assert collapsed["ndb"]["ndb"] > 50 and collapsed["diversity"]["ratio"] < 0.01
    assert collapsed["duplicates"]["support"]["estimate"] == 1.0 and collapsed["duplicates"]["distinct"] == 1
    assert collapsed["duplicates"]["clusters"][0]["size"] == 2000
    assert collapsed["verdict"]["verdict"] == "missing modes" and len(collapsed["signals"]) >= 2
    assert collapsed["verdict"]["sentence"].startswith("The generator draws the same image every time; 9 of 10 classes")

    assert real["classes"]["classes_covered"] == 10 and real["classes"]["kl_uniform"] < 0.02
    assert real["classes"]["kl_data"] < 0.01
    expected = real["prdc"]["coverage_expected_same_distribution"]
    assert real["prdc"]["coverage"] == pytest.approx(expected, abs=0.03)
    assert real["prdc"]["precision"] > 0.8 and real["prdc"]["recall"] > 0.8
    assert real["prdc"]["density"] == pytest.approx(1.0, abs=0.15)
    assert real["duplicates"]["duplicate_fraction"] < 0.03
    assert real["ndb"]["ndb_over_k"] < 0.1 and 0.9 < real["diversity"]["ratio"] < 1.1
    assert real["frechet"]["fd"] < 0.05 * collapsed["frechet"]["fd"]
    assert real["signals"] == []
    # every figure says how it was computed
    for section in ("prdc", "duplicates", "ndb", "frechet", "diversity"):
        assert "held-out accuracy" in real[section]["settings"]["feature_space"]
    assert real["ndb"]["settings"]["K"] == 100 and real["prdc"]["settings"]["real_samples"] == 2000


def test_diagnose_reports_progress_and_can_be_cancelled(space, halves):
    calls = []
    report = diagnose(Replay(halves[1].data), halves[0], samples=1000, space=space,
                      progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert report["timings"]["total"] > 0
    with pytest.raises(Cancelled, match="cancelled while"):
        diagnose(Replay(halves[1].data), halves[0], samples=1000, space=space,
                 should_stop=lambda: len(calls) > 3)


# --- live figures --------------------------------------------------------------------------------
def test_cheap_metrics_and_collapse_rule(mnist, space, cache, halves):
    reference = prepare_live(mnist, samples=500, cache_dir=cache)
    healthy = cheap_metrics(Replay(halves[1].data), reference)
    collapsed = cheap_metrics(OneDigit(mnist.data[mnist.labels == 1][0]), reference)
    assert healthy["classes_covered"] == 10 and healthy["coverage"] > 0.85 and healthy["diversity"] > 0.9
    assert collapsed["classes_covered"] == 1 and collapsed["coverage"] < 0.05 and collapsed["diversity"] < 0.01
    assert healthy["seconds"] < 1.0
    history = [dict(healthy, d_real=0.6, d_fake=0.4), dict(collapsed, d_real=0.95, d_fake=0.03)]
    fired = collapse_suspected(history)
    assert any(s.startswith("classes covered fell from 10 to 1") for s in fired)
    assert any(s.startswith("coverage fell") for s in fired) and any(s.startswith("D wins") for s in fired)
    assert collapse_suspected([dict(healthy, d_real=0.6, d_fake=0.4)] * 3) == []


# --- the 2-D preset that reaches the bar (training/toy_mode_benchmark.py measures it) -----------------
def test_toy_best_preset_trains_and_keeps_its_fourier_features(tmp_path):
    from genstudio.core.io.checkpoints import load_checkpoint
    from genstudio.core.registry import build_model
    from genstudio.core.training.engine import TrainConfig, Trainer

    config = TrainConfig(family="gan", preset="toy-best", steps=30, report_every=10, sample_every_s=0,
                         device="cpu", out_dir=str(tmp_path), n_samples=4)
    trainer = Trainer(config, dataset=load_toy("ring8", n=4096))
    reports = list(trainer.run())
    assert reports[-1].kind == "finished"
    assert all("gradient_penalty" in r.scalars for r in reports if r.kind == "step")   # WGAN-GP
    frequencies = trainer.model.discriminator.fourier.frequencies
    assert frequencies.shape == (2, 32)
    loaded = load_checkpoint(reports[-1].path).model   # the random frequencies travel with the weights
    assert torch.equal(loaded.discriminator.fourier.frequencies, frequencies)
    z = torch.randn(16, 2)
    assert torch.equal(loaded.decode(z), trainer.model.decode(z))
    with pytest.raises(ValueError, match="2-D points only"):
        build_model("gan", {"arch": "mlp", "latent_dim": 8, "data_shape": [1, 28, 28], "d_fourier_features": 8})
