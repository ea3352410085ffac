"""The Runs tab: follow training runs by their run folders (docs/run-folder.md), wherever they train.

A list of the followed runs (a colour, the folder's name, its one-line status, a box to show or hide
its curves, a button to stop following it), their figures overlaid (widgets/run_curves.py), and for
the run selected its newest sample grid, what its run.json says (the command line to copy, family
and preset, data, devices, host) and a button that opens its newest checkpoint in the explorer.

A timer polls every run's RunFollower (core/training/run_follow.py): each poll reads only the bytes
written since the last, at most READ_LIMIT of them, so a long log is taken in over several polls and
the GUI thread is never held long. Curves are drawn once per tick, only those that changed, and not
while the tab is hidden. The folders followed are kept in the settings and followed again at the
next start (those gone meanwhile are dropped).
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genstudio.core.io.file_checks import printable
from genstudio.core.training.run_follow import ENDED, SILENT, RunFollower, read_grid, run_folders_under
from genstudio.ui import theme
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.run_curves import COLOURS, RunCurves

SETTINGS_KEY = "runs/followed"
POLL_MS = 1000
REDRAW_S = 1.0


class ElidedLabel(QLabel):
    """One line of text cut with "…" to the label's width, the whole of it in the tooltip."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.whole = ""
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:
        self.whole = text
        self.setToolTip(text)
        self._fit()

    def _fit(self) -> None:
        super().setText(QFontMetrics(self.font()).elidedText(self.whole, Qt.ElideRight, max(self.width(), 40)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(40, super().sizeHint().height())


class RunRow(QWidget):
    """A followed run in the list: [x] swatch name / status, and a button to stop following it."""

    def __init__(self, folder: Path, colour: str, parent=None):
        super().__init__(parent)
        self.shown = QCheckBox()
        self.shown.setChecked(True)
        self.shown.setToolTip("Show this run's curves")
        swatch = QLabel()
        swatch.setFixedSize(14, 14)
        swatch.setStyleSheet(f"background: {colour}; border-radius: 3px;")
        self.name = ElidedLabel(folder.name)
        self.name.setToolTip(str(folder))
        font = self.name.font()
        font.setBold(True)
        self.name.setFont(font)
        self.status = ElidedLabel("")
        theme.themed(self.status, "color: {muted};")
        self.remove = QToolButton()
        self.remove.setText("\u2715")
        self.remove.setAutoRaise(True)
        self.remove.setToolTip("Stop following this run (its folder is left as it is)")
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name)
        text.addWidget(self.status)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 2, 2)
        row.addWidget(self.shown)
        row.addWidget(swatch)
        row.addLayout(text, 1)
        row.addWidget(self.remove)


@dataclass
class FollowedRun:
    folder: Path
    follower: RunFollower
    colour: str
    row: RunRow
    item: QListWidgetItem


def _summary(description: dict | None) -> list[tuple[str, str]]:
    """run.json as (label, text) lines for the summary form; what it lacks is left out."""
    if not description:
        return []
    lines = []
    family, preset = description.get("family"), description.get("preset")
    if family:
        lines.append(("Model", f"{family}" + (f" \u00b7 {preset}" if preset else "")))
    data = description.get("data")
    if isinstance(data, dict):
        name = data.get("name") or data.get("source") or "?"
        shape = "\u00d7".join(str(v) for v in data.get("shape") or [])
        size = data.get("size")
        lines.append(("Data", f"{name}" + (f", {size} {data.get('kind', 'images')}" if size else "")
                      + (f", {shape}" if shape else "")))
    devices = description.get("devices")
    world = description.get("world_size")
    if isinstance(devices, list) and devices:
        lines.append(("Devices", ", ".join(str(d) for d in devices[:4]) + (" \u2026" if len(devices) > 4 else "")
                      + (f" ({world} processes)" if isinstance(world, int) and world > 1 else "")))
    if description.get("host"):
        lines.append(("Host", str(description["host"])))
    if description.get("started"):
        lines.append(("Started", str(description["started"])))
    return [(key, printable(value)) for key, value in lines]


def command_line(description: dict | None) -> str:
    command = (description or {}).get("command")
    if isinstance(command, list):
        return shlex.join(str(part) for part in command)
    return str(command) if command else ""


