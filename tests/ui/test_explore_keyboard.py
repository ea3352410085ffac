"""The explorer from the keyboard: the Explore menu's shortcuts do what they say, Help -> Keyboard
shortcuts lists every shortcut of the window, Ctrl+C puts the image as shown on the clipboard at
the chosen upscale, and a slider's value can be typed after a click on its readout."""

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from genstudio.ui.model_list import demo_checkpoints


def open_gan(qtbot, window):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    window.activateWindow()
    window.explore.image_view.setFocus()


def press(qtbot, window, key, modifier=Qt.NoModifier):
    qtbot.keyClick(window.explore.image_view, key, modifier)


def test_explore_shortcuts(qtbot, window):
    open_gan(qtbot, window)
    session, explore = window.session, window.explore
    press(qtbot, window, Qt.Key_R)                                        # a new seed
    seed = explore.seed.value()
    assert seed != 0 and torch.equal(session.z, session.seeded_latent(seed))
    session.move_dimension(0, 3.0)
    press(qtbot, window, Qt.Key_R, Qt.ShiftModifier)                      # the edit undone
    assert torch.equal(session.z, session.seeded_latent(seed))
    press(qtbot, window, Qt.Key_Period)
    assert explore.seed.value() == seed + 1 and torch.equal(session.z, session.seeded_latent(seed + 1))
    press(qtbot, window, Qt.Key_A)
    press(qtbot, window, Qt.Key_Comma)
    press(qtbot, window, Qt.Key_B)
    assert torch.equal(session.a, session.seeded_latent(seed + 1)) and torch.equal(session.b, session.seeded_latent(seed))
    press(qtbot, window, Qt.Key_BracketRight)
    press(qtbot, window, Qt.Key_BracketRight)
    assert session.t == 0.222                         # two frames of the 10-frame strip: 2 / 9 on the slider's ticks
    spherical = session.spherical
    press(qtbot, window, Qt.Key_S)
    assert session.spherical is not spherical

    listed = dict(window.explore_actions.shortcuts())
    assert listed["Explore \u2192 Randomise latent"] == "R" and listed["File \u2192 Open model\u2026"] == "Ctrl+O"
    assert listed["Help \u2192 Keyboard shortcuts"] == "F1"
    assert listed["Explore \u2192 Cancel the decode in progress"] == "Esc"
    dialog = window.explore_actions.show_shortcuts()
    table = dialog.layout().itemAt(0).widget()
    assert table.rowCount() == len(listed) and table.item(0, 1).text()
    dialog.close()


def test_copy_image_at_a_chosen_scale(qtbot, window):
    open_gan(qtbot, window)
    window.explore_actions.scale_actions[8].trigger()
    press(qtbot, window, Qt.Key_C, Qt.ControlModifier)
    copied = QGuiApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (28 * 8, 28 * 8)
    shown = window.explore.last_image[0]                                    # (28, 28) in [0, 1]
    pixel = copied.pixelColor(8 * 14 + 3, 8 * 9 + 5).red()                  # inside source pixel (9, 14)
    assert pixel == int(np.clip(shown[9, 14], 0, 1) * 255 + 0.5)


def test_a_slider_value_can_be_typed(qtbot, window):
    open_gan(qtbot, window)
    explore = window.explore
    explore.slider_mode.setCurrentIndex(next(i for i in range(explore.slider_mode.count())
                                             if explore.slider_mode.itemText(i).startswith("Dimensions")))
    readout = explore.sliders._values[2]
    qtbot.mouseClick(readout, Qt.LeftButton)
    editor = explore.sliders.editor
    assert editor is not None and editor.hasSelectedText()
    qtbot.keyClicks(editor, "-5.25")
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        qtbot.keyClick(editor, Qt.Key_Return)
    assert float(window.session.z[2]) == -5.25                              # beyond the slider's end
    assert readout.text() == "-5.25" and explore.sliders.sliders[2].value() == -400
    qtbot.mouseClick(explore.sliders._values[3], Qt.LeftButton)
    qtbot.keyClicks(explore.sliders.editor, "2")
    qtbot.keyClick(explore.sliders.editor, Qt.Key_Escape)                   # Escape keeps the old value
    assert explore.sliders.editor is None and float(window.session.z[3]) != 2.0
