"""Live training curves with pyqtgraph: curves made once per run, then only `setData`.

The plots and which report keys each shows come from the family's registry entry (`plots`); keys a
family does not place go to the first plot (training figures) or are left out ("eval/" figures)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from PySide6.QtWidgets import QWidget

from genstudio.core import registry
from genstudio.core.families.family import PlotSpec
from genstudio.ui.theme import fill_with_plots
from genstudio.ui.widgets.plot_title import fit_title

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


class LossPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = fill_with_plots(self)
        self.plots: list[pg.PlotItem] = []
        self.specs: tuple[PlotSpec, ...] = ()
        # Live mode-collapse figures (GANs), shown once the first arrive.
        self.metrics_plot = fit_title(pg.PlotItem(title="Live diagnostics: coverage, classes covered, diversity"))
        self.metrics_plot.addLegend(offset=(-10, 10))
        self.metrics_plot.setYRange(0, 1.05)
        self.metrics_plot.hide()
        self.metric_curves: dict[str, pg.PlotDataItem] = {}
        self.metric_points: dict[str, tuple[list, list]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.xs: dict[str, list[float]] = {}
        self.ys: dict[str, list[float]] = {}
        self.family = ""

    def _make_plots(self, count: int) -> None:
        """`count` stacked plots with linked step axes, the live-diagnostics plot below them."""
        if len(self.plots) == count:
            return
        for plot in self.plots:
            self.view.removeItem(plot)
        if self.plots:
            self.view.removeItem(self.metrics_plot)
        self.plots = []
        for row in range(count):
            plot = fit_title(self.view.addPlot(row=row, col=0))     # long titles elide, whole in a tooltip
            # No grid lines: redrawn with every new point, they cost more than the curves (a repaint
            # of these plots took 36 ms with the axes' grid, 19 ms with a GridItem, 8.5 ms without).
            # Long runs: draw a peak-preserving subsample of what is visible, not 10^5 segments.
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.addLegend(offset=(-10, 10))
            if self.plots:
                plot.setXLink(self.plots[0])
            self.plots.append(plot)
        self.plots[-1].setLabel("bottom", "step")
        self.view.addItem(self.metrics_plot, row=count, col=0)
        self.metrics_plot.setXLink(self.plots[0])

    def start(self, family: str) -> None:
        """New run: forget the old curves; curves are created when their key first appears."""
        self.family = family
        self.specs = registry.get(family).plots if family in registry.names() else (PlotSpec("Losses", ()),)
        self._make_plots(len(self.specs))
        for plot in (*self.plots, self.metrics_plot):
            plot.clear()
            plot.legend.clear()
        for plot, spec in zip(self.plots, self.specs):
            plot.setTitle(spec.title)
        self.curves, self.xs, self.ys = {}, {}, {}
        self.metrics_plot.hide()
        self.metric_curves, self.metric_points = {}, {}

    def plot_for(self, key: str) -> pg.PlotItem | None:
        """The plot a report key is drawn on, or None when it is not shown."""
        for plot, spec in zip(self.plots, self.specs):
            if key in spec.keys:
                return plot
        return None if key.startswith("eval/") else self.plots[0]

    def _curve(self, key: str) -> pg.PlotDataItem | None:
        if key in self.curves:
            return self.curves[key]
        plot = self.plot_for(key)
        if plot is None:
            return None
        colour = COLOURS[len(self.curves) % len(COLOURS)]
        dashed = key.startswith("eval/")
        pen = pg.mkPen(colour, width=2 if not dashed else 1.5, style=pg.QtCore.Qt.DashLine if dashed else pg.QtCore.Qt.SolidLine)
        symbol = "o" if dashed else None
        curve = plot.plot([], [], pen=pen, name=key.replace("eval/", "held-out ").replace("_", " "),
                          symbol=symbol, symbolSize=5, symbolBrush=colour)
        self.curves[key], self.xs[key], self.ys[key] = curve, [], []
        return curve

    def add_metrics(self, step: int, metrics: dict) -> None:
        """One live-diagnostics point: coverage, classes (or modes) covered as a fraction, diversity ratio."""
        values = {"coverage": metrics.get("coverage"), "diversity": metrics.get("diversity")}
        if metrics.get("classes_covered") is not None and metrics.get("num_classes"):
            values["classes covered"] = metrics["classes_covered"] / metrics["num_classes"]
        self.metrics_plot.show()
        for key, value in values.items():
            if value is None:
                continue
            if key not in self.metric_curves:
                colour = COLOURS[(len(self.metric_curves) + 2) % len(COLOURS)]
                self.metric_curves[key] = self.metrics_plot.plot([], [], pen=pg.mkPen(colour, width=2), symbol="o",
                                                                 symbolSize=5, symbolBrush=colour, name=key)
                self.metric_points[key] = ([], [])
            xs, ys = self.metric_points[key]
            xs.append(step)
            ys.append(float(value))
            self.metric_curves[key].setData(xs, ys)

    def add(self, step: int, scalars: dict[str, float]) -> None:
        for key, value in scalars.items():
            if self._curve(key) is not None:
                self.xs[key].append(step)
                self.ys[key].append(value)

    def redraw(self) -> None:
        for key, curve in self.curves.items():
            curve.setData(np.asarray(self.xs[key], dtype=float), np.asarray(self.ys[key], dtype=float))

    def point_count(self, key: str) -> int:
        return len(self.xs.get(key, []))
