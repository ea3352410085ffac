"""Birthday-paradox duplicates (Arora & Zhang 2017, docs/diagnostics.md).

Rule for a duplicate: two generated samples closer than the 1st percentile of the real samples'
nearest-neighbour distances (same space, same set size). A sample from the data distribution
itself therefore has a duplicate partner about 1 % of the time; a collapsed generator far more.
Real samples with an exact copy in the set are left out of that percentile (or a data set with
> 1 % exact duplicates gives a threshold of 0), and the real data's own duplicate fraction at the
threshold is measured, so the report can say what "real-like" means for this data set.

Support estimates, both for "n distinct, equally likely outputs":
- birthday test: split the samples into disjoint batches of s = 2, 4, 8, ...; the smallest s at
  which at least half of the batches hold a duplicate gives support ~ s^2;
- collision count: with C duplicate pairs among s samples, E[C] = s(s-1)/(2n), the moment form of
  P(no collision) ~ exp(-s(s-1)/(2n)), so n ~ s(s-1)/(2C). With C = 0 only a bound is known:
  P(no collision) >= 1/2 needs n >= s(s-1)/(2 ln 2).

One repeated image breaks the collision count: 86 copies of one image among 5,000 otherwise
distinct samples make C(86, 2) = 3,655 pairs and "support ~3,400", although 4,915 distinct outputs
were seen. So duplicates are also grouped (copies of one output: a sample and its near-duplicates), the
largest group is reported as such ("86 copies of one image, 1.7 % of the
samples") and the support is estimated from the collisions of the other samples (`support`).
A generator that repeats 50 images still gives ~50 there: dropping one of its clusters leaves 49.
"""

from __future__ import annotations

import math

import torch

from genstudio.core.metrics.prdc import Neighbours

N_PAIRS = 20
THRESHOLD_PERCENTILE = 1.0
MAX_BATCH = 1024
MIN_BATCHES = 8


def exact_copies(samples: torch.Tensor) -> torch.Tensor:
    """(N,) bool: which rows of samples (N, ...) have an identical twin elsewhere in the set."""
    flat = samples.detach().cpu().reshape(len(samples), -1)
    _, inverse, counts = torch.unique(flat, dim=0, return_inverse=True, return_counts=True)
    return counts[inverse] > 1


def duplicate_threshold(real_nn_distances: torch.Tensor, percentile: float = THRESHOLD_PERCENTILE,
                        copies: torch.Tensor | None = None) -> float:
    """The given percentile of the real samples' nearest-neighbour distances (N,), leaving out the
    samples that have an exact copy in the set (`copies`, (N,) bool): a data set with more than 1 %
    exact duplicates (fonts, icons, sprites) would otherwise give a threshold of 0, and no generated
    pair could ever count as a duplicate."""
    distances = real_nn_distances if copies is None else real_nn_distances[~copies]
    if len(distances) == 0:
        raise ValueError("the duplicate threshold needs the nearest-neighbour distances of real samples that "
                         "are not exact copies of one another")
    return float(torch.quantile(distances.double(), percentile / 100.0))


def closest_pairs(neighbours: Neighbours, n_pairs: int = N_PAIRS) -> list[dict]:
    """The n_pairs closest distinct pairs {i, j, distance} (i < j), nearest first.

    Exact when the table has >= n_pairs columns: in the r-th closest pair (i, j), j is among i's
    r nearest neighbours, since each nearer neighbour of i would make a closer pair."""
    n, k = neighbours.distances.shape
    if k < min(n_pairs, n - 1):
        raise ValueError(f"{n_pairs} closest pairs need a neighbour table of at least {n_pairs} columns, got {k}")
    rows = torch.arange(n)[:, None].expand(n, k)
    a = torch.minimum(rows, neighbours.indices).flatten()              # (n k,) smaller index
    b = torch.maximum(rows, neighbours.indices).flatten()
    d = neighbours.distances.flatten()
    # Each pair sits in at most two rows, so the 4 n_pairs shortest entries hold the n_pairs pairs.
    order = torch.topk(d, min(4 * n_pairs, len(d)), largest=False).indices
    pairs: dict[tuple[int, int], float] = {}
    for idx in order.tolist():
        pairs.setdefault((int(a[idx]), int(b[idx])), float(d[idx]))
    ranked = sorted(pairs.items(), key=lambda item: item[1])[:n_pairs]
    return [{"i": i, "j": j, "distance": dist} for (i, j), dist in ranked]


