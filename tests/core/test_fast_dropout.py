"""FastDropout: the drop rate, the scale and the gradient of nn.Dropout, seeded like the rest."""

import pytest
import torch

from genstudio.core.families.fast_dropout import FastDropout


def test_drops_at_the_rate_asked_and_keeps_the_mean():
    torch.manual_seed(0)
    drop = FastDropout(0.3).train()
    x = torch.ones(400, 1001)                     # an element count not divisible by 4
    y = drop(x)
    kept = y != 0
    assert y.shape == x.shape
    assert abs(kept.float().mean().item() - 0.7) < 0.003            # 400k Bernoulli(0.7): std 0.0007
    assert torch.allclose(y[kept], torch.full_like(y[kept], 65536 / (65536 - 19661)))
    assert abs(y.mean().item() - 1.0) < 0.005                        # unbiased, as nn.Dropout
    # Columns and rows are independent: no lane of the 64-bit draws is biased.
    lanes = kept.flatten()[:400_000].view(-1, 4).float().mean(0)
    assert torch.all((lanes - 0.7).abs() < 0.006)


def test_gradient_flows_through_kept_units_only_and_eval_is_identity():
    torch.manual_seed(1)
    drop = FastDropout(0.5).train()
    x = torch.randn(64, 128, requires_grad=True)
    y = drop(x)
    y.sum().backward()
    kept = y.detach() != 0
    assert torch.equal(x.grad != 0, kept) and torch.allclose(x.grad[kept], torch.tensor(2.0))
    drop.eval()
    assert drop(x) is x


def test_same_seed_same_mask_and_bad_probabilities_are_refused():
    drop = FastDropout(0.3).train()
    x = torch.ones(33, 17)
    torch.manual_seed(5)
    a = drop(x)
    torch.manual_seed(5)
    assert torch.equal(a, drop(x))
    with pytest.raises(ValueError, match="dropout probability"):
        FastDropout(1.0)
