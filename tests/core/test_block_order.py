"""The block-based estimates read samples in a seeded random order (genstudio/core/metrics/sample_order.py).

Real MNIST digits against other real MNIST digits, one side sorted by label as a class-by-class
generator or a sorted data set would hand them over. Each test computes the old reading (blocks,
splits or prefixes in the given order) by hand and asserts it is far off, so the data does expose
the bias, then asserts the function itself reads the sorted side as it reads the unsorted one.
"""

import pytest
import torch

from genstudio.core.metrics.classifier_score import classifier_score
from genstudio.core.metrics.diversity import diversity, mean_pairwise_distance
from genstudio.core.metrics.frechet import frechet_by_samples, frechet_distance
from genstudio.core.metrics.kid import kid, unbiased_mmd2

DIGITS = 2000


@pytest.fixture(scope="module")
def digits(space, halves):
    """Features (n, 128) and class probabilities (n, 10) of 2,000 digits of each half, the first
    half both in its random order and sorted by label."""
    a, b = halves
    a_features, a_probabilities = space.embed_probabilities(a.data[:DIGITS])
    b_features, _ = space.embed_probabilities(b.data[:DIGITS])
    by_label = torch.argsort(a.labels[:DIGITS], stable=True)
    return {"features": a_features, "probabilities": a_probabilities, "other": b_features,
            "sorted_features": a_features[by_label], "sorted_probabilities": a_probabilities[by_label]}


def test_kid_of_a_class_sorted_side_is_zero_within_its_error(digits):
    got = kid(digits["sorted_features"], digits["other"])
    block = got["settings"]["block_size"]
    # The old reading: blocks of consecutive samples, one class against all ten (measured 367 +- 69).
    contiguous = [unbiased_mmd2(digits["sorted_features"][i:i + block].double(), digits["other"][i:i + block].double())
                  for i in range(0, got["settings"]["blocks"] * block, block)]
    assert sum(contiguous) / len(contiguous) > 100 * got["standard_error"]
    # measured -0.71 +- 1.07 (seed 0)
    assert abs(got["kid"]) < 3 * got["standard_error"]


def test_classifier_score_splits_of_class_sorted_probabilities_match_the_unsorted(digits):
    # The old reading: 10 consecutive splits of one class each score about 1 (measured 1.04 to 1.64).
    contiguous = [classifier_score(part, splits=1)["mean"]
                  for part in torch.tensor_split(digits["sorted_probabilities"], 10)]
    assert max(contiguous) < 2
    sorted_score = classifier_score(digits["sorted_probabilities"])
    unsorted = classifier_score(digits["probabilities"])
    # measured 9.41 +- 0.11 sorted, 9.38 +- 0.13 unsorted
    assert sorted_score["mean"] == pytest.approx(unsorted["mean"], abs=3 * unsorted["std"])
    assert unsorted["std"] / 3 < sorted_score["std"] < 3 * unsorted["std"]


def test_frechet_subsets_of_a_class_sorted_side_match_the_unsorted(digits):
    sorted_fit = frechet_by_samples(digits["sorted_features"], digits["other"])
    unsorted_fit = frechet_by_samples(digits["features"], digits["other"])
    smallest = sorted_fit["samples"][0]
    assert smallest == DIGITS // 4              # n/8 = 250 is under twice the 128 feature dimensions
    # The old reading: the first 500 of the sorted side are 0s, 1s and a few 2s (measured FD 385 vs 13).
    prefix = frechet_distance(digits["sorted_features"][:smallest], digits["other"][:smallest])["fd"]
    assert prefix > 10 * sorted_fit["fd"][0]
    # measured 13.0 sorted, 13.7 unsorted at 500
    assert sorted_fit["fd"][0] == pytest.approx(unsorted_fit["fd"][0], rel=0.3)


def test_diversity_subset_of_a_class_sorted_side_is_the_datas_spread(digits):
    subset = 200
    # The old reading: the first 200 sorted digits are all but a few 0s, less spread than a mix (measured ratio 1.58).
    prefix_ratio = mean_pairwise_distance(digits["other"][:subset]) / mean_pairwise_distance(
        digits["sorted_features"][:subset])
    assert prefix_ratio > 1.3
    got = diversity(digits["other"], digits["sorted_features"], max_samples=subset)
    assert got["settings"]["real_samples"] == got["settings"]["fake_samples"] == subset
    assert 0.9 < got["ratio"] < 1.1                                                   # measured 0.986
