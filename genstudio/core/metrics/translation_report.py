"""Diagnostics of an image-translation model (Capability.TRANSLATION): report.py's full report and
verdict run on translated images against the target domain's data, with the two figures only a
translation has.

- The samples are translations of the source domain's images (A -> B by default, B -> A when
  asked), one per input: n = min(samples, images in the source domain) inputs in a seeded order (all
  5,000 of the bundled pair's A at the default count); a multimodal model gets one standard-normal
  style code per input, drawn from the same seed.
- The real data is the target domain's (B's spec for A -> B), and every figure is measured in the
  target domain's own feature space (its classifier), as for a model trained on that data alone.
- label agreement: with labelled domains of the same classes, the share of translations that the
  target domain's classifier labels as their input's label (does a translated 3 still read as a 3?),
  read beside the classifier's held-out accuracy on real target images (about what a faithful
  translation can score) and beside the agreement of outputs unrelated to their inputs (sum over
  classes of input share x output share: 0.1 for ten even classes); also per input class.
- cycle error: the mean |x - round_trip(x)| over the inputs, in [0, 1] pixel units (models that hold
  both generators).
Both land in report["translation"] before the verdict, which reads the label agreement
(verdict.py: a translation that loses its input's content), and they head report["figures"].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genstudio.core import registry
from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.domains import split_domains
from genstudio.core.data.spec import load_dataset
from genstudio.core.errors import DataError, GenStudioError, check_finite
from genstudio.core.families.family import Capability
from genstudio.core.families.translation.model import DIRECTIONS
from genstudio.core.metrics import check_stop
from genstudio.core.metrics.classifier import ClassifierFeatures, PCAFeatures, feature_space
from genstudio.core.metrics.gauges import Band
from genstudio.core.metrics.report import DEFAULT_SAMPLES, Drawn, check_sample_counts, diagnose_with_samples, stage_progress

AtoB, BtoA = 0, 1
DIRECTION_NAMES = ("AtoB", "BtoA")               # how the command line names them
TRANSLATE_BATCH = 500
STYLE_SEED_OFFSET = 104_729      # the style codes use their own stream, not the inputs' order
# Label agreement over the classifier's held-out accuracy: good, fair, poor below (verdict.py's signal).
AGREEMENT_BAND = Band("ratio", 0.95, 0.8)
CONFUSIONS_SHOWN = 3


def is_translation(model) -> bool:
    """True for a model that keeps the TRANSLATION contract (its family says so, not its name)."""
    return Capability.TRANSLATION in registry.capabilities_of(model)


def parse_direction(text: str) -> int:
    """'AtoB' -> 0, 'BtoA' -> 1 (any case); DataError for anything else."""
    names = [name.lower() for name in DIRECTION_NAMES]
    if text.strip().lower() not in names:
        raise DataError(f"unknown direction '{text}': choose {' or '.join(DIRECTION_NAMES)}")
    return names.index(text.strip().lower())


@dataclass(frozen=True)
class DomainSpecs:
    """The data specs of a translation's inputs (`source`) and of the data it is compared with (`target`)."""

    source: str
    target: str
    direction: int


def domain_specs(direction: int, data: str | None = None, trained_on: str | None = None) -> DomainSpecs:
    """Which domains a translation is diagnosed on. `data` names the pair (A=SPEC,B=SPEC or a bundled
    pair's keyword) or the target domain alone, whose source is then the other domain of the pair
    the model was trained on (`trained_on`, its card's data spec). Without `data`, the trained pair."""
    if direction not in (AtoB, BtoA):
        raise DataError(f"direction must be 0 (A -> B) or 1 (B -> A), not {direction!r}")
    given = split_domains(data) if data else None
    trained = split_domains(trained_on) if trained_on else None
    pair = given or trained
    if pair is None:
        what = f"its training data {trained_on} is not a pair" if trained_on else "its card names no training data"
        raise DataError(f"a translation model is diagnosed on two domains, and {what}: give them as "
                        f"--data A=SPEC,B=SPEC (or a bundled pair such as mnist-thick)")
    source, target = pair if direction == AtoB else pair[::-1]
    if data and given is None:                  # the target domain alone: the source from the trained pair
        target = data.strip()
    return DomainSpecs(source, target, direction)


def load_domains(specs: DomainSpecs) -> tuple[InMemoryDataset, InMemoryDataset]:
    """(source, target) data sets of `specs`; DataError when either is not images or their shapes differ."""
    source, target = load_dataset(specs.source), load_dataset(specs.target)
    for role, spec, part in (("source", specs.source, source), ("target", specs.target, target)):
        if part.is_points or part.two_domains:
            raise DataError(f"{spec}: the {role} domain must be one image set, not "
                            f"{'2-D points' if part.is_points else 'two domains'}")
    if tuple(source.shape) != tuple(target.shape):
        raise DataError(f"the domains differ in image shape: {specs.source} holds {list(source.shape)}, "
                        f"{specs.target} holds {list(target.shape)}")
    return source, target


