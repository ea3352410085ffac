"""Undo / redo of latent edits: a slider drag is one step, randomise another; Ctrl+Z and
Ctrl+Shift+Z restore the exact latents (and seeds); the history strip shows the states as
thumbnails and a click returns to one."""

import torch
from PySide6.QtCore import Qt

from genstudio.core.explore.latent_history import LatentHistory
from genstudio.ui.history_strip import HistoryStrip
from genstudio.ui.model_list import demo_checkpoints


def test_history_groups_and_truncates():
    h = LatentHistory()
    h.record({"latent": [0.0], "seed": 0})
    h.begin_group()
    for v in (0.1, 0.2, 0.3):
        h.record({"latent": [v], "seed": 0})
    h.end_group()
    assert [e.state["latent"] for e in h.entries] == [[0.0], [0.3]]          # a drag is one step
    assert h.undo()["latent"] == [0.0] and h.redo()["latent"] == [0.3] and h.redo() is None
    h.undo()
    h.record({"latent": [9.0], "seed": 0})                                      # a new edit drops the redo
    assert [e.state["latent"] for e in h.entries] == [[0.0], [9.0]] and not h.can_redo
    assert not h.record({"latent": [9.0], "seed": 0})                           # no change, no step


def test_undo_redo_and_the_history_strip(qtbot, window):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    session, explore, history = window.session, window.explore, window.history.history
    start = session.z.clone()
    assert len(history.entries) == 1

    explore.slider_mode.setCurrentIndex(next(i for i in range(explore.slider_mode.count())
                                             if explore.slider_mode.itemText(i).startswith("Dimensions")))
    slider = explore.sliders.sliders[0]
    slider.setSliderDown(True)                         # grabbed: the moves until release are one edit
    for ticks in (50, 120, 250):
        slider.setValue(ticks)
    slider.setSliderDown(False)
    dragged = session.z.clone()
    assert float(dragged[0]) == 2.5 and len(history.entries) == 2
    with qtbot.waitSignal(explore.imageRendered, timeout=30000):
        explore.randomise()
    randomised, seed = session.z.clone(), session.seed
    assert len(history.entries) == 3

    window.activateWindow()
    explore.image_view.setFocus()
    qtbot.keyClick(explore.image_view, Qt.Key_Z, Qt.ControlModifier)
    assert torch.equal(session.z, dragged) and explore.seed.value() == 0
    qtbot.keyClick(explore.image_view, Qt.Key_Z, Qt.ControlModifier)
    assert torch.equal(session.z, start)
    qtbot.keyClick(explore.image_view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.keyClick(explore.image_view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert torch.equal(session.z, randomised) and explore.seed.value() == seed
    assert len(history.entries) == 3                   # undoing and redoing adds no state

    strip = window.findChild(HistoryStrip)
    visible = lambda: [b for b in strip.buttons if b.isVisible()]
    qtbot.waitUntil(lambda: len(visible()) == 3 and visible()[2].isChecked())   # the strip follows at rest
    qtbot.waitUntil(lambda: history.entries[2].thumbnail is not None, timeout=30000)
    qtbot.waitUntil(lambda: not visible()[2].icon().isNull())
    visible()[0].click()
    assert torch.equal(session.z, start)
    qtbot.waitUntil(lambda: strip.buttons[0].isChecked())
