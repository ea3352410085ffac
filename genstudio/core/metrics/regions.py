"""Regions of the real data that the generator leaves (nearly) empty: the missing-modes signal that
does not fire on a change of style.

NDB (ndb.py) counts k-means bins whose shares differ significantly, and at a few thousand samples
every change of style is significant: real digits by other writers give NDB/K 0.51, more than a data
set with a class removed (docs/diagnostics.md, "Calibration"). What tells a lost mode from a moved
one is that a lost mode's region is left (nearly) empty, not merely under-filled. So:

- regions: for labelled data, each class's real samples split in two by k-means in feature space
  (the two main ways of writing a digit, K = 2 per class), with generated samples assigned by their
  predicted class; for unlabelled data, K = 20 k-means bins of all real samples;
- per region the generated share g/M against the real share r/N, and an upper confidence bound on
  that ratio: given the n = r + g samples in the region, g ~ Binomial(n, pi) with
  pi = rho M / (rho M + N) for a ratio rho, so the one-sided Clopper-Pearson bound on pi at level
  alpha / regions (Bonferroni) gives rho_upper = pi_u / (1 - pi_u) * N / M;
- a region is **left empty** when rho_upper < 1/3: with confidence, the generator draws it at most a
  third as often as the data.

Measured (docs/diagnostics.md, both calibration data sets, 2,000 and 5,000 samples): a way of
writing 7 removed gives rho_upper 0.10-0.21; every style change whose fidelity stays within 0.1 of
the real data's precision stays at 0.39 or above (other writers 0.39-0.61). Smaller holes (the
demo GAN leaves crossed 7s, 37 real vs 1 generated at 5,000, under 1 % of the data) show in NDB's
finer bins: `sparse_bins` lists the bins NDB finds different that are drawn at under a quarter of
their real share (and under half with 95 % confidence, so that 4 real samples against 0 generated
do not count), as notes with pictures, not as missing modes.
Written here because it is a dozen lines over the k-means and neighbour tables genstudio already
builds; the bound is scipy's beta quantile (scikit-learn depends on scipy).
"""

from __future__ import annotations

import torch

ALPHA = 0.05
EMPTY_RATIO = 1.0 / 3.0          # rho_upper below this: the region is left empty
SPARSE_RATIO = 0.25              # NDB's different bins drawn below this ratio: a note with pictures
SPARSE_BOUND = 0.5               # ... whose ratio is below this with confidence 1 - alpha (not Bonferroni)
HALVES_PER_CLASS = 2
UNLABELLED_BINS = 20
EXAMPLES = 8                     # real and generated images kept per region for the pictures


def ratio_upper(generated: int, real: int, n_generated: int, n_real: int, alpha: float) -> float | None:
    """One-sided upper confidence bound (level 1 - alpha) on (g/M) / (r/N) from counts g, r; None
    when the real data has no sample there (no bound)."""
    from scipy.stats import beta  # scikit-learn's dependency; imported here, it is slow to import

    if real == 0:
        return None
    pi_upper = float(beta.ppf(1 - alpha, generated + 1, real))
    return pi_upper / (1 - pi_upper) * n_real / n_generated


def _bound(row: dict) -> float:
    return float("inf") if row["ratio_upper"] is None else row["ratio_upper"]


