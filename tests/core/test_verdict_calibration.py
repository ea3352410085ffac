"""The calibration table of docs/diagnostics.md held at 2,000 samples: every change of style that
keeps every mode is never "missing modes", every mode loss always is, on MNIST and on a second
labelled set built from it differently (strokes thickened, dark on white), each in its own feature
space. The rows are training/verdict_cases.py's, the same the table is printed from."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "training"))

import verdict_cases as vc  # noqa: E402

from genstudio.core.metrics.classifier import load_or_train_classifier  # noqa: E402


SAMPLES = 2000


@pytest.fixture(scope="module")
def sets(mnist, tmp_path_factory):
    # The app's classifier recipe, as the table is measured with, in a folder of its own (the
    # session's cache holds a shorter-trained MNIST classifier under the same key). The margin of the
    # sub-mode row at 2,000 samples depends on it: in the session classifier's feature space that
    # row's emptiest region reads 0.56, in the app's 0.27 (the rule: below 1/3).
    cache = tmp_path_factory.mktemp("calibration-classifiers")
    inverted = vc.inverted_thick(mnist)
    return {name: (dataset, load_or_train_classifier(dataset, cache))
            for name, dataset in (("mnist", mnist), ("mnist-inverted-thick", inverted))}


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