class RunsPanel(QWidget):
    status = Signal(str)                 # a line for the status bar
    openRequested = Signal(object)       # the Path of a checkpoint to open in the explorer

    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or QSettings("genstudio", "genstudio")
        self.runs: dict[str, FollowedRun] = {}       # by the folder's resolved path
        self.quiet_after_s: float | None = None      # tests: the followers' silence threshold
        self._image_shown: tuple[Path, int] | None = None     # the grid on show and its mtime

        self.list = QListWidget()
        self.list.setMinimumWidth(220)
        self.list.currentItemChanged.connect(lambda *_: self._selected())
        self.empty = QLabel("No runs followed.\n\nFile \u2192 Follow run folder\u2026 (or `genstudio follow DIR` "
                            "in a terminal) watches a training run through the folder it writes: on a server, "
                            "in another terminal, under torchrun.")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setMargin(40)
        theme.themed(self.empty, "color: {muted};")

        self.image_view = ImageView(placeholder="no sample grid yet", min_size=96)
        self.state_line = QLabel()           # the selected run's status, whole (the list's may be cut)
        self.state_line.setWordWrap(True)
        self.state_line.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.command = QLineEdit()
        self.command.setReadOnly(True)
        self.command.setPlaceholderText("command line (from run.json)")
        self.command.setToolTip("The command that started the run (select and copy)")
        self.details = QLabel()
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.open_button = QPushButton("Open newest checkpoint")
        self.open_button.setToolTip("Open the checkpoint this run saved last in the explorer")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_checkpoint)

        selected = QWidget()
        column = QVBoxLayout(selected)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.image_view, 1)
        column.addWidget(self.state_line)
        column.addWidget(self.command)
        column.addWidget(self.details)
        column.addWidget(self.open_button)
        left = QSplitter(Qt.Vertical)
        left.setObjectName("runs-left")
        left.addWidget(self.list)
        left.addWidget(selected)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 2)
        left.setChildrenCollapsible(False)

        self.curves = RunCurves()
        self.right = QStackedWidget()        # the curves, or what to do while no run is followed
        self.right.addWidget(self.empty)
        self.right.addWidget(self.curves)
        split = QSplitter(Qt.Horizontal)
        split.setObjectName("runs-split")
        split.addWidget(left)
        split.addWidget(self.right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 700])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        # A follower that stopped at its read limit is polled again as soon as the GUI is idle.
        self.catch_up = QTimer(self)
        self.catch_up.setSingleShot(True)
        self.catch_up.setInterval(0)
        self.catch_up.timeout.connect(self.poll)
        self._drawn_at = 0.0
        self._show_selected()

    # --- following ------------------------------------------------------------------------------
    def follow(self, folder: str | Path) -> list[Path]:
        """Follow `folder` when it is a run folder, else every run folder directly inside it (each
        once: one followed already stays as it is). Returns the run folders found (none: neither)."""
        found = run_folders_under(Path(folder).expanduser())
        for run_folder in found:
            key = str(run_folder.resolve())
            if key not in self.runs:
                self._add(run_folder.resolve())
        if found:
            self.list.setCurrentItem(self.runs[str(found[0].resolve())].item)
            self._remember()
            self.catch_up.start()       # the first read once the GUI is idle
        return found

    def restore(self) -> None:
        """Follow again the folders followed when the app last closed, those still run folders."""
        value = self.settings.value(SETTINGS_KEY, [])
        if isinstance(value, str):      # QSettings gives a one-item list as a bare string
            value = [value]
        for folder in value or []:
            if isinstance(folder, str) and run_folders_under(folder) == [Path(folder)]:
                self._add(Path(folder))
        if self.runs:
            self.list.setCurrentRow(0)
            self.catch_up.start()
        self._remember()               # the vanished ones are forgotten

    def _add(self, folder: Path) -> None:
        used = {run.colour for run in self.runs.values()}
        colour = next((c for c in COLOURS if c not in used), COLOURS[len(self.runs) % len(COLOURS)])
        follower = RunFollower(folder) if self.quiet_after_s is None else RunFollower(folder, self.quiet_after_s)
        row = RunRow(folder, colour)
        item = QListWidgetItem()
        item.setData(Qt.UserRole, str(folder))
        item.setSizeHint(QSize(200, row.sizeHint().height()))
        self.list.addItem(item)
        self.list.setItemWidget(item, row)
        key = str(folder)
        self.runs[key] = FollowedRun(folder, follower, colour, row, item)
        self.curves.add_run(key, folder.name, colour)
        row.shown.toggled.connect(lambda on, k=key: self._set_shown(k, on))
        row.remove.clicked.connect(lambda *_, k=key: self.unfollow(k))
        self.right.setCurrentWidget(self.curves)
        self.timer.start()

    def unfollow(self, key: str) -> None:
        run = self.runs.pop(key, None)
        if run is None:
            return
        self.list.takeItem(self.list.row(run.item))
        self.curves.remove_run(key)
        self.curves.redraw()
        self._remember()
        if not self.runs:
            self.timer.stop()
            self.right.setCurrentWidget(self.empty)
        self._show_selected()

    def _remember(self) -> None:
        self.settings.setValue(SETTINGS_KEY, list(self.runs))

    def _set_shown(self, key: str, on: bool) -> None:
        self.curves.set_visible(key, on)
        self.curves.redraw()

    def folders(self) -> list[Path]:
        return [run.folder for run in self.runs.values()]

    # --- polling --------------------------------------------------------------------------------
    def poll(self) -> None:
        """Read what every run wrote since the last poll; redraw what changed (while a long log is
        read in, at most once every REDRAW_S)."""
        selected = self.selected()
        behind = False
        for key, run in self.runs.items():
            update = run.follower.poll()
            if update.described and isinstance(run.follower.description, dict):
                self.curves.set_family(key, str(run.follower.description.get("family", "")))
            if update.restarted:
                self.curves.reset_run(key, run.follower.records)
            elif update.records:
                self.curves.add_records(key, update.records)
            run.row.status.setText(run.follower.status())
            if run is selected:
                self._show_state(run)
            behind = behind or run.follower.behind
            if run is selected and update:
                self._refresh_selected(update.described, update.restarted
                                       or any(r["kind"] in ("saved", "end", "samples") for r in update.records))
        if behind:
            self.catch_up.start()
        now = time.monotonic()
        if self.isVisible() and (not behind or now - self._drawn_at >= REDRAW_S):
            self.curves.redraw()
            self._drawn_at = now

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.curves.redraw()         # what arrived while the tab was hidden

    # --- the selected run -----------------------------------------------------------------------
    def selected(self) -> FollowedRun | None:
        item = self.list.currentItem()
        return self.runs.get(item.data(Qt.UserRole)) if item is not None else None

    def _selected(self) -> None:
        self._image_shown = None
        self._show_selected()

    def _show_selected(self) -> None:
        self._refresh_selected(True, True)

    def _refresh_selected(self, described: bool, files: bool) -> None:
        """The selected run's summary (when `described`) and its newest grid and checkpoint (`files`)."""
        run = self.selected()
        self._show_state(run)
        if described:
            description = run.follower.description if run is not None else None
            self.command.setText(command_line(description))
            self.command.setCursorPosition(0)
            lines = _summary(description)
            self.details.setText("\n".join(f"{key}: {text}" for key, text in lines))
        if files:
            self._show_image(run.follower.newest_image() if run is not None else None)
            self.open_button.setEnabled(run is not None and run.follower.newest_checkpoint() is not None)

    def _show_state(self, run: FollowedRun | None) -> None:
        """The selected run's status line: a run that stopped writing or diverged in the theme's
        warning or error colour."""
        if run is None:
            self.state_line.clear()
            return
        state, end = run.follower.state(), run.follower.end
        colour = {SILENT: theme.current().warning}.get(state, "")
        if state == ENDED and end.get("state") == "diverged":
            colour = theme.current().error
        self.state_line.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "font-weight: bold;")
        self.state_line.setText(run.row.status.whole)

    def _show_image(self, path: Path | None) -> None:
        """The grid at `path`, read off the file (PIL) when it is not the one on show already."""
        if path is None:
            if self._image_shown is not None or self.image_view.image() is not None:
                self.image_view.set_image(None)
            self._image_shown = None
            return
        try:
            stamp = (path, path.stat().st_mtime_ns)
            if stamp == self._image_shown:
                return
            pixels = read_grid(path)
        except (OSError, ValueError) as exc:
            self.image_view.show_message(f"{path.name}: cannot read the grid ({exc})")
            self._image_shown = None
            return
        self._image_shown = stamp
        self.image_view.set_array(pixels)
        self.image_view.setToolTip(str(path))

    def _open_checkpoint(self) -> None:
        run = self.selected()
        path = run.follower.newest_checkpoint() if run is not None else None
        if path is None:
            self.status.emit("this run has saved no checkpoint yet")
            self.open_button.setEnabled(False)
            return
        self.openRequested.emit(path)

    # --- what the runs say (the status bar, tests) ----------------------------------------------------
    def status_of(self, folder: str | Path) -> str:
        run = self.runs.get(str(Path(folder).resolve()))
        return run.row.status.whole if run is not None else ""

    def key_of(self, folder: str | Path) -> str:
        return str(Path(folder).resolve())

