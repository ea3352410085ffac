"""The Diagnostics tab: the full report on the open model (core/metrics/report.py), run in the
background with progress and cancel, and laid out for a person, top to bottom in a scroll area:
1. the verdict's plain sentence, large and coloured by verdict, what to try and the notes; the
   technical signals behind it in a smaller grey line;
2. what is missing: the parts of the data the generator leaves (nearly) empty, each as its real
   examples beside the generated images nearest to them, with the counts; then the outputs it
   repeats and the closest generated pairs (2-D sets: the points, the missing regions ringed);
3. every figure beside the real data's own value at the same sample count, with its gauge (a
   translation model's label agreement and cycle error first: it is measured by its translations of
   the source domain, in the direction chosen, against the target domain's data);
4. charts with legends and axis names: class shares, PRDC beside the real data's own, NDB bins;
5. the technical details with their settings (core/metrics/summary.py)."""

from __future__ import annotations

import html
import json

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from genstudio.core.data.spec import diagnosis_spec
from genstudio.core.families.family import Capability
from genstudio.core.io.export import grid_image, points_image
from genstudio.core.io.open_model import ModelInfo
from genstudio.core.metrics.report import DEFAULT_SAMPLES
from genstudio.core.metrics.summary import technical_lines
from genstudio.core.metrics.verdict import CLUSTER_NOTE, NOTE_COPIES
from genstudio.core.requests.tasks import Diagnose, DiagnosticsResult
from genstudio.ui import file_dialogs, theme
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.render_worker import Renderer
from genstudio.ui.task_runner import TaskRunner
from genstudio.ui.widgets.figure_table import FigureTable
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.picture_rows import PictureRows
from genstudio.ui.widgets.plot_title import fit_title

PAIRS_SHOWN = 20
POINTS_SAMPLES = 2500      # 2-D sets: PacGAN's count, enough for their 8 or 25 modes
VERDICT_COLOUR = {"no problem found": "ok", "low fidelity": "warning", "missing modes": "error",
                  "missing modes and low fidelity": "error"}                    # Theme fields
SIGNALS = (("missing modes", "missing_modes"), ("low fidelity", "low_fidelity"),
           ("missing modes or low fidelity, unclear", "unclear"))
PRDC_KEYS = ("precision", "recall", "density", "coverage")       # trimmed precision: in the table
GENERATED, DATA, DIFFERENT = "#1f77b4", "#aaaaaa", "#d62728"
HEADROOM = 1.3             # the y range over the tallest bar: the legend (top right) sits above the bars
CHART_HEIGHT = 250
REPEATS_TITLE = f"Repeated images, and the {PAIRS_SHOWN} closest pairs among the generated samples"


def verdict_html(verdict: dict) -> str:
    """The verdict's sentence, large and bold, in its verdict's colour of the current theme."""
    colour = getattr(theme.current(), VERDICT_COLOUR[verdict["verdict"]])
    sentence = verdict.get("sentence", verdict["verdict"])
    return f"<span style='font-size:14pt; font-weight:600; color:{colour}'>{html.escape(sentence)}</span>"


def signals_text(verdict: dict) -> str:
    """The technical signals behind the verdict, one line."""
    parts = [f"{label}: {'; '.join(verdict[key])}" for label, key in SIGNALS if verdict[key]]
    return "Signals \u2014 " + " | ".join(parts) if parts else "No missing-mode or low-fidelity signal fired."


def _bullets(title: str, items: list[str]) -> str:
    lines = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return f"<b>{title}</b><ul style='margin-top:2px; margin-bottom:2px; -qt-list-indent:1'>{lines}</ul>"


def advice_html(verdict: dict) -> str:
    """What to try, then the notes (worth a look, not failures)."""
    text = _bullets("What to try", verdict["advice"])
    if verdict["notes"]:
        text += _bullets("Worth a look", verdict["notes"])
    return text


def region_caption(region: dict, empty: bool) -> str:
    """'a way of drawing 7: 236 real, 25 generated', and how far below its share it is drawn."""
    if region["generated"] == 0:
        how = "never drawn"
    elif empty and region["ratio_upper"] is not None:
        how = f"left empty: at most {region['ratio_upper']:.2f} x its share"
    else:
        how = f"rarely drawn: {region['ratio']:.2f} x its share"
    return f"{region['name']}: {region['real']} real, {region['generated']} generated\n{how}"


