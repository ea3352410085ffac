"""The Inception Score's analogue with the data set's own classifier (Salimans et al. 2016).

IS = exp(E_x KL(p(y | x) || p(y))), p(y) = the mean of p(y | x) over the set: high when each sample
is confidently one class (sharp p(y | x)) and the classes are spread (broad p(y)); at most the
number of classes. As Salimans et al. compute it, the samples are split into 10 parts, the score is
taken on each, and the mean and standard deviation over the parts are reported. The parts are
consecutive runs of a seeded permutation of the samples (sample_order.py), not of the order the
samples came in: a class-conditional model's samples or a replayed data set can come class by class,
and a part that holds one class scores about 1 (its marginal is that class) however good the samples
are; measured on 2,000 class-sorted real MNIST digits, the 10 parts in that order scored 1.0 to 1.6
each against 9.4 for parts of the permutation (tests/core/test_block_order.py). The value depends on
the classifier and the split size, so the report gives the real data's score, computed the same way
with the same classifier, beside the generator's: that pair, not the number alone, is the
comparison. Written here because it is a few lines over class probabilities that genstudio's own
classifier (classifier.py) provides; Inception weights are not available offline.
"""

from __future__ import annotations

import torch

from genstudio.core.metrics.sample_order import seeded_orders

SPLITS = 10


def classifier_score(probabilities: torch.Tensor, splits: int = SPLITS, seed: int = 0) -> dict:
    """Mean and std over `splits` parts of exp(E KL(p(y|x) || p(y))) for class probabilities (n, K),
    the parts cut from a permutation of the rows seeded with `seed` (module docstring)."""
    p = probabilities.detach().cpu().double()
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"the classifier score needs at least {splits} rows of class probabilities, "
                         f"got shape {tuple(p.shape)}")
    (order,) = seeded_orders(seed, len(p))                                             # (n,)
    p = p[order]
    scores = []
    for part in torch.tensor_split(p, splits):
        marginal = part.mean(0, keepdim=True)                                          # (1, K)
        # 0 log 0 = 0: a class with p(y | x) = 0 adds nothing.
        kl = torch.where(part > 0, part * (part.clamp_min(1e-300).log() - marginal.clamp_min(1e-300).log()), 0.0)
        scores.append(float(kl.sum(1).mean().exp()))
    scores_t = torch.tensor(scores, dtype=torch.float64)
    return {"mean": float(scores_t.mean()), "std": float(scores_t.std()) if splits > 1 else 0.0,
            "splits": splits, "samples": len(p)}


def classifier_scores(fake_probabilities: torch.Tensor, real_probabilities: torch.Tensor,
                      classifier: str, splits: int = SPLITS, seed: int = 0) -> dict:
    """The generator's score beside the real data's, with what they were computed with."""
    return {"fake": classifier_score(fake_probabilities, splits, seed),
            "real": classifier_score(real_probabilities, splits, seed),
            "settings": {"classifier": classifier, "splits": splits, "max": int(fake_probabilities.shape[1]),
                         "order_seed": seed,
                         "formula": "exp(E_x KL(p(y|x) || p(y))), mean and std over the splits "
                                    "of a seeded permutation"}}
