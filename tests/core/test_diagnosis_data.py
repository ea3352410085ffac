"""What a model trained on a slice of a data set is diagnosed against, and in which feature space:
the whole set it was cut from, with that set's one cached classifier (spec.diagnosis_spec,
InMemoryDataset.cut_from, classifier.feature_space)."""

import json

import pytest

from genstudio.cli import main
from genstudio.core.data.spec import diagnosis_spec, load_dataset
from genstudio.core.metrics.classifier import feature_space


@pytest.mark.parametrize("training, diagnosed", [
    ("mnist[:9000]", "mnist"),
    ("mnist[9000:]", "mnist"),
    ("mnist[0:9000]", "mnist"),                    # a card's canonical source
    ("mnist[:9000][100:-1]", "mnist"),             # a slice of a slice
    ("folder:/data/digits?size=32&channels=1[:500]", "folder:/data/digits?size=32&channels=1"),
    ("ring8", "ring8"),
    ("torchvision:cifar10:/data:test", "torchvision:cifar10:/data:test"),
])
def test_a_slice_is_diagnosed_against_its_whole_set(training, diagnosed):
    assert diagnosis_spec(training) == diagnosed


def test_a_folder_is_diagnosed_against_itself(tmp_path):
    assert diagnosis_spec(str(tmp_path)) == str(tmp_path)
    # A folder whose name looks like a slice is a path, as load_dataset reads it.
    odd = tmp_path / "digits[1:2]"
    odd.mkdir()
    assert diagnosis_spec(str(odd)) == str(odd)


def test_a_slice_uses_the_whole_sets_classifier(mnist, space, cache):
    before = sorted(cache.iterdir())
    for spec in ("mnist[9000:]", "mnist[:9000][100:]"):
        part = load_dataset(spec)
        assert part.cut_from is not None and part.cut_from.source == "mnist" and len(part.cut_from) == len(mnist)
        used = feature_space(part, cache)
        assert used.path == space.path                     # the session's MNIST classifier, not a new one
        assert "trained on mnist (8000 images" in used.describe()["description"]
    assert sorted(cache.iterdir()) == before                # nothing trained, nothing cached


def test_cli_diagnoses_a_slice_trained_model_against_the_whole_set(space, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--family", "vae", "--preset", "map", "--data", "mnist[:9000]", "--steps", "2",
                 "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["diagnose", str(out / "checkpoint.safetensors"), "--samples", "100", "--json"]) == 0
    captured = capsys.readouterr()
    assert "comparing with mnist (10000 samples, the whole set its training data mnist[0:9000] was cut from)" \
        in captured.err
    report = json.loads(captured.out)
    assert report["dataset"]["source"] == "mnist" and report["real_samples"] == 100
    assert report["features"]["cache_file"] == str(space.path)