def collision_support(n_samples: int, duplicate_pairs: int) -> dict:
    """Support size from the number of duplicate pairs among n_samples (module docstring)."""
    pairs_total = n_samples * (n_samples - 1) / 2
    if duplicate_pairs > 0:
        return {"estimate": pairs_total / duplicate_pairs, "bound": None}
    return {"estimate": None, "bound": f">= {pairs_total / math.log(2):.4g}"}


def birthday_test(x: torch.Tensor, threshold: float, seed: int = 0, max_batch: int = MAX_BATCH,
                  min_batches: int = MIN_BATCHES) -> dict:
    """Fraction of disjoint batches of s = 2, 4, ... samples of x (n, D) holding a duplicate pair.

    Batches are contiguous blocks of one random permutation, nested: the block of 2s holding a
    sample contains its block of s. A pair at local positions i, j of a largest block first shares
    a block at size 2^bit_length(i xor j), so one (S, S) distance matrix per largest block S answers
    every smaller size."""
    x = x.detach().cpu().float().reshape(len(x), -1)
    n = len(x)
    sizes = []
    s = 2
    while s <= min(max_batch, n // min_batches):
        sizes.append(s)
        s *= 2
    if not sizes:
        raise ValueError(f"the birthday test needs at least {2 * min_batches} samples, got {n}")
    largest = sizes[-1]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    bit_length = torch.tensor([v.bit_length() for v in range(largest)])        # (S,)
    local = torch.arange(largest)
    level_of_pair = bit_length[local[:, None] ^ local[None, :]]                  # (S, S): log2 of the shared block
    never = len(sizes) + 2                                                       # a level above all sizes
    first_level = []                                                             # per block: (S,) per sample
    for start in range(0, n - largest + 1, largest):
        block = x[order[start:start + largest]]                                  # (S, D)
        dup = torch.cdist(block, block) < threshold                              # (S, S)
        dup.fill_diagonal_(False)
        # Smallest level at which each sample shares a batch with one of its duplicates.
        first_level.append(torch.where(dup, level_of_pair, torch.full_like(level_of_pair, never)).min(1).values)
    levels = torch.cat(first_level)                                              # (blocks * S,)
    probabilities, batches = [], []
    for m, size in enumerate(sizes, start=1):
        # A batch of 2^m holds a duplicate when one of its samples has a partner within level m.
        per_batch = (levels <= m).view(-1, size).any(1)                          # (used / size,)
        probabilities.append(float(per_batch.float().mean()))
        batches.append(len(per_batch))
    half = next((size for size, p in zip(sizes, probabilities) if p >= 0.5), None)
    return {
        "batch_sizes": sizes,
        "duplicate_probability": probabilities,
        "batches": batches,
        "half_size": half,
        "support_estimate": None if half is None else half ** 2,
        "support_bound": f"> {largest ** 2}" if half is None else None,
    }


def _adjacency(x: torch.Tensor, threshold: float, chunk: int = 2048) -> torch.Tensor:
    """(n, n) bool: pairs of rows of x (n, D) closer than threshold, a row not with itself."""
    x = x.detach().cpu().float().flatten(1)
    close = torch.cat([torch.cdist(x[s:s + chunk], x) < threshold for s in range(0, len(x), chunk)])
    close.fill_diagonal_(False)
    return close


def repeat_clusters(fake: torch.Tensor, has_duplicate: torch.Tensor, threshold: float, n_shown: int = 8) -> dict:
    """Groups of copies of one output among generated samples (s, D), and the support outside the
    largest group (module docstring).

    A group is a star: the sample with the most near-duplicates and those duplicates, taken greedily
    (the next group from the samples left). Stars, not connected groups: blurred samples form long
    chains of near-duplicates, each close to the next, that connected groups would merge into one
    "repeated image" of hundreds. Only samples with a duplicate (`has_duplicate` (s,) bool, about
    1 % of real-like samples) are compared with one another."""
    s = len(fake)
    index = torch.nonzero(has_duplicate).flatten()
    if len(index) == 0:
        return {"clusters": [], "distinct": s, "largest": 1, "support": collision_support(s, 0)}
    close = _adjacency(fake[index], threshold)                                  # (k, k)
    alive = torch.ones(len(index), dtype=torch.bool)
    counts = close.sum(1)                                                       # (k,)
    clusters = []
    largest = torch.zeros(len(index), dtype=torch.bool)
    groups = 0                      # samples folded into the groups: distinct = s - groups
    while bool(alive.any()):
        centre = int(torch.where(alive, counts, torch.full_like(counts, -1)).argmax())
        star = alive & close[centre]
        star[centre] = True
        size = int(star.sum())
        if size < 2:
            break
        if not clusters:
            largest = star.clone()
        groups += size - 1
        if len(clusters) < n_shown:
            members = torch.cat([index[centre:centre + 1], index[star & (torch.arange(len(index)) != centre)]])
            clusters.append({"size": size, "share": size / s, "members": [int(i) for i in members[:8]]})
        alive &= ~star
        counts = counts - close[:, star].sum(1)
    rest = ~largest
    pairs = int(close[rest][:, rest].sum()) // 2
    n_rest = s - int(largest.sum())
    if n_rest < 2:             # every sample a copy of one output: one output, seen s times
        support = {"estimate": 1.0, "bound": None}
    else:
        support = collision_support(n_rest, pairs)
    return {"clusters": clusters, "distinct": s - groups, "largest": int(largest.sum()), "support": support}


def duplicate_report(fake: torch.Tensor, fake_neighbours: Neighbours, threshold: float, seed: int = 0,
                     n_pairs: int = N_PAIRS) -> dict:
    """Closest pairs, duplicate counts and both support estimates for generated samples (s, D).

    `fake_neighbours` is the samples' own neighbour table, built with `within` counts at `threshold`."""
    if fake_neighbours.within is None:
        raise ValueError("the neighbour table was built without a duplicate threshold")
    s = len(fake)
    duplicate_pairs = int(fake_neighbours.within.sum()) // 2      # each pair counted from both ends
    return {
        "closest_pairs": closest_pairs(fake_neighbours, n_pairs),
        "threshold": threshold,
        "duplicate_pairs": duplicate_pairs,
        "duplicate_fraction": float((fake_neighbours.within > 0).float().mean()),
        "collision_support": collision_support(s, duplicate_pairs),
        "birthday": birthday_test(fake, threshold, seed),
        **repeat_clusters(fake, fake_neighbours.within > 0, threshold),
        "settings": {"samples": s, "pairs_shown": n_pairs,
                     "support_rule": "collision count of the samples outside the largest group of copies of one "
                                     "output, so that one repeated image does not set the support",
                     "groups": ("copies of one output: the sample with the most near-duplicates and its duplicates, "
                                "taken greedily; 'distinct' counts each of the largest 8 groups once"),
                     "duplicate_rule": (f"distance < the {THRESHOLD_PERCENTILE:g} % quantile of the real samples' "
                                        "nearest-neighbour distances; real-like data gives a duplicate "
                                        f"fraction near {THRESHOLD_PERCENTILE / 100:g}")},
    }
