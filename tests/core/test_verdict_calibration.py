"""The calibration table of docs/diagnostics.md held at 2,000 samples: every change of style that
keeps every mode is never "missing modes", every mode loss always is, on MNIST and on a second
labelled set built from it differently (strokes thickened, dark on white), each in its own feature
space. The rows are training/verdict_cases.py's, the same the table is printed from."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "training"))

import verdict_cases as vc  # noqa: E402


SAMPLES = 2000


@pytest.fixture(scope="module")
def sets(mnist, space, session_classifier):
    inverted = vc.inverted_thick(mnist)
    return {"mnist": (mnist, space), "mnist-inverted-thick": (inverted, session_classifier(inverted))}


@pytest.mark.parametrize("set_name", ["mnist", "mnist-inverted-thick"])
@pytest.mark.parametrize("case", vc.CASES, ids=[c.name for c in vc.CASES])
def test_the_verdict_gives_the_known_answer(sets, set_name, case):
    dataset, space = sets[set_name]
    report = vc.diagnose_case(case, dataset, space, SAMPLES)
    v = report["verdict"]
    if case.keeps_modes:
        assert "missing modes" not in v["verdict"], (v["sentence"], v["missing_modes"])
    else:
        assert "missing modes" in v["verdict"], (v["sentence"], v["low_fidelity"], v["unclear"])
        assert v["missing_modes"] and v["sentence"].split(";")[0] != "All 10 classes are drawn in their proportions"
