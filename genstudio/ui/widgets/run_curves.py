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
from array import array
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from genstudio.core import registry
from genstudio.core.families.family import PlotSpec
from genstudio.core.training.run_follow import figures
from genstudio.ui import theme
from genstudio.ui.widgets.plot_title import fit_title

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
STYLES = [Qt.SolidLine, Qt.DashLine, Qt.DotLine, Qt.DashDotLine, Qt.DashDotDotLine]
KINDS = ("step", "samples", "diagnostics")    # the records whose scalars are drawn
DIAGNOSTICS = "diagnostics/"        # the prefix of live-diagnostics keys here (they share no plot with losses)
TRAINING_TITLE = "Training figures"
EVAL_TITLE = "Held-out figures (eval/)"
DIAGNOSTICS_TITLE = "Live diagnostics: coverage, classes covered, diversity"


@dataclass
class _Run:
    name: str
    colour: str
    family: str = ""
    visible: bool = True
    points: dict[str, tuple[array, array]] = field(default_factory=dict)     # key -> (steps, values)
    changed: set[str] = field(default_factory=set)                                    # keys not drawn yet


def _diagnostics(numbers: dict[str, float]) -> dict:
    """Live-diagnostics figures (a record's `figures`) as the Train tab draws them (LossPlot.add_metrics):
    fractions in [0, 1]."""
    out = {f"{DIAGNOSTICS}{k}": numbers[k] for k in ("coverage", "diversity") if k in numbers}
    covered, classes = numbers.get("classes_covered"), numbers.get("num_classes")
    if covered is not None and classes:
        out[f"{DIAGNOSTICS}classes covered"] = covered / classes
    return out


def label(key: str) -> str:
    return key.removeprefix(DIAGNOSTICS).replace("eval/", "held-out ").replace("_", " ")