def _kmeans(x: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    from sklearn.cluster import KMeans

    return torch.from_numpy(KMeans(k, n_init=4, random_state=seed).fit(x.double().numpy()).cluster_centers_).float()


def _nearest(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    return torch.cdist(x, centres).argmin(1) if len(x) else torch.zeros(0, dtype=torch.long)


def _region_row(name: str, klass: int | None, real_members: torch.Tensor, fake_members: torch.Tensor,
                centre: torch.Tensor, real_f: torch.Tensor, fake_f: torch.Tensor, alpha: float) -> dict:
    """Counts, shares, ratio and its bound, and the images to show: real members nearest the centre and
    the generated samples nearest to those (what the generator draws in place of the region)."""
    n_real, n_fake = len(real_f), len(fake_f)
    r, g = int(real_members.sum()), int(fake_members.sum())
    real_index = torch.nonzero(real_members).flatten()
    order = torch.cdist(real_f[real_index], centre[None]).flatten().argsort()
    examples = real_index[order[:EXAMPLES]]                                       # (<= 8,) into real
    nearest = torch.cdist(real_f[examples], fake_f).argmin(1) if len(examples) else examples
    return {"name": name, "class": klass, "real": r, "generated": g,
            "real_share": r / n_real, "generated_share": g / n_fake,
            "ratio": (g / n_fake) / (r / n_real) if r else None,
            "ratio_upper": ratio_upper(g, r, n_fake, n_real, alpha),
            "real_examples": [int(i) for i in examples], "generated_nearest": [int(i) for i in nearest]}


def empty_regions(real_f: torch.Tensor, fake_f: torch.Tensor, real_labels: torch.Tensor | None = None,
                  fake_labels: torch.Tensor | None = None, class_names: list[str] | None = None,
                  seed: int = 0, alpha: float = ALPHA) -> dict:
    """Every region with its figures, the ones left empty first (module docstring).

    real_f (N, F), fake_f (M, F); real_labels (N,) and fake_labels (M,) (the classifier's predictions
    for generated samples) for labelled data, else None."""
    real_f, fake_f = real_f.detach().cpu().float(), fake_f.detach().cpu().float()
    rows = []
    if real_labels is not None and fake_labels is not None:
        kind = f"each class's real samples split in {HALVES_PER_CLASS} by k-means (ways of writing it)"
        classes = int(max(int(real_labels.max()), int(fake_labels.max()) if len(fake_labels) else 0)) + 1
        names = class_names or [str(c) for c in range(classes)]
        tests = 0
        for c in range(classes):
            in_real, in_fake = real_labels == c, fake_labels == c
            if int(in_real.sum()) < 2 * HALVES_PER_CLASS:
                continue
            centres = _kmeans(real_f[in_real], HALVES_PER_CLASS, seed)             # (2, F)
            real_part = torch.full((len(real_f),), -1, dtype=torch.long)
            fake_part = torch.full((len(fake_f),), -1, dtype=torch.long)
            real_part[in_real] = _nearest(real_f[in_real], centres)
            fake_part[in_fake] = _nearest(fake_f[in_fake], centres)
            for j in range(HALVES_PER_CLASS):
                rows.append((f"a way of drawing {names[c]}", c, real_part == j, fake_part == j, centres[j]))
            tests += HALVES_PER_CLASS
    else:
        kind = f"{UNLABELLED_BINS} k-means bins of the real samples"
        centres = _kmeans(real_f, min(UNLABELLED_BINS, len(real_f)), seed)
        real_bin, fake_bin = _nearest(real_f, centres), _nearest(fake_f, centres)
        for j in range(len(centres)):
            rows.append((f"region {j + 1}", None, real_bin == j, fake_bin == j, centres[j]))
        tests = len(centres)
    level = alpha / max(tests, 1)
    regions = [_region_row(name, c, rm, fm, centre, real_f, fake_f, level) for name, c, rm, fm, centre in rows]
    regions.sort(key=_bound)
    return {"regions": regions,
            "empty": [row for row in regions if _bound(row) < EMPTY_RATIO],
            "settings": {"kind": kind, "alpha": alpha, "tests": tests, "empty_rule":
                         (f"the generated share is below {EMPTY_RATIO:.2g} x the real share with confidence "
                          f"{1 - alpha:g} (one-sided Clopper-Pearson bound, Bonferroni over {tests} regions)"),
                         "real_samples": len(real_f), "fake_samples": len(fake_f)}}


def sparse_bins(ndb_report: dict, real_bin: torch.Tensor, fake_bin: torch.Tensor, real_f: torch.Tensor,
                fake_f: torch.Tensor, centres: torch.Tensor, real_labels: torch.Tensor | None = None,
                class_names: list[str] | None = None, alpha: float = ALPHA) -> list[dict]:
    """The bins NDB finds different that the generator draws at under SPARSE_RATIO of their real share:
    smaller holes than a region, shown as pictures with their counts (a note, not missing modes).
    real_bin (N,), fake_bin (M,) are the samples' bins; centres (K, F)."""
    out = []
    for j in ndb_report["underfilled_bins"]:
        real_members, fake_members = real_bin == j, fake_bin == j
        name = f"bin {j}"
        klass = None
        if real_labels is not None and int(real_members.sum()):
            counts = torch.bincount(real_labels[real_members], minlength=2)
            klass = int(counts.argmax())
            names = class_names or [str(c) for c in range(len(counts))]
            top = counts.argsort(descending=True)[:2].tolist()
            name = (f"a kind of {names[klass]}" if counts[klass] >= 0.8 * counts.sum()
                    else f"a mix of {names[top[0]]} and {names[top[1]]}")
        row = _region_row(name, klass, real_members, fake_members, centres[j], real_f, fake_f, alpha)
        # A bin of 4 real samples and no generated one is "significant" but says nothing.
        if row["ratio"] is not None and row["ratio"] < SPARSE_RATIO and row["ratio_upper"] < SPARSE_BOUND:
            out.append(row)
    return sorted(out, key=lambda row: row["ratio"])
