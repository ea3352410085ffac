"""The full mode-collapse report for any generator, and the cheap live figures used while training.

`diagnose(generator, dataset)` draws `samples` generated and as many real samples and runs every
diagnostic of docs/diagnostics.md that fits the data:
- images: classifier features (or PCA of pixels for unlabelled sets, see classifier.py), class
  histogram, precision/recall/density/coverage, NDB, birthday-paradox duplicates, Fréchet distance
  (with its 1/n bias), KID and diversity, all in that feature space; the classifier score (the
  Inception Score's analogue, beside the real data's) and the perceptual path length (models whose
  decode is a smooth function of the latent) with the classifier; sharpness against the real images;
- 2-D points: the same k-NN, NDB, duplicate and Fréchet figures on the raw coordinates, plus the
  VEEGAN/PacGAN mode counts (2,500 samples) for the ring-8 and grid-25 mixtures.
A generator is anything with `sample_latents(n, generator)`, `decode(z)` and `data_shape`:
genstudio's GANs, VAEs (decoding prior latents, i.e. sampling from the prior), flows, and foreign
TorchScript/torch.export generators; a translation model's samples are its translations of the
source domain, measured against the target domain (translation_report.py). `verdict.py` reads the
figures as missing modes, low fidelity, both or neither (report["verdict"]). The report is plain
JSON (dicts, lists, str, int, float, None); every figure carries its settings (k, K, feature space,
sample counts, thresholds).

`prepare_live(dataset)` + `cheap_metrics(generator, reference)` give a few figures on a small
fixed-latent batch fast enough to run during training, and `collapse_suspected(history)` names
the signals that suggest collapse in a list of those figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.toy import TOY_MIXTURES
from genstudio.core.errors import check_finite
from genstudio.core.metrics import check_stop
from genstudio.core.metrics.classes import class_metrics
from genstudio.core.metrics.classifier import ClassifierFeatures, PCAFeatures, feature_space
from genstudio.core.metrics.classifier_score import classifier_scores
from genstudio.core.metrics.diversity import diversity
from genstudio.core.metrics.duplicates import N_PAIRS, duplicate_report, duplicate_threshold, exact_copies
from genstudio.core.metrics.frechet import frechet_by_samples, frechet_distance
from genstudio.core.metrics.kid import kid
from genstudio.core.metrics.gauges import figure_rows
from genstudio.core.metrics.ndb import K_BINS, assign_bins, fit_bins, ndb
from genstudio.core.metrics.path_length import path_length
from genstudio.core.metrics.prdc import K_DC, K_PR, Neighbours, expected_self_coverage, nearest_neighbours, prdc
from genstudio.core.metrics.regions import empty_regions, sparse_bins
from genstudio.core.metrics.sharpness import sharpness
from genstudio.core.metrics.toy import TOY_SAMPLES, toy_metrics
from genstudio.core.metrics.verdict import THRESHOLDS, verdict

REPORT_FORMAT = "genstudio-diagnostics"
REPORT_VERSION = 2
# 5,000 a side: the bundled MNIST (10,000) then holds a second real sample of the same size, so every
# figure has the real data's own value at the same count (report["real_reference"]).
DEFAULT_SAMPLES = 5000
GENERATE_BATCH = 1000
DIVERSITY_SAMPLES = 1000
LIVE_SAMPLES = 1000

PATH_LENGTH_PAIRS = 1000

# collapse_suspected(): a figure "fell" when it drops below this fraction of its best so far.
FALL_FRACTION = 0.5
CLASSES_FALL = 2             # classes (or modes) lost since the best count


def stage_progress(progress, lo: float, hi: float):
    """A progress callback mapping a stage's own 0..1 onto lo..hi of the whole (None: silent)."""
    if progress is None:
        return None
    return lambda fraction, message: progress(lo + (hi - lo) * min(max(fraction, 0.0), 1.0), message)


def _describe_generator(generator) -> dict:
    return {
        "family": getattr(generator, "family", type(generator).__name__),
        "class": type(generator).__name__,
        "latent_dim": int(generator.latent_dim),
        "data_shape": [int(s) for s in generator.data_shape],
        "num_classes": int(getattr(generator, "num_classes", 0) or 0),
    }


