"""The Explore panel driven through the real widgets: open, drag a slider, interpolate, export."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

from genstudio.ui.model_list import demo_checkpoints


def open_and_wait(qtbot, window, path):
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(path)
    return window.explore.last_image.copy()


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


def test_first_launch_shows_a_demo_digit(qtbot, window):
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_default()
    image = window.explore.last_image
    assert image.shape == (1, 28, 28)
    assert image.max() > 0.5 and image.min() < 0.2    # a bright digit on a dark ground
    assert window.models.count() >= 3                 # the demos are listed


def test_slider_drag_with_the_mouse_changes_the_image(qtbot, window):
    before = open_and_wait(qtbot, window, demo("vae-mnist"))   # 2-D latent: one slider per dimension
    sliders = window.explore.sliders.sliders
    assert len(sliders) == 2
    slider = sliders[0]
    start = slider.value()
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=10000):
        # A click on the groove near the right end pages the handle towards it, as a person's would.
        qtbot.mouseClick(slider, Qt.LeftButton, pos=QPoint(slider.width() - 4, slider.height() // 2))
    assert slider.value() > start
    assert abs(window.explore.current_latent()[0].item() - slider.value() / 100) < 1e-6
    assert not np.allclose(before, window.explore.last_image)


def test_principal_directions_for_large_latents(qtbot, window):
    open_and_wait(qtbot, window, demo("gan-mnist"))
    explore = window.explore
    qtbot.waitUntil(lambda: explore.directions is not None, timeout=30000)
    assert explore.slider_mode.currentText() == "Principal directions"
    assert len(explore.sliders.sliders) == explore.k_spin.value()
    before = explore.last_image.copy()
    with qtbot.waitSignal(explore.image_view.shown, timeout=10000):
        explore.sliders.sliders[0].setValue(300)      # +3 along PC1
    assert not np.allclose(before, explore.last_image)
    # Switching to a page of raw dimensions shows 16 sliders at the current latent's values.
    explore.slider_mode.setCurrentIndex(1)
    values = explore.sliders.values()
    assert len(values) == 16
    assert np.allclose(values, explore.current_latent()[:16].clamp(-4, 4).numpy(), atol=0.006)


def test_the_first_image_does_not_wait_for_the_directions_and_a_reopen_reads_them_back(qtbot, window, tmp_path,
                                                                                      monkeypatch):
    # The directions are 1,024 decodes (0.3-0.6 s for this demo on two cores): queued before the
    # model's first image, they held it back at every start-up. Kept per checkpoint, a second open
    # has its sliders at once.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    explore = window.explore
    submitted = []
    submit = window.renderer.submit

    def spy(channel, request):
        submitted.append((channel, explore.last_image is not None))
        return submit(channel, request)

    monkeypatch.setattr(window.renderer, "submit", spy)
    open_and_wait(qtbot, window, demo("gan-mnist"))
    qtbot.waitUntil(lambda: explore.directions is not None, timeout=30000)
    channels = [channel for channel, _ in submitted]
    assert channels.index("image") < channels.index("directions")
    assert all(shown for channel, shown in submitted if channel == "directions")   # after the image was on screen
    first = explore.directions.clone()
    kept = list((tmp_path / "cache" / "genstudio" / "directions").glob("*.npz"))
    assert len(kept) == 1
    written = kept[0].stat().st_mtime_ns

    open_and_wait(qtbot, window, demo("vae-mnist"))
    assert explore.directions is None
    open_and_wait(qtbot, window, demo("gan-mnist"))
    qtbot.waitUntil(lambda: explore.directions is not None, timeout=30000)
    assert torch.equal(explore.directions, first)
    assert kept[0].stat().st_mtime_ns == written                  # read back, not computed and written again
    assert len(explore.sliders.sliders) == explore.k_spin.value()


def test_interpolation_slerp_toggle_and_t_slider(qtbot, window):
    open_and_wait(qtbot, window, demo("gan-mnist"))
    explore = window.explore
    with qtbot.waitSignal(explore.strip_view.shown, timeout=10000):
        explore.randomise_endpoints()
    spherical = explore.last_strip.copy()
    assert spherical.shape == (explore.frames.value(), 1, 28, 28)
    with qtbot.waitSignal(explore.strip_view.shown, timeout=10000):
        explore.slerp.setChecked(False)
    linear = explore.last_strip
    assert np.allclose(spherical[0], linear[0], atol=1e-5) and np.allclose(spherical[-1], linear[-1], atol=1e-5)
    assert not np.allclose(spherical[len(spherical) // 2], linear[len(linear) // 2])  # the paths differ
    with qtbot.waitSignal(explore.image_view.shown, timeout=10000):
        explore.t_slider.setValue(1000)
    assert np.allclose(explore.current_latent(), explore.b, atol=1e-5)
    assert "ms per image" in explore.strip_timing.text()


def test_open_by_drag_and_drop(qtbot, window):
    open_and_wait(qtbot, window, demo("gan-mnist"))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(demo("vae-mnist")))])
    event = QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.dropEvent(event)
    assert window.opened.family == "vae"
    assert str(demo("vae-mnist").resolve()) not in window.models.recent()  # demos are not "recent"


def test_open_through_the_file_dialog_and_recent_list(qtbot, window, monkeypatch, tmp_path):
    copy = tmp_path / "mine.safetensors"
    copy.write_bytes(demo("vae-mnist").read_bytes())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(copy), ""))
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_dialog()
    assert window.opened.path == copy
    assert window.models.recent()[0] == str(copy.resolve())


@pytest.mark.parametrize("content,reason", [
    (b"\x00" * 64, "not a genstudio checkpoint"),
    (b"PK\x03\x04 not really a zip", "not a"),
])
def test_bad_files_say_why_and_keep_the_open_model(qtbot, window, tmp_path, content, reason):
    open_and_wait(qtbot, window, demo("gan-mnist"))
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(content)
    assert not window.open_path(bad)
    assert window.banner.isVisible()
    assert str(bad) in window.banner.label.text() and reason in window.banner.label.text()
    assert window.opened.path.stem == "gan-mnist"     # nothing lost


def test_exports_through_the_dialogs(qtbot, window, monkeypatch, tmp_path):
    from genstudio.ui.export_dialog import GridExportDialog

    open_and_wait(qtbot, window, demo("gan-mnist"))
    target = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target["path"]), ""))

    def accept(dialog):
        dialog.rows.setValue(3)
        dialog.cols.setValue(5)
        dialog.padding.setValue(2)
        dialog.scale.setValue(2)
        return GridExportDialog.Accepted

    monkeypatch.setattr(GridExportDialog, "exec", accept)
    target["path"] = tmp_path / "grid.png"
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_grid_dialog()
    with Image.open(target["path"]) as im:
        assert im.size == ((5 * 30 + 2) * 2, (3 * 30 + 2) * 2)

    window.exports.export_gif_dialog()                         # no A/B yet: says so, writes nothing
    assert "A and B" in window.banner.label.text()
    with qtbot.waitSignal(window.explore.strip_view.shown, timeout=10000):
        window.explore.randomise_endpoints()
    target["path"] = tmp_path / "path.gif"
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_gif_dialog()
    with Image.open(target["path"]) as gif:
        assert gif.n_frames == 24 + 22                # 24 frames there and 22 back (boomerang)
        assert gif.size == (28 * 4, 28 * 4)
    target["path"] = tmp_path / "strip.png"
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_strip_dialog()
    with Image.open(target["path"]) as strip:
        frames = window.explore.frames.value()
        assert strip.size == ((frames * 30 + 2) * 2, 32 * 2)
    target["path"] = tmp_path / "latent.json"
    window.exports.save_latent_dialog()
    record = json.loads(target["path"].read_text())
    assert len(record["latent"]) == 64 and record["interpolation"]["spherical"] is True
    # The saved latent reproduces the image.
    shown = window.explore.last_image.copy()
    window.explore.randomise()
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=10000):
        window.explore.load_latent_json(target["path"])
    assert np.allclose(window.explore.last_image, shown, atol=1e-6)


def test_a_saved_latent_renders_the_same_on_the_command_line(qtbot, window, monkeypatch, tmp_path):
    """The latent record the app writes is what `genstudio sample --latent` reads: same pixels."""
    from genstudio.cli import main
    from genstudio.core.io.export import to_uint8_hwc

    open_and_wait(qtbot, window, demo("gan-mnist"))
    qtbot.waitUntil(lambda: window.explore.directions is not None, timeout=30000)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=10000):
        window.explore.sliders.sliders[1].setValue(-220)          # an edit no seed reproduces
    record = tmp_path / "latent.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(record), ""))
    window.exports.save_latent_dialog()
    out = tmp_path / "cli.png"
    assert main(["sample", str(demo("gan-mnist")), "--latent", str(record), "--out", str(out)]) == 0
    with Image.open(out) as im:
        cli = np.asarray(im.convert("RGB"))
    assert np.array_equal(cli, to_uint8_hwc(window.explore.last_image[None])[0])


def test_nearest_neighbours(qtbot, window):
    open_and_wait(qtbot, window, demo("vae-mnist"))
    explore = window.explore
    explore.neighbours_check.setChecked(True)
    qtbot.waitUntil(lambda: "nearest images in mnist" in explore.neighbour_label.text(), timeout=30000)
    assert explore.neighbour_view.image().width() == 7 * 30 + 2   # the sample and its 6 neighbours
