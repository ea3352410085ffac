"""The Inspect tab: a page of tools for each capability the open model has (an exact likelihood's
bits/dim histogram, a GAN's image projection, encoding an image, variations of one, ...). Tools are
registered by capability below, so a family gets them by declaring the capability, never by its
name; a capability may have several pages (a translation model's grid and its cycle error). Tools
read the explorer's session (its class, decode settings, A/B end points) when given."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QTabWidget, QVBoxLayout, QWidget

from genstudio.core.explore.explore_session import ExploreSession
from genstudio.core.families.family import Capability
from genstudio.core.io.open_model import ModelInfo
from genstudio.ui import theme
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.inspect_tools.completion_tool import CompletionTool
from genstudio.ui.inspect_tools.cycle_error_tool import CycleErrorTool
from genstudio.ui.inspect_tools.encode_tool import EncodeTool
from genstudio.ui.inspect_tools.layer_tool import LayerTool
from genstudio.ui.inspect_tools.likelihood_tool import LikelihoodTool
from genstudio.ui.inspect_tools.projection_tool import ProjectionTool
from genstudio.ui.inspect_tools.translation_grid_tool import TranslationGridTool
from genstudio.ui.inspect_tools.variations_tool import VariationsTool
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.render_worker import Renderer
from genstudio.ui.task_runner import TaskRunner
from genstudio.ui.widgets.keep_space import keep_space_when_hidden

# (capability, tool page), in the order the pages (and dropped images) are offered; None: a page for
# every model the tool's `applies_to` accepts, whatever its capabilities.
TOOLS: tuple[tuple[Capability | None, type[InspectTool]], ...] = (
    (Capability.EXACT_LIKELIHOOD, LikelihoodTool),
    (Capability.IMAGE_PROJECTION, ProjectionTool),
    (Capability.ENCODE, EncodeTool),
    (Capability.VARIATIONS, VariationsTool),
    (Capability.COMPLETION, CompletionTool),
    (Capability.TRANSLATION, TranslationGridTool),
    (Capability.TRANSLATION, CycleErrorTool),
    (None, LayerTool),
)


class InspectPanel(QWidget):
    status = Signal(str)
    pinLatent = Signal(object)

    def __init__(self, renderer: Renderer, session: ExploreSession | None, scope: ModelScope, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.session = session
        self.scope = scope
        self.info: ModelInfo | None = None
        self.tasks = TaskRunner(self)
        self.tasks.progress.connect(lambda f, m: self.progress.setValue(int(1000 * f)))
        self.tasks.done.connect(self._task_done)
        self.tasks.failed.connect(lambda m: (self.show_message(theme.error_html(m)), self.status.emit(m)))
        self.title = QLabel("Open a model to inspect it: exact likelihoods (flows), image projection (GANs), "
                            "encoding images (VAEs, flows, diffusion), variations (diffusion), completion (PixelCNN), "
                            "translations and their cycle error (CycleGAN).")
        self.title.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        # Shown while a task runs: idle, an empty bar read as a text field to type in.
        keep_space_when_hidden(self.progress)
        self.progress.setVisible(False)
        self.tasks.progress.connect(lambda *_: self.progress.setVisible(True))
        self.tasks.finished.connect(lambda: self.progress.setVisible(False))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.pages = QTabWidget()
        self.tools: list[tuple[Capability | None, InspectTool]] = []
        for capability, tool_class in TOOLS:
            tool = tool_class(renderer, self.tasks, scope)
            tool.session = session
            tool.status.connect(self.status)
            tool.pinLatent.connect(self.pinLatent)
            tool.message.connect(self.show_message)
            self.tools.append((capability, tool))
        # The title names the open model's tools; the message is the last tool's word on a result.
        self.bound_title = scope.bind("inspect: title", self.title)
        self.bound_message = scope.bind("inspect: message", self.message)
        scope.changed.connect(self.reset_for_model)
        scope.refreshed.connect(lambda info: self.set_model(info, same=True))
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        row = QHBoxLayout()
        row.addWidget(self.progress)
        row.addWidget(self.message, 2)
        layout.addLayout(row)
        layout.addWidget(self.pages, 1)

    def active_tools(self) -> list[InspectTool]:
        return [tool for capability, tool in self.tools if self.info is not None
                and (capability is None or self.info.has(capability)) and tool.applies_to(self.info)]

    def tool(self, capability: Capability | None) -> InspectTool:
        """The first page of `capability` (None: the page every model gets)."""
        return next(tool for own, tool in self.tools if own is capability)

    def tool_of(self, tool_class: type[InspectTool]) -> InspectTool:
        """The page of class `tool_class` (a capability with several pages)."""
        return next(tool for _, tool in self.tools if type(tool) is tool_class)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.bound_message.show(self.scope.generation)   # old results never arrive: the scope cancels them

    def reset_for_model(self, info: ModelInfo) -> None:
        self.set_model(info, same=False)

    def set_model(self, info: ModelInfo, same: bool) -> None:
        """The pages of the model on show: another model (`same` False: the scope has cleared what the
        pages showed) resets each of them, newer weights of the same one (a snapshot) keep them."""
        if not same:
            self.tasks.cancel()
        self.info = info
        self.pages.clear()
        for tool in self.active_tools():
            tool.set_model(info, same)
            # A tool may name its tab (two words); else its class names it ("LikelihoodTool": "Likelihood").
            self.pages.addTab(tool, getattr(tool, "tab", "") or type(tool).__name__.replace("Tool", ""))
        titles = [tool.title for tool in self.active_tools()]
        self.title.setText(" ".join(titles) if titles else
                           f"Nothing to inspect for a {info.family}{' on 2-D points' if info.is_points else ''}: "
                           f"the latent map and the diagnostics apply.")
        self.bound_title.show(self.scope.generation)

    def take_image(self, path: str | Path) -> bool:
        """A dropped image goes to the page on show if it takes images, else to the first active tool that does."""
        tools = self.active_tools()
        current = self.pages.currentWidget()
        for tool in sorted(tools, key=lambda t: t is not current):
            if tool.take_image(path):
                self.pages.setCurrentWidget(tool)
                return True
        return False

    def _task_done(self, result) -> None:
        for _, tool in self.tools:
            if tool.task_done(result):
                return
