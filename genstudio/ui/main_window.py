"""The main window: Models list on the left, Explore, Train and Runs tabs, menus, drag-and-drop."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from genstudio.core.errors import Cancelled, CheckpointError, GenStudioError, first_line
from genstudio.core.explore.explore_session import ExploreSession
from genstudio.core.families.family import Capability
from genstudio.core.io import readers
from genstudio.core.io.file_checks import printable
from genstudio.core.io.foreign import trust_fingerprint
from genstudio.core.io.open_model import OpenedModel, open_model, snapshot_model
from genstudio.ui import consent_dialog, file_dialogs, theme
from genstudio.ui.decode_device import DecodeDevice, DecodeStatus
from genstudio.ui.deferred_tabs import DeferredPanel, DeferredTabs
from genstudio.ui.explore_actions import ExploreActions
from genstudio.ui.exports import Exports
from genstudio.ui.history_strip import ExploreHistory, HistoryStrip
from genstudio.ui.jobs import shutdown_all
from genstudio.ui.model_build import BuildWait, LatestBuilds
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.model_list import LIVE, ModelList, demo_checkpoints
from genstudio.ui.panels.diagnostics_panel import DiagnosticsPanel
from genstudio.ui.panels.explore_panel import ExplorePanel
from genstudio.ui.panels.inspect_panel import InspectPanel
from genstudio.ui.panels.map_panel import MapPanel
from genstudio.ui.panels.runs_panel import RunsPanel
from genstudio.ui.panels.train_panel import TrainPanel
from genstudio.ui.render_worker import Renderer
from genstudio.ui.gui_thread_gc import collect_in_gui_thread
from genstudio.ui.torch_threads import single_threaded
from genstudio.ui.window_state import WindowState

log = logging.getLogger(__name__)

DEFAULT_DEMO = "gan-mnist"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
CLOSE_WAIT_S = 5.0     # closing waits at most this long for cancelled background jobs (they poll their token)


class ErrorBanner(QWidget):
    """A red line across the top of the window: says what went wrong and why, without blocking."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QPushButton("\u2715")
        close.setFlat(True)
        close.setFixedWidth(28)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        theme.themed(self, "background: {banner_background}; color: {banner_text};")
        self.setAutoFillBackground(True)
        self.hide()

    def show_message(self, message: str) -> None:
        self.label.setText(message)
        self.show()


