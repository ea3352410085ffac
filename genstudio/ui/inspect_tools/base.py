"""What an Inspect tool is: a page shown for models with one capability."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from genstudio.core.open_model import ModelInfo
from genstudio.ui.render_worker import Renderer
from genstudio.ui.task_runner import TaskRunner


class InspectTool(QWidget):
    """A page of the Inspect tab. It asks the renderer for model work (interactive requests, or long
    tasks run by the panel's `tasks`) and never touches the model itself."""

    status = Signal(str)
    pinLatent = Signal(object)           # (D,) latent for the explorer
    message = Signal(str)                # one line for the panel's message area
    title = ""

    def __init__(self, renderer: Renderer, tasks: TaskRunner, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.tasks = tasks
        self.info: ModelInfo | None = None

    def set_model(self, info: ModelInfo, same: bool) -> None:
        """A model was opened (`same`: a fresher snapshot of the one already shown)."""
        self.info = info

    def take_image(self, path: str | Path) -> bool:
        """A dropped image file: use it and say True, or say False to let another tool have it."""
        return False

    def task_done(self, result) -> bool:
        """A long task of this tool finished; True if the result was this tool's."""
        return False
