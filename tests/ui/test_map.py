"""The latent map with the demo VAE: one point per image coloured by label, hover, click to pin,
two clicks for a path, the manifold overlay, a >2-D VAE's PCA map, and exports."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt

from genstudio.core.io.open_model import OpenedModel
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.panels.map_panel import TAB10


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


def build(qtbot, window, dataset=None):
    window.tabs.setCurrentWidget(window.map)
    with qtbot.waitSignal(window.map.tasks.finished, timeout=60000):
        if dataset is None:
            window.map.build_button.click()   # the button a person presses
        else:
            window.map.build_map(dataset)
    assert window.map.projection is not None


def test_map_of_the_demo_vae(qtbot, window, mnist, tmp_path):
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("vae-mnist"))
    build(qtbot, window)
    panel = window.map
    assert panel.point_count() == len(mnist) == 10_000
    labels = mnist.labels.numpy()
    for digit, item in enumerate(panel.scatter_items):      # one item per label, its own colour
        assert len(item.data) == int((labels == digit).sum())
        assert item.opts["brush"].color().name() == TAB10[digit]
        assert item.name() == str(digit)
    assert "plotted directly" in panel.description.text()

    # Hover decodes the point under the cursor (a real mouse move over the plot).
    vb = panel.plot.getViewBox()
    target = QPointF(0.5, -0.5)
    widget_pos = panel.plot.mapFromScene(vb.mapViewToScene(target))
    with qtbot.waitSignal(panel.hover_view.shown, timeout=10000):
        qtbot.mouseMove(panel.plot.viewport(), widget_pos)
    first = panel.last_hover.copy()
    with qtbot.waitSignal(panel.hover_view.shown, timeout=10000):
        panel.hover_at(np.array([-2.0, 1.5], np.float32))
    assert not np.allclose(first, panel.last_hover)

    # A click at a data coordinate pins exactly that latent in the explorer.
    widget_pos = panel.plot.mapFromScene(vb.mapViewToScene(target))   # the layout may have settled since
    with qtbot.waitSignal(window.explore.latentChanged, timeout=10000):
        qtbot.mouseClick(panel.plot.viewport(), Qt.LeftButton, pos=widget_pos)
    z = window.explore.current_latent().numpy()
    assert np.allclose(z, panel.projection.to_latent(np.array([[0.5, -0.5]]))[0], atol=0.02)
    assert np.allclose(window.explore.sliders.values(), z, atol=0.006)   # the sliders follow
    # A second click completes a path: drawn on the map, shown as a strip, set as the explorer's A->B.
    with qtbot.waitSignal(panel.strip_view.shown, timeout=10000):
        panel.click_at(np.array([1.5, 1.0], np.float32))
    xs, ys = panel.path_item.getData()
    assert len(xs) == 10 and np.isclose(xs[-1], 1.5) and np.isclose(ys[-1], 1.0)
    assert np.allclose(window.explore.b.numpy(), [1.5, 1.0])
    assert panel.recon_view.image() is not None      # picked points beside their reconstructions

    # The decoded manifold tiles the visible region.
    panel.tiles.setValue(12)
    with qtbot.waitSignal(panel.renderer.done, timeout=10000,
                          check_params_cb=lambda channel, *a: channel == "map-manifold"):
        panel.manifold_check.setChecked(True)
    assert panel.manifold_tiles == 144
    assert panel.manifold_item.image.shape == (12 * 28, 12 * 28)

    png = panel.export_png(str(tmp_path / "map.png"))
    npz = panel.export_latents(str(tmp_path / "latents.npz"))
    csv = panel.export_latents(str(tmp_path / "latents.csv"))
    data = np.load(npz)
    assert data["latents"].shape == (10_000, 2) and (data["labels"] == labels).all()
    assert open(csv).readline().startswith("index,label,map_x,map_y,z1,z2")
    from PIL import Image
    with Image.open(png) as im:
        assert im.width == 1600


def test_larger_latent_gets_a_pca_map_whose_decode_round_trips(qtbot, window, mnist):
    from genstudio.core.training.engine import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(family="vae", preset="mlp", steps=20, sample_every_s=0, device="cpu"),
                      dataset=mnist)
    list(trainer.run())
    model = trainer.model.eval()
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window._show_model(OpenedModel.of(demo("vae-mnist"), trainer.card(), model))
    subset = type(mnist)("mnist", mnist.data[:2000], mnist.labels[:2000], mnist.label_names)
    build(qtbot, window, subset)
    panel = window.map
    assert panel.projection.kind == "pca" and "PCA of the 16-D latents" in panel.description.text()
    point = np.array([[0.7, -0.4]], np.float32)
    latent = panel.projection.to_latent(point)
    assert latent.shape == (1, 16)
    assert np.allclose(panel.projection.to_plane(latent), point, atol=1e-4)
    with torch.no_grad():
        image = model.decode(torch.from_numpy(latent))
    assert image.shape == (1, 1, 28, 28)


def test_gan_has_no_map(qtbot, window):
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("gan-mnist"))
    assert not window.map.build_button.isEnabled()
    assert "needs a model that encodes images" in window.map.description.text()


def test_select_a_region_and_export_it(qtbot, window, mnist, tmp_path):
    """A rectangle over the map selects the points inside; moving it changes the selection; the
    export holds their indices, labels and latents, and a grid of their images."""
    import json

    from PIL import Image

    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("vae-mnist"))
    build(qtbot, window)
    panel = window.map
    points = panel.projection.points
    assert not panel.export_selection_button.isEnabled()
    panel.select_check.setChecked(True)                       # a rectangle over the middle of the view
    assert panel.selector is not None and len(panel.selected) > 0
    lo, hi = points.min(0), points.max(0)
    rect = (lo[0], lo[1], (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2)
    selected = panel.select_rect(rect)
    inside = np.flatnonzero((points[:, 0] >= rect[0]) & (points[:, 0] <= rect[2]) &
                            (points[:, 1] >= rect[1]) & (points[:, 1] <= rect[3]))
    assert np.array_equal(selected, inside) and 0 < len(inside) < len(points)
    panel.selector.setPos((hi[0] - 0.1, hi[1] - 0.1))          # dragged to an empty corner
    assert len(panel.selected) < len(inside) and panel.export_selection_button.isEnabled() == (len(panel.selected) > 0)
    panel.select_rect(rect)

    json_path, png_path = panel.export_selection(str(tmp_path / "region.json"))
    record = json.loads(json_path.read_text())
    assert record["indices"] == inside.tolist()
    assert record["labels"] == panel.dataset.labels[torch.as_tensor(inside)].tolist()
    assert np.allclose(record["latents"], panel.projection.latents[inside])
    cols = int(np.ceil(np.sqrt(min(len(inside), 400))))
    rows = -(-min(len(inside), 400) // cols)
    assert Image.open(png_path).size == (cols * 29 + 1, rows * 29 + 1)
    panel.select_check.setChecked(False)
    assert panel.selector is None and not panel.export_selection_button.isEnabled()


def test_thumbnails_appear_when_zoomed_in(qtbot, window, mnist):
    """Zoomed out, the map shows points only; zoomed in to a few hundred points, a sample of them
    shows its images, each at its point."""
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("vae-mnist"))
    build(qtbot, window)
    panel = window.map
    assert panel.show_sprites() == [] and panel.sprite_items == []       # 10,000 points in view
    x, y = (float(v) for v in panel.projection.points[123])
    panel.plot.getPlotItem().setRange(xRange=(x - 0.3, x + 0.3), yRange=(y - 0.3, y + 0.3), padding=0)
    qtbot.waitUntil(lambda: len(panel.sprite_items) > 0, timeout=10000)   # after the view settles
    shown = panel.show_sprites()
    assert 0 < len(shown) <= 150 and len(panel.sprite_items) == len(shown)
    first = panel.sprite_items[0]
    px, py = panel.projection.points[shown[0]]
    assert first.mapRectToView(first.boundingRect()).center().x() == pytest.approx(px, abs=1e-4)
    expected = panel.dataset.data[shown[0], 0].numpy()[::-1] / 255                 # flipped for the y-up view
    assert np.allclose(first.image, expected)
    panel.sprites_check.setChecked(False)
    assert panel.sprite_items == []
