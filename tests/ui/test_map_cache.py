"""The latent map remembers: a cheap map (the demo VAE on MNIST's 10k test images) builds by itself
when the tab shows, is kept in the user's cache, and comes back from there when the model is
opened again, without encoding the data set a second time."""

import numpy as np

from genstudio.core.explore.latent_map_cache import cache_file, load_map
from genstudio.ui.model_list import demo_checkpoints


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


def test_the_map_builds_by_itself_and_comes_back_from_the_cache(qtbot, window, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))       # an empty cache for this test
    panel, messages = window.map, []
    panel.status.connect(messages.append)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("vae-mnist"))
    with qtbot.waitSignal(panel.tasks.finished, timeout=60000):
        window.tabs.setCurrentWidget(panel)                              # no click: the tab builds it
    assert panel.point_count() == 10_000 and messages[-1] == "latent map of 10000 points built"
    first = panel.projection.points.copy()
    kept = cache_file(demo("vae-mnist"), "mnist", panel.method.currentData(), 0, panel.options)
    assert kept.parent == tmp_path / "cache" / "genstudio" / "latent-maps"
    assert load_map(kept, 10_000) is not None

    window.tabs.setCurrentWidget(window.explore)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("gan-mnist"))                              # another model: the map goes
    assert panel.projection is None
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("vae-mnist"))
    with qtbot.waitSignal(panel.tasks.finished, timeout=60000):
        window.tabs.setCurrentWidget(panel)
    assert messages[-1] == "latent map of 10000 points read from the cache"
    assert np.array_equal(panel.projection.points, first) and panel.point_count() == 10_000
    hovered = panel.projection.to_latent(np.array([[0.5, -0.5]], np.float32))
    assert np.allclose(hovered, [[0.5, -0.5]])                            # a 2-D latent is its own map
