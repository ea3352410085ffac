"""What a diagnostics report says is wrong: missing modes, low fidelity, both, or neither.

The two failures move most figures the same way. Off-manifold samples (blurred, noisy) neither
cover real neighbourhoods nor fall in the real k-means bins, so coverage, recall, NDB and diversity
fall as they do when modes are missing; blur also pulls samples together in feature space (more
near-duplicates) and towards the classes a classifier calls blobs (on MNIST, 8), so even the class
histogram shifts. The figures are therefore read in three groups:
- low fidelity: precision or density below 1/2 (real-like samples give ~0.85 and ~1), images
  blurrier (sharpness ratio < 1/2) or noisier (> 2) than the data, or under half of the 2-D
  samples near a mode;
- repetition: the birthday-paradox collision count puts the support below the number of samples
  drawn, so the generator demonstrably repeats itself. Missing modes whatever the fidelity;
- mode signals: classes (or 2-D modes) under 1 % of the samples, a class share outside [1/2, 2] x
  the data's, more near-duplicates than 5 % and twice the real data's own fraction at the same
  threshold, low coverage, NDB/K > 0.1, low diversity. They are missing modes when the samples are
  faithful (no low-fidelity signal); beside a low-fidelity signal they are listed as "unclear".
On MNIST (tests/core/test_verdict.py): real digits give no signal; dropping three classes gives
missing modes only; a Gaussian blur of sigma 1 px gives low fidelity only.
"""

from __future__ import annotations

from genstudio.core.metrics.classes import MIN_FRACTION

COVERAGE_SIGNAL = 0.5        # coverage below this fraction of the same-distribution expectation
DUPLICATE_SIGNAL = 0.05      # more than 5x the ~1 % duplicate fraction of real-like samples ...
DUPLICATE_REAL_FACTOR = 2.0  # ... and more than twice what the real data itself shows at the threshold
NDB_SIGNAL = 0.1             # NDB/K; the doc's "every 9 removed" MNIST split gives 0.11
DIVERSITY_SIGNAL = 0.5       # generated pairwise spread below half the real one
HQ_SIGNAL = 50.0             # % high-quality samples on the 2-D mixtures
CLASS_SHARE_FACTOR = 2.0     # a class's share outside [1/f, f] x its share of the data
PRECISION_SIGNAL = 0.5       # real-like samples: ~0.8 at k = 3
DENSITY_SIGNAL = 0.5         # real-like samples: ~1
SHARPNESS_BAND = (0.5, 2.0)  # Laplacian energy ratio, generated / real

THRESHOLDS = {"coverage_fraction_of_expected": COVERAGE_SIGNAL, "duplicate_fraction": DUPLICATE_SIGNAL,
              "duplicate_real_factor": DUPLICATE_REAL_FACTOR, "ndb_over_k": NDB_SIGNAL,
              "diversity_ratio": DIVERSITY_SIGNAL, "hq_percent": HQ_SIGNAL, "class_share_factor": CLASS_SHARE_FACTOR,
              "precision": PRECISION_SIGNAL, "density": DENSITY_SIGNAL, "sharpness_band": list(SHARPNESS_BAND)}


def _class_signals(classes: dict) -> list[str]:
    out = []
    if classes["classes_covered"] < classes["num_classes"]:
        out.append(f"only {classes['classes_covered']} of {classes['num_classes']} classes hold "
                   f">= {100 * MIN_FRACTION:g} % of the samples")
    expected = classes.get("data_proportions") or [1.0 / classes["num_classes"]] * classes["num_classes"]
    skewed = [f"{name} {100 * p:.1f} % (data {100 * q:.1f} %)"
              for name, p, q, covered in zip(classes["class_names"], classes["proportions"], expected, classes["covered"])
              if covered and q > 0 and not 1 / CLASS_SHARE_FACTOR <= p / q <= CLASS_SHARE_FACTOR]
    if skewed:
        out.append(f"class shares outside {1 / CLASS_SHARE_FACTOR:g}-{CLASS_SHARE_FACTOR:g} x the data's: "
                   + ", ".join(skewed))
    return out


