import torch

from genstudio.core.latent import lerp, path, principal_directions, slerp


def test_slerp_endpoints_and_norm():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, generator=g), torch.randn(64, generator=g)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    mid_s, mid_l = slerp(a, b, 0.5), lerp(a, b, 0.5)
    # The straight line dips towards the origin; the great circle keeps the norm near a's and b's.
    assert mid_l.norm() < mid_s.norm()
    assert abs(mid_s.norm() - (a.norm() + b.norm()) / 2) < 0.1 * a.norm()
    frames = path(a, b, 9, spherical=True)
    assert frames.shape == (9, 64) and torch.allclose(frames[4], mid_s)


def test_principal_directions_find_the_generator_s_dominant_axis():
    # A linear "generator" that stretches latent axis 3 by 10 and the rest by 0.1: the first
    # direction must be (+/-) e_3 and explain nearly all the variance.
    weights = torch.full((8,), 0.1)
    weights[3] = 10.0
    mixing = torch.linalg.qr(torch.randn(16, 16, generator=torch.Generator().manual_seed(1)))[0][:, :8]

    def decode(z):
        return (z * weights) @ mixing.T      # (B, 16)

    directions, explained = principal_directions(decode, latent_dim=8, k=3, samples=1024)
    assert directions.shape == (3, 8)
    assert abs(float(directions[0, 3])) > 0.99
    assert explained[0] > 0.95 and explained[0] >= explained[1] >= explained[2]


def test_principal_directions_are_the_same_whenever_computed():
    # A generator with a long tail of components, where the randomised PCA's projection matters:
    # drawn from the seed, the directions repeat exactly (a latent record's alphas are applied to
    # recomputed ones) and torch's global generator is left where it was.
    g = torch.Generator().manual_seed(2)
    w1, w2 = torch.randn(32, 64, generator=g), torch.randn(64, 200, generator=g)

    def decode(z):
        return torch.tanh(z @ w1) @ w2      # (B, 200)

    torch.manual_seed(123)
    first = principal_directions(decode, latent_dim=32, k=5, samples=256)
    after_first = torch.rand(3)
    torch.manual_seed(456)
    second = principal_directions(decode, latent_dim=32, k=5, samples=256)
    assert torch.equal(first[0], second[0]) and (first[1] == second[1]).all()
    torch.manual_seed(123)
    assert torch.equal(torch.rand(3), after_first)
    other = principal_directions(decode, latent_dim=32, k=5, samples=256, seed=1)[0]
    assert not torch.equal(other, first[0])


def test_truncated_normal_is_the_truncated_distribution_and_deterministic():
    from genstudio.core.latent import truncated_normal

    z = torch.randn(200_000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(truncated_normal(z, 0.0), z)                                   # 0: off
    t = truncated_normal(z, 1.0)
    assert t.abs().max() <= 1.0 and torch.equal(t, truncated_normal(z, 1.0))
    assert torch.all(torch.diff(truncated_normal(torch.linspace(-5, 5, 101), 1.0)) >= 0)   # order kept
    # N(0, 1) truncated to [-1, 1] has variance 1 - 2 phi(1) / (Phi(1) - Phi(-1)) = 0.2911
    assert abs(float(t.var()) - 0.2911) < 0.005 and abs(float(t.mean())) < 0.005


def test_gan_truncation_pulls_samples_together():
    from genstudio.core import registry

    family = registry.get("gan")
    model = family.build({**family.presets["dcgan"].model, "data_shape": [1, 28, 28]}).eval()
    z = torch.randn(8, model.latent_dim, generator=torch.Generator().manual_seed(1))
    free, tight = model.decode(z), model.decode(z, truncation=0.05)
    assert torch.equal(model.decode(z, truncation=0.0), free)
    assert tight.std(0).mean() < 0.5 * free.std(0).mean()
