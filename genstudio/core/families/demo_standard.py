"""The standard a bundled demo checkpoint is trained to: bars on the figures of its own diagnostics
and of its held-out slice, checked and printed by training/make_demo_checkpoints.py.

A demo's figures are one flat dict: the engine's held-out evaluation ("eval/bits_per_dim",
"eval/elbo", ... on samples it never trained on) and, from the diagnostics report against the
data set, "precision", "recall", "density", "coverage", "frechet", "kid", "classifier_score",
"signals" (how many signals the verdict read: 0 is "no problem found"), "missing_mode_signals" and
"low_fidelity_signals" (how many of each kind) and "classes_within_2x" (classes whose share of
the samples is within 2x of uniform); a translation demo's report (metrics/translation_report.py)
adds "label_agreement" (translations the target domain's classifier reads as their input's class)
and "cycle_error" (mean |x - round trip| in [0, 1] pixels), None in any other report.
A bar with neither limit is a figure reported beside a published one, not a pass/fail test.
"""

from __future__ import annotations

from dataclasses import dataclass

# The figures demo_figures() takes from a diagnostics report (the rest are "eval/..." figures).
REPORT_FIGURES = ("precision", "recall", "density", "coverage", "frechet", "kid", "signals", "missing_mode_signals",
                  "low_fidelity_signals", "classes_within_2x", "classifier_score", "label_agreement", "cycle_error")


@dataclass(frozen=True)
class Bar:
    figure: str                         # a key of demo_figures()
    at_least: float | None = None
    at_most: float | None = None
    reference: str = ""                 # a published figure to read it beside

    def met(self, value: float | None) -> bool | None:
        """True/False against the limits; None for a reported figure (no limits)."""
        if self.at_least is None and self.at_most is None:
            return None
        if value is None:
            return False
        return ((self.at_least is None or value >= self.at_least)
                and (self.at_most is None or value <= self.at_most))

    def describe(self) -> str:
        limits = [f">= {self.at_least:g}" if self.at_least is not None else "",
                  f"<= {self.at_most:g}" if self.at_most is not None else ""]
        text = " and ".join(limit for limit in limits if limit) or "reported"
        return f"{self.figure} {text}" + (f" ({self.reference})" if self.reference else "")


def classes_within(proportions: list[float], factor: float = 2.0) -> int:
    """How many classes hold between 1/factor and factor times a uniform share of the samples."""
    uniform = 1.0 / len(proportions)
    return sum(uniform / factor <= p <= uniform * factor for p in proportions)


def demo_figures(evaluation: dict[str, float], report: dict) -> dict[str, float]:
    """The flat figures (module docstring) of a demo: its held-out evaluation and diagnostics report."""
    figures = dict(evaluation)
    figures.update({name: report["prdc"][name] for name in ("precision", "recall", "density", "coverage")})
    figures["frechet"] = report["frechet"]["fd"]
    figures["kid"] = report["kid"]["kid"]
    figures["signals"] = len(report["signals"])
    figures["missing_mode_signals"] = len(report["verdict"]["missing_modes"])
    figures["low_fidelity_signals"] = len(report["verdict"]["low_fidelity"])
    if "classes" in report:
        figures["classes_within_2x"] = classes_within(report["classes"]["proportions"])
        figures["classifier_score"] = report["classifier_score"]["fake"]["mean"]
    translation = report.get("translation") or {}
    figures["label_agreement"] = (translation.get("label_agreement") or {}).get("agreement")
    figures["cycle_error"] = (translation.get("cycle_error") or {}).get("mean")
    return figures


def check(bars: tuple[Bar, ...], figures: dict[str, float]) -> list[dict]:
    """One row per bar: the bar, the measured value (None when the figures lack it) and met."""
    return [{"bar": bar.describe(), "figure": bar.figure, "value": figures.get(bar.figure),
             "met": bar.met(figures.get(bar.figure))} for bar in bars]


def standard_lines(rows: list[dict]) -> list[str]:
    """Printable lines of check()'s rows: the bar, the value and PASS / FAIL / (reported)."""
    def value(v):
        return "missing" if v is None else f"{v:.4g}"
    marks = {True: "PASS", False: "FAIL", None: "(reported)"}
    return [f"  {marks[row['met']]:10s} {row['bar']}: {value(row['value'])}" for row in rows]


# The images a person sees first: no diagnostics signal, precision and coverage >= 0.7 (real digits
# give ~0.85 and ~0.97), with the Frechet distance and KID reported for comparison across demos.
SAMPLE_BARS = (Bar("signals", at_most=0), Bar("precision", at_least=0.7), Bar("coverage", at_least=0.7),
               Bar("frechet"), Bar("kid"))

# A translation demo (A -> B against its pair's domain B): a translated digit keeps its class (the
# issue's aim, 90 %) and no class or output is lost; the cycle error is reported. Precision is
# reported, not barred: the exact thick change of mnist-thick's A scores 0.70 against B's own 0.90,
# as the bundled pair's halves hold different writers (MNIST's test set: its first 5,000 digits come
# from other writers than its last 5,000), so no translation of that pair raises it to the data's own.
TRANSLATION_BARS = (Bar("label_agreement", at_least=0.9, reference="a translated 3 still reads as a 3"),
                    Bar("missing_mode_signals", at_most=0), Bar("cycle_error"),
                    Bar("precision", reference="the exact thick change of the A digits: as precise as B's own"), Bar("frechet"), Bar("kid"))
