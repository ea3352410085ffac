"""The Runs tab's curves: every followed run's figures overlaid, one colour per run.

The plots follow LossPlot's (widgets/loss_plot.py): when every shown run is of one registered family,
its registry entry's `plots` place the keys; otherwise one plot takes the training figures. Held-out
"eval/" figures a family does not place get a plot of their own, and a GAN's live mode-collapse
figures ("diagnostics" records) another, each only once such figures exist. Within a plot a run keeps
its colour and each key a line style: a line above the plots names the runs in their colours, and a
plot with several keys names their styles in a one-row legend.

Points are appended as records arrive and drawn by `redraw()` (only the curves that changed);
plots and curves are rebuilt only when what is shown changes (a run or key appears, a run is hidden)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from genstudio.core import registry
from genstudio.core.families.family import PlotSpec
from genstudio.ui import theme
from genstudio.ui.theme import themed_plot
from genstudio.ui.widgets.plot_title import fit_title

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
STYLES = [Qt.SolidLine, Qt.DashLine, Qt.DotLine, Qt.DashDotLine, Qt.DashDotDotLine]
DIAGNOSTICS = "diagnostics/"        # the prefix of live-diagnostics keys here (they share no plot with losses)
EVAL_TITLE = "Held-out figures (eval/)"
DIAGNOSTICS_TITLE = "Live diagnostics: coverage, classes covered, diversity"


@dataclass
class _Run:
    name: str
    colour: str
    family: str = ""
    visible: bool = True
    points: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)   # key -> (steps, values)
    changed: set[str] = field(default_factory=set)                                    # keys not drawn yet


def _record_points(record: dict) -> dict[str, float]:
    """The figures one record adds, by the key they are drawn under; None (non-finite) left out."""
    scalars = record.get("scalars")
    if not isinstance(scalars, dict) or record.get("kind") not in ("step", "samples", "diagnostics"):
        return {}
    numbers = {str(k): float(v) for k, v in scalars.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if record["kind"] != "diagnostics":
        return numbers
    # As the Train tab draws them (LossPlot.add_metrics): fractions in [0, 1].
    out = {f"{DIAGNOSTICS}{k}": numbers[k] for k in ("coverage", "diversity") if k in numbers}
    if numbers.get("num_classes") and "classes_covered" in numbers:
        out[f"{DIAGNOSTICS}classes covered"] = numbers["classes_covered"] / numbers["num_classes"]
    return out


def label(key: str) -> str:
    return key.removeprefix(DIAGNOSTICS).replace("eval/", "held-out ").replace("_", " ")


class RunCurves(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = themed_plot(pg.GraphicsLayoutWidget())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.runs: dict[str, _Run] = {}
        self.plots: list[pg.PlotItem] = []
        self.titles: list[str] = []
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}     # (run, key) -> its curve
        self.names: pg.LabelItem | None = None                          # the runs in their colours
        self._stale = True          # the plots or curves must be rebuilt before the next draw

    # --- what is followed ---------------------------------------------------------------------------
    def add_run(self, run: str, name: str, colour: str) -> None:
        self.runs[run] = _Run(name, colour)
        self._stale = True

    def remove_run(self, run: str) -> None:
        if self.runs.pop(run, None) is not None:
            self._stale = True

    def set_visible(self, run: str, visible: bool) -> None:
        if self.runs[run].visible != visible:
            self.runs[run].visible = visible
            self._stale = True

    def set_family(self, run: str, family: str) -> None:
        if self.runs[run].family != family:
            self.runs[run].family = family
            self._stale = True

    def add_records(self, run: str, records: list[dict]) -> None:
        """New records of `run`, in order: their figures are appended (drawn at the next redraw)."""
        data = self.runs[run]
        for record in records:
            for key, value in _record_points(record).items():
                if key not in data.points:
                    data.points[key] = ([], [])
                    self._stale = True
                steps, values = data.points[key]
                steps.append(record["step"])
                values.append(value)
                data.changed.add(key)

    def reset_run(self, run: str, records: list[dict]) -> None:
        """`run` started over (its log was replaced, or a resume went back): its curves from `records`."""
        data = self.runs[run]
        data.points, data.changed = {}, set()
        self._stale = True
        self.add_records(run, records)

    # --- drawing ------------------------------------------------------------------------------------
    def _specs(self) -> tuple[PlotSpec, ...]:
        families = {data.family for data in self.runs.values() if data.visible and data.points}
        family = registry.find(families.pop()) if len(families) == 1 else None
        return family.plots if family is not None and family.plots else (PlotSpec("Training figures", ()),)

    def _placement(self) -> tuple[list[str], dict[str, int]]:
        """The plots' titles and the plot index of every key a shown run has. A plot of the family's
        keeps its title; one of this widget's own that shows a single key names it."""
        specs = self._specs()
        titles = [spec.title for spec in specs]
        keys = sorted({key for data in self.runs.values() if data.visible for key in data.points})
        where: dict[str, int] = {}
        extra: dict[str, list[str]] = {EVAL_TITLE: [], DIAGNOSTICS_TITLE: []}
        for key in keys:
            placed = next((i for i, spec in enumerate(specs) if key in spec.keys), None)
            if placed is not None:
                where[key] = placed
            elif key.startswith(DIAGNOSTICS):
                extra[DIAGNOSTICS_TITLE].append(key)
            elif key.startswith("eval/"):
                extra[EVAL_TITLE].append(key)
            else:
                where[key] = 0
        for title, placed_keys in extra.items():
            if placed_keys:
                titles.append(title if len(placed_keys) > 1 else "H" + label(placed_keys[0])[1:]
                              if title == EVAL_TITLE else title)
                where.update({key: len(titles) - 1 for key in placed_keys})
        if not specs[0].keys:          # no family's plots: name the one key of the training plot
            first = [key for key, index in where.items() if index == 0]
            if len(first) == 1:
                titles[0] = label(first[0])
        return titles, where

    def _make_plots(self, titles: list[str]) -> None:
        if titles == self.titles:
            for plot in self.plots:
                plot.clear()
                plot.legend.clear()
            return
        self.view.clear()
        self.names = self.view.addLabel("", row=0, col=0, size="9pt")
        self.plots, self.titles = [], list(titles)
        for row, title in enumerate(titles, start=1):
            plot = fit_title(self.view.addPlot(row=row, col=0, title=title))
            # As LossPlot: no grid lines (dear to redraw), a peak-preserving subsample of long runs.
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.addLegend(offset=(-10, 2), labelTextSize="8pt", verSpacing=-6, horSpacing=12)
            if title == DIAGNOSTICS_TITLE:
                plot.setYRange(0, 1.05)
            if self.plots:
                plot.setXLink(self.plots[0])
            self.plots.append(plot)
        if self.plots:
            self.plots[-1].setLabel("bottom", "step")

    def _rebuild(self) -> None:
        titles, where = self._placement()
        self._make_plots(titles)
        self.curves = {}
        keys_of_plot: dict[int, list[str]] = {}
        for key, index in sorted(where.items()):
            keys_of_plot.setdefault(index, []).append(key)
        for index, keys in keys_of_plot.items():
            plot = self.plots[index]
            plot.legend.setColumnCount(len(keys))
            # Over the curves it covers, readable: the plot's background, nearly opaque.
            background = QColor(theme.current().plot_background)
            background.setAlpha(220)
            plot.legend.setBrush(pg.mkBrush(background))
            for style, key in zip(STYLES * (len(keys) // len(STYLES) + 1), keys):
                symbol = "o" if key.startswith(("eval/", DIAGNOSTICS)) else None
                for run, data in self.runs.items():
                    if data.visible and key in data.points:
                        self.curves[(run, key)] = plot.plot(
                            [], [], pen=pg.mkPen(data.colour, width=2, style=style), symbol=symbol, symbolSize=4,
                            symbolPen=None, symbolBrush=data.colour)
                        data.changed.add(key)
                if len(keys) > 1:        # each key's line style, in the theme's muted colour
                    plot.legend.addItem(pg.PlotDataItem(pen=pg.mkPen(theme.current().muted, width=2, style=style)),
                                        label(key))
        shown = [data for data in self.runs.values() if data.visible and data.points]
        self.names.setText("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{data.colour}'>\u2501\u2501</span>&nbsp;{html.escape(data.name)}" for data in shown))
        self._stale = False

    def redraw(self) -> None:
        """Draw what changed since the last redraw; rebuild the plots first when what is shown changed."""
        if self._stale:
            self._rebuild()
        for run, data in self.runs.items():
            for key in data.changed:
                curve = self.curves.get((run, key))
                if curve is not None:
                    steps, values = data.points[key]
                    curve.setData(np.asarray(steps, dtype=float), np.asarray(values, dtype=float))
            data.changed = set()

    # --- what is drawn (tests, the panel) --------------------------------------------------------------
    def shown_points(self, run: str, key: str) -> int:
        """How many points `run`'s curve of `key` has (0 when it has no curve)."""
        curve = self.curves.get((run, key))
        return 0 if curve is None or curve.xData is None else len(curve.xData)

    def curves_of(self, key: str) -> list[pg.PlotDataItem]:
        return [curve for (_, k), curve in self.curves.items() if k == key]
