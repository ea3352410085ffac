"""Seeded sample orders for the estimates that read samples in blocks, splits or prefixes.

KID's disjoint blocks (kid.py), the classifier score's 10 splits (classifier_score.py), the nested
subsets of the Fréchet distance's 1/n fit (frechet.py) and diversity's subset (diversity.py) each
assume that a block of consecutive samples is a random draw from the whole set. Samples do not
always come in such an order: a class-conditional or replayed generator can hand them over class by
class, and a data set can be stored sorted by label. Then a block holds one or two classes, and the
blocks compare unlike things. Measured on MNIST (tests/core/test_block_order.py, the test set's
classifier features, 2,000 real digits against 2,000 others): with one side sorted by label, KID
read in contiguous blocks is 367 +- 69 (-0.7 +- 1.1 in a seeded order), the classifier score's 10
contiguous splits score 1.0 to 1.6 each against 9.4 (a split holds one class), the Fréchet distance
of the first 500 of each is 385 against 13 for 500 of a seeded order, and the first 200 sorted
digits spread 0.63 times as far as 200 in a random order. Read in a seeded order, every figure
matches the one from the unsorted side. So every such estimate takes its blocks from a seeded
permutation: the same seed gives the same figures, whatever order the samples came in.
"""

from __future__ import annotations

import torch


def seeded_orders(seed: int, *sizes: int) -> list[torch.Tensor]:
    """One random permutation of range(n) (n,) int64 for each n in `sizes`, drawn one after the other
    from a torch generator seeded with `seed`: independent of each other and of the global RNG.
    Real and generated sets get separate permutations, so two sets that arrive in the same class
    order are not cut into blocks of the same classes."""
    rng = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=rng) for n in sizes]
