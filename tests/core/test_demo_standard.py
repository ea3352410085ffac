"""The demo standard: bars pass and fail on their limits, figures come out of a real diagnostics
report, and every registered demo's bars name figures that exist."""

import pytest
from stand_in_generators import Replay  # tests/core is on sys.path (no package)

from genstudio.core import registry
from genstudio.core.families.demo_standard import (
    REPORT_FIGURES,
    Bar,
    check,
    classes_within,
    demo_figures,
    standard_lines,
)
from genstudio.core.metrics.report import diagnose


def test_bar_limits():
    assert Bar("precision", at_least=0.7).met(0.7) is True
    assert Bar("precision", at_least=0.7).met(0.69) is False
    assert Bar("eval/bits_per_dim", at_most=1.3).met(1.31) is False
    assert Bar("x", at_least=1, at_most=2).met(1.5) is True and Bar("x", at_least=1, at_most=2).met(2.5) is False
    assert Bar("precision", at_least=0.7).met(None) is False          # a figure that was never measured fails
    assert Bar("frechet").met(12.0) is None                            # reported, not judged
    assert Bar("eval/bits_per_dim", at_most=1.3, reference="RealNVP 1.06").describe() == \
        "eval/bits_per_dim <= 1.3 (RealNVP 1.06)"


def test_classes_within_twice_uniform():
    assert classes_within([0.1] * 10) == 10
    assert classes_within([0.26, 0.03] + [0.0887] * 8) == 8            # 26 % is over 2x, 3 % under 1/2x of 10 %
    assert classes_within([0.5, 0.5, 0.0, 0.0]) == 2


def test_figures_and_rows_from_a_real_report(space, halves):
    report = diagnose(Replay(halves[1].data), halves[0], samples=1000, space=space)
    figures = demo_figures({"eval/bits_per_dim": 1.2}, report)
    assert set(REPORT_FIGURES) <= set(figures)
    assert figures["eval/bits_per_dim"] == 1.2
    assert figures["precision"] == report["prdc"]["precision"] and figures["signals"] == len(report["signals"])
    rows = check((Bar("precision", at_least=0.7), Bar("missing", at_least=1), Bar("frechet")), figures)
    assert [row["met"] for row in rows] == [True, False, None]         # held-out real digits are precise
    lines = standard_lines(rows)
    assert lines[0].split()[0] == "PASS" and lines[1].split()[0] == "FAIL" and "missing" in lines[1]
    assert lines[2].split()[0] == "(reported)"


@pytest.mark.parametrize("family", registry.families(), ids=lambda f: f.name)
def test_every_demo_has_a_standard_on_figures_that_exist(family):
    for demo in family.demos:
        assert demo.standard, f"{demo.name} has no standard"
        for bar in demo.standard:
            assert bar.figure.startswith("eval/") or bar.figure in REPORT_FIGURES, bar