def repeat_caption(cluster: dict) -> str:
    return f"{cluster['size']} copies of one image ({100 * cluster['share']:.1f} % of the samples)"


def _bar_chart(title: str, x_name: str | None, y_name: str, series: list[tuple[str, str]]):
    """A themed bar chart with a one-row legend at its top right; series (name, colour) become empty
    BarGraphItems, returned in order after the plot."""
    plot = theme.themed_plot(pg.PlotWidget(title=title))
    fit_title(plot)                   # the report's titles are long: elided to the plot, whole in a tooltip
    plot.setMinimumHeight(CHART_HEIGHT)
    plot.showGrid(y=True, alpha=0.25)
    if x_name:
        plot.setLabel("bottom", x_name)
    plot.setLabel("left", y_name)
    plot.getAxis("left").enableAutoSIPrefix(False)     # shares stay shares, not "(x0.001)"
    plot.setMouseEnabled(x=False, y=False)
    legend = plot.addLegend(offset=(-8, 4), colCount=len(series))
    items = []
    for name, colour in series:
        item = pg.BarGraphItem(x=[], height=[], width=0.4, brush=colour, pen=None, name=name)
        plot.addItem(item)
        items.append(item)

    def restyle(colours: theme.Theme) -> None:
        legend.setLabelTextColor(colours.plot_foreground)
        for _, label in legend.items:
            label.setText(label.text)                # setLabelTextColor leaves drawn labels as they were
    theme.on_theme(plot, restyle)
    return (plot, *items)


def _fit_y(plot: pg.PlotWidget, heights) -> None:
    """0 to HEADROOM x the tallest bar: room above the bars for the legend."""
    plot.setYRange(0, HEADROOM * max(float(np.max(heights, initial=0.0)), 1e-9), padding=0)


def _boxed(title: str, *widgets: QWidget) -> QGroupBox:
    """A titled group of widgets, one below the other."""
    group = QGroupBox(title)
    layout = QVBoxLayout(group)
    for widget in widgets:
        layout.addWidget(widget)
    return group


