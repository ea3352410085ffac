"""What a diagnostics report says is wrong, in one plain sentence: missing modes, low fidelity, both
or neither, with what to try.

Missing modes and low fidelity move most figures the same way, and so does a mere change of style:
real digits by other writers lower coverage and NDB as much as a data set with a class removed
(docs/diagnostics.md, "Calibration"). The verdict therefore reads only signals that separate them,
each measured against the real data's own value at the same sample count (report["real_reference"]):
- low fidelity: precision more than 0.1 below the real data's own (samples outside the data's
  neighbourhoods), density below half the real data's, trimmed precision (only the real
  neighbourhoods no wider than the median) below half the real data's: a constant grey image that
  falls in the wide neighbourhoods of outlier digits scores precision 1 but trimmed precision 0;
  images blurrier or noisier than the data (sharpness outside 1/2-2x); under half of the 2-D samples
  near a mode;
- repetition: the collision count of the samples outside the largest group of near-duplicates puts
  the support below the number of samples drawn (duplicates.py). Read like the mode signals below:
  blurred samples crowd together in feature space, so a blurry 2-D-latent VAE reads "support ~600"
  at 5,000 samples while its precision is far below the data's;
- mode signals: classes starved or never drawn (classes.py: generated share below half the data's
  with confidence), regions of the real data left empty (regions.py), 2-D modes without a
  high-quality sample, one output making more than 5 % of the samples. These and repetition are
  missing modes when the samples are faithful: no low-fidelity signal, or precision at or above the
  real data's own (a sharp single-class generator is missing modes whatever sharpness says).
  Beside a low-fidelity signal with lower precision, counted signals (repetition, classes, 2-D
  modes) still are unless the samples are blurrier than the data (blur crowds samples together and
  towards blob-like classes; noise does not: a collapsed, noisy GAN drawing 12 distinct images is
  missing modes); regions left empty, which any shift empties, are then listed as unclear.
- a translation (report["translation"], translation_report.py) that loses its input's content: label
  agreement below AGREEMENT_FRACTION of the target classifier's held-out accuracy (a translated 3 no
  longer reads as a 3). It counts as low fidelity, fidelity to the input rather than to the data, and
  has a clause of its own; the rules above read only the image signals.
NDB, coverage, recall and the near-duplicate fraction stay in the report as figures with their real
reference and gauge (gauges.py); they no longer decide the verdict. Smaller holes (NDB bins drawn at
under a quarter of their share) and repeated images are notes, shown with pictures.
"""

from __future__ import annotations

from genstudio.core.metrics.classes import MIN_FRACTION

PRECISION_DROP = 0.1         # precision below the real data's own by more than this: low fidelity
FAIR_PRECISION_DROP = 0.03   # ... by more than this: the sentence says "mostly" (gauges.py: "fair")
DENSITY_FRACTION = 0.5       # density below this fraction of the real data's own
TRIMMED_FRACTION = 0.5       # trimmed precision below this fraction of the real data's own
SHARPNESS_BAND = (0.5, 2.0)  # Laplacian energy ratio, generated / real
HQ_SIGNAL = 50.0             # % high-quality samples on the 2-D mixtures
CLUSTER_SIGNAL = 0.05        # one output making more than this share of the samples: partial collapse
CLUSTER_NOTE = 0.01          # ... more than this (and NOTE_COPIES copies): a note with its picture
NOTE_COPIES = 5
AGREEMENT_FRACTION = 0.8     # a translation's label agreement below this x the classifier's accuracy: content lost

THRESHOLDS = {"precision_drop": PRECISION_DROP, "density_fraction": DENSITY_FRACTION,
              "trimmed_precision_fraction": TRIMMED_FRACTION, "sharpness_band": list(SHARPNESS_BAND),
              "hq_percent": HQ_SIGNAL, "largest_cluster_share": CLUSTER_SIGNAL,
              "cluster_note_share": CLUSTER_NOTE, "class_covered_fraction": MIN_FRACTION,
              "label_agreement_fraction": AGREEMENT_FRACTION}


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _fidelity(report: dict, reference: dict) -> list[str]:
    out = []
    pr, real_pr = report["prdc"], reference["prdc"]
    if pr["precision"] < real_pr["precision"] - PRECISION_DROP:
        out.append(f"precision {pr['precision']:.2f} against the real data's own {real_pr['precision']:.2f}: "
                   "many samples lie outside the data's neighbourhoods")
    if pr["density"] < DENSITY_FRACTION * real_pr["density"]:
        out.append(f"density {pr['density']:.2f} against the real data's own {real_pr['density']:.2f}")
    if pr["precision_trimmed"] < TRIMMED_FRACTION * real_pr["precision_trimmed"]:
        out.append(f"trimmed precision {pr['precision_trimmed']:.2f} against the real data's own "
                   f"{real_pr['precision_trimmed']:.2f}: samples fall only in the neighbourhoods of outlier data")
    sharp = report.get("sharpness")
    if sharp and sharp["ratio"] is not None:
        low, high = SHARPNESS_BAND
        if sharp["ratio"] < low:
            out.append(f"sharpness {sharp['ratio']:.2f} x the data's: blurrier than real images")
        elif sharp["ratio"] > high:
            out.append(f"sharpness {sharp['ratio']:.2f} x the data's: noisier than real images")
    toy = report.get("toy")
    if toy and toy["hq_percent"] < HQ_SIGNAL:
        out.append(f"{toy['hq_percent']:.1f} % high-quality samples (< {HQ_SIGNAL:g} %)")
    return out


