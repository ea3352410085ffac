"""The report's figures for a person: each beside the real data's own value at the same sample
count, with a plain gauge (good / fair / poor), a one-line definition and its technical name.

A figure alone says little: precision 0.84 is fine on MNIST at k = 3 (real digits give 0.89) and
poor elsewhere; NDB/K 0.5 is what real digits by other writers give. So every gauge is read against
the real data's own value (report["real_reference"]: a second real sample of the same size drawn
against the first), with bands set from the calibration table of docs/diagnostics.md: "good" holds
what real data and the mildest style changes give, "fair" what style changes that keep every mode
give, "poor" lies beyond them. `training/verdict_calibration.py` prints the table the bands are read
from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    """Gauge bands on `value - real` ("difference"), `value / real` ("ratio"), the value itself
    ("absolute") or its fold max(value, 1 / value) ("fold": as far below 1 as above); `good` and `fair`
    are the limits, on the good side when higher_is_better."""

    kind: str
    good: float
    fair: float
    higher_is_better: bool = True

    def gauge(self, value: float | None, real: float | None) -> str | None:
        if value is None or (self.kind != "absolute" and real is None):
            return None
        if self.kind == "difference":
            x = value - real
        elif self.kind == "ratio":
            if real == 0:
                return None
            x = value / real
        elif self.kind == "fold":
            if value <= 0:
                return "poor"
            x = max(value, 1.0 / value)
        else:
            x = value
        if self.higher_is_better:
            return "good" if x >= self.good else "fair" if x >= self.fair else "poor"
        return "good" if x <= self.good else "fair" if x <= self.fair else "poor"

    def describe(self) -> str:
        on = {"difference": "value - real", "ratio": "value / real", "absolute": "value",
              "fold": "max(value, 1 / value)"}[self.kind]
        sign = ">=" if self.higher_is_better else "<="
        return f"good: {on} {sign} {self.good:g}; fair: {on} {sign} {self.fair:g}; poor beyond"


@dataclass(frozen=True)
class Figure:
    key: str
    name: str              # what a person calls it
    technical: str         # what a paper calls it
    definition: str        # one line, for the tooltip
    band: Band | None
    digits: int = 2


FIGURES = {
    "classes": Figure("classes", "Classes in proportion", "KL(p_gen || p_data), nats",
                      "How far the share of each class among generated samples is from the data's (0: the same).",
                      Band("absolute", 0.005, 0.03, higher_is_better=False), 4),
    "regions": Figure("regions", "Regions left empty", "class halves with generated/real share bound < 1/3",
                      "Parts of the real data (each class's two main ways of being drawn) that the generator "
                      "draws at under a third of their share, with confidence.",
                      Band("absolute", 0, 0, higher_is_better=False), 0),
    "precision": Figure("precision", "Looks like the data", "precision (k = 3)",
                        "Share of generated samples inside the neighbourhood of some real sample.",
                        Band("difference", -0.03, -0.10)),
    "precision_trimmed": Figure("precision_trimmed", "Looks like typical data", "trimmed precision (k = 3, "
                                "neighbourhoods up to the median radius)",
                                "Precision against only the tighter half of the real neighbourhoods: an "
                                "image must resemble typical data, not an outlier.",
                                Band("ratio", 0.85, 0.5)),
    "density": Figure("density", "Crowding near real data", "density (k = 5)",
                      "How many real neighbourhoods each generated sample falls in, per k (about 1 for real data).",
                      Band("ratio", 0.8, 0.5)),
    "recall": Figure("recall", "Variety", "recall (k = 3)",
                     "Share of real samples inside the neighbourhood of some generated sample.",
                     Band("difference", -0.05, -0.20)),
    "coverage": Figure("coverage", "Data covered", "coverage (k = 5)",
                       "Share of real samples with a generated sample inside their neighbourhood.",
                       Band("difference", -0.03, -0.15)),
    "sharpness": Figure("sharpness", "Sharpness", "mean squared Laplacian, generated / real",
                        "Fine detail of the images against the data's (1: as sharp; below: blurrier; above: noisier).",
                        Band("fold", 1.25, 2.0, higher_is_better=False)),
    "repeats": Figure("repeats", "Largest repeated image", "share of the largest near-duplicate cluster",
                      "Share of the samples that are copies of one single output.",
                      Band("absolute", 0.01, 0.05, higher_is_better=False), 3),
    "support": Figure("support", "Distinct outputs", "birthday-paradox support from the collision count",
                      "How many distinct, equally likely outputs the near-duplicate count implies.",
                      None, 0),
    "ndb": Figure("ndb", "Shape of the distribution", "NDB/K (K = 100 k-means bins)",
                  "Share of k-means bins of the real data whose generated share differs significantly; any "
                  "change of style raises it.", Band("difference", 0.1, 0.5, higher_is_better=False)),
    "frechet": Figure("frechet", "Distance to the data", "Fréchet distance (classifier features)",
                      "Distance between Gaussians fitted to real and generated features (FID's formula).",
                      Band("ratio", 3.0, 15.0, higher_is_better=False), 1),
    "kid": Figure("kid", "Kernel distance to the data", "KID (cubic kernel, classifier features)",
                  "Unbiased squared MMD between real and generated features: 0 for the same distribution.",
                  None, 3),
    "classifier_score": Figure("classifier_score", "Recognisable and varied", "classifier score (IS analogue)",
                               "exp(E KL(p(y|x) || p(y))) with the data's classifier: high when each image is "
                               "clearly one class and all classes appear.", Band("ratio", 0.95, 0.85)),
    "diversity": Figure("diversity", "Spread", "mean pairwise feature distance, generated / real",
                        "How spread out generated samples are compared with real ones (1: as spread).",
                        Band("absolute", 0.9, 0.7)),
    "path_length": Figure("path_length", "Smoothness of the latent", "perceptual path length (classifier features)",
                          "How much the image changes for a tiny step in the latent; lower is smoother.", None, 3),
}


def _values(report: dict) -> dict[str, float | None]:
    """The figure values of a report (or of its real reference, which has the same sections)."""
    pr = report["prdc"]
    dup = report["duplicates"]
    values = {"precision": pr["precision"], "precision_trimmed": pr["precision_trimmed"], "density": pr["density"],
              "recall": pr["recall"], "coverage": pr["coverage"], "regions": float(len(report["regions"]["empty"])),
              "repeats": dup["clusters"][0]["share"] if dup["clusters"] else 0.0,
              "support": dup["support"]["estimate"], "ndb": report["ndb"]["ndb_over_k"],
              "frechet": report["frechet"]["fd"], "kid": report["kid"]["kid"],
              "diversity": report["diversity"]["ratio"]}
    if report.get("classes"):
        values["classes"] = report["classes"]["kl_data"]
    if report.get("sharpness"):
        values["sharpness"] = report["sharpness"]["ratio"]
    if report.get("classifier_score"):
        values["classifier_score"] = report["classifier_score"]["fake"]["mean"]
    if report.get("path_length"):
        values["path_length"] = report["path_length"]["ppl"]
    return values


def _text(value, digits: int) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1e5:
        return f"{value:.3g}"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.{digits}f}"


def figure_rows(report: dict) -> list[dict]:
    """One row per figure the report has: key, name, technical, definition, value, real (the data's
    own value at the same count), gauge, band, and the texts to print."""
    values, real = _values(report), _values(report["real_reference"])
    real["sharpness"] = 1.0                    # real against real, by definition of the ratio
    real["diversity"] = 1.0
    if report.get("classifier_score"):
        real["classifier_score"] = report["classifier_score"]["real"]["mean"]
    rows = []
    for key, figure in FIGURES.items():
        if key not in values:
            continue
        value, own = values[key], real.get(key)
        gauge = None if figure.band is None else figure.band.gauge(value, own)
        if key == "support" and value is None:
            text = report["duplicates"]["support"]["bound"]
        else:
            text = _text(value, figure.digits)
        if key == "classes" and report["classes"].get("starved"):
            gauge = "poor"
        rows.append({"key": key, "name": figure.name, "technical": figure.technical, "definition": figure.definition,
                     "value": value, "real": own, "gauge": gauge, "text": text,
                     "real_text": "n/a" if own is None else _text(own, figure.digits),
                     "band": None if figure.band is None else figure.band.describe()})
    return rows
