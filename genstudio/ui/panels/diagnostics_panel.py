"""The Diagnostics tab: the full mode-collapse report of the open model, run in the background
with progress and cancel, shown as plots and images: class histogram, PRDC bars, NDB bins, the
closest generated pairs side by side, and (2-D sets) the mode histogram."""

from __future__ import annotations

import html
import json

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from genstudio.core.io.export import grid_image, points_image
from genstudio.core.io.open_model import ModelInfo
from genstudio.core.metrics.summary import summary_lines
from genstudio.core.requests.tasks import Diagnose
from genstudio.ui import file_dialogs, theme
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.render_worker import Renderer
from genstudio.ui.task_runner import TaskRunner
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.plot_title import fit_title

PAIRS_SHOWN = 20


def verdict_html(verdict: dict) -> str:
    """The banner: missing modes in red, low fidelity in orange, each with its signals; the
    signals that could be either below them; green when nothing fired."""
    colours = theme.current()
    if verdict["verdict"] == "no problem found":
        return (f"<b style='color:{colours.ok}'>No problem found:</b> no missing-mode or low-fidelity signal fired. "
                "Figures below, with their settings.")
    parts = []
    if verdict["missing_modes"]:
        parts.append(f"<b style='color:{colours.error}'>Missing modes:</b> " + html.escape("; ".join(verdict["missing_modes"])))
    if verdict["low_fidelity"]:
        parts.append(f"<b style='color:{colours.warning}'>Low fidelity:</b> " + html.escape("; ".join(verdict["low_fidelity"])))
    if verdict["unclear"]:
        parts.append("<b>Missing modes or low fidelity, unclear:</b> " + html.escape("; ".join(verdict["unclear"])))
    return "<br>".join(parts)


def _bars(title: str) -> tuple[pg.PlotWidget, pg.BarGraphItem, pg.BarGraphItem]:
    plot = theme.themed_plot(pg.PlotWidget(title=title))
    fit_title(plot)                   # the report's titles are long: elided to the plot, whole in a tooltip
    plot.showGrid(y=True, alpha=0.25)
    first = pg.BarGraphItem(x=[], height=[], width=0.4, brush="#1f77b4", name="generated")
    second = pg.BarGraphItem(x=[], height=[], width=0.4, brush="#bbbbbb", name="data")
    plot.addItem(second)
    plot.addItem(first)
    return plot, first, second