@dataclass
class Translated:
    """What translate_inputs made: inputs (n, C, H, W) as the source holds them (uint8), their labels
    (n,) or None, the translations (n, C, H, W) float [0, 1] on the CPU, the style codes (n, s) or
    None, and the cycle errors (n,) (mean |x - round trip| per input, [0, 1] units) or None."""

    index: torch.Tensor
    inputs: torch.Tensor
    labels: torch.Tensor | None
    fake: torch.Tensor
    style: torch.Tensor | None
    cycle_error: torch.Tensor | None


@torch.no_grad()
def translate_inputs(model, source: InMemoryDataset, n: int, direction: int = AtoB, seed: int = 0,
                     batch: int = TRANSLATE_BATCH, progress=None, should_stop=None) -> Translated:
    """Translate n images of `source`, drawn in an order seeded by `seed` (the same inputs and codes
    for the same seed, whatever the batch), each with its own style code (a multimodal model), and
    take the round trip back when the model holds both generators. The global RNG is left untouched."""
    if not 0 < n <= len(source):
        raise ValueError(f"cannot translate {n} of the {len(source)} images of {source.source or source.name}")
    rng = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(source), generator=rng)[:n]
    inputs = source.data.cpu()[index]                                                  # (n, C, H, W) uint8
    labels = None if source.labels is None else source.labels.cpu()[index]
    style_dim = int(model.style_dim)
    style = (torch.randn(n, style_dim, generator=torch.Generator().manual_seed(seed + STYLE_SEED_OFFSET))
             if style_dim else None)                                                   # (n, s)
    both_ways = int(model.directions) == 2
    device = getattr(model, "device", torch.device("cpu"))
    fakes, errors = [], []
    for start in range(0, n, batch):
        check_stop(should_stop, "translating the inputs")
        if progress is not None:
            progress(start / n, f"translating {DIRECTIONS[direction]} ({start}/{n})")
        x = (inputs[start:start + batch].float() / 255).to(device)                    # (b, C, H, W) in [0, 1]
        codes = None if style is None else style[start:start + batch].to(device)
        if both_ways:
            there, back = model.round_trip(x, direction=direction, style=codes)
            errors.append((back.float() - x).abs().flatten(1).mean(1).cpu())          # (b,)
        else:
            there = model.translate(x, direction=direction, style=codes)
        there = there.float().cpu()
        check_finite(there, "the translations" if start == 0 else f"from input {start} on, the translations")
        fakes.append(there)
    return Translated(index, inputs, labels, torch.cat(fakes), style, torch.cat(errors) if errors else None)


def label_agreement(space: ClassifierFeatures | PCAFeatures, translated: Translated, source: InMemoryDataset,
                    target: InMemoryDataset) -> dict:
    """{'agreement': share of translations the target's classifier labels as their input's label, or
    None with 'reason'; 'classifier_accuracy' (held out, real target images); 'independent' (outputs
    unrelated to inputs, at these class shares); 'per_class'; 'confusions', the commonest wrong reads}."""
    out = {"agreement": None, "reason": None, "classifier_accuracy": None, "independent": None, "per_class": None,
           "class_names": None, "confusions": [], "samples": len(translated.fake),
           "settings": {"rule": "the target domain's classifier labels a translation; it agrees when that label is "
                                "its input's", "classifier": space.describe()["description"]}}
    if translated.labels is None:
        out["reason"] = f"the source domain {source.source or source.name} has no labels"
        return out
    if not space.num_classes:
        out["reason"] = f"the target domain {target.source or target.name} has no labels: no classifier to read them"
        return out
    names = list(space.class_names)
    if list(source.label_names) != names:
        out["reason"] = (f"the domains' classes differ ({', '.join(source.label_names)} against {', '.join(names)}): "
                         "an input's label means nothing to the target's classifier")
        return out
    k = len(names)
    read = space.embed(translated.fake)[1]                                               # (n,) classes
    given = translated.labels.long()                                                     # (n,)
    agree = read == given
    input_share = torch.bincount(given, minlength=k).double() / len(given)               # (K,)
    output_share = torch.bincount(read, minlength=k).double() / len(read)                # (K,)
    confusion = torch.bincount(given * k + read, minlength=k * k).reshape(k, k)          # (K, K) input x read
    wrong = [(int(confusion[i, j]), i, j) for i in range(k) for j in range(k) if i != j and confusion[i, j] > 0]
    per_class = [float(agree[given == i].double().mean()) if bool((given == i).any()) else None for i in range(k)]
    out.update(agreement=float(agree.double().mean()), classifier_accuracy=float(space.header["holdout_accuracy"]),
               independent=float((input_share * output_share).sum()), per_class=per_class, class_names=names,
               confusions=[{"input": names[i], "read_as": names[j], "count": count,
                            "share_of_input": count / int(confusion[i].sum())}
                           for count, i, j in sorted(wrong, reverse=True)[:CONFUSIONS_SHOWN]])
    return out