class OpeningStatus(QWidget):
    """The status bar's part while a model file opens: "opening NAME…", a busy bar and Cancel (the
    window's Escape cancels too). Hidden otherwise."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)                  # busy: reading and building say nothing of how far they are
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel-open")
        self.cancel_button.setToolTip("Stop opening this model and keep the one open (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.name = ""
        self.hide()

    def start(self, name: str) -> None:
        self.name = printable(name)
        self.label.setText(f"opening {self.name}\u2026")
        self.show()


class MainWindow(QMainWindow):
    modelOpened = Signal(object)       # the ModelInfo of the model now open
    exported = Signal(str)             # the path an export wrote

    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        single_threaded()          # the GUI thread makes no OpenMP pool of its own (torch_threads)
        collect_in_gui_thread()    # no garbage collection in worker threads (gui_thread_gc: a deadlock)
        self.setWindowTitle("genstudio")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("genstudio", "genstudio")
        self.decode_device = DecodeDevice(self.settings, self)
        self.decode_device.changed.connect(self._device_changed)
        self.decode_status = DecodeStatus()
        self.renderer = Renderer(self)
        self.session = ExploreSession()
        self.scope = ModelScope(self.renderer)    # the one "model changed" path (model_bound.py)
        self.explore = ExplorePanel(self.renderer, self.session, self.scope)
        self.runs = RunsPanel(self.settings)
        self.history = ExploreHistory(self.session, self.explore, self.scope, self)
        self.explore.history_row.addWidget(HistoryStrip(self.history))
        self.opened = None                 # the ModelInfo of the open model (the renderer has the module)
        self.live_snapshot: dict | None = None
        self.following_live = False
        self.live_builds = LatestBuilds(self)     # training snapshots, built off the GUI thread
        self.live_builds.built.connect(self._live_built)
        self.live_builds.failed.connect(lambda message: self.show_error(f"training snapshot: {message}"))
        self._live_fresh = False                  # the next live model shown starts the explorer afresh
        self._open_wait: BuildWait | None = None  # the file being read and built (off the GUI thread), if any
        self.closing = False

        self.tabs = QTabWidget()
        self.tabs.addTab(self.explore, "Explore")
        # Built when first needed (ui/deferred_tabs.py): `self.map`, `self.inspect`,
        # `self.diagnostics` and `self.train` build theirs when asked.
        self.deferred = DeferredTabs(self.tabs, self._panel_built)
        self.deferred.add("map", "Latent map", self._build_map)
        self.deferred.add("inspect", "Inspect", self._build_inspect)
        self.deferred.add("diagnostics", "Diagnostics", self._build_diagnostics)
        self.deferred.add("train", "Train", self._build_train)
        self.tabs.addTab(self.runs, "Runs")
        self.banner = ErrorBanner()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.banner)
        column.addWidget(self.tabs)
        self.setCentralWidget(central)

        self.models = ModelList(self.settings)
        self.models.chosen.connect(self._model_chosen)
        dock = QDockWidget("Models", self)
        dock.setObjectName("models-dock")
        dock.setWidget(self.models)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [230], Qt.Horizontal)

        self.explore.status.connect(self.show_status)
        self.runs.status.connect(self.show_status)
        self.runs.openRequested.connect(self._open_run_checkpoint)
        self.renderer.done.connect(self._rendered)
        self.renderer.failed.connect(self._render_failed)
        self.exports = Exports(self)              # the File menu's exports (ui/exports.py)
        self._build_menus()
        self.opening = OpeningStatus()            # while a model file is read and built
        self.opening.cancel_button.clicked.connect(self.cancel_open)
        self.statusBar().addPermanentWidget(self.opening)
        self.statusBar().addPermanentWidget(self.decode_status)
        self.statusBar().showMessage("Ready")
        self.window_state = WindowState(self)
        self.window_state.restore_layout()
        self.runs.restore()

    # --- the panels built when first needed ---------------------------------------------------------
    map: MapPanel = DeferredPanel()
    inspect: InspectPanel = DeferredPanel()
    diagnostics: DiagnosticsPanel = DeferredPanel()
    train: TrainPanel = DeferredPanel()

    def build_deferred_panels(self) -> None:
        """Build the panels not built yet, one an event-loop turn (start-up calls this once the
        explorer is interactive)."""
        self.deferred.build_all_soon()

    def _build_map(self) -> MapPanel:
        panel = MapPanel(self.renderer, self.scope)
        panel.status.connect(self.show_status)
        panel.pinLatent.connect(self.explore.set_latent)
        panel.pathChosen.connect(lambda a, b: self.session.set_endpoints(a, b))
        return panel

    def _build_inspect(self) -> InspectPanel:
        panel = InspectPanel(self.renderer, self.session, self.scope)
        panel.status.connect(self.show_status)
        panel.pinLatent.connect(self.explore.set_latent)
        return panel

    def _build_diagnostics(self) -> DiagnosticsPanel:
        panel = DiagnosticsPanel(self.renderer, self.scope)
        panel.status.connect(self.show_status)
        return panel

    def _build_train(self) -> TrainPanel:
        panel = TrainPanel()
        panel.status.connect(self.show_status)
        panel.snapshotReady.connect(self._on_snapshot)
        panel.trainingFinished.connect(self._on_training_finished)
        panel.runningChanged.connect(self.models.show_live)
        panel.exploreRequested.connect(self.follow_training)
        return panel

    def _panel_built(self, name: str, panel) -> None:
        """A panel built after the window: shown the model open now, as if it had seen it open, and
        given back what the last session left in it (its splitters, settings)."""
        if self.scope.info is not None and hasattr(panel, "reset_for_model"):
            panel.reset_for_model(self.scope.info)
        self.window_state.restore_panel(name, panel)

    # --- menus ----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open model\u2026", self.open_dialog, QKeySequence.Open)
        folders = ", ".join(r.label for r in readers.readers() if r.folders)
        self._action(file_menu, f"Open model &folder ({folders})\u2026", self.open_folder_dialog)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._action(file_menu, "Follow r&un folder\u2026", self.follow_dialog)
        file_menu.addSeparator()
        self._action(file_menu, "Export image &grid\u2026", self.exports.export_grid_dialog, "Ctrl+E")
        self._action(file_menu, "Export the image as s&hown\u2026", self.exports.export_shown_dialog, "Ctrl+Shift+E")
        self._action(file_menu, "Export interpolation &strip\u2026", self.exports.export_strip_dialog)
        self._action(file_menu, "Export interpolation GI&F\u2026", self.exports.export_gif_dialog)
        self._action(file_menu, "Export a &walk (GIF or MP4)\u2026", self.exports.export_walk_dialog)
        self.style_mixing_action = self._action(file_menu, "Export st&yle-mixing grid\u2026",
                                                self.exports.export_style_mixing_dialog)
        self.style_mixing_action.setEnabled(False)
        self._action(file_menu, "Save &latent as JSON\u2026", self.exports.save_latent_dialog, "Ctrl+S")
        self._action(file_menu, "Load latent from JSON\u2026", self.exports.load_latent_dialog)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo latent edit", self.history.undo, QKeySequence.Undo)
        self.redo_action = self._action(edit, "&Redo latent edit", self.history.redo, "Ctrl+Shift+Z")
        view = self.menuBar().addMenu("&View")
        self._action(view, "&Explore", lambda: self.tabs.setCurrentWidget(self.explore), "Ctrl+1")
        self._action(view, "Latent &map", lambda: self.tabs.setCurrentWidget(self.map), "Ctrl+2")
        self._action(view, "&Inspect", lambda: self.tabs.setCurrentWidget(self.inspect), "Ctrl+3")
        self._action(view, "&Diagnostics", lambda: self.tabs.setCurrentWidget(self.diagnostics), "Ctrl+4")
        self._action(view, "&Train", lambda: self.tabs.setCurrentWidget(self.train), "Ctrl+5")
        self._action(view, "R&uns", lambda: self.tabs.setCurrentWidget(self.runs), "Ctrl+6")
        view.addSeparator()
        self.decode_device.build_menu(view)
        self._action(view, "&Reset layout", lambda: self.window_state.reset_layout())
        self.explore_actions = ExploreActions(self)
        self.explore_actions.build(self.menuBar())

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda checked=False: slot())
        menu.addAction(action)
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.models.recent() or []:
            self._action(self.recent_menu, path, lambda p=path: self.open_path(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # --- messages -------------------------------------------------------------------------------
    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def show_error(self, message: str) -> None:
        message = printable(message)        # a non-UTF-8 file name shows as \xNN, not as a broken label
        log.warning("%s", message)
        self.banner.show_message(message)
        self.statusBar().showMessage(message, 15000)

    # --- opening --------------------------------------------------------------------------------
    def open_default(self) -> None:
        """The model open when the app last closed, on the latent it showed; else the demo GAN."""
        last = self.window_state.last_model()
        if last is not None and self.open_path(last):
            self.window_state.restore_latent()
            return
        if self.opened is not None:
            return              # another file, opened while the last one opened, superseded it
        demos = demo_checkpoints()
        if not demos:
            self.show_error("no demo checkpoints were found in the app's resources")
            return
        preferred = [p for p in demos if p.stem == DEFAULT_DEMO]
        self.open_path(preferred[0] if preferred else demos[0])

    def open_dialog(self) -> None:
        path = file_dialogs.open_file(self, "checkpoints", "Open a model", readers.file_filter())
        if path:
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        """A model saved as a folder (a format whose reader opens folders: a Hugging Face diffusers
        DDPM / DDIM pipeline or UNet2DModel)."""
        path = file_dialogs.open_folder(self, "checkpoints", "Open a model folder")
        if path:
            self.open_path(path)

    def _foreign_details(self, path: Path) -> tuple[int | None, tuple[float, float] | None] | None:
        """A foreign generator's latent size and output range, asked when its reader says the file does not
        give them (after consent: nothing is asked about a file that will not run). None: the person cancelled."""
        dim, ok = QInputDialog.getInt(self, "Foreign generator", f"Latent size of {path.name}:", 128, 1, 1_000_000)
        if not ok:
            return None
        text, ok = QInputDialog.getText(self, "Foreign generator", "Output range (low, high):", text="-1, 1")
        if not ok:
            return None
        try:
            low, high = (float(v) for v in text.split(","))
        except ValueError:
            raise CheckpointError(f"{path}: the output range must look like -1, 1, not {text!r:.40}") from None
        return dim, (low, high)

    def open_path(self, path: str | Path, keep_latent: bool = False) -> bool:
        """Open a file or folder of any registered format (core/io/readers.py); on failure say why and
        keep what was open. Data formats (checkpoints, snapshots, diffusers folders) are read as data.

        A program (TorchScript / torch.export, whose reader runs_code) is read and checked without
        running anything, then runs only if the person allows it (consent_dialog: Run once, Always
        trust this file, or a fingerprint trusted before), and then only those exact bytes. Consent
        is asked here in the GUI thread; the file is then read and its module built in a thread of
        its own (ui/model_build.py) while the window keeps answering; False if the person cancels
        that (`cancel_open`) or opens another file meanwhile, which supersedes this one."""
        path = Path(path)
        latent_dim = output_range = consent = None
        try:
            reader = readers.reader_for(path)
            if reader.runs_code:
                foreign = reader.program(path)
                if not consent_dialog.allowed(self, self.settings, foreign):
                    self.show_status(f"{path.name} was not opened: its code was not allowed to run")
                    return False
                consent = trust_fingerprint(foreign.sha256)
            if reader.needs_details is not None and reader.needs_details(path):
                details = self._foreign_details(path)
                if details is None:
                    self.show_status(f"{path.name} was not opened")
                    return False
                latent_dim, output_range = details
            device = self.decode_device.device()
            opened = self._open_off_gui_thread(path, lambda: open_model(path, device, latent_dim=latent_dim,
                                                                        output_range=output_range, consent=consent))
        except Cancelled:
            return False                    # cancel_open or a newer open_path said why
        except (GenStudioError, OSError, ValueError) as exc:   # incl. ConsentRefused: the file changed after "yes"
            self.show_error(first_line(exc))
            return False
        if self.closing:
            return False
        self.following_live = False
        self._show_model(opened, keep_latent=keep_latent)
        self.models.add_recent(path)
        self.models.select_path(str(path))
        if opened.is_foreign:
            self.show_status(f"opened {path.name}: a {opened.card.config.kind} program from its author, "
                             "run with your consent")
        elif opened.card.origin:
            notes = "".join(f"; {note}" for note in opened.card.notes)
            spec = opened.info.family_spec
            self.show_status(f"opened {path.name}: a {opened.card.origin} {opened.card.preset}, explored as "
                             f"{spec.label if spec else opened.family}{notes}")
        return True

    def _open_off_gui_thread(self, path: Path, fn) -> OpenedModel:
        """fn() (reading and building the model) in a thread, the status bar saying so with a busy bar
        and Cancel. A file still opening is superseded: its wait ends (Cancelled) and its model is
        dropped when built. The waits nest (each is a local event loop): one superseded returns once
        the newer one it called into has returned."""
        wait = BuildWait(fn)
        superseded, self._open_wait = self._open_wait, wait
        if superseded is not None:
            superseded.cancel()
        self.opening.start(path.name)
        self.installEventFilter(self)       # once, however many opens nest
        try:
            return wait.wait()
        finally:
            if self._open_wait is wait:
                self._open_wait = None
                self.opening.hide()
            if self._open_wait is None:
                self.removeEventFilter(self)

    def cancel_open(self) -> None:
        """Stop opening the file being opened, at once: the model open stays open and working, and the
        one being built is dropped when its build ends."""
        wait, self._open_wait = self._open_wait, None
        if wait is None:
            return
        wait.cancel()
        self.opening.hide()
        self.show_status(f"{self.opening.name} was not opened: cancelled")

    def eventFilter(self, watched, event) -> bool:
        """While a file opens (the window filters its own events then), Escape cancels the opening
        before any shortcut sees it: the explorer's Escape, which cancels its long decodes, may be
        enabled at the same time, and two actions on one key would both stay silent. A filter for the
        opening only, not an override of `event`: an override runs Python, holding the GIL, for every
        event of the window, paints included, while the render thread needs the GIL to decode."""
        if (watched is self and event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_Escape
                and self._open_wait is not None):
            self.cancel_open()
            event.accept()
            return True
        return False

    def _show_model(self, opened: OpenedModel, keep_latent: bool = False) -> None:
        """The renderer takes the module; the panels get its plain description."""
        previous, self.opened = self.opened, opened.info
        self.banner.hide()
        self.renderer.set_model(opened.model)
        self.decode_status.set_model(opened.model)
        info = opened.info
        # Another model is a clean slate for every panel (each resets on scope.changed); only newer
        # weights of the model on show (a training snapshot, the file on another device) keep it.
        if keep_latent and previous is not None and previous.path == info.path:
            self.scope.refresh(info)
        else:
            self.scope.switch(info)
        self.style_mixing_action.setEnabled(info.has(Capability.STYLE_SPACE))
        self.setWindowTitle(f"genstudio \u2014 {info.path.name}")
        self.show_status(f"opened {info.path}")
        self.modelOpened.emit(info)

    def _model_chosen(self, data: str) -> None:
        if data == LIVE:
            self.follow_training()
        else:
            self.open_path(data)

    # --- exploring while training ---------------------------------------------------------------
    def _on_snapshot(self, snapshot: dict) -> None:
        self.live_snapshot = snapshot
        if self.following_live:
            self.live_builds.submit(lambda: snapshot_model(snapshot))

    def follow_training(self) -> None:
        """Explore the model being trained; the view refreshes with each new snapshot (each built
        off the GUI thread, shown when built)."""
        if self.live_snapshot is None:
            self.show_status("no snapshot of the training run yet")
            return
        self.following_live = True
        self._live_fresh = True
        snapshot = self.live_snapshot
        self.live_builds.submit(lambda: snapshot_model(snapshot))
        self.show_status("building the model of the training run\u2026")
        self.tabs.setCurrentWidget(self.explore)

    def _live_built(self, opened: OpenedModel) -> None:
        if self.closing or not self.following_live:
            return                               # a file was opened meanwhile: this build is stale
        self._show_model(opened, keep_latent=not self._live_fresh)
        self._live_fresh = False

    def _on_training_finished(self, report) -> None:
        if self.closing or report is None or not report.path:
            return
        self.models.add_recent(report.path)
        if self.following_live:
            self.open_path(report.path)

    def _device_changed(self, choice: str) -> None:
        """Open the model again on the newly chosen device (a live training snapshot stays on the CPU)."""
        if self.opened is not None and not self.following_live and self.opened.path.exists():
            self.open_path(self.opened.path, keep_latent=True)
        self.show_status(f"decoding on {self.decode_device.device()} (View → Decode on: {choice})")

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel == "image":
            self.decode_status.decoded(ms)

    def _render_failed(self, channel: str, message: str) -> None:
        if channel == "image":
            self.show_error(f"cannot decode: {message}")

    # --- following run folders -------------------------------------------------------------------
    def follow_dialog(self) -> None:
        """File -> Follow run folder: a run folder, or a folder of them (each followed)."""
        path = file_dialogs.open_folder(self, "checkpoints", "Follow a run folder (or a folder of runs)")
        if path:
            self.follow_folders([path])

    def follow_folders(self, folders) -> None:
        """Follow each folder's runs (docs/run-folder.md) in the Runs tab, and show it; a folder with
        no run folder in it is said in the status bar."""
        followed, missing = [], []
        for folder in folders:
            found = self.runs.follow(folder)
            followed += found
            if not found:
                missing.append(printable(str(folder)))
        if followed:
            self.tabs.setCurrentWidget(self.runs)
            self.show_status(f"following {len(followed)} runs" if len(followed) > 1
                             else f"following {printable(str(followed[0]))}")
        if missing:           # said last: it is what the person must act on
            self.show_status(f"{', '.join(missing)}: not a run folder, and no run folder in it "
                             "(no run.json or metrics.jsonl)")

    def _open_run_checkpoint(self, path: Path) -> None:
        self.tabs.setCurrentWidget(self.explore)
        self.open_path(path)

    # --- drag and drop --------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.drop_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    def drop_path(self, path: str | Path) -> None:
        """A dropped model (a file, or a diffusers folder) opens. A dropped image goes to the first tool
        of the open model that takes images (Inspect: a likelihood's measure, a GAN's projection, an
        encoder's round trip)."""
        path = Path(path)
        info = self.opened
        if path.is_dir() or path.suffix.lower() not in IMAGE_SUFFIXES or info is None or info.is_points:
            self.open_path(path)
            return
        if self.inspect.take_image(path):
            self.tabs.setCurrentWidget(self.inspect)
        else:
            self.show_error(f"{path.name}: a {info.family} can neither measure, project nor encode an image")

    # --- closing --------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        """Stop training (it saves) and wait for it, cancel every other background job and wait for
        them (CLOSE_WAIT_S at most), join the render thread, then close."""
        self.closing = True
        self.cancel_open()
        self.window_state.save()
        train = self.deferred.built("train")
        if train is not None and train.running:
            self.show_status("stopping training and saving\u2026")
            train.stop(wait=True)
        for name in ("map", "inspect", "diagnostics"):
            panel = self.deferred.built(name)
            if panel is not None:
                panel.tasks.shutdown()
        self.live_builds.shutdown()
        shutdown_all(CLOSE_WAIT_S)
        self.renderer.shutdown()
        super().closeEvent(event)
