"""Class-conditional models in the explorer: A and B keep classes of their own (the strip morphs a 0
into a 7), Randomise and Random A, B can draw the class, a grid export can put one class per row,
and the latent record keeps the end points' classes. `[` and `]` step t from strip frame to frame."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt

from genstudio.core.explore.decoding import decode_numpy
from genstudio.core.explore.explore_session import ExploreSession
from genstudio.core.io.open_model import open_model
from genstudio.ui.explore_actions import next_frame_t
from genstudio.ui.model_list import demo_checkpoints


def open_demo(qtbot, window, name):
    path = next(p for p in demo_checkpoints() if p.stem == name)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(path)


def test_each_end_point_keeps_its_class(qtbot, window, tmp_path):
    open_demo(qtbot, window, "gan-mnist")
    session, explore = window.session, window.explore
    assert session.num_classes == 10 and explore.random_class.isVisible()
    session.set_label(0)
    session.set_endpoint("a")
    session.set_label(7)
    session.set_endpoint("b", session.seeded_latent(5))
    assert (session.a_label, session.b_label) == (0, 7)
    labels = session.path_labels(10)
    assert labels.tolist() == [0] * 5 + [7] * 5
    with qtbot.waitSignal(window.renderer.done, timeout=30000,
                          check_params_cb=lambda channel, *a: channel == "strip"):
        explore.render_strip()
    strip = explore.last_strip                                              # (10, 1, 28, 28)
    # The ends are decoded with their own classes: the first frame is what A with class 0 decodes,
    # the last what B with class 7 decodes, and the two differ.
    model = open_model(window.opened.path, "cpu").model                    # the same weights, decoded here
    first = decode_numpy(model, session.a[None], torch.tensor([0]), dict(session.decode_options))[0]
    last = decode_numpy(model, session.b[None], torch.tensor([7]), dict(session.decode_options))[0]
    wrong = decode_numpy(model, session.b[None], torch.tensor([0]), dict(session.decode_options))[0]
    assert np.allclose(strip[0], first, atol=1e-5) and np.allclose(strip[-1], last, atol=1e-5)
    assert np.abs(strip[-1] - wrong).mean() > 0.02
    assert "class 0 \u2192 7" in explore.strip_timing.text()

    # Moving t past half way shows B's class on the big image (the class box follows).
    explore.t_slider.setValue(800)
    assert session.label == 7 and explore.label_combo.currentIndex() == 7
    explore.t_slider.setValue(200)
    assert session.label == 0

    record = session.to_record()
    assert record["interpolation"]["a_label"] == 0 and record["interpolation"]["b_label"] == 7
    fresh = ExploreSession()
    fresh.configure(session.latent_shape, 10, "gan", session.checkpoint, decode_options=dict(session.decode_options))
    fresh.apply_record(json.loads(json.dumps(record)))
    assert (fresh.a_label, fresh.b_label) == (0, 7)


def test_random_class_draws_classes(qtbot, window):
    open_demo(qtbot, window, "gan-mnist")
    session, explore = window.session, window.explore
    explore.random_class.setChecked(True)
    seen = set()
    for _ in range(12):
        explore.randomise()
        seen.add(session.label)
    assert len(seen) > 1 and explore.label_combo.currentIndex() == session.label
    pairs = set()
    for _ in range(12):
        explore.randomise_endpoints()
        pairs.add((session.a_label, session.b_label))
    assert any(a != b for a, b in pairs)
    explore.random_class.setChecked(False)
    session.set_label(3)
    explore.randomise()
    explore.randomise_endpoints()
    assert session.label == 3 and (session.a_label, session.b_label) == (3, 3)


def test_grid_export_with_one_class_per_row(qtbot, window, tmp_path):
    open_demo(qtbot, window, "gan-mnist")
    values = {"kind": "seeds", "rows": 3, "cols": 4, "seed": 2, "padding": 0, "scale": 1, "class_per_row": True}
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_grid(tmp_path / "classes.png", values)
    saved = json.loads((tmp_path / "classes.json").read_text())
    assert saved["labels"] == [0] * 4 + [1] * 4 + [2] * 4
    pixels = np.asarray(Image.open(tmp_path / "classes.png").convert("L"), dtype=np.float32) / 255
    rows = pixels.reshape(3, 28, 4 * 28)
    # Same seeds in every row, other classes: the rows differ.
    assert np.abs(rows[0] - rows[1]).mean() > 0.02 and np.abs(rows[1] - rows[2]).mean() > 0.02


def test_brackets_step_t_from_frame_to_frame(qtbot, window):
    open_demo(qtbot, window, "gan-mnist")
    session, explore = window.session, window.explore
    session.randomise_endpoints(seed=1)
    explore.frames.setValue(5)
    window.activateWindow()
    explore.image_view.setFocus()
    seen = []
    for _ in range(5):
        qtbot.keyClick(explore.image_view, Qt.Key_BracketRight)
        seen.append(session.t)
    assert seen == [0.25, 0.5, 0.75, 1.0, 1.0]
    explore.t_slider.setValue(600)                                  # between frames: the next one on that side
    qtbot.keyClick(explore.image_view, Qt.Key_BracketLeft)
    assert session.t == 0.5
    explore.frames.setValue(10)
    explore.t_slider.setValue(0)
    for _ in range(3):
        qtbot.keyClick(explore.image_view, Qt.Key_BracketRight)
    steps = np.diff([0.0] + [next_frame_t(k / 9, 10, +1) for k in range(9)])
    assert np.allclose(steps, 1 / 9) and abs(session.t - 3 / 9) <= 0.001


@pytest.mark.parametrize("frames", [2, 7, 10, 64])
def test_next_frame_t_lands_on_frames(frames):
    t, visited = 0.0, [0.0]
    while t < 1.0:
        t = round(next_frame_t(t, frames, +1) * 1000) / 1000        # through the slider's ticks
        visited.append(t)
    assert len(visited) == frames and np.allclose(visited, np.linspace(0, 1, frames), atol=0.001)
