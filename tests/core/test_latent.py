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
