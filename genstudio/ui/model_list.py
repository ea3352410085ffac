"""The Models list: bundled demo checkpoints, recently opened files, and the run being trained.

A recent file is named by where it is and what it holds, "runs/gan-a \u00b7 GAN \u00b7 step 3000",
not by its file name: every training run writes a checkpoint.safetensors, and two of them must not
read the same. The family and step come from the checkpoint's header (peek_card: the JSON in front
of the tensors, no weights read)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from genstudio.core.errors import GenStudioError
from genstudio.core.io.checkpoints import peek_card
from genstudio.core.runtime.resources import resource_path

RECENT_KEY = "recent_files"
RECENT_LIMIT = 10
LIVE = "<training>"
MIN_WIDTH = 200          # the dock is never narrower: "runs/gan-a \u00b7 GAN \u00b7 step 3000" stays readable
GENERIC_STEMS = ("checkpoint", "model", "final", "last")   # file names that say nothing about the run


def entry_name(path: str | Path) -> str:
    """"parent/run \u00b7 family \u00b7 step N" for a genstudio checkpoint; the folders and file
    name for anything else (a foreign generator, a diffusers folder, an unreadable file)."""
    path = Path(path)
    where = f"{path.parent.parent.name}/{path.parent.name}".lstrip("/")
    if path.stem not in GENERIC_STEMS or path.is_dir():
        where = f"{where}/{path.name}".lstrip("/")
    if path.suffix != ".safetensors":
        return where
    try:
        card = peek_card(path)
    except (GenStudioError, OSError, ValueError):
        return where
    return f"{where} \u00b7 {card.family} \u00b7 step {card.step}"


def demo_checkpoints() -> list[Path]:
    return sorted(resource_path("checkpoints").glob("*.safetensors"))


class ModelList(QListWidget):
    """`chosen(path)` when an entry is activated; LIVE stands for the model being trained."""

    chosen = Signal(str)

    def __init__(self, settings: QSettings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.itemActivated.connect(lambda item: self.chosen.emit(item.data(Qt.UserRole)))
        self.itemClicked.connect(lambda item: self.chosen.emit(item.data(Qt.UserRole)))
        self.live_visible = False
        self.setMinimumWidth(MIN_WIDTH)
        self.setTextElideMode(Qt.ElideMiddle)     # a long name keeps its start and its step
        self.refresh()

    def recent(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings returns a bare string for a one-item list
            value = [value]
        return [p for p in value or [] if Path(p).exists()]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        if any(str(d.resolve()) == path for d in demo_checkpoints()):
            return
        recent = [path] + [p for p in self.recent() if p != path]
        self.settings.setValue(RECENT_KEY, recent[:RECENT_LIMIT])
        self.refresh()

    def show_live(self, visible: bool) -> None:
        self.live_visible = visible
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        if self.live_visible:
            self._add("\u25cf Model being trained (live)", LIVE, "Decodes from the latest snapshot of the weights")
        for path in demo_checkpoints():
            self._add(f"Demo: {path.stem}", str(path), str(path))
        for path in self.recent():
            self._add(entry_name(path), path, path)

    def _add(self, text: str, data: str, tip: str) -> None:
        item = QListWidgetItem(text)
        item.setData(Qt.UserRole, data)
        item.setToolTip(tip)
        self.addItem(item)

    def select_path(self, path: str) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.UserRole) == path:
                self.blockSignals(True)
                self.setCurrentRow(i)
                self.blockSignals(False)
                return
