"""A cached PCA map reads back as the same projection: the same points, and the same maps between
the plane and the latents as sklearn's PCA; a stale or foreign file is refused (None)."""

import numpy as np

from genstudio.core.explore.latent_map import project
from genstudio.core.explore.latent_map_cache import cache_file, load_map, save_map


def test_a_pca_map_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checkpoint = tmp_path / "model.safetensors"
    checkpoint.write_bytes(b"weights")
    latents = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    built = project(latents, "pca")
    kl = np.linspace(0, 1, 8).astype(np.float32)
    file = cache_file(checkpoint, "mnist", "pca", 0, {})
    save_map(file, built, kl)
    projection, saved_kl = load_map(file, 300)
    assert np.array_equal(projection.points, built.points) and np.array_equal(saved_kl, kl)
    plane = np.array([[0.3, -1.2], [2.0, 0.5]], np.float32)
    assert np.allclose(projection.to_latent(plane), built.to_latent(plane), atol=1e-5)
    assert np.allclose(projection.to_plane(latents[:5]), built.to_plane(latents[:5]), atol=1e-5)
    assert projection.description == built.description
    assert load_map(file, 299) is None                                      # the data set changed
    checkpoint.write_bytes(b"weights, trained further")
    assert cache_file(checkpoint, "mnist", "pca", 0, {}) != file            # a new file, a new key
    assert cache_file(tmp_path / "missing.safetensors", "mnist", "pca", 0, {}) is None
    file.write_bytes(b"not an npz")
    assert load_map(file, 300) is None