class DiagnosticsPanel(QWidget):
    status = Signal(str)

    def __init__(self, renderer: Renderer, scope: ModelScope, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.scope = scope
        self._run_generation: int | None = None     # the model the report running (or shown) is of
        self.info: ModelInfo | None = None
        self.report: dict | None = None
        theme.on_theme(self, lambda colours: self.report and self.verdict.setText(verdict_html(self.report["verdict"])))
        self.pair_images: np.ndarray | None = None
        self.tasks = TaskRunner(self)
        self.tasks.progress.connect(self._progress)
        self.tasks.done.connect(self._done)
        self.tasks.failed.connect(self._failed)
        self.tasks.cancelled.connect(lambda: self._finish("diagnostics cancelled"))
        self._build()
        # The report's figures, cleared when another model opens (model_bound.py); each records its model.
        self.bound_verdict = scope.bind("diagnostics: verdict and summary", self.verdict, self.summary)
        self.bound_classes = scope.bind("diagnostics: classes", self.class_bars, self.data_bars, self.class_plot)
        self.bound_prdc = scope.bind("diagnostics: PRDC", self.prdc_bars, self.prdc_expected)
        self.bound_ndb = scope.bind("diagnostics: NDB", self.ndb_fake, self.ndb_real, self.ndb_plot)
        self.bound_pairs = scope.bind("diagnostics: closest pairs", self.pairs_view, self.pairs_label)
        scope.changed.connect(self.reset_for_model)
        scope.refreshed.connect(lambda info: setattr(self, "info", info))   # a snapshot: the report stays

    def _build(self) -> None:
        self.data = QComboBox()
        self.data.setEditable(True)
        self.data.addItems(["mnist", "ring8", "grid25"])
        self.samples = QSpinBox()
        self.samples.setRange(100, 100_000)
        self.samples.setSingleStep(1000)
        self.samples.setValue(10_000)
        self.run_button = QPushButton("Run diagnostics")
        self.run_button.setObjectName("diagnostics-run")
        self.run_button.clicked.connect(lambda: self.run())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.tasks.cancel)
        self.cancel_button.setEnabled(False)
        self.save_button = QPushButton("Save JSON\u2026")
        self.save_button.clicked.connect(self._save_dialog)
        self.save_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        top = QHBoxLayout()
        for w in (QLabel("Compare with"), self.data, QLabel("Samples"), self.samples, self.run_button,
                  self.cancel_button, self.progress, self.save_button):
            top.addWidget(w)

        self.verdict = QLabel("Run the report on the open model: numbers you can trust, with their settings.")
        self.verdict.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-family: monospace")
        self.class_plot, self.class_bars, self.data_bars = _bars("Classes of generated samples (share) vs the data")
        self.prdc_plot, self.prdc_bars, self.prdc_expected = _bars("Precision, recall (k=3), density, coverage (k=5)")
        self.prdc_plot.getAxis("bottom").setTicks([[(0, "precision"), (1, "recall"), (2, "density"), (3, "coverage")]])
        self.ndb_plot, self.ndb_fake, self.ndb_real = _bars("NDB: k-means bins of the real data (red: different)")
        self.pairs_view = ImageView(placeholder="The closest generated pairs appear here", min_size=80)
        self.pairs_view.setObjectName("closest-pairs")
        self.pairs_view.setMinimumHeight(130)     # four rows of 28 px digits at full size
        self.pairs_label = QLabel("")

        grid = QGridLayout()
        grid.addWidget(self.class_plot, 0, 0)
        grid.addWidget(self.prdc_plot, 0, 1)
        grid.addWidget(self.ndb_plot, 1, 0, 1, 2)
        pairs = QGroupBox(f"The {PAIRS_SHOWN} closest pairs among the generated samples (birthday paradox)")
        pl = QVBoxLayout(pairs)
        pl.addWidget(self.pairs_view, 1)
        pl.addWidget(self.pairs_label)
        grid.addWidget(pairs, 2, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.verdict)
        layout.addLayout(grid, 1)
        layout.addWidget(self.summary)

    def reset_for_model(self, info: ModelInfo) -> None:
        """Another model: the report running is cancelled, the one shown goes (the scope cleared it)."""
        self.tasks.cancel()
        self.info = info
        self.report = self.pair_images = None
        self.save_button.setEnabled(False)
        source = info.data_source
        if source:
            if self.data.findText(source) < 0:
                self.data.addItem(source)
            self.data.setCurrentText(source)
        self.samples.setValue(2500 if info.is_points else 10_000)

    def run(self, dataset=None) -> None:
        if self.info is None:
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.verdict.setText("running\u2026")
        self._run_generation = self.scope.generation
        self.bound_verdict.show(self._run_generation)
        self.renderer.start_task(self.tasks, Diagnose(self.data.currentText().strip(), self.samples.value(),
                                                      pairs_shown=PAIRS_SHOWN, dataset=dataset))

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(1000 * fraction))
        if message:
            self.verdict.setText(message)
            self.bound_verdict.show(self._run_generation)

    def _finish(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.emit(message)

    def _failed(self, message: str) -> None:
        self.verdict.setText(theme.error_html(f"Diagnostics failed: {message}"))
        self.bound_verdict.show(self._run_generation)
        self._finish(message)

    def _done(self, result) -> None:
        report, pair_images, points, real_points = result.report, result.pair_images, result.points, result.real_points
        self.report = report
        self.save_button.setEnabled(True)
        self.verdict.setText(verdict_html(report["verdict"]))
        self.summary.setText("\n".join(summary_lines(report)))
        self._plot_classes(report)
        p = report["prdc"]
        heights = [p["precision"], p["recall"], p["density"], p["coverage"]]
        self.prdc_bars.setOpts(x=np.arange(4) - 0.2, height=heights)
        same = p["coverage_expected_same_distribution"]
        self.prdc_expected.setOpts(x=np.arange(4) + 0.2, height=[np.nan, np.nan, 1.0, same])  # ideal references
        # Auto-range skips the reference bars (NaN heights); fit every bar, density can pass 1.
        self.prdc_plot.setYRange(0, 1.08 * max(*heights, 1.0, same), padding=0)
        n = report["ndb"]
        k = len(n["real_proportions"])
        brushes = [pg.mkBrush("#d62728" if i in set(n["different_bins"]) else "#1f77b4") for i in range(k)]
        self.ndb_fake.setOpts(x=np.arange(k) + 0.2, height=n["fake_proportions"], brushes=brushes, width=0.4)
        self.ndb_real.setOpts(x=np.arange(k) - 0.2, height=n["real_proportions"], width=0.4)
        self.ndb_plot.getPlotItem().setTitle(f"NDB: {n['ndb']} of {k} k-means bins differ (red), JS {n['js']:.4f}")
        for bound in (self.bound_verdict, self.bound_classes, self.bound_prdc, self.bound_ndb, self.bound_pairs):
            bound.show(self._run_generation)
        if pair_images is not None:
            p_, two, c, h, w = pair_images.shape
            self.pair_images = pair_images
            # Two rows per block of ten pairs: the first image of each pair above the second.
            blocks = []
            for start in range(0, p_, 10):
                chunk = pair_images[start:start + 10]
                blocks.append(np.concatenate([chunk[:, 0], chunk[:, 1]]))
            tiles = np.concatenate(blocks)
            self.pairs_view.set_array(np.asarray(grid_image(tiles, cols=min(10, p_), padding=2, pad_value=0.5)))
            d = report["duplicates"]["closest_pairs"]
            self.pairs_label.setText(f"distances {d[0]['distance']:.3g} (closest) \u2026 {d[min(len(d), PAIRS_SHOWN) - 1]['distance']:.3g}; "
                                     f"duplicate threshold {report['duplicates']['threshold']:.3g}")
        elif points is not None:
            self.pairs_view.set_array(np.asarray(points_image(points, size=360, real=real_points)))
            self.pairs_label.setText("generated (blue) over real (grey) points")
        self._finish(f"diagnostics done in {report['timings']['total']:.1f} s")

    def _plot_classes(self, report: dict) -> None:
        classes, toy = report.get("classes"), report.get("toy")
        if classes:
            k = classes["num_classes"]
            self.class_bars.setOpts(x=np.arange(k) - 0.2, height=classes["proportions"], width=0.4)
            data = classes["data_proportions"] or [np.nan] * k
            self.data_bars.setOpts(x=np.arange(k) + 0.2, height=data, width=0.4)
            self.class_plot.getAxis("bottom").setTicks([list(enumerate(classes["class_names"]))])
            self.class_plot.getPlotItem().setTitle(f"Classes: {classes['classes_covered']}/{k} covered, "
                                                   f"KL to uniform {classes['kl_uniform']:.3f} nats")
        elif toy:
            counts = np.asarray(toy["mode_counts"], dtype=float)
            self.class_bars.setOpts(x=np.arange(len(counts)), height=counts / max(counts.sum(), 1), width=0.7)
            self.data_bars.setOpts(x=[], height=[])
            self.class_plot.getPlotItem().setTitle(f"Modes: {toy['modes_covered']}/{toy['num_modes']} covered, "
                                                   f"{toy['hq_percent']:.1f} % high quality")
        else:
            self.class_bars.setOpts(x=[], height=[])
            self.data_bars.setOpts(x=[], height=[])
            self.class_plot.getPlotItem().setTitle("No classes: the data set is unlabelled")

    def save_json(self, path: str) -> str:
        from genstudio.core.io.atomic import write_bytes_atomic
        write_bytes_atomic(path, json.dumps(self.report, indent=1).encode())
        return path

    def _save_dialog(self) -> None:
        path = file_dialogs.save_file(self, "exports", "Save the report", "diagnostics.json", "JSON (*.json)")
        if path:
            self.status.emit(f"wrote {self.save_json(path)}")