def _content(report: dict) -> tuple[list[str], str | None]:
    """(signals, clause) of a translation's label agreement: a signal when it is below
    AGREEMENT_FRACTION x the classifier's held-out accuracy; the clause says how much is kept either way."""
    agreement = (report.get("translation") or {}).get("label_agreement") or {}
    value = agreement.get("agreement")
    if value is None:
        return [], None
    accuracy, independent = agreement["classifier_accuracy"], agreement["independent"]
    if value >= AGREEMENT_FRACTION * accuracy:
        return [], f"{100 * value:.0f} % of the translations keep their input's class (label agreement {value:.2f})"
    worst = agreement["confusions"][0] if agreement["confusions"] else None
    swap = (f"; the commonest slip reads {100 * worst['share_of_input']:.0f} % of the {worst['input']}s as "
            f"{worst['read_as']}" if worst else "")
    signal = (f"label agreement {value:.2f}: the target domain's classifier reads only {100 * value:.0f} % of the "
              f"translations as their input's class (real target images: {accuracy:.2f}; outputs unrelated to their "
              f"inputs: {independent:.2f}){swap}")
    return [signal], (f"the translation loses its input's content: only {100 * value:.0f} % of the translated "
                      f"images keep their input's class (label agreement {value:.2f}, the classifier's own accuracy "
                      f"{accuracy:.2f})")


def _class_signals(classes: dict) -> tuple[list[str], list[str]]:
    """(signals, plain clauses) for classes never drawn or starved."""
    names = classes["class_names"]
    never = [i for i, covered in enumerate(classes["covered"]) if not covered]
    starved = [i for i in classes.get("starved", []) if i not in never]
    signals, clauses = [], []
    if never:
        signals.append(f"{len(never)} of {classes['num_classes']} classes hold under {100 * MIN_FRACTION:g} % of the "
                       f"samples: {_names([names[i] for i in never])}")
        verb = "is" if len(never) == 1 else "are"
        clauses.append(f"{len(never)} of {classes['num_classes']} classes {verb} never or almost never drawn "
                       f"({_names([names[i] for i in never])})")
    if starved:
        parts = [f"{names[i]} at {classes['share_ratio'][i]:.2f} x its share" for i in starved]
        signals.append("starved classes (drawn under half as often as in the data, with confidence): " + _names(parts))
        clauses.append(f"{_plural(len(starved), 'class is', 'classes are')} drawn far less often than in the data "
                       f"({_names(parts)})")
    return signals, clauses


def _flagged_classes(report: dict) -> set[int]:
    """Classes already named as never drawn or starved: their regions are not named again."""
    classes = report.get("classes")
    if not classes:
        return set()
    return {i for i, covered in enumerate(classes["covered"]) if not covered} | set(classes.get("starved", []))


def _region_signals(regions: dict, flagged: set[int]) -> tuple[list[str], list[str]]:
    empty = [r for r in regions["empty"] if r["class"] not in flagged]
    if not empty:
        return [], []
    parts = [f"{r['name']} ({r['real']} real, {r['generated']} generated)" for r in empty]
    signal = f"{_plural(len(empty), 'region', 'regions')} of the real data left nearly empty: " + _names(parts)
    named = parts if len(parts) <= 3 else parts[:3] + [f"{len(parts) - 3} more"]
    clause = f"{_plural(len(empty), 'region', 'regions')} of the data {'is' if len(empty) == 1 else 'are'} left out: " + _names(named)
    return [signal], [clause]


def _repetition(dup: dict, samples: int) -> tuple[str | None, str | None]:
    """(signal, clause) when the support outside the largest cluster is below the sample count."""
    support = dup["support"]["estimate"]
    if support is None or support >= samples:
        return None, None
    clause = ("the generator draws the same image every time" if support < 1.5
              else f"the generator repeats itself (about {support:.0f} distinct images)")
    return (f"the generator repeats itself: {dup['distinct']} distinct outputs among {samples} samples, support "
            f"~{support:.0f} by the collision count"), clause


