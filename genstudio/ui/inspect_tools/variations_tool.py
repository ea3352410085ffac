"""Inspect tool for models that make variations of an image (VARIATIONS: a diffusion model's SDEdit):
the explorer's current image or a data image is noised part of the way down the chain and denoised
again, several times from different noise, and the source and its variations are shown side by side.
Small strengths keep the image and change details; a strength of 1 starts again from pure noise."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QSlider, QSpinBox

from genstudio.core.data.pixels import to_unit_float
from genstudio.core.io.export import grid_image
from genstudio.core.requests.encode_requests import Variations, VariationsResult
from genstudio.ui import theme
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.readout import Readout

CHANNEL = "variations"
EXPLORER, DATA = "explorer", "data"


class VariationsTool(InspectTool):
    title = ("Variations of an image: noise it part of the way and denoise it again (SDEdit), several from "
             "different noise, side by side.")

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.result: VariationsResult | None = None
        renderer.done.connect(self._rendered)
        renderer.failed.connect(lambda channel, m: channel == CHANNEL and self._failed(m))
        self.source = QComboBox()
        self.source.addItem("The explorer's image", EXPLORER)
        self.source.addItem("Data image", DATA)
        self.source.setToolTip("What to vary: the image the explorer shows now (its latent), or a data image")
        self.source.currentIndexChanged.connect(lambda _: self.index.setEnabled(self.source.currentData() == DATA))
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setEnabled(False)
        self.index.setToolTip("Index of the data image to vary")
        self.index_box = self.index
        self.strength = QSlider(Qt.Horizontal)
        self.strength.setObjectName("variation-strength")
        self.strength.setRange(5, 100)                 # hundredths: 0.05 .. 1
        self.strength.setValue(40)
        self.strength.setToolTip("How far down the noise chain the image goes before it is denoised: small keeps "
                                 "the image and changes details, 1 starts again from pure noise")
        self.strength.setMinimumWidth(260)
        self.strength_label = Readout("strength 1.00", "strength 0.40")
        self.count = QSpinBox()
        self.count.setRange(2, 16)
        self.count.setValue(6)
        self.count.setToolTip("Number of variations")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the noise the variations start from")
        make = QPushButton("Make variations")
        make.setObjectName("make-variations")
        make.clicked.connect(self.make)
        self.export_button = self.export_row_button("Save the source and its variations as one PNG row", "Export the variations",
                                                    "variations.png")
        self.strength.valueChanged.connect(self._strength_moved)
        self.count.valueChanged.connect(lambda _: self._remake())
        self.seed.valueChanged.connect(lambda _: self._remake())
        self.view = ImageView(placeholder="source | variations", min_size=120)
        self.view.setObjectName("variations")
        self.label = QLabel("")
        self.label.setWordWrap(True)

        grid = QGridLayout(self)
        grid.addWidget(QLabel("Source"), 0, 0)
        grid.addWidget(self.source, 0, 1)
        grid.addWidget(self.index, 0, 2)
        grid.addWidget(QLabel("Variations"), 0, 3)
        grid.addWidget(self.count, 0, 4)
        grid.addWidget(QLabel("Seed"), 0, 5)
        grid.addWidget(self.seed, 0, 6)
        grid.addWidget(self.strength_label, 1, 0)
        grid.addWidget(self.strength, 1, 1, 1, 4)
        grid.addWidget(make, 1, 5)
        grid.addWidget(self.export_button, 1, 6)
        grid.addWidget(self.view, 2, 0, 1, 8)
        grid.addWidget(self.label, 3, 0, 1, 8)
        grid.setRowStretch(2, 1)
        grid.setColumnStretch(7, 1)           # the controls keep their size; the row of images takes the width
        self.bound = self.scope.bind("variations: row", self.view, self.label)   # model_bound.py

    @classmethod
    def applies_to(cls, info) -> bool:
        return not info.is_points           # images side by side

    def set_model(self, info, same: bool) -> None:
        super().set_model(info, same)
        if not same:
            self.result = None
            self.export_button.setEnabled(False)

    def strength_value(self) -> float:
        return self.strength.value() / 100

    def _strength_moved(self, _ticks: int) -> None:
        self.strength_label.setText(f"strength {self.strength_value():.2f}")
        self._remake()

    def _remake(self) -> None:
        """Once variations are shown, a new strength, count or seed redoes them."""
        if self.result is not None:
            self.make()

    # --- making them ------------------------------------------------------------------------------
    def make(self) -> None:
        n, strength, seed = self.count.value(), self.strength_value(), self.seed.value()
        if self.source.currentData() == DATA or self.session is None:
            data = self.data()
            index = self.index.value()
            request = Variations(n, strength, seed, image=to_unit_float(data.data[index:index + 1]),
                                 label=self.class_of(index), options=self.decode_options(),
                                 name=f"{data.name} #{index}")
        else:
            image = self.session.current_image()         # varied as the explorer shows it
            request = Variations(n, strength, seed, latent=image.latent, label=image.label, options=image.options,
                                 name="the explorer's image")
        self.message.emit(f"making {n} variations of {request.name}\u2026")
        self.scope.submit(CHANNEL, request)

    def _failed(self, message: str) -> None:
        self.label.setText(theme.error_html(f"No variations: {message}"))
        self.bound.show(self.scope.made_for(CHANNEL))
        self.message.emit(f"variations: {message}")

    def row(self) -> np.ndarray:
        """(1 + n, C, H, W): the source, then its variations."""
        return np.concatenate([self.result.source, self.result.images])

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel != CHANNEL:
            return
        self.result = result
        row = self.row()
        self.view.set_array(np.asarray(grid_image(row, cols=len(row), padding=2, pad_value=0.5)))
        images = result.images.reshape(len(result.images), -1)                      # (n, P)
        from_source = float(np.abs(images - result.source.reshape(1, -1)).mean() * 255)
        between = float(np.abs(images[:, None] - images[None]).mean() * 255 * len(images) / max(len(images) - 1, 1))
        self.label.setText(f"Left: {result.name}; then {len(images)} variations at strength {result.strength:.2f} "
                           f"(seed {result.seed}), in {ms:.0f} ms. Mean |variation \u2212 source| {from_source:.1f}, "
                           f"mean |between variations| {between:.1f} (pixel values 0\u2013255).")
        self.bound.show(self.scope.made_for(channel))
        self.message.emit(f"{len(images)} variations of {result.name}")
        self.export_button.setEnabled(True)
