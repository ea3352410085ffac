"""The Train panel: choose what to train, start / pause / resume / stop, watch curves and samples live.

A line above the progress bar says what the training thread is doing (loading data, building the
model, training at step n, sampling the preview, evaluating, saving, stopped at step n); a click on
Stop says "Stopping…" at once, and the worker ends within about a second (engine.py).

With one process the run trains in a thread of the app (training_worker.py). With several it is a
`torchrun --nproc_per_node=N -m genstudio train ...` launch (torchrun_process.py) whose exact command
line the panel shows for pasting on a cluster, and whose run folder (docs/run-folder.md) the panel
follows for its curves, progress and samples; Stop sends it SIGTERM, on which every worker saves its
last finished step (cli/train.py stop_on_interrupt)."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from genstudio.core import registry
from genstudio.core.data.domains import BUNDLED_PAIRS, names_two_domains
from genstudio.core.data.toy import TOY_MIXTURES
from genstudio.core.errors import NonFiniteOutput, check_finite
from genstudio.core.families.family import Capability
from genstudio.core.io.export import grid_image
from genstudio.core.runtime.devices import DEVICE_CHOICES, device_availability
from genstudio.core.training.command_line import (
    free_port,
    launch_arguments,
    shell_line,
    torchrun_command,
    train_arguments,
)
from genstudio.core.training.engine import EVALUATING, SAMPLING, SAVING, Report, TrainConfig
from genstudio.core.training.run_follow import RunFollower, figures, read_grid
from genstudio.ui import file_dialogs, theme
from genstudio.ui.jobs import Job
from genstudio.ui.live_diagnostics import LiveDiagnostics
from genstudio.ui.paths import runs_folder
from genstudio.ui.torchrun_process import TorchrunProcess
from genstudio.ui.training_worker import BUILDING, LOADING, TrainingWorker
from genstudio.ui.widgets.combo_items import mark_available
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.loss_plot import LossPlot
from genstudio.ui.widgets.readout import Readout

DATA_CHOICES = ["mnist", "ring8", "grid25", "torchvision:fashionmnist", "torchvision:cifar10", "torchvision:mnist",
                *BUNDLED_PAIRS]
POINT_SETS = {"ring8", "grid25"}
REDRAW_MS = 500
FOLLOW_MS = 500        # how often a multi-process run's folder is read
MIN_MAX_PROCESSES = 8  # the Processes box goes this high (or to the GPU count) to try runs on the CPU
# What the phase line says for each of the worker's phases (n: the step).
PHASE_TEXT = {LOADING: "Loading data\u2026", BUILDING: "Building the model\u2026",
              SAMPLING: "Sampling the preview at step {n}\u2026", EVALUATING: "Evaluating at step {n}\u2026",
              SAVING: "Saving step {n}\u2026"}


def frozen() -> bool:
    """A bundled app (PyInstaller): no Python interpreter to run torchrun with."""
    return bool(getattr(sys, "frozen", False))


def default_processes() -> int:
    """One process per CUDA GPU when there are several, else one (training in the app)."""
    count = torch.cuda.device_count()
    return count if count > 1 else 1


def _resume_path(resume) -> str | Path | None:
    """A resume's file for the command line: a path, or a loaded Checkpoint's path."""
    return resume if resume is None or isinstance(resume, (str, Path)) else resume.path


def _format_eta(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class TrainPanel(QWidget):
    status = Signal(str)
    snapshotReady = Signal(object)     # the worker's snapshot dict
    trainingFinished = Signal(object)  # final Report or None
    runningChanged = Signal(bool)
    exploreRequested = Signal()        # "Explore the model being trained" was clicked

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job: Job | None = None                # the training run's background job
        self.worker: TrainingWorker | None = None
        self.last_samples: np.ndarray | None = None
        self.last_report = None
        self.final_report = None
        self.sample_updates = 0
        self._run_started = 0.0
        self.stopping = False              # Stop was clicked; the worker has not finished yet
        self.live = None
        self.metrics_history: list[dict] = []
        self.last_diagnosed_step = -10**9
        self.process: TorchrunProcess | None = None   # a multi-process run (None: none, or in the app)
        self.follower: RunFollower | None = None      # its run folder
        self._launched_at = 0.0                       # its start (time.time()): older records are not its own
        self._run_family, self._run_total = "", 0     # its family (the plot's titles) and total steps
        self._run_start: dict | None = None           # its newest `start` and `step` records
        self._run_step: dict | None = None
        self._run_grid: Path | None = None            # its newest sample grid, and the one shown
        self._shown_grid: Path | None = None
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self._poll_run)
        # Curves are redrawn at most every REDRAW_MS, not on each of the worker's (up to 20 a
        # second) progress signals: every repaint of the plots takes the GUI thread about 10 ms,
        # and any core the GUI takes stalls both of training's OpenMP threads. Measured with the
        # MLP GAN (4 signals a second): 0.85 of headless speed redrawing on each signal, 0.99
        # with no redraws at all.
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(lambda: self.plot.redraw())
        self._build()
        self._family_changed()
        for changed in (self.family.currentIndexChanged, self.data.currentTextChanged, self.preset.currentIndexChanged,
                        self.device.currentIndexChanged, self.steps.valueChanged, self.batch.valueChanged,
                        self.seed.valueChanged, self.out_dir.textChanged):
            changed.connect(self._refresh_command)
        self._refresh_command()

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        """The settings column (the run's form, its buttons and read-outs) beside the loss plots over
        the live samples."""
        self._build_run_fields()
        self._build_device()
        self._build_numbers()
        self._build_form()
        settings = self._build_settings_column(self._build_controls())
        self.plot = LossPlot()
        samples_box = self._build_samples()
        right = QSplitter(Qt.Vertical)
        right.setObjectName("train-split")
        right.addWidget(self.plot)
        right.addWidget(samples_box)
        right.setSizes([380, 320])
        layout = QHBoxLayout(self)
        layout.addWidget(settings, 0)
        layout.addWidget(right, 1)
        self._set_running(False)

    def _build_run_fields(self) -> None:
        """What to train: the family, the data (a choice, a spec or a folder) and the preset."""
        self.family = QComboBox()
        for family in registry.families():
            self.family.addItem(family.label, family.name)
            self.family.setItemData(self.family.count() - 1, family.description, Qt.ToolTipRole)
        self.family.currentIndexChanged.connect(self._family_changed)
        self.data = QComboBox()
        self.data.setEditable(True)
        self.data.addItems(DATA_CHOICES)
        self.data.setToolTip("mnist: the bundled MNIST test set. ring8 / grid25: 2-D mixtures. "
                             "torchvision:NAME[:ROOT], folder:PATH[?size=N&channels=C], or a folder. "
                             "Image translation: A=SPEC,B=SPEC, or the bundled pairs mnist-thick / mnist-inverted")
        self.data.currentTextChanged.connect(lambda _: self._fill_presets())
        self.browse_data = browse_data = QPushButton("Folder\u2026")
        browse_data.setToolTip("Train on a folder of images (sub-folders become labels)")
        browse_data.clicked.connect(self._browse_data)
        self.preset = QComboBox()
        self.preset.currentIndexChanged.connect(self._preset_changed)

    def _build_device(self) -> None:
        """The device choice; devices this machine lacks stay listed, greyed, with the reason."""
        self.device = QComboBox()
        availability = device_availability()
        model = QStandardItemModel()
        self.device.setModel(model)
        for name in DEVICE_CHOICES:
            self.device.addItem(name)
            mark_available(self.device, self.device.count() - 1, *availability[name])
        self.processes = QSpinBox()
        self.processes.setObjectName("train-processes")
        self.processes.setRange(1, max(MIN_MAX_PROCESSES, torch.cuda.device_count()))
        self.processes.setValue(default_processes())
        if frozen():
            self.processes.setEnabled(False)
            self.processes.setToolTip("This app is a bundle without a Python to run torchrun: paste the command "
                                      "below in a terminal where genstudio is installed to train with several "
                                      "processes")
        else:
            self.processes.setToolTip("1: train in the app. More: launch torchrun with this many processes (one "
                                      "per GPU, or on the CPU with gloo) and follow its run folder here")
        self.processes.valueChanged.connect(self._refresh_command)
        # The torchrun command line of the form (or of the run), selectable, with a Copy button.
        self.command_line = QLineEdit()
        self.command_line.setObjectName("train-command")
        self.command_line.setReadOnly(True)
        self.command_line.setToolTip("The same run from a terminal, e.g. on a GPU server or a cluster node")
        copy = QPushButton("Copy")
        copy.setToolTip("Copy the command line")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.command_line.text()))
        self.command_row = QWidget()
        row = QHBoxLayout(self.command_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.command_line, 1)
        row.addWidget(copy)

    def _build_numbers(self) -> None:
        """Steps, batch size, seed, the live diagnostics' interval and the output folder."""
        self.steps = QSpinBox()
        self.steps.setRange(1, 10_000_000)
        self.steps.setValue(2000)
        self.steps.setSingleStep(500)
        self.batch = QSpinBox()
        self.batch.setRange(1, 65536)
        # The family's hyper-parameters (its registry entry's hyper_fields): rows of the form below
        # the batch size, replaced when the family changes.
        self.hyper_boxes: dict[str, QDoubleSpinBox] = {}
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.diagnostics_every = QSpinBox()
        self.diagnostics_every.setRange(0, 1_000_000)
        self.diagnostics_every.setSingleStep(100)
        self.diagnostics_every.setValue(250)
        self.diagnostics_every.setSpecialValueText("off")
        self.diagnostics_every.setToolTip("GANs: every N steps, measure classes covered, coverage and diversity "
                                          "on a snapshot (in another thread) and warn when collapse is suspected")
        self.out_dir = QLineEdit()
        self.out_dir.setPlaceholderText("a new folder under " + str(runs_folder()))
        self.browse_out = browse_out = QPushButton("\u2026")
        browse_out.clicked.connect(self._browse_out)

    def _build_form(self) -> None:
        """The settings form; the family's hyper-parameter rows go in at `_hyper_row`."""
        form = self.form = QFormLayout()
        form.addRow("Family", self.family)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data, 1)
        data_row.addWidget(self.browse_data)
        form.addRow("Data", data_row)
        form.addRow("Preset", self.preset)
        self.preset_help = QLabel()
        self.preset_help.setWordWrap(True)
        theme.themed(self.preset_help, "color: {muted}")
        form.addRow("", self.preset_help)
        # Processes beside the device (a row of its own would squeeze the preset's help at 680 px high).
        device_row = QHBoxLayout()
        device_row.addWidget(self.device, 1)
        device_row.addWidget(QLabel("Processes"))
        device_row.addWidget(self.processes)
        form.addRow("Device", device_row)
        form.addRow("Command", self.command_row)
        form.addRow("Steps", self.steps)
        form.addRow("Batch size", self.batch)
        self._hyper_row = form.rowCount()
        form.addRow("Seed", self.seed)
        self.diagnostics_label = QLabel("Diagnostics every")
        form.addRow(self.diagnostics_label, self.diagnostics_every)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir, 1)
        out_row.addWidget(self.browse_out)
        form.addRow("Save to", out_row)

    def _build_controls(self) -> QHBoxLayout:
        """Start / Pause / Stop (returned, a row), the explore-as-it-trains button and the read-outs:
        phase, progress, errors and the collapse warning."""
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("train-start")
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("train-pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("train-stop")
        self.stop_button.clicked.connect(lambda: self.stop())
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        self.explore_button = QPushButton("Explore the model as it trains")
        self.explore_button.setToolTip("Open the Explore tab on a snapshot of the weights, refreshed every few seconds")
        self.explore_button.clicked.connect(self.exploreRequested)
        self.phase_label = Readout("Stopping: sampling the preview at step 10000000\u2026", "Not running")
        self.phase_label.setObjectName("train-phase")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress_label = Readout("step 100000/100000 \u00b7 999.9 steps/s \u00b7 99999 img/s \u00b7 ETA 99:59:59\n"
                                      "d_loss 0.123  g_loss 0.123  d_real 0.123  d_fake 0.123", "")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        theme.themed(self.error_label, "color: {error}; font-weight: bold")
        self.error_label.setVisible(False)
        self.collapse_label = QLabel()
        self.collapse_label.setObjectName("collapse-banner")
        self.collapse_label.setWordWrap(True)
        theme.themed(self.collapse_label, "background: {banner_background}; color: {banner_text}; padding: 6px; "
                                          "font-weight: bold")
        self.collapse_label.setVisible(False)
        return buttons

    def _build_settings_column(self, buttons: QHBoxLayout) -> QGroupBox:
        """The "Train" group: the form, the buttons and the read-outs, packed at the top."""
        settings = QGroupBox("Train")
        slay = QVBoxLayout(settings)
        slay.addLayout(self.form)
        slay.addLayout(buttons)
        slay.addWidget(self.explore_button)
        slay.addWidget(self.phase_label)
        slay.addWidget(self.progress)
        slay.addWidget(self.progress_label)
        slay.addWidget(self.error_label)
        slay.addWidget(self.collapse_label)
        slay.addStretch(1)
        return settings

    def _build_samples(self) -> QGroupBox:
        """The live samples: an image grid, or for 2-D data a scatter of real and generated points over
        D's verdict on the plane."""
        self.sample_view = ImageView(placeholder="Samples from fixed latents appear here while training",
                                     min_size=160)
        self.sample_view.setObjectName("train-samples")
        self.scatter = theme.themed_plot(pg.PlotWidget())
        self.scatter.setAspectLocked(True)
        self.scatter.addLegend()
        self.real_points = self.scatter.plot([], [], pen=None, symbol="o", symbolSize=3,
                                             symbolBrush=(150, 150, 150, 120), symbolPen=None, name="real")
        self.fake_points = self.scatter.plot([], [], pen=None, symbol="o", symbolSize=4,
                                             symbolBrush=(31, 119, 180, 200), symbolPen=None, name="generated")
        # GAN Lab's view: D's verdict over the plane as a heat map (green: "real", purple: "fake").
        self.surface = pg.ImageItem()
        self.surface.setZValue(-10)
        piyg = pg.ColorMap([0.0, 0.5, 1.0], [(142, 1, 82), (247, 247, 247), (39, 100, 25)])  # ColorBrewer PiYG
        self.surface.setLookupTable(piyg.getLookupTable(nPts=256))
        self.surface.setOpacity(0.55)
        self.scatter.addItem(self.surface)
        self.mode_centres = self.scatter.plot([], [], pen=None, symbol="+", symbolSize=14,
                                              name="mode centres")
        theme.on_theme(self, lambda colours: self.mode_centres.setSymbolPen(pg.mkPen(colours.plot_foreground, width=2)))
        self.samples_stack = QStackedWidget()
        self.samples_stack.addWidget(self.sample_view)
        self.samples_stack.addWidget(self.scatter)
        samples_box = QGroupBox("Live samples (fixed latents)")
        self.samples_box = samples_box
        QVBoxLayout(samples_box).addWidget(self.samples_stack)
        return samples_box

    # --- form logic -----------------------------------------------------------------------------
    def family_key(self) -> str:
        return self.family.currentData()

    def family_entry(self):
        return registry.get(self.family_key())

    def _data_is_points(self) -> bool:
        return self.data.currentText().strip().lower() in POINT_SETS

    def _family_changed(self) -> None:
        family = self.family_entry()
        for box in self.hyper_boxes.values():
            self.form.removeRow(box)
        self.hyper_boxes = {}
        for field in family.hyper_fields:
            box = QDoubleSpinBox()
            box.setDecimals(field.decimals)
            box.setRange(field.minimum, field.maximum)
            box.setSingleStep(10 ** -min(field.decimals, 4))
            box.setToolTip(field.help)
            box.setEnabled(not self.running)
            box.valueChanged.connect(self._refresh_command)
            self.hyper_boxes[field.key] = box
            self.form.insertRow(self._hyper_row + len(self.hyper_boxes) - 1, field.label, box)
        # Translation trains on two domains and every other family on one: the data follows the family.
        translation = family.has(Capability.TRANSLATION)
        if not self.running and translation != names_two_domains(self.data.currentText()):
            self.data.setCurrentText(next(iter(BUNDLED_PAIRS)) if translation else "mnist")
        live = family.has(Capability.LIVE_DIAGNOSTICS)
        self.diagnostics_every.setVisible(live)
        self.diagnostics_label.setVisible(live)
        if not self.running:
            self.plot.start(family.name)   # show this family's plot titles before a run
        self._fill_presets()

    def _fill_presets(self) -> None:
        current = self.preset.currentText()
        self.preset.blockSignals(True)
        self.preset.clear()
        self.preset.addItems(self.family_entry().presets_for(self._data_is_points()))
        index = self.preset.findText(current)
        self.preset.setCurrentIndex(max(index, 0))
        self.preset.blockSignals(False)
        self._preset_changed()

    def _preset_changed(self) -> None:
        name = self.preset.currentText()
        if not name:
            self.preset_help.setText(f"The {self.family_entry().label} family has no preset for this kind of data.")
            return
        preset = self.family_entry().presets[name]
        self.preset_help.setText(preset.description)
        self.batch.setValue(int(preset.hyper.get("batch_size", 64)))
        for key, box in self.hyper_boxes.items():
            if key in preset.hyper:
                box.setValue(float(preset.hyper[key]))

    def _browse_data(self) -> None:
        folder = file_dialogs.open_folder(self, "data", "Train on a folder of images")
        if folder:
            self.data.setEditText(f"folder:{folder}")

    def _browse_out(self) -> None:
        folder = file_dialogs.open_folder(self, "checkpoints", "Save checkpoints to")
        if folder:
            self.out_dir.setText(folder)

    def settings_record(self) -> dict:
        """The form's values, for the settings file (window_state.py)."""
        return {"family": self.family_key(), "data": self.data.currentText().strip(),
                "preset": self.preset.currentText(), "device": self.device.currentText(),
                "steps": self.steps.value(), "batch_size": self.batch.value(), "seed": self.seed.value(),
                "diagnostics_every": self.diagnostics_every.value(), "out_dir": self.out_dir.text().strip(),
                "hyper": {key: box.value() for key, box in self.hyper_boxes.items()},
                "processes": self.processes.value()}

    def apply_settings_record(self, record: dict) -> None:
        """Fill the form from `settings_record`'s dict: family first (it lists the presets), then the
        preset (it sets the batch size and rates), then the values that were saved over them. A
        family, preset or device this installation lacks is left as it is."""
        index = self.family.findData(record.get("family"))
        if index >= 0:
            self.family.setCurrentIndex(index)
        if record.get("data"):
            self.data.setEditText(str(record["data"]))
        index = self.preset.findText(str(record.get("preset", "")))
        if index >= 0:
            self.preset.setCurrentIndex(index)
        index = self.device.findText(str(record.get("device", "")))
        if index >= 0 and self.device.model().item(index).isEnabled():
            self.device.setCurrentIndex(index)
        boxes = [(self.steps, "steps"), (self.batch, "batch_size"), (self.seed, "seed"),
                 (self.diagnostics_every, "diagnostics_every")]
        if not frozen():         # a bundle trains in the app only: its box keeps its default
            boxes.append((self.processes, "processes"))
        for box, key in boxes:
            if isinstance(record.get(key), int) and not isinstance(record[key], bool):
                box.setValue(record[key])
        self.out_dir.setText(str(record.get("out_dir", "")))
        for key, value in (record.get("hyper") or {}).items():
            if key in self.hyper_boxes and isinstance(value, (int, float)):
                self.hyper_boxes[key].setValue(float(value))

    def config(self) -> TrainConfig:
        family, preset = self.family_key(), self.preset.currentText()
        hyper = {key: box.value() for key, box in self.hyper_boxes.items()}
        out = self.out_dir.text().strip() or str(runs_folder() / f"{family}-{preset}-{time.strftime('%Y%m%d-%H%M%S')}")
        return TrainConfig(family=family, preset=preset, data=self.data.currentText().strip(),
                           steps=self.steps.value(), batch_size=self.batch.value(), hyper=hyper,
                           seed=self.seed.value(), device=self.device.currentText(), out_dir=out,
                           sample_every_s=2.0, report_every=10)

    # --- running --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None or self.process is not None

    def processes_for_run(self) -> int:
        """How many processes Start trains with (a bundled app: 1, in the app)."""
        return 1 if frozen() else self.processes.value()

    def _set_running(self, running: bool) -> None:
        for w in (self.family, self.data, self.preset, self.device, self.steps, self.batch, self.seed,
                  self.out_dir, self.diagnostics_every, self.browse_data, self.browse_out,
                  *self.hyper_boxes.values()):
            w.setEnabled(not running)
        self.processes.setEnabled(not running and not frozen())
        in_app = running and self.process is None
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(in_app)
        self.stop_button.setEnabled(running)
        self.explore_button.setEnabled(in_app)
        several = "" if not running or self.process is None else \
            " is for runs in the app: torchrun's processes train on until stopped; the checkpoint they save " \
            "is added to the models when the run ends"
        self.pause_button.setToolTip(f"Pause{several}" if several else "")
        self.explore_button.setToolTip(f"Exploring as it trains{several}" if several else
                                       "Open the Explore tab on a snapshot of the weights, refreshed every few seconds")
        if not running:
            self.pause_button.setText("Pause")
            self.stop_button.setText("Stop")
            self.stopping = False
        if self.process is None:        # "a model being trained" the explorer can decode: in the app only
            self.runningChanged.emit(running)

    def _refresh_command(self, *_) -> None:
        """The form's command line, shown while several processes are set up (always in a bundled app,
        which cannot launch them itself); a launched run keeps the line it was started with."""
        if self.process is not None:
            return
        processes = self.processes.value()
        visible = processes > 1 or frozen()
        self.form.setRowVisible(self.command_row, visible)
        if not visible:
            return
        try:
            config = self.config()
            command = torchrun_command(config, processes) if processes > 1 else \
                ["genstudio", "train", *train_arguments(config)]
            self.command_line.setText(shell_line(command))
        except ValueError as exc:
            self.command_line.setText(str(exc))
        self.command_line.setCursorPosition(0)

    def _reset_views(self, config: TrainConfig, points: bool) -> None:
        """Empty curves, samples and read-outs for a new run of `config`."""
        self.error_label.setVisible(False)
        self.plot.start(config.family)
        self.last_samples, self.last_report, self.final_report = None, None, None
        self.sample_updates = 0
        self.progress.setRange(0, config.steps)
        self.progress.setValue(0)
        self.phase_label.setText(PHASE_TEXT[LOADING])
        self.progress_label.setText("")
        self.samples_stack.setCurrentIndex(1 if points else 0)
        self.real_points.setData([], [])
        self.fake_points.setData([], [])
        self.mode_centres.setData([], [])
        self.surface.clear()
        self.sample_view.set_image(None)
        self.collapse_label.setVisible(False)
        self.metrics_history: list[dict] = []
        self.last_diagnosed_step = -10**9
        self.live: LiveDiagnostics | None = None

    def start(self, config: TrainConfig | None = None, dataset=None, resume=None) -> None:
        """Train `config` (the form's by default): in the app, or with several processes (the form's
        Processes; data given as `dataset` is in this process only) under torchrun."""
        if self.running:
            return
        config = config or self.config()
        processes = self.processes_for_run()
        if processes > 1 and dataset is None:
            self._start_torchrun(config, processes, resume)
            return
        if config.command is None:
            try:         # run.json's way to repeat this run from a terminal
                config = dataclasses.replace(config, command=["genstudio", "train",
                                                              *train_arguments(config, _resume_path(resume))])
            except ValueError:
                pass     # settings no command line carries (a test's report interval): run.json gets sys.argv
        self._reset_views(config, config.data.strip().lower() in POINT_SETS if dataset is None else dataset.is_points)
        self.worker = TrainingWorker(config, dataset=dataset, resume=resume)
        self.worker.progress.connect(self._on_progress)
        self.worker.samples.connect(self._on_samples)
        self.worker.snapshot.connect(self.snapshotReady)
        self.worker.snapshot.connect(self._maybe_diagnose)
        self.worker.state.connect(self._on_state)
        self.worker.phase.connect(self._on_phase)
        self.worker.saved.connect(self._on_saved)
        self.worker.failed.connect(self._on_failed)
        self.worker.finished.connect(self._on_finished)
        self._run_started = time.perf_counter()
        self._set_running(True)
        self.job = Job("training", run=self.worker.run, worker=self.worker, token=self.worker.token).start()
        self.status.emit(f"training {config.family} '{config.preset}' on {config.data}; saving to {config.out_dir}")

    def toggle_pause(self) -> None:
        if not self.worker:
            return
        if self.pause_button.text() == "Pause":
            self.worker.pause()
        else:
            self.worker.resume()

    def stop(self, wait: bool = False) -> None:
        """Ask the worker, or torchrun's processes, to stop (they save, then end). With `wait`, block
        until the thread is joined or the processes have ended."""
        if self.process is not None:
            self._show_stopping()
            self.process.terminate()
            if wait:
                self.process.wait()       # its finished signal, and the panel's end of the run, come here
            return
        if self.worker is not None:
            self.worker.stop()
            self._show_stopping()
        if self.live is not None:
            # Live diagnostics give their core back to the final save (without `wait`, never blocking).
            self.live.shutdown(wait=wait)
            self.live = None
        if wait and self.job is not None:
            self.job.wait()
            self._cleanup()

    def _show_stopping(self) -> None:
        """Said at once; the run's "saving" and its end follow within about a second (torchrun: the
        processes' start-up, if they are still importing, and their save)."""
        if self.stopping:
            return
        self.stopping = True
        self.stop_button.setText("Stopping\u2026")
        self.stop_button.setEnabled(False)
        self.pause_button.setEnabled(False)
        self.phase_label.setText("Stopping\u2026")

    def _on_state(self, state: str) -> None:
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        if not self.stopping:
            step = self.last_report.step if self.last_report is not None else 0
            self.phase_label.setText(f"Paused at step {step}" if state == "paused" else f"Training (step {step})")

    def _on_saved(self, path: str) -> None:
        """A method of the panel, not a lambda: PySide runs a plain function in the emitting (training)
        thread, a QObject's method in the object's own (GUI) thread."""
        self.status.emit(f"autosaved {path}")

    def _on_phase(self, phase: str, step: int) -> None:
        text = PHASE_TEXT.get(phase, phase).format(n=step)
        self.phase_label.setText(f"Stopping: {text[0].lower()}{text[1:]}" if self.stopping else text)

    def _on_progress(self, reports: list) -> None:
        for report in reports:
            self.plot.add(report.step, report.scalars)
        self._schedule_redraw()
        last = reports[-1]
        self.last_report = last
        self.progress.setValue(last.step)
        if not self.stopping:
            self.phase_label.setText(f"Training (step {last.step})")
        steps_per_s = last.images_per_sec / max(last.batch_size, 1)
        losses = "  ".join(f"{k} {v:.3g}" for k, v in list(last.scalars.items())[:4])
        self.progress_label.setText(f"step {last.step}/{last.total_steps} \u00b7 {steps_per_s:.1f} steps/s \u00b7 "
                                    f"{last.images_per_sec:.0f} img/s \u00b7 ETA {_format_eta(last.eta)}\n{losses}")

    def _on_samples(self, report) -> None:
        self.plot.add(report.step, report.scalars)
        self._schedule_redraw()
        samples = report.samples
        self.last_samples = samples
        self.sample_updates += 1
        try:
            check_finite(samples, f"step {report.step}: the preview")
        except NonFiniteOutput as exc:      # drawn, NaN would come out black (or points left out)
            self.sample_view.show_message(str(exc))
            self.status.emit(str(exc))
            return
        if samples.ndim == 2:
            trainer = self.worker.trainer if self.worker else None
            if trainer is not None and (self.real_points.xData is None or len(self.real_points.xData) == 0):
                real = trainer.dataset.data[:2000].cpu().numpy()
                self.real_points.setData(real[:, 0], real[:, 1])
                mixture = TOY_MIXTURES.get(trainer.dataset.name)
                if mixture is not None:
                    centres = mixture.centres.numpy()
                    self.mode_centres.setData(centres[:, 0], centres[:, 1])
            self.fake_points.setData(samples[:, 0], samples[:, 1])
            if report.surface is not None:
                x0, x1, y0, y1 = report.surface_bounds
                low, high = (0.0, 1.0) if report.surface.min() >= 0 and report.surface.max() <= 1 else \
                    (float(report.surface.min()), float(report.surface.max()))
                self.surface.setImage(report.surface, levels=(low, high))
                self.surface.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        else:
            cols = report.columns or int(np.ceil(np.sqrt(len(samples))))
            self.sample_view.set_array(np.asarray(grid_image(samples, cols=cols, padding=2)))
            # A row-by-row model's live grid fills in a few rows per report.
            drawing = "" if report.rows_drawn is None else \
                f" \u2014 drawing pixel by pixel: row {report.rows_drawn} of {samples.shape[-2]}"
            self.samples_box.setTitle(f"Live samples (fixed latents){drawing}")

    # --- live diagnostics (GANs) ----------------------------------------------------------------
    def _maybe_diagnose(self, snapshot: dict) -> None:
        every, card = self.diagnostics_every.value(), snapshot["card"]
        if self.stopping:
            return          # the run's last snapshot: no figures that would compete with the final save
        live = Capability.LIVE_DIAGNOSTICS in registry.get(card.family).capabilities_of(card.data_shape)
        if not live or not every or card.step < self.last_diagnosed_step + every:
            return
        if self.live is None:
            trainer = self.worker.trainer if self.worker else None
            if trainer is None:
                return
            self.live = LiveDiagnostics(trainer.dataset.to("cpu"), self, token=self.worker.token.child())
            self.live.metrics.connect(self._on_metrics)
            self.live.preparing.connect(self.status)
            self.live.failed.connect(lambda m: self.status.emit(f"live diagnostics: {m}"))
        self.last_diagnosed_step = card.step
        self.live.submit(snapshot)

    def _on_metrics(self, step: int, metrics: dict) -> None:
        entry = dict(metrics)
        if self.last_report is not None:   # D's view at that moment, for the "D wins" signal
            entry.update({k: self.last_report.scalars[k] for k in ("d_real", "d_fake") if k in self.last_report.scalars})
        self.metrics_history.append(entry)
        self.plot.add_metrics(step, metrics)
        trainer = self.worker.trainer if self.worker is not None else None
        if trainer is not None and trainer.run_log is not None:
            trainer.run_log.diagnostics(step, metrics)     # into the run folder (a closed log drops late ones)
        from genstudio.core.metrics.report import collapse_suspected  # scikit-learn: not at start-up

        fired = collapse_suspected(self.metrics_history)
        self.collapse_label.setVisible(bool(fired))
        if fired:
            self.collapse_label.setText(f"Mode collapse suspected at step {step}: " + "; ".join(fired))

    def _on_failed(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        self.status.emit(message)

    def _schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _on_finished(self, report) -> None:
        self._redraw_timer.stop()
        self.plot.redraw()                   # the last points, now
        self.final_report = report
        if report is not None:
            self.phase_label.setText(f"{report.kind.capitalize()} at step {report.step}")
            if report.kind == "diverged":
                self._on_failed(report.message)
            else:
                self.progress_label.setText(f"{report.message}; saved {report.path}" if report.path else report.message)
                self.status.emit(f"{report.message}; checkpoint {report.path}")
        elif self.error_label.isHidden():
            self.phase_label.setText("Stopped before training began" if self.stopping else "Not running")
            self.progress_label.setText("")
        else:
            self.phase_label.setText("Failed")
        if self.job is not None:
            self.job.wait()      # the worker has emitted its last signal; run() returns right after
        self._cleanup()
        self.trainingFinished.emit(report)

    def _cleanup(self) -> None:
        if self.live is not None:
            self.live.shutdown()
            self.live = None
        if self.job is None:
            return
        self.job, self.worker = None, None        # retired by the job: worker and thread deleted
        self._set_running(False)

    # --- several processes under torchrun -------------------------------------------------------------
    def _start_torchrun(self, config: TrainConfig, processes: int, resume) -> None:
        """Launch `python -m torch.distributed.run ... -m genstudio train ...` and follow its run folder."""
        resume = _resume_path(resume)
        try:
            arguments = launch_arguments(config, processes, free_port(), resume)
        except ValueError as exc:
            self._on_failed(f"cannot launch torchrun: {exc}")
            return
        self._reset_views(config, points=False)       # 2-D runs' grids are drawn as images in the folder
        self.phase_label.setText(f"Starting {processes} processes\u2026")
        self.command_line.setText(shell_line(torchrun_command(config, processes, resume)))
        self.command_line.setCursorPosition(0)
        self.form.setRowVisible(self.command_row, True)
        cpu = config.device == "cpu" or torch.cuda.device_count() == 0
        self.process = TorchrunProcess(sys.executable, arguments, processes, cpu, parent=self)
        self.process.finished.connect(self._on_process_finished)
        self.follower = RunFollower(config.out_dir)
        self._run_family, self._run_total = config.family, config.steps
        self._run_start = self._run_step = self._run_grid = self._shown_grid = None
        self._launched_at = time.time()
        self._set_running(True)
        self._follow_timer.start()
        self.process.start()
        self.status.emit(f"training {config.family} '{config.preset}' on {config.data} with {processes} processes "
                         f"(torchrun); saving to {config.out_dir}")

    def _own(self, records: list[dict]) -> list[dict]:
        """The records this launch wrote: the folder's log may hold an earlier run's before them."""
        return [r for r in records if isinstance(r.get("time"), (int, float)) and r["time"] >= self._launched_at]

    def _poll_run(self) -> bool:
        """New records of the followed run into the curves, the read-outs and the samples view. True
        when the poll found any (a long log is read over several polls)."""
        if self.follower is None:
            return False
        update = self.follower.poll()
        if update.restarted:       # the log went back (replaced, or an earlier step restarted): redraw it all
            self.plot.start(self._run_family)
            self._run_start = self._run_step = None
            records = self.follower.records
        else:
            records = update.records
        records = self._own(records)
        for record in records:
            self._take_record(record)
        if records or update.restarted:
            self._schedule_redraw()
            self._show_run_progress()
        if self._run_grid is not None and self._run_grid != self._shown_grid:
            self._shown_grid = self._run_grid
            try:
                self.sample_view.set_array(read_grid(self._run_grid))
                self.sample_updates += 1
            except (OSError, ValueError) as exc:
                self.status.emit(f"{self._run_grid}: cannot read the sample grid ({exc})")
        return bool(update.records)

    def _take_record(self, record: dict) -> None:
        kind, step = record["kind"], record["step"]
        numbers = figures(record)
        if kind == "start":
            self._run_start = record
            if isinstance(record.get("total_steps"), int):
                self._run_total = record["total_steps"]
                self.progress.setRange(0, self._run_total)
        elif kind == "step":
            self._run_step = record
            self.plot.add(step, numbers)
        elif kind == "samples":
            self.plot.add(step, numbers)
            if isinstance(record.get("image"), str):
                self._run_grid = self.follower.folder / record["image"]
                self._shown_grid = None      # samples/latest.png is replaced in place: read it again
        elif kind == "diagnostics":
            self.plot.add_metrics(step, numbers)
        elif kind == "saved":
            self.status.emit(f"autosaved step {step} in {self.follower.folder}")

    def _show_run_progress(self) -> None:
        """Progress bar, phase line and throughput from the newest records (as _on_progress does)."""
        record = self._run_step
        if record is None:
            return
        step, total = record["step"], self._run_total
        start = self._run_start or {}
        world = start.get("world_size") if isinstance(start.get("world_size"), int) else 1
        self.progress.setValue(step)
        if not self.stopping:
            self.phase_label.setText(f"Training (step {step}) in {world} processes")
        batch = start.get("batch_size") if isinstance(start.get("batch_size"), int) else 0
        images = record.get("images_per_sec") if isinstance(record.get("images_per_sec"), (int, float)) else 0.0
        steps_per_s = images / max(batch * world, 1)         # all processes' images, batch per process
        eta = (total - step) / steps_per_s if steps_per_s > 0 else float("inf")
        scalars = record.get("scalars") if isinstance(record.get("scalars"), dict) else {}
        losses = "  ".join(f"{k} {v:.3g}" for k, v in list(scalars.items())[:4] if isinstance(v, (int, float)))
        self.progress_label.setText(f"step {step}/{total} \u00b7 {steps_per_s:.1f} steps/s \u00b7 {images:.0f} img/s "
                                    f"\u00b7 ETA {_format_eta(eta)}\n{losses}")

    def _on_process_finished(self, code: int) -> None:
        """torchrun has ended: the run folder's end record says how (a stop ends it with a non-zero
        code, torchrun's answer to SIGTERM); its checkpoint goes to the explorer as an in-app run's does."""
        self._follow_timer.stop()
        while self._poll_run():            # the records written since the last poll, to the end
            pass
        self._redraw_timer.stop()
        self.plot.redraw()
        process, follower = self.process, self.follower
        end = follower.end if follower.end is not None and self._own([follower.end]) else None
        report = None
        if end is not None:
            state = str(end.get("state", "finished"))
            message = end.get("message") if isinstance(end.get("message"), str) else ""
            checkpoint = follower.newest_checkpoint() if isinstance(end.get("path"), str) else None
            report = Report(state, end["step"], self._run_total, message=message,
                            path=str(checkpoint) if checkpoint is not None and state != "diverged" else None)
            self.phase_label.setText(f"{state.capitalize()} at step {end['step']}")
            if state == "diverged":
                self._on_failed(message)
            else:
                self.progress_label.setText(f"{message}; saved {report.path}" if report.path else message)
                self.status.emit(f"{message}; checkpoint {report.path}")
        elif self.stopping:
            self.phase_label.setText("Stopped before training began" if self._run_step is None else
                                     f"Stopped after step {self._run_step['step']} without its final save "
                                     f"(torchrun's output is in the log)")
        else:
            self._on_failed(process.error_text or f"torchrun ended (exit code {code}) without finishing the run")
            self.phase_label.setText("Failed")
        self.final_report = report
        self._set_running(False)
        self.process, self.follower = None, None
        process.deleteLater()
        self._refresh_command()
        self.trainingFinished.emit(report)