class RunCurves(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = theme.fill_with_plots(self)
        self.runs: dict[str, _Run] = {}
        self.plots: list[pg.PlotItem] = []
        self.titles: list[str] = []
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}     # (run, key) -> its curve
        self.names: pg.LabelItem | None = None                          # the runs in their colours
        self._stale = True          # the plots or curves must be rebuilt before the next draw
        # The step axes are linked, and a linked axis auto-ranges over the first plot's curves alone:
        # a longer run in another plot was cut at the first one's last step. So the axis is set to
        # every shown curve's steps at each redraw, until the person pans or zooms (the plot's "A"
        # button hands it back).
        self.follow_steps = True
        # The legends' colours and backgrounds are the theme's when made: made again at a change.
        theme.on_theme(self, lambda _theme: self._restyle())

    def _restyle(self) -> None:
        self._stale = True
        if self.isVisible():
            self.redraw()

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
        """New records of `run`, in order: their figures are appended (drawn at the next redraw).
        Kept as array('d') pairs: a redraw copies them into numpy at memcpy speed (a list of 200k
        floats took 10 ms a curve)."""
        data = self.runs[run]
        for record in records:
            kind = record["kind"]
            if kind not in KINDS:
                continue
            step, numbers = record["step"], figures(record)
            for key, value in (_diagnostics(numbers) if kind == "diagnostics" else numbers).items():
                points = data.points.get(key)
                if points is None:
                    points = data.points[key] = (array("d"), array("d"))
                    self._stale = True
                points[0].append(step)
                points[1].append(value)
                data.changed.add(key)

    def reset_run(self, run: str, records: list[dict]) -> None:
        """`run` started over (its log was replaced, or a resume went back): its curves from `records`."""
        data = self.runs[run]
        data.points, data.changed = {}, set()
        self._stale = True
        self.add_records(run, records)

    # --- drawing ------------------------------------------------------------------------------------
    def _specs(self) -> tuple[list[PlotSpec], list[str | None]]:
        """The training plots and the family each is for (None: any). The family's plots when the
        shown runs are one registered family's; runs of several families get a plot of each family's
        figures (their scales differ: a VAE's ELBO is in the hundreds, a GAN's losses near 1)."""
        shown = [data for data in self.runs.values() if data.visible and data.points]
        families = sorted({data.family for data in shown})
        if len(families) == 1:
            family = registry.find(families[0])
            if family is not None and family.plots:
                return list(family.plots), [None] * len(family.plots)
        if len(families) <= 1:
            return [PlotSpec(TRAINING_TITLE, ())], [None]
        specs = []
        for name in families:
            family = registry.find(name)
            specs.append(PlotSpec(f"{family.label if family is not None else name or 'Other'} runs", ()))
        return specs, list(families)

    def _placement(self) -> tuple[list[str], dict[tuple[str, str], int]]:
        """The plots' titles and the plot index of each (family, key) a shown run has. A family's
        plot keeps its title; one of this widget's own that shows a single key names it."""
        specs, for_family = self._specs()
        titles = [spec.title for spec in specs]
        pairs = sorted({(data.family, key) for data in self.runs.values() if data.visible for key in data.points})
        where: dict[tuple[str, str], int] = {}
        extra: dict[str, list[tuple[str, str]]] = {EVAL_TITLE: [], DIAGNOSTICS_TITLE: []}
        for family, key in pairs:
            mine = [i for i, name in enumerate(for_family) if name in (None, family)]
            placed = next((i for i in mine if key in specs[i].keys), None)
            if placed is not None:
                where[(family, key)] = placed
            elif key.startswith(DIAGNOSTICS):
                extra[DIAGNOSTICS_TITLE].append((family, key))
            elif key.startswith("eval/"):
                extra[EVAL_TITLE].append((family, key))
            else:
                where[(family, key)] = mine[0]
        for title, placed in extra.items():
            if placed:
                keys = sorted({key for _, key in placed})
                titles.append("H" + label(keys[0])[1:] if title == EVAL_TITLE and len(keys) == 1 else title)
                where.update({pair: len(titles) - 1 for pair in placed})
        for index, spec in enumerate(specs):
            keys = {key for (_, key), at in where.items() if at == index}
            if (spec.title == TRAINING_TITLE or for_family[index] is not None) and len(keys) == 1:
                name = label(keys.pop())        # a plot of this widget's own with one key: named by it
                titles[index] = name if spec.title == TRAINING_TITLE else f"{spec.title}: {name}"
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
            plot.getViewBox().sigRangeChangedManually.connect(self._stop_following)
            plot.autoBtn.clicked.connect(self._follow_again)
            self.plots.append(plot)
        if self.plots:
            self.plots[-1].setLabel("bottom", "step")

    def _rebuild(self) -> None:
        titles, where = self._placement()
        self._make_plots(titles)
        self.curves = {}
        keys_of_plot: dict[int, list[str]] = {}
        for (_, key), index in sorted(where.items()):
            if key not in keys_of_plot.setdefault(index, []):
                keys_of_plot[index].append(key)
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
                    if data.visible and key in data.points and where.get((data.family, key)) == index:
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
                    curve.setData(np.frombuffer(steps).copy(), np.frombuffer(values).copy())
            data.changed = set()
        self._fit_steps()

    def _fit_steps(self) -> None:
        """The linked step axis over every shown curve (see follow_steps)."""
        ends = [(curve.xData[0], curve.xData[-1]) for curve in self.curves.values()
                if curve.xData is not None and len(curve.xData)]
        if self.follow_steps and self.plots and ends:
            low, high = min(e[0] for e in ends), max(e[1] for e in ends)
            self.plots[0].setXRange(low, max(high, low + 1), padding=0.02)

    def _stop_following(self, *_) -> None:
        self.follow_steps = False

    def _follow_again(self) -> None:
        self.follow_steps = True
        self._fit_steps()

    # --- what is drawn (tests, the panel) --------------------------------------------------------------
    def shown_points(self, run: str, key: str) -> int:
        """How many points `run`'s curve of `key` has (0 when it has no curve)."""
        curve = self.curves.get((run, key))
        return 0 if curve is None or curve.xData is None else len(curve.xData)

    def curves_of(self, key: str) -> list[pg.PlotDataItem]:
        return [curve for (_, k), curve in self.curves.items() if k == key]
