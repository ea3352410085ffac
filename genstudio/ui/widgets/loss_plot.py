"""Live training curves with pyqtgraph: curves made once per run, then only `setData`."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from PySide6.QtWidgets import QVBoxLayout, QWidget

# family -> (top plot title and keys, bottom plot title and keys)
LAYOUTS = {
    "gan": (("Losses", ["d_loss", "g_loss", "gradient_penalty"]),
            ("Discriminator outputs: D(x), D(G(z))", ["d_real", "d_fake"])),
    "vae": (("Loss (-ELBO) and reconstruction, nats", ["loss", "recon", "eval/recon"]),
            ("KL, nats", ["kl", "eval/kl"])),
    "flow": (("Bits per dimension", ["bits_per_dim", "eval/bits_per_dim", "nll", "eval/nll"]),
             ("Invertibility error (max |x - f\u207b\u00b9(f(x))|)", ["eval/invertibility_error"])),
}
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


class LossPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.top = self.view.addPlot(row=0, col=0)
        self.bottom = self.view.addPlot(row=1, col=0)
        self.bottom.setXLink(self.top)
        # No grid lines: redrawn with every new point, they cost more than the curves (a repaint
        # of these plots took 36 ms with the axes' grid, 19 ms with a GridItem, 8.5 ms without).
        for plot in (self.top, self.bottom):
            # Long runs: draw a peak-preserving subsample of what is visible, not 10^5 segments.
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.addLegend(offset=(-10, 10))
        self.bottom.setLabel("bottom", "step")
        # Live mode-collapse figures (GANs), shown once the first arrive.
        self.metrics_plot = self.view.addPlot(row=2, col=0, title="Live diagnostics: coverage, classes covered, diversity")
        self.metrics_plot.setXLink(self.top)
        self.metrics_plot.addLegend(offset=(-10, 10))
        self.metrics_plot.setYRange(0, 1.05)
        self.metrics_plot.hide()
        self.metric_curves: dict[str, pg.PlotDataItem] = {}
        self.metric_points: dict[str, tuple[list, list]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.xs: dict[str, list[float]] = {}
        self.ys: dict[str, list[float]] = {}
        self.family = ""

    def start(self, family: str) -> None:
        """New run: forget the old curves; curves are created when their key first appears."""
        self.family = family
        for plot in (self.top, self.bottom, self.metrics_plot):
            plot.clear()
            plot.legend.clear()
        (top_title, _), (bottom_title, _) = LAYOUTS.get(family, (("Losses", []), ("", [])))
        self.top.setTitle(top_title)
        self.bottom.setTitle(bottom_title)
        self.curves, self.xs, self.ys = {}, {}, {}
        self.metrics_plot.hide()
        self.metric_curves, self.metric_points = {}, {}

    def _curve(self, key: str) -> pg.PlotDataItem | None:
        if key in self.curves:
            return self.curves[key]
        (_, top_keys), (_, bottom_keys) = LAYOUTS.get(self.family, (("", []), ("", [])))
        if key in top_keys:
            plot = self.top
        elif key in bottom_keys:
            plot = self.bottom
        elif not key.startswith("eval/") and self.family not in LAYOUTS:
            plot = self.top
        else:
            return None
        colour = COLOURS[len(self.curves) % len(COLOURS)]
        dashed = key.startswith("eval/")
        pen = pg.mkPen(colour, width=2 if not dashed else 1.5, style=pg.QtCore.Qt.DashLine if dashed else pg.QtCore.Qt.SolidLine)
        symbol = "o" if dashed else None
        curve = plot.plot([], [], pen=pen, name=key.replace("eval/", "eval ").replace("_", " "),
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