@torch.no_grad()
def generate(generator, n: int, seed: int = 0, batch: int = GENERATE_BATCH, progress=None,
             should_stop=None) -> torch.Tensor:
    """n samples (n, *data_shape) float32 on the CPU from latents drawn with torch seed `seed`.

    Sample i is the same for the same (generator weights, seed), whatever n: the report's indices
    (closest pairs...) can be turned back into images. Class-conditional models are given the labels
    0, 1, ..., K-1 in turn within each batch, so every class is asked for equally (a model that can
    also draw without a label, as label dropout trains it, is measured with labels, as it is used).
    The global RNG is left untouched. NonFiniteOutput (a ValueError) when a batch holds NaN or Inf."""
    if n < 1:
        raise ValueError(f"cannot generate {n} samples")
    rng = torch.Generator().manual_seed(seed)
    device = getattr(generator, "device", torch.device("cpu"))
    classes = int(getattr(generator, "num_classes", 0) or 0)
    out = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        for start in range(0, n, batch):
            check_stop(should_stop, "generating samples")
            if progress is not None:
                progress(start / n, f"generating samples ({start}/{n})")
            z = generator.sample_latents(min(batch, n - start), rng)        # (b, *latent_shape)
            if classes:
                labels = torch.arange(len(z), device=z.device) % classes
                images = generator.decode(z, labels).float().cpu()
            else:
                images = generator.decode(z).float().cpu()
            # NaN or Inf samples would reach the metrics' linear algebra (an eigensolver given NaN
            # ended the process with a segmentation fault): refused at the first batch that holds any.
            check_finite(images, "the model's output" if start == 0 else f"from sample {start} on, the model's output")
            out.append(images)
    return torch.cat(out)


def _check_shapes(generator, dataset: InMemoryDataset) -> None:
    if tuple(generator.data_shape) != tuple(dataset.shape):
        raise ValueError(f"the generator makes samples of shape {tuple(generator.data_shape)} but "
                         f"{dataset.name} holds {tuple(dataset.shape)}")


def _real_sample(dataset: InMemoryDataset, n: int, seed: int) -> torch.Tensor:
    """n real samples (n, *shape) drawn without replacement, on the CPU (uint8 images or float points)."""
    index = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n]
    return dataset.data.cpu()[index]


def check_sample_counts(samples: int, dataset_size: int) -> None:
    """Refuse, before any classifier is trained or sample drawn, a count the report cannot use: the
    closest pairs need 2 x N_PAIRS generated samples, and NDB's K_BINS k-means bins as many real
    samples on the real side of both comparisons: `samples` when the data set holds 2 x samples,
    otherwise half of what it holds up to `samples` (draw_real)."""
    if samples < 2 * N_PAIRS:
        raise ValueError(f"the report needs at least {2 * N_PAIRS} samples, got {samples}")
    real = samples if dataset_size >= 2 * samples else min(samples, dataset_size) // 2
    if real < K_BINS:
        raise ValueError(f"NDB's {K_BINS} bins need at least {K_BINS} real samples on each side of the comparison; "
                         f"{samples} samples of a data set of {dataset_size} give {real}")


@dataclass
class Drawn:
    """The samples a report compares: `real` (N, ...) and generated `fake` (M, ...); and `reference`,
    two real samples (a, b) whose comparison gives the real data's own value of every figure. Indices
    in the report (regions' examples, repeated clusters, closest pairs) point into real and fake."""

    real: torch.Tensor
    fake: torch.Tensor
    reference: tuple[torch.Tensor, torch.Tensor]
    reference_rule: str


def draw_real(dataset: InMemoryDataset, samples: int, seed: int) -> tuple[torch.Tensor, tuple, str]:
    """(real, (a, b), rule): `samples` real samples, and the pair the real data's own figures compare:
    the real samples against a disjoint second sample of as many when the data set holds both,
    otherwise two disjoint halves of the real samples (at half the count, which the rule says)."""
    index = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    data = dataset.data.cpu()
    if len(dataset) >= 2 * samples:
        real = data[index[:samples]]
        return (real, (real, data[index[samples:2 * samples]]),
                f"a second, disjoint sample of {samples} real samples against the first")
    n = min(samples, len(dataset))
    half = n // 2
    return (data[index[:n]], (data[index[:half]], data[index[half:n]]),
            f"the data set holds {len(dataset)} samples, fewer than 2 x {samples}: the real data's own figures "
            f"compare two disjoint halves of {half} and {n - half}")