def _duplicate_signals(dup: dict, samples: int) -> tuple[str | None, str | None]:
    """(repetition, near-duplicates): the first when the collision support is below the sample
    count, the second when the duplicate fraction passes its limit without that."""
    support = dup["collision_support"]["estimate"]
    if support is not None and support < samples:
        return (f"the generator repeats itself: {dup['duplicate_pairs']} near-duplicate pairs among {samples} "
                f"samples put its support at ~{support:.0f} distinct outputs"), None
    limit = max(DUPLICATE_SIGNAL, DUPLICATE_REAL_FACTOR * dup.get("real_duplicate_fraction", 0.0))
    if dup["duplicate_fraction"] <= limit:
        return None, None
    return None, (f"{100 * dup['duplicate_fraction']:.1f} % of the samples have a near-duplicate (> {100 * limit:.3g} %; "
                  f"real data {100 * dup.get('real_duplicate_fraction', 0.0):.1f} % at the same threshold)")


def _fidelity_signals(report: dict) -> list[str]:
    out = []
    pr = report["prdc"]
    if pr["precision"] < PRECISION_SIGNAL:
        out.append(f"precision {pr['precision']:.3f} < {PRECISION_SIGNAL:g}: most samples lie outside the real data's "
                   "neighbourhoods")
    if pr["density"] < DENSITY_SIGNAL:
        out.append(f"density {pr['density']:.3f} < {DENSITY_SIGNAL:g} (real-like samples give ~1)")
    sharp = report.get("sharpness")
    if sharp and sharp["ratio"] is not None:
        low, high = SHARPNESS_BAND
        if sharp["ratio"] < low:
            out.append(f"sharpness {sharp['ratio']:.2f} x the data's (< {low:g}): blurrier than real images")
        elif sharp["ratio"] > high:
            out.append(f"sharpness {sharp['ratio']:.2f} x the data's (> {high:g}): noisier than real images")
    toy = report.get("toy")
    if toy and toy["hq_percent"] < HQ_SIGNAL:
        out.append(f"{toy['hq_percent']:.1f} % high-quality samples (< {HQ_SIGNAL:g} %)")
    return out


def _mode_signals(report: dict) -> list[str]:
    out = []
    if report.get("classes"):
        out += _class_signals(report["classes"])
    toy = report.get("toy")
    if toy and toy["modes_covered"] < toy["num_modes"]:
        out.append(f"only {toy['modes_covered']} of {toy['num_modes']} modes have a high-quality sample")
    pr = report["prdc"]
    if pr["coverage"] < COVERAGE_SIGNAL * pr["coverage_expected_same_distribution"]:
        out.append(f"coverage {pr['coverage']:.3f} is below {COVERAGE_SIGNAL:g} x the "
                   f"{pr['coverage_expected_same_distribution']:.3f} expected of real data")
    if report["ndb"]["ndb_over_k"] > NDB_SIGNAL:
        out.append(f"NDB/K {report['ndb']['ndb_over_k']:.2f} > {NDB_SIGNAL:g}: the generator fills the "
                   "k-means bins of the real data unevenly")
    ratio = report["diversity"]["ratio"]
    if ratio is not None and ratio < DIVERSITY_SIGNAL:
        out.append(f"diversity {ratio:.2f} x that of real samples (< {DIVERSITY_SIGNAL:g})")
    return out


def verdict(report: dict) -> dict:
    """{'verdict': one of 'missing modes', 'low fidelity', 'missing modes and low fidelity', 'no
    problem found'; 'missing_modes', 'low_fidelity', 'unclear': the signals behind it}."""
    repetition, near_duplicates = _duplicate_signals(report["duplicates"], report["fake_samples"])
    modes = _mode_signals(report) + ([near_duplicates] if near_duplicates else [])
    fidelity = _fidelity_signals(report)
    missing = [repetition] if repetition else []
    unclear = []
    if fidelity:
        unclear = [f"{s} (low fidelity alone can cause this)" for s in modes]
    else:
        missing += modes
    name = {(True, True): "missing modes and low fidelity", (True, False): "missing modes",
            (False, True): "low fidelity", (False, False): "no problem found"}[(bool(missing), bool(fidelity))]
    return {"verdict": name, "missing_modes": missing, "low_fidelity": fidelity, "unclear": unclear}