def _cluster_signal(dup: dict) -> tuple[list[str], list[str], list[str]]:
    """(signals, clauses, notes) for the largest repeated output."""
    clusters = dup["clusters"]
    if not clusters:
        return [], [], []
    top = clusters[0]
    text = f"{top['size']} copies of one image ({100 * top['share']:.1f} % of the samples)"
    if top["share"] > CLUSTER_SIGNAL:
        return [f"one output is repeated: {text}"], [f"one image makes {100 * top['share']:.0f} % of the samples"], []
    notes = [f"{c['size']} copies of one image ({100 * c['share']:.1f} % of the samples)" for c in clusters
             if c["share"] > CLUSTER_NOTE and c["size"] >= NOTE_COPIES]
    return [], [], notes


def _mode_figures(report: dict) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(counted, regional): (signal, clause) pairs. Counted ones (classes, 2-D modes) are read off
    counts that only blur confounds; regions are left empty by any shift of the samples."""
    counted, regional = [], []
    if report.get("classes"):
        counted += list(zip(*_class_signals(report["classes"])))
    regional += list(zip(*_region_signals(report["regions"], _flagged_classes(report))))
    toy = report.get("toy")
    if toy and toy["modes_covered"] < toy["num_modes"]:
        counted.append((f"only {toy['modes_covered']} of {toy['num_modes']} modes have a high-quality sample",
                        f"{toy['num_modes'] - toy['modes_covered']} of {toy['num_modes']} modes are never drawn"))
    return counted, regional


def _kept_clause(report: dict) -> str:
    classes = report.get("classes")
    if classes:
        over = [classes["class_names"][i] for i, r in enumerate(classes.get("share_ratio") or []) if r and r > 2]
        base = f"All {classes['num_classes']} classes are drawn"
        return base + (f", {_names(over)} more than twice as often as in the data" if over else " in their proportions")
    toy = report.get("toy")
    if toy:
        return f"All {toy['num_modes']} modes are drawn"
    return "No region of the data is left empty"


def _fidelity_clause(report: dict, reference: dict, fidelity: list[str]) -> str:
    pr, real = report["prdc"]["precision"], reference["prdc"]["precision"]
    sharp = (report.get("sharpness") or {}).get("ratio")
    if not fidelity:
        if sharp is not None and sharp < 0.8:
            return "images look like the data, slightly less sharp"
        if sharp is not None and sharp > 1.25:
            return "images look like the data, slightly noisier"
        looks = "look" if pr >= real - FAIR_PRECISION_DROP else "mostly look"
        return f"images {looks} like the data (precision {pr:.2f}, the data's own {real:.2f})"
    if sharp is not None and sharp < SHARPNESS_BAND[0]:
        return "images are much blurrier than the data"
    if sharp is not None and sharp > SHARPNESS_BAND[1]:
        return "images are much noisier than the data"
    return f"many images do not look like the data (precision {pr:.2f}, the data's own {real:.2f})"


# What to try, by finding and by family (report["generator"]["family"]); None: any family.
MISSING_ADVICE = {
    None: "Look at the pictures of what is missing: they show which classes or ways of drawing are lost.",
    "gan": "Train longer at a lower learning rate, add an R1 or gradient penalty, augment D (DiffAugment / ADA), "
           "or restart from a checkpoint taken before the collapse.",
    "vae": "A larger latent holds every class more evenly (a 2-D latent, made for the map, leaves some rare).",
    "likelihood": "Likelihood models seldom drop modes: check that the training data holds every class, then "
                  "train longer.",
}
FIDELITY_ADVICE = {
    None: "Train longer; compare checkpoints by FD and KID rather than by eye.",
    "gan": "Check that D does not overpower G (D's loss near 0); an EMA of G's weights often sharpens samples.",
    "vae": "A lower KL weight or more latent dimensions sharpen samples.",
    "diffusion": "More sampling steps (the Steps setting) sharpen samples.",
    "flow": "More coupling layers, or sampling at a lower temperature.",
    "autoregressive": "More layers widen the receptive field; longer training sharpens the strokes.",
}
REPETITION_ADVICE = ("The generator repeats outputs, a classic mode collapse: lower the learning rate, add a "
                     "gradient penalty or minibatch discrimination, or restart from an earlier checkpoint.")
CONDITIONAL_ADVICE = "A class-conditional model: check that every label is fed during training."
CONTENT_ADVICE = ("The translation loses its input's content: a higher cycle weight ties each output to its input, "
                  "and longer training helps; the Inspect tab's cycle-error histogram shows the inputs it fails on.")
NOTHING_ADVICE = ("Nothing to fix at this sample count. To compare checkpoints, read FD and KID beside the real "
                  "data's own values; more samples tighten every figure.")
FAMILY_GROUP = {"stylegan": "gan", "gan": "gan", "vae": "vae", "flow": "likelihood", "diffusion": "likelihood",
                "autoregressive": "likelihood"}


def _advice(report: dict, repetition: bool, missing: bool, fidelity: bool, notes: bool,
            content: bool = False) -> list[str]:
    family = report["generator"]["family"]
    group = FAMILY_GROUP.get(family)
    out = [CONTENT_ADVICE] if content else []
    if repetition:
        out.append(REPETITION_ADVICE)
    if missing:
        out.append(MISSING_ADVICE[None])
        if group and not (repetition and group == "gan"):
            out.append(MISSING_ADVICE[group])
        if report["generator"].get("num_classes"):
            out.append(CONDITIONAL_ADVICE)
    if fidelity:
        out.append(FIDELITY_ADVICE.get(family) or FIDELITY_ADVICE.get(group) or FIDELITY_ADVICE[None])
    if not out:
        out.append(NOTHING_ADVICE)
    if notes and not missing:
        out.append("Smaller things worth a look are listed as notes, with pictures.")
    return out


def verdict(report: dict) -> dict:
    """{'verdict': 'missing modes' | 'low fidelity' | 'missing modes and low fidelity' | 'no problem found',
    'sentence': one plain sentence, 'advice': what to try, 'missing_modes', 'low_fidelity', 'unclear':
    the signals behind it, 'notes': what is worth seeing but is not a failure}."""
    reference = report["real_reference"]
    fidelity = _fidelity(report, reference)        # the images' fidelity to the data; content: to their inputs
    content, content_clause = _content(report)
    # Which mode signals keep their name beside low fidelity. All of them when precision is at or
    # above the real data's own (a sharp single-class generator is missing modes). Otherwise counted
    # signals (repetition, classes, 2-D modes) keep it unless the samples are blurrier than the data:
    # blur crowds samples together in feature space (near-duplicates) and towards the classes a
    # classifier calls blobs, while noise does neither (a collapsed, noisy MLP GAN drawing 12
    # distinct images of 3s and 8s is missing modes). Regions are left empty by any shift: unclear.
    precise = report["prdc"]["precision"] >= reference["prdc"]["precision"]
    sharp = (report.get("sharpness") or {}).get("ratio")
    blurred = sharp is not None and sharp < SHARPNESS_BAND[0]
    counted, regional = _mode_figures(report)
    repetition, repetition_clause = _repetition(report["duplicates"], report["fake_samples"])
    cluster_signals, cluster_clauses, notes = _cluster_signal(report["duplicates"])
    if repetition:
        counted.insert(0, (repetition, repetition_clause))
    else:                          # a repeating generator's largest group is part of that story
        counted += list(zip(cluster_signals, cluster_clauses))
    kept = counted if (not fidelity or precise or not blurred) else []
    kept += regional if (not fidelity or precise) else []
    doubtful = [pair for pair in counted + regional if pair not in kept]
    missing = [signal for signal, _ in kept]
    unclear = [f"{signal} (low fidelity alone can cause this)" for signal, _ in doubtful]
    flagged = _flagged_classes(report) | {r["class"] for r in report["regions"]["empty"]}
    notes += [f"{r['name']} is rarely drawn: {r['real']} real, {r['generated']} generated"
              for r in report.get("sparse_regions", []) if r["class"] is None or r["class"] not in flagged][:3]
    name = {(True, True): "missing modes and low fidelity", (True, False): "missing modes",
            (False, True): "low fidelity", (False, False): "no problem found"}[(bool(missing), bool(fidelity or content))]

    clauses = [clause for _, clause in kept]
    fidelity_clause = _fidelity_clause(report, reference, fidelity)
    doubted = "; ".join(clause for _, clause in doubtful)
    if clauses:
        parts = clauses + [fidelity_clause] + ([f"possibly from that alone, {doubted}"] if doubtful else [])
    elif doubtful:              # the fidelity first, then what it alone may explain
        parts = [fidelity_clause, f"possibly from that alone, {doubted}"]
    else:
        parts = [_kept_clause(report), fidelity_clause]
    if content_clause:
        parts.append(content_clause)
    first = "; ".join(parts)
    sentence = first[0].upper() + first[1:] + "."
    advice = _advice(report, bool(repetition and repetition in missing), bool(missing), bool(fidelity), bool(notes),
                     bool(content))
    return {"verdict": name, "sentence": sentence, "advice": advice, "missing_modes": missing,
            "low_fidelity": fidelity + content, "unclear": unclear, "notes": notes}