def _compare(space, dataset: InMemoryDataset, real: torch.Tensor, fake: torch.Tensor, seed: int,
             progress=None, should_stop=None, reference: bool = False) -> dict:
    """Every figure of `fake` (M, ...) against `real` (N, ...): the sections of the report (with
    reference=True the "generated" side is a second real sample). Both sides' classes come from the
    classifier, so that real and generated samples are labelled alike."""
    out: dict = {}
    if space is None:
        real_f, fake_f = real.float(), fake.reshape(len(fake), -1)          # (N, 2), (M, 2)
        real_labels = fake_labels = None
        names = None
    else:
        if space.num_classes:
            real_f, real_p = space.embed_probabilities(real)                 # (N, F), (N, K)
            fake_f, fake_p = space.embed_probabilities(fake)                 # (M, F), (M, K)
            real_labels, fake_labels = real_p.argmax(1), fake_p.argmax(1)
            names = space.class_names
            out["classes"] = class_metrics(fake_labels, space.num_classes, dataset.labels, names)
            out["classifier_score"] = classifier_scores(fake_p, real_p, space.describe()["description"], seed=seed)
        else:
            real_f, _ = space.embed(real)
            fake_f, _ = space.embed(fake)
            real_labels = fake_labels = names = None
        out["sharpness"] = sharpness(fake, real)
    features_name = "raw 2-D coordinates of the points" if space is None else space.describe()["description"]
    check_stop(should_stop, "finding nearest neighbours")
    if progress is not None:
        progress(0.1, "nearest neighbours" + (" of the real reference" if reference else ""))
    real_nb = nearest_neighbours(real_f, max(K_PR, K_DC))
    copies = exact_copies(real)                                              # (N,) real samples with a twin
    threshold = duplicate_threshold(real_nb.radius(1), copies=copies)
    fake_nb = nearest_neighbours(fake_f, max(N_PAIRS, K_PR), threshold)
    out["prdc"] = prdc(real_f, fake_f, real_neighbours=real_nb, fake_neighbours=fake_nb)
    out["prdc"]["coverage_expected_same_distribution"] = expected_self_coverage(len(real_f), len(fake_f), K_DC)
    out["prdc"]["settings"]["feature_space"] = features_name

    check_stop(should_stop, "finding duplicates")
    if progress is not None:
        progress(0.3, "birthday-paradox duplicates")
    out["duplicates"] = duplicate_report(fake_f, fake_nb, threshold, seed)
    out["duplicates"]["real_exact_copies"] = float(copies.double().mean())
    out["duplicates"]["real_duplicate_fraction"] = float((real_nb.radius(1) < threshold).double().mean())
    out["duplicates"]["settings"]["feature_space"] = features_name

    check_stop(should_stop, "computing NDB and the regions left empty")
    if progress is not None:
        progress(0.45, f"NDB with K = {K_BINS} k-means bins, regions left empty")
    centres = fit_bins(real_f, K_BINS, seed)
    out["ndb"] = ndb(real_f, fake_f, centres=centres)
    out["ndb"]["settings"]["feature_space"] = features_name
    out["regions"] = empty_regions(real_f, fake_f, real_labels, fake_labels, names, seed)
    out["regions"]["settings"]["feature_space"] = features_name
    real_bin, fake_bin = assign_bins(real_f, centres), assign_bins(fake_f, centres)
    out["sparse_regions"] = sparse_bins(out["ndb"], real_bin, fake_bin, real_f, fake_f, centres, real_labels, names)

    check_stop(should_stop, "computing the Fréchet distance")
    if progress is not None:
        progress(0.7, "Fréchet distance, KID and diversity")
    out["frechet"] = frechet_distance(real_f, fake_f, features_name)
    out["frechet"]["by_samples"] = frechet_by_samples(real_f, fake_f, seed=seed)
    out["kid"] = kid(real_f, fake_f, features_name, seed=seed)
    out["diversity"] = diversity(fake_f, real_f, max_samples=DIVERSITY_SAMPLES, seed=seed)
    out["diversity"]["settings"]["feature_space"] = features_name
    if progress is not None:
        progress(1.0, "")
    return out


def diagnose(generator, dataset: InMemoryDataset, samples: int = DEFAULT_SAMPLES, seed: int = 0, progress=None,
             should_stop=None, cache_dir=None, space: ClassifierFeatures | PCAFeatures | None = None) -> dict:
    """The full report (module docstring) of `samples` generated vs as many real samples.

    progress(fraction, message) is called as stages advance; should_stop() is polled between
    stages and generation batches, and when it returns True Cancelled is raised.
    cache_dir: where the feature classifier is cached (see classifier.default_cache_dir).
    space: a feature space (classifier.feature_space) to use instead of `dataset`'s own, e.g. the
    classifier of a full data set when `dataset` is a held-out part of it."""
    return diagnose_with_samples(generator, dataset, samples, seed, progress, should_stop, cache_dir, space)[0]


