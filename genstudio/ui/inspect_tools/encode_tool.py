"""Inspect tool for models that encode (ENCODE: a VAE's posterior mean, a flow's inverse, a diffusion
model's DDIM inversion): a data image or a dropped file is encoded and decoded back, original and
reconstruction side by side with the round-trip error, and its latent goes to the explorer, or to
either end of the interpolation, so a person can walk between two real images."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSpinBox

from genstudio.core.data.image_io import load_image_as
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.errors import GenStudioError
from genstudio.core.io.export import grid_image
from genstudio.core.requests.encode_requests import EncodeRoundTrip, RoundTripReport
from genstudio.ui import theme
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.image_view import ImageView

CHANNEL = "encode-image"
DIFFERENCE_GAIN = 10     # the third panel shows 10 x |original - reconstruction|


class EncodeTool(InspectTool):
    title = ("Encode an image (pick one of the data set, or drop a file on the window): its latent, and how "
             "closely that latent decodes back.")

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.report: RoundTripReport | None = None
        renderer.done.connect(self._rendered)
        renderer.failed.connect(lambda channel, m: channel == CHANNEL and self._failed(m, scope.made_for(CHANNEL)))
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setToolTip("Index of the data image to encode")
        self.index_box = self.index
        encode = QPushButton("Encode \u2192 decode")
        encode.setObjectName("encode-data-image")
        encode.clicked.connect(lambda: self.encode(self.index.value()))
        self.view = ImageView(placeholder=f"original | reconstruction | {DIFFERENCE_GAIN}x |difference|", min_size=120)
        self.view.setObjectName("encode-round-trip")
        self.label = QLabel("Drop an image file on the window to encode it.")
        self.label.setWordWrap(True)
        self.show_button = QPushButton("Show in explorer")
        self.show_button.setToolTip("Make this latent the explorer's current one")
        self.show_button.clicked.connect(self.show_in_explorer)
        self.a_button = QPushButton("Set as A")
        self.a_button.setToolTip("Start of the explorer's interpolation: set B to another image to walk between them")
        self.a_button.clicked.connect(lambda: self.set_endpoint("a"))
        self.b_button = QPushButton("Set as B")
        self.b_button.setToolTip("End of the explorer's interpolation")
        self.b_button.clicked.connect(lambda: self.set_endpoint("b"))
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Data image"), 0, 0)
        grid.addWidget(self.index, 0, 1)
        grid.addWidget(encode, 0, 2)
        grid.addWidget(self.show_button, 0, 3)
        grid.addWidget(self.a_button, 0, 4)
        grid.addWidget(self.b_button, 0, 5)
        grid.addWidget(self.view, 1, 0, 1, 7)
        grid.addWidget(self.label, 2, 0, 1, 7)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(6, 1)           # the buttons keep their size; the view takes the width
        self.bound = self.scope.bind("encode: round trip", self.view, self.label)   # model_bound.py
        self._enable_latent_buttons()

    @classmethod
    def applies_to(cls, info) -> bool:
        return not info.is_points           # pixels side by side, errors in pixel units

    def set_model(self, info, same: bool) -> None:
        super().set_model(info, same)
        if not same:
            self.report = None
            self._enable_latent_buttons()

    def _enable_latent_buttons(self) -> None:
        has = self.report is not None
        self.show_button.setEnabled(has)
        self.a_button.setEnabled(has and self.session is not None)
        self.b_button.setEnabled(has and self.session is not None)

    # --- encoding ---------------------------------------------------------------------------------
    def encode(self, index: int) -> None:
        """Encode data image `index` (with its own class, for conditional models) and decode it back."""
        data = self.data()
        self.index.setValue(index)
        image = to_unit_float(data.data[index:index + 1])                          # (1, C, H, W)
        self._submit(EncodeRoundTrip(image, self.class_of(index), self.decode_options(), f"{data.name} #{index}"))

    def take_image(self, path) -> bool:
        path = Path(path)
        try:
            image = to_unit_float(load_image_as(path, tuple(self.info.data_shape)))[None]
        except GenStudioError as exc:
            self._failed(str(exc), self.scope.generation)
            return True
        self._submit(EncodeRoundTrip(image, self.class_of(), self.decode_options(), path.name))
        return True

    def _submit(self, request: EncodeRoundTrip) -> None:
        self.message.emit(f"encoding {request.source}\u2026")
        self.scope.submit(CHANNEL, request)

    def _failed(self, message: str, generation: int | None) -> None:
        self.label.setText(theme.error_html(f"Cannot encode: {message}"))
        self.bound.show(generation)
        self.message.emit(f"encode: {message}")

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel != CHANNEL:
            return
        self.report = result
        diff = np.clip(np.abs(result.original - result.decoded) * DIFFERENCE_GAIN, 0, 1)
        self.view.set_array(np.asarray(grid_image(np.concatenate([result.original, result.decoded, diff]),
                                                  cols=3, padding=2, pad_value=0.5)))
        self.label.setText(self.describe(result, ms))
        self.bound.show(self.scope.made_for(channel))
        self.message.emit(f"{result.source} encoded: round-trip PSNR {self._psnr(result.psnr)}")
        self._enable_latent_buttons()

    @staticmethod
    def _psnr(psnr: float) -> str:
        return "exact (\u221e dB)" if math.isinf(psnr) else f"{psnr:.1f} dB"

    def describe(self, report: RoundTripReport, ms: float) -> str:
        settings = ", ".join(f"{key} {value:g}" for key, value in report.options.items())
        label = ""
        if report.label is not None:
            names = self.info.label_names
            label = f", class {names[report.label] if report.label < len(names) else report.label}"
        return (f"{report.source}{label}: encode \u2192 decode{' with ' + settings if settings else ''} in "
                f"{ms:.0f} ms. Round-trip error |x \u2212 decode(encode(x))|: mean {report.mean_abs:.2f}, max "
                f"{report.max_abs:.1f} (pixel values 0\u2013255); PSNR {self._psnr(report.psnr)}. "
                f"Left to right: original, reconstruction, {DIFFERENCE_GAIN}\u00d7 their difference.")

    # --- the latent, to the explorer ----------------------------------------------------------------
    def _use_class(self) -> None:
        """The explorer decodes the latent with the class it was encoded with."""
        if self.report.label is not None and self.session is not None and self.session.label != self.report.label:
            self.session.set_label(self.report.label)

    def show_in_explorer(self) -> None:
        if self.report is None:
            return
        self._use_class()
        self.pinLatent.emit(self.report.latent.clone())
        self.message.emit(f"the latent of {self.report.source} is in the explorer")

    def set_endpoint(self, which: str) -> None:
        if self.report is None or self.session is None:
            return
        self._use_class()
        self.session.set_endpoint(which, self.report.latent.clone())
        other = "B" if which == "a" else "A"
        self.message.emit(f"{which.upper()} = the latent of {self.report.source}; set {other} to another image "
                          f"and move t in the explorer to walk between them")