def cycle_figures(model, translated: Translated) -> dict:
    """The mean cycle error over the inputs (and its spread), or None with the reason."""
    errors = translated.cycle_error
    if errors is None:
        return {"mean": None, "reason": "the model holds one generator: there is no way back", "samples": 0}
    return {"mean": float(errors.mean()), "median": float(errors.median()), "max": float(errors.max()),
            "samples": len(errors), "settings": {"rule": "mean |x - round_trip(x)| per input, pixels in [0, 1]; "
                                                         "the way back with the input's own style code"}}


def translation_rows(section: dict) -> list[dict]:
    """report["figures"] rows (gauges.figure_rows' keys) for the label agreement and the cycle error."""
    rows = []
    agreement = section["label_agreement"]
    if agreement["agreement"] is not None:
        value, own = agreement["agreement"], agreement["classifier_accuracy"]
        rows.append({"key": "label_agreement", "name": "Keeps the input's class",
                     "technical": "label agreement (target classifier's label = input's label)",
                     "definition": "Share of translated images the target domain's classifier labels as their "
                                   "input's class (a translated 3 still reads as a 3); beside it, the classifier's "
                                   "held-out accuracy on real target images.",
                     "value": value, "real": own, "gauge": AGREEMENT_BAND.gauge(value, own),
                     "text": f"{value:.3f}", "real_text": f"{own:.3f}", "band": AGREEMENT_BAND.describe()})
    cycle = section["cycle_error"]
    if cycle["mean"] is not None:
        rows.append({"key": "cycle_error", "name": "Round trip error", "technical": "cycle error, mean |x - G_back(G(x))|",
                     "definition": "How far an input's round trip (translated and translated back) lands from "
                                   "the input, in pixel units of [0, 1]; 0 is a perfect return.",
                     "value": cycle["mean"], "real": None, "gauge": None, "text": f"{cycle['mean']:.4f}",
                     "real_text": "n/a", "band": None})
    return rows


def diagnose_translation(model, source: InMemoryDataset, target: InMemoryDataset, samples: int = DEFAULT_SAMPLES,
                         seed: int = 0, direction: int = AtoB, progress=None, should_stop=None, cache_dir=None,
                         space: ClassifierFeatures | PCAFeatures | None = None) -> tuple[dict, Drawn]:
    """The full report (report.py) of a translation model's translations of `source` (n = min(samples,
    its size) inputs) against `target`'s images, in target's feature space (or `space`), with
    report["translation"] (module docstring). Drawn.fake[i] translates source image
    report["translation"]["inputs"][i]."""
    if not is_translation(model):
        raise GenStudioError(f"{type(model).__name__} is not a translation model")
    if direction not in (AtoB, BtoA):
        raise GenStudioError(f"direction must be 0 (A -> B) or 1 (B -> A), not {direction!r}")
    if direction >= int(model.directions):
        raise GenStudioError("this model holds one generator (A -> B) only: it has no B -> A")
    for role, part in (("source", source), ("target", target)):
        if tuple(part.shape) != tuple(model.data_shape):
            raise ValueError(f"the model translates images of shape {tuple(model.data_shape)} but the {role} "
                             f"domain {part.source or part.name} holds {tuple(part.shape)}")
    n = min(samples, len(source))
    check_sample_counts(n, len(target))        # before any translation or classifier
    translated = translate_inputs(model, source, n, direction, seed, progress=stage_progress(progress, 0.0, 0.2),
                                  should_stop=should_stop)
    if space is None:
        space = feature_space(target, cache_dir, stage_progress(progress, 0.2, 0.3), should_stop)
    section = {"direction": DIRECTIONS[direction], "source": source.describe(), "inputs": translated.index.tolist(),
               "samples_asked": samples, "samples": n,
               "style": (f"one standard-normal style code of {translated.style.shape[1]} numbers per input (seed "
                         f"{seed} + {STYLE_SEED_OFFSET})" if translated.style is not None else None),
               "label_agreement": label_agreement(space, translated, source, target),
               "cycle_error": cycle_figures(model, translated)}
    report, drawn = diagnose_with_samples(model, target, samples=n, seed=seed, progress=stage_progress(progress, 0.3, 1.0),
                                          should_stop=should_stop, space=space, fake=translated.fake,
                                          sections={"translation": section}, latent_path_length=False)
    report["figures"] = translation_rows(section) + report["figures"]
    return report, drawn