class DiagnosticsPanel(QWidget):
    status = Signal(str)

    def __init__(self, renderer: Renderer, scope: ModelScope, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.scope = scope
        self._run_generation: int | None = None     # the model the report running (or shown) is of
        self.info: ModelInfo | None = None
        self.report: dict | None = None
        self.result: DiagnosticsResult | None = None
        self.tasks = TaskRunner(self)
        self.tasks.progress.connect(self._progress)
        self.tasks.done.connect(self._done)
        self.tasks.failed.connect(self._failed)
        self.tasks.cancelled.connect(lambda: self._finish("diagnostics cancelled"))
        self._build()
        self._show_direction(None)
        theme.on_theme(self, lambda colours: self.report and self.verdict.setText(verdict_html(self.report["verdict"])))
        # The report's parts, cleared when another model opens (model_bound.py); each records its model.
        self.bound_verdict = scope.bind("diagnostics: verdict and advice", self.verdict, self.signals, self.advice)
        self.bound_missing = scope.bind("diagnostics: what is missing", self.missing_label,
                                        clear=self.missing_rows.clear, content=self.missing_rows.captions)
        self.bound_repeats = scope.bind("diagnostics: repeated images", self.repeats_label, self.pairs_view,
                                        self.pairs_label, clear=self.repeat_rows.clear, content=self.repeat_rows.captions)
        self.bound_figures = scope.bind("diagnostics: figures", self.reference_label,
                                        clear=self.figures.clear_figures, content=self.figures.rowCount)
        self.bound_classes = scope.bind("diagnostics: classes", self.class_bars, self.data_bars, self.class_plot)
        self.bound_prdc = scope.bind("diagnostics: PRDC", self.prdc_bars, self.prdc_real)
        self.bound_ndb = scope.bind("diagnostics: NDB", self.ndb_real, self.ndb_fake, self.ndb_different, self.ndb_plot)
        self.bound_details = scope.bind("diagnostics: technical details", self.summary)
        scope.changed.connect(self.reset_for_model)
        scope.refreshed.connect(lambda info: setattr(self, "info", info))   # a snapshot: the report stays

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.data = QComboBox()
        self.data.setEditable(True)
        self.data.addItems(["mnist", "ring8", "grid25"])
        # Translation models only: which way the inputs are translated (the target domain is compared with).
        self.direction_label = QLabel("Direction")
        self.direction = QComboBox()
        self.direction.addItems(["A -> B", "B -> A"])
        self.direction.setToolTip("Translate the A images into B and compare with B's data, or B into A")
        self.samples = QSpinBox()
        self.samples.setRange(100, 100_000)
        self.samples.setSingleStep(1000)
        self.samples.setValue(DEFAULT_SAMPLES)
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
        for w in (QLabel("Compare with"), self.data, self.direction_label, self.direction, QLabel("Samples"),
                  self.samples, self.run_button,
                  self.cancel_button, self.progress, self.save_button):
            top.addWidget(w)

        body = QWidget()
        column = QVBoxLayout(body)
        column.addLayout(self._verdict_block())
        column.addWidget(self._missing_group())
        column.addWidget(self._repeats_group())
        column.addWidget(self._figures_group())
        column.addWidget(self._charts_group())
        column.addWidget(self._details())
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.scroll, 1)

    def _verdict_block(self) -> QVBoxLayout:
        self.verdict = QLabel("Run the report to see what the open model misses, what it repeats and how its "
                              "samples compare with the real data's own.")
        self.verdict.setWordWrap(True)
        self.signals = QLabel("")
        self.signals.setWordWrap(True)
        theme.themed(self.signals, "color: {muted}; font-size: 9pt")
        self.advice = QLabel("")
        self.advice.setWordWrap(True)
        block = QVBoxLayout()
        for w in (self.verdict, self.signals, self.advice):
            block.addWidget(w)
        return block

    def _missing_group(self) -> QGroupBox:
        self.missing_label = QLabel("")
        self.missing_label.setWordWrap(True)
        self.missing_rows = PictureRows(["real examples", "the generated images nearest to them"])
        return _boxed("What is missing", self.missing_label, self.missing_rows)

    def _repeats_group(self) -> QGroupBox:
        self.repeats_label = QLabel("")
        self.repeats_label.setWordWrap(True)
        self.repeat_rows = PictureRows(["its copies"])
        self.pairs_view = ImageView(placeholder="The closest generated pairs appear here", min_size=80)
        self.pairs_view.setObjectName("closest-pairs")
        self.pairs_view.setFixedHeight(248)       # four rows of 28 px digits (and padding) at 2x, as the strips above
        self.pairs_label = QLabel("")
        self.pairs_label.setWordWrap(True)
        self.repeats_group = _boxed(REPEATS_TITLE, self.repeats_label, self.repeat_rows, self.pairs_view,
                                    self.pairs_label)
        return self.repeats_group

    def _figures_group(self) -> QGroupBox:
        self.figures = FigureTable()
        self.reference_label = QLabel("")
        self.reference_label.setWordWrap(True)
        theme.themed(self.reference_label, "color: {muted}")
        return _boxed("Every figure beside the real data's own (hover a row for what it measures)", self.figures,
                      self.reference_label)

    def _charts_group(self) -> QGroupBox:
        self.class_plot, self.class_bars, self.data_bars = _bar_chart(
            "Classes of generated samples vs the data", "class", "share of samples",
            [("generated", GENERATED), ("data", DATA)])
        self.prdc_plot, self.prdc_bars, self.prdc_real = _bar_chart(
            "Precision, recall (k = 3), density, coverage (k = 5)", None, "value",
            [("generated", GENERATED), ("real data's own", DATA)])
        self.prdc_plot.getAxis("bottom").setTicks([list(enumerate(PRDC_KEYS))])
        self.ndb_plot, self.ndb_real, self.ndb_fake, self.ndb_different = _bar_chart(
            "NDB: k-means bins of the real data", "k-means bin", "share",
            [("data", DATA), ("generated", GENERATED), ("generated, significantly different", DIFFERENT)])
        group = QGroupBox("Charts")
        grid = QGridLayout(group)
        grid.addWidget(self.class_plot, 0, 0)
        grid.addWidget(self.prdc_plot, 0, 1)
        grid.addWidget(self.ndb_plot, 1, 0, 1, 2)
        return group

    def _details(self) -> QLabel:
        self.summary = QLabel("")              # "Technical details:", then every figure with its settings
        self.summary.setWordWrap(True)
        # A font, not a style sheet: a styled label keeps the text colour of the theme it was styled in.
        self.summary.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        return self.summary

    # --- running ----------------------------------------------------------------------------------
    def reset_for_model(self, info: ModelInfo) -> None:
        """Another model: the report running is cancelled, the one shown goes (the scope cleared it)."""
        self.tasks.cancel()
        self.info = info
        self.report = self.result = None
        self.save_button.setEnabled(False)
        # The new model's (empty) report from its top, with no trace of the last run's progress.
        self.progress.setValue(0)
        self.scroll.verticalScrollBar().setValue(0)
        # A model trained on a slice (mnist[:9000]) is diagnosed against the whole set it was cut from;
        # a translation model against its pair as trained (B's own slice is its target domain).
        translation = Capability.TRANSLATION in info.capabilities
        source = (info.data_source if translation else diagnosis_spec(info.data_source)) if info.data_source else ""
        if source:
            if self.data.findText(source) < 0:
                self.data.addItem(source)
            self.data.setCurrentText(source)
        self.samples.setValue(POINTS_SAMPLES if info.is_points else DEFAULT_SAMPLES)
        self._show_direction(info)

    def _show_direction(self, info: ModelInfo | None) -> None:
        translation = info is not None and Capability.TRANSLATION in info.capabilities
        self.direction_label.setVisible(translation)
        self.direction.setVisible(translation)
        if not translation:
            self.direction.setCurrentIndex(0)

    def run(self, dataset=None) -> None:
        if self.info is None:
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.verdict.setText("running\u2026")
        self._run_generation = self.scope.generation
        self.bound_verdict.show(self._run_generation)
        self.renderer.start_task(self.tasks, Diagnose(self.data.currentText().strip(), self.samples.value(),
                                                      pairs_shown=PAIRS_SHOWN, dataset=dataset,
                                                      direction=self.direction.currentIndex(),
                                                      trained_on=self.info.data_source or ""))

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

    def _done(self, result: DiagnosticsResult) -> None:
        self.show_result(result, self._run_generation)
        self._finish(f"diagnostics done in {result.report['timings']['total']:.1f} s")

    # --- showing a report -----------------------------------------------------------------------
    def show_result(self, result: DiagnosticsResult, generation: int | None) -> None:
        """Show a Diagnose task's result, made for model `generation`."""
        report = self.report = result.report
        self.result = result
        self.save_button.setEnabled(True)
        v = report["verdict"]
        self.verdict.setText(verdict_html(v))
        self.signals.setText(signals_text(v))
        self.advice.setText(advice_html(v))
        self._show_missing(result)
        self._show_repeats(result)
        self.figures.set_figures(report["figures"])
        self.reference_label.setText(f"The real data's own values: {report['real_reference']['rule']}.")
        self._plot_classes(report)
        self._plot_prdc(report)
        self._plot_ndb(report)
        self.summary.setText("\n".join(technical_lines(report)))
        for bound in (self.bound_verdict, self.bound_missing, self.bound_repeats, self.bound_figures,
                      self.bound_classes, self.bound_prdc, self.bound_ndb, self.bound_details):
            bound.show(generation)

    def _show_missing(self, result: DiagnosticsResult) -> None:
        regions = result.report["regions"]
        self.missing_rows.set_rows([(region_caption(m.region, m.empty), [m.real, m.generated]) for m in result.missing])
        if result.missing:
            self.missing_label.setText("Parts of the data the generator draws rarely or never, left empty first.")
        else:
            self.missing_label.setText(f"Nothing is missing: none of the {len(regions['regions'])} regions of the data "
                                       f"({regions['settings']['kind']}) is left empty, and NDB finds no k-means bin "
                                       "drawn at under a quarter of its share.")

    def _show_repeats(self, result: DiagnosticsResult) -> None:
        dup = result.report["duplicates"]
        self.repeat_rows.set_rows([(repeat_caption(r.cluster), [r.images]) for r in result.repeats])
        self.repeats_label.setText(
            "Outputs the generator repeats (near-identical samples), largest first." if result.repeats else
            f"No output is repeated {NOTE_COPIES} times or more and in over {100 * CLUSTER_NOTE:g} % of the samples: "
            f"the largest group of near-identical samples holds {dup['largest']}.")
        self.repeats_group.setTitle(REPEATS_TITLE if result.points is None else "Repeated points, and all points")
        if result.pair_images is not None:
            pairs = result.pair_images                                   # (P, 2, C, H, W)
            # Two rows per block of ten pairs: the first image of each pair above the second.
            blocks = [np.concatenate([pairs[s:s + 10, 0], pairs[s:s + 10, 1]]) for s in range(0, len(pairs), 10)]
            self.pairs_view.set_array(np.asarray(grid_image(np.concatenate(blocks), cols=min(10, len(pairs)),
                                                            padding=2, pad_value=0.5)))
            d = dup["closest_pairs"]
            self.pairs_label.setText(f"Closest pairs, each above the other: distances {d[0]['distance']:.3g} (closest) "
                                     f"\u2026 {d[min(len(d), PAIRS_SHOWN) - 1]['distance']:.3g}; two samples closer than "
                                     f"{dup['threshold']:.3g} count as duplicates.")
        elif result.points is not None:
            self.pairs_view.set_array(np.asarray(points_image(result.points, size=360, real=result.real_points,
                                                              highlight=result.missing_points)))
            self.pairs_label.setText("Generated (blue) over real (grey) points"
                                     + ("; ringed red: real points of the regions listed above." if
                                        result.missing_points is not None else "."))

    def _plot_classes(self, report: dict) -> None:
        classes, toy = report.get("classes"), report.get("toy")
        plot = self.class_plot.getPlotItem()
        if classes:
            k = classes["num_classes"]
            self.class_bars.setOpts(x=np.arange(k) - 0.2, height=classes["proportions"], width=0.4)
            data = classes["data_proportions"]
            self.data_bars.setOpts(x=np.arange(k) + 0.2 if data else [], height=data or [], width=0.4)
            self.class_plot.getAxis("bottom").setTicks([list(enumerate(classes["class_names"]))])
            plot.setLabel("bottom", "class")
            plot.setTitle(f"Classes: {classes['classes_covered']}/{k} covered, KL to the data {classes['kl_data']:.3f} nats")
            _fit_y(self.class_plot, classes["proportions"] + (data or []))
        elif toy:
            counts = np.asarray(toy["mode_counts"], dtype=float)
            shares = counts / max(counts.sum(), 1)
            self.class_bars.setOpts(x=np.arange(len(counts)), height=shares, width=0.7)
            self.data_bars.setOpts(x=[], height=[])
            self.class_plot.getAxis("bottom").setTicks(None)
            plot.setLabel("bottom", "mode")
            plot.setTitle(f"Modes: {toy['modes_covered']}/{toy['num_modes']} covered, "
                          f"{toy['hq_percent']:.1f} % high quality")
            _fit_y(self.class_plot, shares)
        else:
            self.class_bars.setOpts(x=[], height=[])
            self.data_bars.setOpts(x=[], height=[])
            plot.setTitle("No classes: the data set is unlabelled")

    def _plot_prdc(self, report: dict) -> None:
        generated = [report["prdc"][k] for k in PRDC_KEYS]
        real = [report["real_reference"]["prdc"][k] for k in PRDC_KEYS]
        x = np.arange(len(PRDC_KEYS))
        self.prdc_bars.setOpts(x=x - 0.2, height=generated)
        self.prdc_real.setOpts(x=x + 0.2, height=real)
        _fit_y(self.prdc_plot, generated + real)

    def _plot_ndb(self, report: dict) -> None:
        n = report["ndb"]
        real, fake = np.asarray(n["real_proportions"]), np.asarray(n["fake_proportions"])
        k = len(real)
        different = np.isin(np.arange(k), n["different_bins"])                 # (K,) bool
        self.ndb_real.setOpts(x=np.arange(k) - 0.2, height=real)
        self.ndb_fake.setOpts(x=np.flatnonzero(~different) + 0.2, height=fake[~different])
        self.ndb_different.setOpts(x=np.flatnonzero(different) + 0.2, height=fake[different])
        self.ndb_plot.getPlotItem().setTitle(f"NDB: {n['ndb']} of {k} k-means bins differ (red), JS {n['js']:.4f}")
        _fit_y(self.ndb_plot, np.concatenate([real, fake]))

    # --- saving -----------------------------------------------------------------------------------
    def save_json(self, path: str) -> str:
        from genstudio.core.io.atomic import write_bytes_atomic
        write_bytes_atomic(path, json.dumps(self.report, indent=1).encode())
        return path

    def _save_dialog(self) -> None:
        path = file_dialogs.save_file(self, "exports", "Save the report", "diagnostics.json", "JSON (*.json)")
        if path:
            self.status.emit(f"wrote {self.save_json(path)}")