def diagnose_with_samples(generator, dataset: InMemoryDataset, samples: int = DEFAULT_SAMPLES, seed: int = 0,
                          progress=None, should_stop=None, cache_dir=None,
                          space: ClassifierFeatures | PCAFeatures | None = None,
                          fake: torch.Tensor | None = None, sections: dict | None = None,
                          latent_path_length: bool = True) -> tuple[dict, Drawn]:
    """diagnose(), and the samples it compared (Drawn), so that the report's indices can be shown as
    images. `fake` (M, ...) in [0, 1] replaces generation (a set of images posing as a generator).
    `sections` are added to the report before the verdict reads it (a translation's label agreement,
    translation_report.py); latent_path_length=False leaves out the perceptual path length, for
    samples that are not decode(z) of the latents it would walk."""
    _check_shapes(generator, dataset)
    check_sample_counts(samples, len(dataset))
    start = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = now - since
        return now

    t = start
    real, (own_a, own_b), rule = draw_real(dataset, samples, seed)
    if fake is None:
        # Before the feature space, which may train a classifier first: NaN samples end the report at once.
        fake = generate(generator, samples, seed, progress=stage_progress(progress, 0.0, 0.25), should_stop=should_stop)
    t = lap("generate", t)
    if dataset.is_points:
        space = None          # points are compared on their raw coordinates
    elif space is None:
        space = feature_space(dataset, cache_dir, stage_progress(progress, 0.25, 0.35), should_stop)
        t = lap("feature_space", t)
    report: dict = {"format": REPORT_FORMAT, "version": REPORT_VERSION, "dataset": dataset.describe(),
                    "generator": _describe_generator(generator), "seed": seed,
                    "fake_samples": len(fake), "real_samples": len(real)}
    report["features"] = ({"space": "raw", "dim": int(real.shape[1]), "description": "raw 2-D coordinates of the points"}
                          if space is None else space.describe())
    if space is None:
        mixture = TOY_MIXTURES.get(dataset.name)
        if mixture is not None:
            report["toy"] = toy_metrics(fake[:TOY_SAMPLES], mixture)
    report.update(_compare(space, dataset, real, fake, seed, stage_progress(progress, 0.35, 0.65), should_stop))
    report.update(sections or {})
    t = lap("figures", t)
    # The real data's own figures at the same count: what every figure is read against.
    own = _compare(space, dataset, own_a, own_b, seed, stage_progress(progress, 0.65, 0.85), should_stop, reference=True)
    own["samples"] = [len(own_a), len(own_b)]
    own["rule"] = rule
    report["real_reference"] = own
    t = lap("real_reference", t)

    if space is not None and latent_path_length and getattr(generator, "smooth_latent", True):
        report["path_length"] = path_length(generator, space, min(PATH_LENGTH_PAIRS, samples // 2), seed,
                                            progress=stage_progress(progress, 0.85, 1.0), should_stop=should_stop)
        lap("path_length", t)

    report["verdict"] = verdict(report)
    v = report["verdict"]
    report["signals"] = v["missing_modes"] + v["low_fidelity"] + v["unclear"]
    report["signal_thresholds"] = THRESHOLDS
    report["figures"] = figure_rows(report)
    timings["total"] = time.perf_counter() - start
    report["timings"] = timings
    if progress is not None:
        progress(1.0, "diagnostics done")
    return report, Drawn(real, fake, (own_a, own_b), rule)


# --- live figures during training -------------------------------------------------------------
@dataclass
class LiveReference:
    """What cheap_metrics compares against, prepared once per training run."""

    dataset_name: str
    data_shape: tuple[int, ...]
    samples: int
    seed: int
    space: ClassifierFeatures | PCAFeatures | None   # None for points (raw coordinates)
    real_features: torch.Tensor                      # (n, F)
    real_neighbours: Neighbours                      # of real_features, k = K_DC


def prepare_live(dataset: InMemoryDataset, samples: int = LIVE_SAMPLES, seed: int = 0, cache_dir=None,
                 progress=None, should_stop=None) -> LiveReference:
    """Real features and their k-NN radii for cheap_metrics (may train the classifier once)."""
    if samples < K_DC + 1:
        raise ValueError(f"live metrics need more than {K_DC} samples, got {samples}")
    space = None if dataset.is_points else feature_space(dataset, cache_dir, progress, should_stop)
    real = _real_sample(dataset, min(samples, len(dataset)), seed)
    real_f = real.float() if space is None else space.embed(real)[0]
    return LiveReference(dataset.name, tuple(dataset.shape), samples, seed, space, real_f,
                         nearest_neighbours(real_f, K_DC))


def cheap_metrics(generator, reference: LiveReference, should_stop=None) -> dict:
    """Classes (or modes) covered, KL to uniform, coverage, density and diversity of a fixed-latent
    batch of reference.samples: flat floats for a live curve, plus 'seconds' it took. `should_stop()`
    is polled between the stages (Cancelled): a stopped run's figures give way at once."""
    start = time.perf_counter()
    if tuple(generator.data_shape) != reference.data_shape:
        raise ValueError(f"the generator makes samples of shape {tuple(generator.data_shape)} but "
                         f"{reference.dataset_name} holds {reference.data_shape}")
    fake = generate(generator, reference.samples, reference.seed, batch=reference.samples)
    check_stop(should_stop, "computing live figures")
    out: dict = {"samples": reference.samples}
    if reference.space is None:
        fake_f = fake.reshape(len(fake), -1)
        mixture = TOY_MIXTURES.get(reference.dataset_name)
        if mixture is not None:
            toy = toy_metrics(fake, mixture)
            out.update({"classes_covered": toy["modes_covered"], "num_classes": toy["num_modes"],
                        "kl_uniform": toy["kl_modes_uniform"], "hq_percent": toy["hq_percent"]})
        out["feature_space"] = "raw 2-D coordinates"
    else:
        fake_f, classes = reference.space.embed(fake)
        if classes is not None:
            figures = class_metrics(classes, reference.space.num_classes)
            out.update({"classes_covered": figures["classes_covered"], "num_classes": figures["num_classes"],
                        "kl_uniform": figures["kl_uniform"]})
        out["feature_space"] = reference.space.describe()["description"]
    check_stop(should_stop, "computing live figures")
    pr = prdc(reference.real_features, fake_f, real_neighbours=reference.real_neighbours)
    out.update({"coverage": pr["coverage"], "density": pr["density"], "precision": pr["precision"],
                "recall": pr["recall"]})
    out["diversity"] = diversity(fake_f, reference.real_features)["ratio"]
    out["seconds"] = time.perf_counter() - start
    return out


def _d_wins(entry: dict) -> str | None:
    """'D wins' when it separates real from fake: BCE probabilities d_real >= 0.8 and d_fake <= 0.2;
    for raw logits (hinge, WGAN) a gap d_real - d_fake >= 2, both hinge margins met."""
    d_real, d_fake = entry.get("d_real"), entry.get("d_fake")
    if d_real is None or d_fake is None:
        return None
    if 0.0 <= d_real <= 1.0 and 0.0 <= d_fake <= 1.0:
        wins = d_real >= 0.8 and d_fake <= 0.2
    else:
        wins = d_real - d_fake >= 2.0
    return f"D wins (d_real {d_real:.2f}, d_fake {d_fake:.2f})" if wins else None


def collapse_suspected(history: list[dict]) -> list[str]:
    """Which collapse signals fire at the last entry of `history` (cheap_metrics dicts, optionally
    merged with training scalars d_real/d_fake), each judged against its best value so far:
    - classes (modes) covered fell by >= 2 from the best count;
    - coverage or diversity fell below half of its best;
    and, only alongside one of those, "D wins" (see _d_wins). Empty when nothing fired."""
    if len(history) < 2:
        return []
    last, earlier = history[-1], history[:-1]
    fired = []
    best_classes = max((e["classes_covered"] for e in earlier if e.get("classes_covered") is not None), default=None)
    if best_classes is not None and last.get("classes_covered") is not None \
            and last["classes_covered"] <= best_classes - CLASSES_FALL:
        fired.append(f"classes covered fell from {best_classes} to {last['classes_covered']}")
    for key in ("coverage", "diversity"):
        best = max((e[key] for e in earlier if e.get(key) is not None), default=None)
        if best is not None and last.get(key) is not None and best > 0 and last[key] < FALL_FRACTION * best:
            fired.append(f"{key} fell from {best:.3f} to {last[key]:.3f} (below {FALL_FRACTION:g} x its best)")
    if fired:
        d_wins = _d_wins(last)
        if d_wins:
            fired.append(d_wins)
    return fired
