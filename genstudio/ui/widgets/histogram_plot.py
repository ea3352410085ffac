"""The histogram of a per-image figure over a data set that the Inspect tools share (bits/dim,
cycle error): a themed plot of bars that a click picks, and a vertical line marking a dropped
image's value."""

from __future__ import annotations

import pyqtgraph as pg

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from genstudio.ui.theme import themed_plot


def histogram_plot(title: str, x_label: str, bar_width: float, line_colour: str, on_click
                   ) -> tuple[pg.PlotWidget, pg.BarGraphItem, pg.InfiniteLine]:
    """(the plot, its bars, the hidden line for a dropped image); `on_click(event)` gets the scene's clicks."""
    plot = themed_plot(pg.PlotWidget(title=title))
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", "images")
    bars = pg.BarGraphItem(x=[], height=[], width=bar_width, brush="#1f77b4")
    plot.addItem(bars)
    line = pg.InfiniteLine(angle=90, pen=pg.mkPen(line_colour, width=2))
    line.setVisible(False)
    plot.addItem(line)
    plot.scene().sigMouseClicked.connect(on_click)
    return plot, bars, line
