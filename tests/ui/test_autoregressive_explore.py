"""A PixelCNN in the app, through the real widgets: the explorer draws its image row by row as the
renderer samples it, offers no principal directions (each decode is a sampling run), a newer latent
stops the drawing in progress, and the finished image is the model's own decode of the latent.
A tiny model (8 feature maps, 2 layers, 2 training steps) keeps it quick."""


import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from genstudio.core.families.family import Capability
from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.requests.render_requests import DecodeRows


def test_explorer_draws_row_by_row(qtbot, window, pixelcnn):
    window.tabs.setCurrentWidget(window.explore)
    explore = window.explore
    rows: list[int] = []
    shown: list[np.ndarray] = []

    def partial(channel, part):
        if channel == "image":
            rows.append(part[0])
            shown.append(part[2][0].copy())

    window.renderer.partial.connect(partial)
    with qtbot.waitSignal(explore.imageRendered, timeout=60000):
        assert window.open_path(pixelcnn)
    assert explore.slider_mode.findText("Principal directions") < 0 and explore.session.directions is None
    assert rows[-28:] == list(range(28))
    # Row r's report holds rows 0..r drawn and nothing below them yet.
    assert np.all(shown[-18][:, 11:] == 0) and np.all(shown[-1] == explore.last_image)
    model = load_checkpoint(pixelcnn).model.eval()
    with torch.no_grad():
        expected = model.decode(explore.session.z.view(1, 1, 28, 28))[0].numpy()
    np.testing.assert_array_equal(explore.last_image, expected)
    assert "row 28 of 28" not in explore.timing.text()          # the caption says the decode finished


def test_a_newer_latent_stops_the_drawing(qtbot, window, pixelcnn):
    assert window.open_path(pixelcnn)
    qtbot.waitUntil(lambda: window.explore.last_image is not None, timeout=60000)
    renderer = window.renderer
    rows: list[int] = []

    def drew(channel, stamp, part):      # runs in the worker thread, as each row is drawn
        if channel == "first":
            rows.append(part[0])
            if part[0] == 1:
                renderer.cancel("first")  # what a newer request of the channel does to the older one

    renderer._worker.partial.connect(drew, Qt.DirectConnection)
    z = torch.randn(1, 784)
    renderer.submit("first", DecodeRows(z))
    with qtbot.waitSignal(renderer.done, timeout=30000, check_params_cb=lambda channel, *_: channel == "second"):
        renderer.submit("second", DecodeRows(z))
    renderer._worker.partial.disconnect(drew)
    assert rows == [0, 1]                # the worker stopped the first drawing before its third row


@pytest.fixture
def small(mnist):
    return type(mnist)("mnist", mnist.data[:64], mnist.labels[:64], mnist.label_names, "mnist")


def test_likelihood_tool_shows_where_the_model_is_surprised(qtbot, window, pixelcnn, small):
    assert window.open_path(pixelcnn)
    tool = window.inspect.tool(Capability.EXACT_LIKELIHOOD)
    window.tabs.setCurrentWidget(window.inspect)
    window.inspect.pages.setCurrentWidget(tool)
    # A PixelCNN has no encoder and no latent temperature: only the histogram and the surprise map.
    assert not tool.round_trip_box.isVisible() and not tool.temperature_box.isVisible()
    assert tool.surprise_box.isVisible()
    tool.use_dataset(small)
    with qtbot.waitSignal(tool.surprise_view.shown, timeout=60000):
        tool.measure_dataset()               # the histogram, then its worst bar's worst image's map
    worst = int(np.argmax(tool.bpd))
    assert tool.surprise_pick.value() == worst
    model = load_checkpoint(pixelcnn).model.eval()
    with torch.no_grad():
        nats = model.pixel_nll(small.data[worst:worst + 1].float() / 255)[0].numpy()
        bpd = float(model.bits_per_dim(small.data[worst:worst + 1].float() / 255)[0])
    r, c = np.unravel_index(int(np.argmax(nats)), nats.shape)
    assert f"{bpd:.3f} bits/dim" in tool.surprise_label.text() and f"row {r}, column {c}" in tool.surprise_label.text()
    assert abs(tool.bpd[worst] - bpd) < 1e-4                 # the histogram's figure is the same likelihood
    shown = tool.surprise_view.image()
    assert shown.width() == 2 * 28 + 3 * 2                   # image | heat map, side by side


def test_completion_tool_keeps_the_given_pixels(qtbot, window, pixelcnn, small, tmp_path):
    assert window.open_path(pixelcnn)
    tool = window.inspect.tool(Capability.COMPLETION)
    assert tool in window.inspect.active_tools()
    tool.use_dataset(small)
    window.tabs.setCurrentWidget(window.inspect)
    window.inspect.pages.setCurrentWidget(tool)
    tool.index.setValue(5)
    tool.rows.setValue(10)
    assert tool.painter.mask[:10].all() and not tool.painter.mask[10:].any()
    # Paint one more pixel to keep with the mouse, near the bottom right, and clear one at the top left.
    rect = tool.painter.target_rect()
    spot = QPoint(int(rect.left() + rect.width() * 24.5 / 28), int(rect.top() + rect.height() * 24.5 / 28))
    qtbot.mouseClick(tool.painter, Qt.LeftButton, pos=spot)
    corner = QPoint(int(rect.left() + rect.width() * 0.5 / 28), int(rect.top() + rect.height() * 0.5 / 28))
    qtbot.mouseClick(tool.painter, Qt.RightButton, pos=corner)
    assert tool.painter.mask[24, 24] and not tool.painter.mask[0, 0]
    rows: list[int] = []
    window.renderer.partial.connect(lambda channel, part: channel == "completion" and rows.append(part[0]))
    tool.count.setValue(3)
    with qtbot.waitSignal(window.renderer.done, timeout=60000,
                          check_params_cb=lambda channel, *_: channel == "completion"):
        tool.complete()
    result = tool.result
    assert rows == list(range(28)) and result.images.shape == (3, 1, 28, 28)
    known = tool.painter.mask
    source = small.data[5, 0].numpy() / 255.0
    for image in result.images:
        np.testing.assert_allclose(image[0][known], source[known], atol=1e-6)
    assert not np.array_equal(result.images[0], result.images[1])
    out = tool.export_row(tmp_path / "completions.png")
    with Image.open(out) as im:
        assert im.size == (4 * 30 + 2, 32)
