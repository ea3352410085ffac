"""Latent map core: encoding, projections and their inverses, manifold tiles, GAN projection."""

import importlib.util
import sys

import numpy as np
import pytest
import torch

from genstudio.core.explore.inversion import project_image
from genstudio.core.explore.latent_map import encode_dataset, kl_per_dimension, manifold_grid, project, tile_images
from genstudio.core.registry import build_model
from genstudio.core.training.engine import TrainConfig, Trainer


def test_two_d_latents_map_directly_and_decode_round_trips(mnist):
    model = build_model("vae", {"data_shape": [1, 28, 28], "latent_dim": 2, "hidden": [64]}).eval()
    latents = encode_dataset(model, mnist.data[:500])
    assert latents.shape == (500, 2)
    proj = project(latents)
    assert proj.kind == "identity" and np.array_equal(proj.points, latents)
    assert np.allclose(proj.to_latent(proj.points[:5]), latents[:5])


def test_kl_per_dimension_matches_the_training_figures_and_finds_collapsed_dimensions(mnist):
    torch.manual_seed(0)
    model = build_model("vae", {"data_shape": [1, 28, 28], "latent_dim": 4, "hidden": [64]}).eval()
    with torch.no_grad():                   # dimension 3 ignores x: q(z3|x) = N(0, 1) exactly
        model.encoder[-1].weight[[3, 7]] = 0.0
        model.encoder[-1].bias[[3, 7]] = 0.0
    x = mnist.data[:700]
    kl = kl_per_dimension(model, x, batch=256)           # batches that do not divide 700
    expected = model.evaluate(x.float() / 255)["kl_per_dim"].numpy()
    assert kl.shape == (4,) and np.allclose(kl, expected, rtol=1e-4, atol=1e-6)
    assert kl[3] < 1e-6 < kl[:3].min()


def test_pca_projection_inverse_is_exact_on_the_plane(mnist):
    model = build_model("vae", {"data_shape": [1, 28, 28], "latent_dim": 8, "hidden": [64]}).eval()
    latents = encode_dataset(model, mnist.data[:1000])
    proj = project(latents, "pca")
    assert proj.points.shape == (1000, 2) and "PCA" in proj.description
    plane = np.array([[0.3, -0.2], [1.0, 2.0]], dtype=np.float32)
    back = proj.to_latent(plane)                      # (2, 8) latents on the principal plane
    assert back.shape == (2, 8)
    assert np.allclose(proj.to_plane(back), plane, atol=1e-4)   # projecting back lands on the click


def test_tsne_decodes_the_nearest_encoded_point():
    rng = np.random.default_rng(0)
    latents = np.concatenate([rng.normal(0, 0.1, (60, 5)), rng.normal(3, 0.1, (60, 5))]).astype(np.float32)
    proj = project(latents, "tsne")
    assert proj.points.shape == (120, 2) and not proj.exact_inverse
    assert np.array_equal(proj.to_latent(proj.points[[7, 90]]), latents[[7, 90]])


@pytest.mark.skipif(importlib.util.find_spec("umap") is None, reason="umap-learn (an optional package) is not installed")
def test_umap_separates_clusters_and_decodes_the_nearest_encoded_point():
    rng = np.random.default_rng(0)
    latents = np.concatenate([rng.normal(0, 0.1, (60, 5)), rng.normal(3, 0.1, (60, 5))]).astype(np.float32)
    proj = project(latents, "umap")
    assert proj.points.shape == (120, 2) and not proj.exact_inverse and "UMAP" in proj.description
    assert np.array_equal(proj.to_latent(proj.points[[7, 90]]), latents[[7, 90]])
    centre_a, centre_b = proj.points[:60].mean(0), proj.points[60:].mean(0)
    spread = max(proj.points[:60].std(0).max(), proj.points[60:].std(0).max())
    assert np.linalg.norm(centre_a - centre_b) > 3 * spread             # the two clusters stay apart


def test_umap_without_the_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)          # `import umap` now fails as if it were absent
    with pytest.raises(ValueError, match="pip install umap-learn"):
        project(np.random.rand(30, 4).astype(np.float32), "umap")


def test_manifold_grid_and_tiles():
    centres = manifold_grid((-1, 1, -2, 2), 4)
    assert centres.shape == (16, 2)
    assert centres[0, 1] > centres[-1, 1]             # the first row is the top of the view
    mosaic = tile_images(np.random.rand(16, 1, 28, 28), 4)
    assert mosaic.shape == (112, 112)


def test_gan_projection_lowers_the_error(mnist):
    config = TrainConfig(family="gan", preset="dcgan", steps=30, sample_every_s=0, device="cpu",
                         model={"g_channels": 16, "d_channels": 16})
    trainer = Trainer(config, dataset=mnist)
    list(trainer.run())
    target = mnist.data[3].float() / 255
    z, info = project_image(trainer.model, target, steps=60, restarts=4)
    assert z.shape == (64,)
    assert info["final_error"] < info["start_error"]
    with torch.no_grad():
        shown = trainer.model.decode(z.view(1, -1))[0]
    assert float((shown - target).pow(2).mean()) == pytest.approx(info["final_error"], rel=1e-3)
