"""Dark mode: switching the theme (as the system's colour scheme does) recolours the palette, every
plot made before the switch and every plot made after it, the error banner, the Train tab's
collapse banner and the Diagnostics verdict; switching back restores the light colours."""

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from genstudio.ui import theme


def background(view) -> str:
    return view.backgroundBrush().color().name()


def test_dark_and_light_themes(qtbot, window):
    app = QApplication.instance()
    plots = [window.diagnostics.prdc_plot, window.map.plot, window.train.scatter]
    assert all(background(p) == "#ffffff" for p in plots)
    try:
        theme.apply_theme(app, dark=True)
        assert app.palette().color(QPalette.Window).lightness() < 80
        assert all(background(p) == theme.DARK.plot_background for p in plots)
        assert background(window.train.plot.view) == theme.DARK.plot_background          # a layout of plots
        axis = window.diagnostics.prdc_plot.getPlotItem().getAxis("left")
        assert axis.pen().color().name() == theme.DARK.plot_foreground
        assert background(pg.PlotWidget()) == theme.DARK.plot_background                 # made after the switch
        assert theme.DARK.banner_background in window.banner.styleSheet()
        assert theme.DARK.banner_background in window.train.collapse_label.styleSheet()
        assert theme.DARK.error in theme.error_html("x")
        window.diagnostics.report = {"verdict": {"verdict": "low fidelity", "missing_modes": [],
                                                 "low_fidelity": ["blurry"], "unclear": []}}
        theme.apply_theme(app, dark=True)
        assert theme.DARK.warning in window.diagnostics.verdict.text()
    finally:
        theme.apply_theme(app, dark=False)
    assert all(background(p) == "#ffffff" for p in plots)
    assert theme.LIGHT.banner_background in window.banner.styleSheet()
    assert theme.LIGHT.warning in window.diagnostics.verdict.text()
