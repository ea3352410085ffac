"""One state, one image, in the exports too: the interpolation strip decodes with the explorer's full
decode options (the W edit included: it once decoded without it), so its frame at t is the image
the explorer shows at t; a walk from A to B gives each frame the class of its nearer end."""

import json

import numpy as np
import torch
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from genstudio.core.explore.walk import walk_labels
from genstudio.ui.model_list import demo_checkpoints


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


def full_image(qtbot, explore, change) -> np.ndarray:
    """The explorer's image (C, H, W) after `change()`, decoded in full."""
    change()
    with qtbot.waitSignal(explore.imageRendered, timeout=30000, check_params_cb=lambda kind: kind == "full"):
        explore.render(full=True)
    return explore.last_image.copy()


def test_the_strip_export_shows_the_explorers_image_at_each_t(qtbot, window, tmp_path, monkeypatch):
    explore, session = window.explore, window.session
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        assert window.open_path(demo("stylegan-mnist"))
    session.randomise_endpoints(seed=11)
    session.set_frames(5)
    # An edit in W: the sliders of the first W mode, once its principal directions have arrived.
    modes = [explore.slider_mode.itemText(i) for i in range(explore.slider_mode.count())]
    explore.slider_mode.setCurrentIndex(next(i for i, text in enumerate(modes) if " in W" in text))
    qtbot.waitUntil(lambda: len(explore.sliders.sliders) >= 2, timeout=30000)
    unedited = full_image(qtbot, explore, lambda: None)
    edited = full_image(qtbot, explore, lambda: (explore.sliders.sliders[0].setValue(300),
                                                 explore.sliders.sliders[1].setValue(-250)))
    assert np.abs(edited - unedited).max() > 0.2                   # the edit changes the digit

    out = tmp_path / "strip.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_strip_dialog()
    strip = np.asarray(Image.open(out).convert("L"), dtype=np.int32)[::2, ::2]   # scale 2, nearest: every other pixel
    pad, side = 2, 28                                                             # grid_image's layout
    for k in (0, 2, 4):
        shown = full_image(qtbot, explore, lambda k=k: session.set_t(k / 4))
        frame = strip[pad:pad + side, pad + k * (side + pad):pad + k * (side + pad) + side]
        expected = (np.clip(shown[0], 0, 1) * 255 + 0.5).astype(np.int32)
        # A batch of five and a batch of one may round a pixel's last float bit differently.
        assert np.abs(frame - expected).max() <= 1, f"frame {k} of the strip differs from the explorer at t={k / 4}"


def test_walk_labels_follow_the_nearer_key():
    labels = walk_labels(torch.tensor([0, 7]), 4, loop=True)        # A -> B -> A, 4 frames a segment
    assert labels.tolist() == [0, 0, 7, 7, 7, 7, 0, 0]
    assert walk_labels(torch.tensor([1, 2, 3]), 2, loop=False).tolist() == [1, 2, 2, 3, 3]


def test_a_walk_from_a_to_b_gives_each_frame_its_ends_class(qtbot, window, tmp_path):
    session = window.session
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(demo("gan-mnist"))
    session.set_endpoints(session.seeded_latent(1), session.seeded_latent(2), a_label=3, b_label=8)
    values = {"keys": "ab", "seeds": "", "file": "", "frames": 4, "fps": 12, "scale": 1, "loop": True, "format": "gif"}
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_walk(tmp_path / "ab.gif", values)
    record = json.loads((tmp_path / "ab.json").read_text())
    assert record["labels"] == [3, 3, 8, 8, 8, 8, 3, 3]
