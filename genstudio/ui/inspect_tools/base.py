"""What an Inspect tool is: a page shown for models with one capability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QSpinBox, QWidget

from genstudio.core.explore.explore_session import ExploreSession
from genstudio.core.io.export import save_grid
from genstudio.core.io.open_model import ModelInfo
from genstudio.ui import file_dialogs
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.render_worker import Renderer
from genstudio.ui.task_runner import TaskRunner


class InspectTool(QWidget):
    """A page of the Inspect tab. It asks the renderer for model work (interactive requests, or long
    tasks run by the panel's `tasks`) and never touches the model itself. What it shows of a model's
    results it binds to the scope (model_bound.py), which clears it when another model opens; the
    panel then calls `set_model(info, same=False)` on the pages the new model has."""

    status = Signal(str)
    pinLatent = Signal(object)           # (D,) latent for the explorer
    message = Signal(str)                # one line for the panel's message area
    title = ""

    def __init__(self, renderer: Renderer, tasks: TaskRunner, scope: ModelScope, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.tasks = tasks
        self.scope = scope
        self.info: ModelInfo | None = None
        self.session: ExploreSession | None = None  # the explorer's state (set by the panel): its class,
                                                    # decode options and A/B end points
        self.dataset = None                        # the model's data set, once a tool needed it
        self.index_box: QSpinBox | None = None     # a tool's data-image index; its range follows the data set

    @classmethod
    def applies_to(cls, info: ModelInfo) -> bool:
        """Whether the tool has a page for this model, beyond its capability (e.g. images only)."""
        return True

    def decode_options(self) -> dict:
        """The explorer's decoder settings, so what a tool decodes matches what the explorer shows."""
        return dict(self.session.decode_options) if self.session is not None else self.info.decode_defaults()

    def class_of(self, index: int | None = None) -> int | None:
        """The class a conditional model works with: data image `index`'s own label when the data set
        has labels, else the explorer's class; None for unconditional models."""
        if self.info is None or not self.info.num_classes:
            return None
        if index is not None and self.dataset is not None and self.dataset.labels is not None:
            return int(self.dataset.labels[index])
        return self.session.label if self.session is not None else 0

    def set_model(self, info: ModelInfo, same: bool) -> None:
        """A model was opened (`same`: a fresher snapshot of the one already shown)."""
        self.info = info
        if not same:
            self.dataset = None

    @property
    def data_spec(self) -> str:
        """The data set the model was trained on (the bundled MNIST when its file does not say)."""
        return self.info.data_source or "mnist"

    def data(self):
        """The model's data set, loaded when first needed."""
        if self.dataset is None:
            from genstudio.core.data.spec import load_dataset

            self.use_dataset(load_dataset(self.data_spec))
        return self.dataset

    def use_dataset(self, dataset) -> None:
        self.dataset = dataset
        if self.index_box is not None:
            self.index_box.setRange(0, len(dataset) - 1)

    def take_image(self, path: str | Path) -> bool:
        """A dropped image file: use it and say True, or say False to let another tool have it."""
        return False

    def task_done(self, result) -> bool:
        """A long task of this tool finished; True if the result was this tool's."""
        return False

    # --- a row of images side by side (variations, completions) ---------------------------------
    def row(self) -> np.ndarray:
        """The images the tool shows side by side (n, C, H, W), for its PNG export."""
        raise NotImplementedError(f"{type(self).__name__} shows no row of images")

    def export_row(self, path: str | Path) -> Path:
        """The shown row as one PNG."""
        row = self.row()
        return save_grid(row, path, cols=len(row), padding=2)

    def export_row_button(self, tooltip: str, title: str, suggestion: str) -> QPushButton:
        """An "Export row..." button for the shown row: disabled until the tool shows one (the tool
        enables it), and asking where to save it when clicked."""
        button = QPushButton("Export row\u2026")
        button.setToolTip(tooltip)
        button.clicked.connect(lambda: self.export_row_dialog(title, suggestion))
        button.setEnabled(False)
        return button

    def export_row_dialog(self, title: str, suggestion: str) -> None:
        """Ask where to save the shown row, and save it there; a failure is one message line."""
        path = file_dialogs.save_file(self, "exports", title, suggestion, "PNG image (*.png)")
        if path:
            try:
                self.status.emit(f"wrote {self.export_row(path)}")
            except OSError as exc:
                self.message.emit(f"{path}: {exc}")
