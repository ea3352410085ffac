"""Inspect tool for every model whose decoder is made of modules: the explorer's current image beside
the channels of any layer of its decode, tiled (core/layer_view.py). It follows the explorer: each
new latent, class or decode setting redraws it while the page is on show. It decodes the session's
`current_image()`, the explorer's own request (truncation, style mixing and the W edit included),
as a render request: the capture's hooks are on the render thread's module, which no other
thread runs (long tasks get copies of their own; render_worker.py)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel

from genstudio.core.explore.layer_view import MAX_TILES, ShowLayer
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.image_view import ImageView

CHANNEL = "layer"


class LayerTool(InspectTool):
    title = "Layers: the channels of any layer of the decoder, for the explorer's current image."

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.result = None
        self._following = None                    # the session whose events this page follows
        self.layers = QComboBox()
        self.layers.setObjectName("layer-choice")
        self.layers.setMinimumContentsLength(28)
        self.layers.activated.connect(lambda _: self.refresh())
        self.image_view = ImageView(placeholder="the decoded image", min_size=96)
        self.tiles_view = ImageView(placeholder="the layer's channels, one tile each", min_size=240)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Layer"), 0, 0)
        grid.addWidget(self.layers, 0, 1, 1, 2)
        grid.addWidget(self.image_view, 1, 0, 1, 1)
        grid.addWidget(self.tiles_view, 1, 1, 1, 2)
        grid.addWidget(self.caption, 2, 0, 1, 3)
        grid.setColumnStretch(2, 1)
        grid.setRowStretch(1, 1)
        # What a model made, cleared when another opens (model_bound.py); each records its model.
        self.bound = self.scope.bind("layer: image, channels and layers", self.image_view, self.tiles_view,
                                     self.caption, self.layers)
        renderer.done.connect(self._rendered)
        renderer.failed.connect(lambda channel, m: channel == CHANNEL and self.message.emit(f"layer view: {m}"))

    @classmethod
    def applies_to(cls, info) -> bool:
        return not info.is_points and not info.is_foreign

    def set_model(self, info, same: bool) -> None:
        super().set_model(info, same)
        if self.session is not None and self._following is not self.session:
            self._following = self.session
            self.session.events.latent.connect(lambda s: self.isVisible() and self.refresh())
            self.session.events.settings.connect(lambda s: self.isVisible() and self.refresh())
        if not same:
            self.result = None
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.info is not None:
            self.refresh()

    def refresh(self) -> None:
        """Ask for the current latent's layers and the chosen layer's channels."""
        if self.info is None or self.session is None or self.session.z.numel() != self.info.latent_dim:
            return
        layer = self.layers.currentData() or None
        image = self.session.current_image()
        self.scope.submit(CHANNEL, ShowLayer(image.latent[0], image.label, image.options, layer))

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel != CHANNEL:
            return
        self.result = result
        if [self.layers.itemData(i) for i in range(self.layers.count())] != result.names:
            self.layers.blockSignals(True)
            self.layers.clear()
            for name in result.names:
                c, h, w = result.shapes[name]
                self.layers.addItem(f"{name}  ({c} x {h} x {w})", name)
            self.layers.blockSignals(False)
        self.layers.setCurrentIndex(max(self.layers.findData(result.chosen), 0))
        self.bound.show(self.scope.made_for(channel))
        self.image_view.set_array(result.image)
        if result.tiles is None:
            self.tiles_view.set_image(None)
            self.caption.setText("This model's decode runs no layer as a module (a PixelCNN draws with its "
                                 "weights directly), so there is nothing to show.")
            return
        self.tiles_view.set_array(np.asarray(result.tiles))
        c, h, w = result.shapes[result.chosen]
        low, high = result.value_range
        shown = min(c, MAX_TILES)
        self.caption.setText(f"{result.chosen}: {c} channels of {h} x {w}"
                             f"{'' if shown == c else f', the first {shown} shown'}; each tile scaled to its own "
                             f"range (this layer spans {low:.3g} .. {high:.3g}); {ms:.0f} ms")
