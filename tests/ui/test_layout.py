"""The window on a 1366 x 768 laptop: it can be 1280 x 680 with every tab's controls inside their
parents, toggles never resize the main image or the slider list, the Models list tells runs apart,
a restored layout that does not fit the screen is repaired, and dialogs start in the last folder."""

import shutil

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLineEdit,
    QWidget,
)

from genstudio.ui.main_window import MainWindow
from genstudio.ui.model_list import demo_checkpoints, entry_name

CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QAbstractSlider, QLineEdit)


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


def clipped_controls(tab) -> list[str]:
    """Visible controls of `tab` whose rectangle is not inside their parent's."""
    bad = []
    for widget in tab.findChildren(QWidget):
        parent = widget.parentWidget()
        if not isinstance(widget, CONTROLS) or not widget.isVisibleTo(tab) or parent is None or type(parent).__name__ in ("QScrollBar",):
            continue
        if not parent.rect().contains(widget.geometry()):
            bad.append(f"{type(widget).__name__} {widget.objectName() or getattr(widget, 'text', lambda: '')()!r} "
                       f"{widget.geometry().getRect()} in {parent.rect().getRect()}")
    return bad


def test_fits_1280_by_680_with_every_control_inside(qtbot, window):
    for name in ("gan-mnist", "stylegan-mnist", "vae-mnist"):
        with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
            window.open_path(demo(name))
        minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
        assert minimum.width() <= 1280 and minimum.height() <= 680, (name, minimum)
        window.resize(1280, 680)
        qtbot.waitUntil(lambda: (window.width(), window.height()) == (1280, 680), timeout=5000)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            QApplication.processEvents()
            tab = window.tabs.widget(index)
            assert tab.width() <= window.tabs.width() and tab.height() <= window.tabs.height()
            assert clipped_controls(tab) == [], (name, window.tabs.tabText(index))
        window.tabs.setCurrentWidget(window.explore)
    dock = window.findChild(QDockWidget, "models-dock")
    assert dock.width() >= window.models.minimumWidth() >= 200


def settle() -> None:
    """Let layout requests climb and come back down (each level posts the next one's)."""
    for _ in range(6):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def slider_area(explore):
    """The scroll area around the slider list (its viewport narrows when its own scroll bar shows)."""
    return explore.sliders.parentWidget().parentWidget()


def test_toggles_keep_the_image_and_the_sliders_in_place(qtbot, window):
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("gan-mnist"))
    window.resize(1280, 680)
    explore = window.explore
    window.session.randomise_endpoints(seed=3)
    qtbot.waitUntil(lambda: len(explore.sliders.sliders) > 0, timeout=30000)   # the principal directions' sliders
    settle()
    image, sliders = explore.image_view.size(), slider_area(explore).size()
    for box in (explore.neighbours_check, explore.norm_check):
        box.setChecked(True)
        settle()
        assert explore.image_view.size() == image and slider_area(explore).size() == sliders
        box.setChecked(False)
        settle()
        assert explore.image_view.size() == image
    qtbot.waitUntil(lambda: "nearest images" in explore.neighbour_label.text(), timeout=30000)
    explore.neighbours_check.setChecked(True)
    settle()
    assert explore.image_view.size() == image and slider_area(explore).size() == sliders


def test_a_chosen_histogram_bar_keeps_the_panel_in_place(qtbot, window, mnist):
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("flow-mnist"))
    window.resize(1280, 680)
    window.tabs.setCurrentWidget(window.inspect)
    from genstudio.core.families.family import Capability
    panel = window.inspect.tool(Capability.EXACT_LIKELIHOOD)
    window.inspect.pages.setCurrentWidget(panel)
    panel.dataset = type(mnist)("mnist", mnist.data[:200], mnist.labels[:200], mnist.label_names)
    with qtbot.waitSignal(window.inspect.tasks.finished, timeout=60000):
        panel.measure_dataset()
    QApplication.processEvents()
    hist = panel.hist.size()
    panel.show_bin(int(np.argmax(panel.bars.opts["height"])))
    QApplication.processEvents()
    assert panel.hist.size() == hist and clipped_controls(window.inspect) == []


def test_model_names_tell_two_runs_apart(qtbot, window, tmp_path):
    source = demo("gan-mnist")
    for run in ("gan-a", "gan-b"):
        (tmp_path / "runs" / run).mkdir(parents=True)
        shutil.copy(source, tmp_path / "runs" / run / "checkpoint.safetensors")
        window.models.add_recent(tmp_path / "runs" / run / "checkpoint.safetensors")
    texts = [window.models.item(i).text() for i in range(window.models.count())]
    step = entry_name(source).split("step ")[1]
    assert f"runs/gan-a \u00b7 gan \u00b7 step {step}" in texts and f"runs/gan-b \u00b7 gan \u00b7 step {step}" in texts
    assert not any(t == "checkpoint.safetensors" for t in texts)


def test_a_restored_layout_that_does_not_fit_is_repaired(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.show()
    screen = first.screen().availableGeometry()
    first.resize(screen.width() + 900, screen.height() + 600)       # as saved on a larger screen
    first.move(screen.right() + 400, screen.bottom() + 400)
    dock = first.findChild(QDockWidget, "models-dock")
    first.window_state.save()
    first.close()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    again.show()
    assert again.width() <= max(screen.width(), again.minimumSizeHint().width())
    assert again.height() <= max(screen.height(), again.minimumSizeHint().height())
    assert screen.intersects(again.frameGeometry())
    dock = again.findChild(QDockWidget, "models-dock")
    assert dock.width() >= again.models.minimumWidth()
    again.close()


def test_dialogs_start_in_the_last_folder(qtbot, window, monkeypatch, tmp_path):
    asked = []
    models, exports = tmp_path / "models", tmp_path / "exports"
    models.mkdir()
    exports.mkdir()
    shutil.copy(demo("gan-mnist"), models / "g.safetensors")

    def pick_open(parent, title, folder, *a, **k):
        asked.append(folder)
        return str(models / "g.safetensors"), ""

    def pick_save(parent, title, suggestion, *a, **k):
        asked.append(suggestion)
        return str(exports / "grid.json"), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", pick_open)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", pick_save)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_dialog()
    window.exports.save_latent_dialog()
    window.open_dialog()
    window.exports.save_latent_dialog()
    assert asked[2] == str(models)                                       # the second open starts beside the first
    assert asked[3].startswith(str(exports))                             # ... and the second save
    assert window.settings.value("dialogs/checkpoints") == str(models)
