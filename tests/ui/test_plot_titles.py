"""Plot titles never clip: in a 1280 x 680 window every training plot of every family (the Train
tab) and the Diagnostics tab's charts (as built, and after a small report) show a title whose text
fits the width its plot gives it and lies inside the visible view; one that is cut short ends in an
ellipsis and carries the whole title in its tooltip. A plot narrower than its title (a larger
desktop font does that at 1280 x 680) elides it, where pyqtgraph's own title widens the plot past
its view."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication

from genstudio.core import registry
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.widgets.plot_title import FittedTitle, fit_title


def at_1280_by_680(qtbot, window, tab) -> None:
    window.resize(1280, 680)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1280, 680), timeout=5000)
    window.tabs.setCurrentWidget(tab)
    QApplication.processEvents()


def title_problems(plot: pg.PlotItem, view: pg.GraphicsView, whole: str) -> list[str]:
    """What is wrong with `plot`'s title in `view`: text wider than its room, drawn outside the
    visible view, cut short without the ellipsis and tooltip."""
    label = plot.titleLabel                     # a FittedTitle, or pyqtgraph's own LabelItem
    shown = label.item.toPlainText()
    problems = []
    # The title's font and room, measured the same way for pyqtgraph's own title.
    text_width = QFontMetricsF(FittedTitle.font(label)).horizontalAdvance(shown)
    room = FittedTitle.text_room(label)
    if text_width > room:
        problems.append(f"{shown!r}: {text_width:.0f} px of text in {room:.0f} px")
    drawn = label.mapRectToScene(label.itemRect())
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    if not visible.contains(QRectF(drawn.left(), drawn.top(), drawn.width(), 1)):
        problems.append(f"{shown!r} drawn at x {drawn.left():.0f}..{drawn.right():.0f}, "
                        f"the view shows {visible.left():.0f}..{visible.right():.0f}")
    if shown != whole and not (shown.endswith("\u2026") and whole.startswith(shown[:-1])
                               and label.toolTip() == whole):
        problems.append(f"{shown!r} is cut from {whole!r} without an ellipsis and the whole in its tooltip")
    return problems


def test_every_familys_training_plots_fit(qtbot, window):
    panel = window.train
    at_1280_by_680(qtbot, window, panel)
    for index in range(panel.family.count()):
        panel.family.setCurrentIndex(index)
        QApplication.processEvents()
        family = registry.get(panel.family_key())
        assert len(panel.plot.plots) == len(family.plots)
        for plot, spec in zip(panel.plot.plots, family.plots):
            assert plot.titleLabel.text == spec.title                     # the whole title, for model_bound
            assert title_problems(plot, panel.plot.view, spec.title) == [], family.name


def diagnostics_title_problems(panel) -> list[str]:
    problems = []
    for chart in (panel.class_plot, panel.prdc_plot, panel.ndb_plot):
        plot = chart.getPlotItem()
        problems += title_problems(plot, chart, plot.titleLabel.text)
    return problems


def test_the_diagnostics_charts_fit(qtbot, window):
    panel = window.diagnostics
    at_1280_by_680(qtbot, window, panel)
    assert diagnostics_title_problems(panel) == []


@pytest.mark.long
def test_the_diagnostics_charts_fit_after_a_report(qtbot, window):
    """A report of 200 samples takes 40 s on the 2-core box: its titles (class coverage, NDB) are longer."""
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    panel = window.diagnostics
    at_1280_by_680(qtbot, window, panel)
    panel.samples.setValue(200)
    with qtbot.waitSignal(panel.tasks.finished, timeout=300000):
        panel.run_button.click()
    assert panel.report is not None
    QApplication.processEvents()
    assert diagnostics_title_problems(panel) == []
    assert panel.class_plot.getPlotItem().titleLabel.text.startswith("Classes: ")   # the report's title



def test_a_plot_narrower_than_its_title_elides_it(qtbot):
    title = "Loss by noise level: q1 least noise (t < T/4) .. q4 most"
    plain, fitted = pg.PlotWidget(title=title), pg.PlotWidget(title=title)
    fit_title(fitted)
    for chart in (plain, fitted):
        qtbot.addWidget(chart)
        chart.resize(260, 200)
        chart.show()
    qtbot.waitUntil(lambda: fitted.getPlotItem().titleLabel.width() > 0, timeout=5000)
    QApplication.processEvents()
    # pyqtgraph's own title asks its full width of the plot, which then runs past the view
    assert title_problems(plain.getPlotItem(), plain, title), "pyqtgraph now fits titles itself"
    label = fitted.getPlotItem().titleLabel
    assert title_problems(fitted.getPlotItem(), fitted, title) == []
    assert label.shown_text().endswith("\u2026") and label.toolTip() == title and label.text == title
    fitted.resize(900, 200)                                              # room again: the whole title
    qtbot.waitUntil(lambda: label.shown_text() == title, timeout=5000)
    assert label.toolTip() == "" and title_problems(fitted.getPlotItem(), fitted, title) == []
    fitted.getPlotItem().setTitle("KL, nats")                            # a new title fits at once
    assert label.shown_text() == "KL, nats" and label.text == "KL, nats"
