"""Inspect tool for models that complete images (COMPLETION: a PixelCNN), the classic PixelCNN
demonstration: a data image (or a dropped one), the pixels to keep (the top k rows, or any mask
painted with the mouse), and several completions drawn side by side, row by row as they are drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSlider, QSpinBox

from genstudio.core.data.image_io import load_image_as
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.io.export import grid_image
from genstudio.core.requests.encode_requests import Complete, CompletionResult
from genstudio.ui import theme
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.mask_painter import MaskPainter
from genstudio.ui.widgets.readout import Readout

CHANNEL = "completion"


class CompletionTool(InspectTool):
    title = ("Complete an image: keep its top rows (or paint the pixels to keep: left button keeps, right "
             "redraws) and let the model draw the rest, several times. Drop an image on the window to use it.")

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.result: CompletionResult | None = None
        self.image: torch.Tensor | None = None          # (C, H, W) in [0, 1]
        self.image_name = ""
        self.image_label: int | None = None
        renderer.done.connect(self._rendered)
        renderer.partial.connect(self._drawing)
        renderer.failed.connect(lambda channel, m: channel == CHANNEL and self._failed(m))
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setToolTip("Index of the data image to complete")
        self.index.valueChanged.connect(lambda i: self.use_data_image(i))
        self.index_box = self.index
        self.rows = QSlider(Qt.Horizontal)
        self.rows.setObjectName("completion-rows")
        self.rows.setRange(0, 28)
        self.rows.setValue(14)
        self.rows.setToolTip("Keep this many rows from the top (this replaces a painted mask)")
        self.rows.valueChanged.connect(self._rows_moved)
        self.rows_label = Readout("keep the top 64 rows", "keep the top 14 rows")
        self.count = QSpinBox()
        self.count.setRange(1, 16)
        self.count.setValue(6)
        self.count.setToolTip("Number of completions")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the draws")
        complete = QPushButton("Complete")
        complete.setObjectName("complete")
        complete.clicked.connect(self.complete)
        self.export_button = self.export_row_button("Save the masked source and its completions as one PNG row", "Export the completions",
                                                    "completions.png")
        self.painter = MaskPainter(placeholder="the image to complete")
        self.painter.setToolTip("Left button: keep these pixels; right button: redraw them")
        self.view = ImageView(placeholder="completions, drawn row by row", min_size=120)
        self.view.setObjectName("completions")
        self.label = QLabel("")
        self.label.setWordWrap(True)

        grid = QGridLayout(self)
        grid.addWidget(QLabel("Data image"), 0, 0)
        grid.addWidget(self.index, 0, 1)
        grid.addWidget(QLabel("Completions"), 0, 2)
        grid.addWidget(self.count, 0, 3)
        grid.addWidget(QLabel("Seed"), 0, 4)
        grid.addWidget(self.seed, 0, 5)
        grid.addWidget(self.rows_label, 1, 0)
        grid.addWidget(self.rows, 1, 1, 1, 3)
        grid.addWidget(complete, 1, 4)
        grid.addWidget(self.export_button, 1, 5)
        grid.addWidget(self.painter, 2, 0, 1, 2)
        grid.addWidget(self.view, 2, 2, 1, 5)
        grid.addWidget(self.label, 3, 0, 1, 7)
        grid.setRowStretch(2, 1)
        grid.setColumnStretch(6, 1)
        self.bound = self.scope.bind("completion: completions", self.view, self.label)   # model_bound.py

    @classmethod
    def applies_to(cls, info) -> bool:
        return not info.is_points

    def set_model(self, info, same: bool) -> None:
        super().set_model(info, same)
        if not same:
            self.result = None
            self.image = None
            self.export_button.setEnabled(False)
            self.rows.setRange(0, info.data_shape[1])
            self.rows.setValue(info.data_shape[1] // 2)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.image is None and self.info is not None:
            self.use_data_image(self.index.value())

    # --- the source -------------------------------------------------------------------------------
    def use_data_image(self, index: int) -> None:
        data = self.data()
        self._use(to_unit_float(data.data[index]), f"{data.name} #{index}", self.class_of(index))

    def take_image(self, path) -> bool:
        image = load_image_as(path, tuple(self.info.data_shape))
        self._use(to_unit_float(image), Path(path).name, self.class_of())
        return True

    def _use(self, image: torch.Tensor, name: str, label: int | None) -> None:
        self.image, self.image_name, self.image_label = image, name, label
        keep = self.painter.mask if self.painter.mask is not None else None
        self.painter.set_source(image.numpy(), keep)
        if keep is None:
            self.painter.set_top_rows(self.rows.value())
        self.message.emit(f"completing {name}: paint the pixels to keep, or set the rows")

    def _rows_moved(self, rows: int) -> None:
        self.rows_label.setText(f"keep the top {rows} rows")
        self.painter.set_top_rows(rows)

    # --- completing -------------------------------------------------------------------------------
    def complete(self) -> None:
        if self.image is None:
            self.use_data_image(self.index.value())
        known = torch.from_numpy(self.painter.mask.copy())
        request = Complete(self.image, known, self.count.value(), self.seed.value(), label=self.image_label,
                           options=self.decode_options(), name=self.image_name)
        self.label.setText(f"drawing {request.n} completions of {self.image_name}\u2026")
        self.bound.show(self.scope.generation)
        self.scope.submit(CHANNEL, request)

    def _drawing(self, channel: str, part) -> None:
        if channel != CHANNEL:
            return
        row, rows, images = part
        self.view.set_array(np.asarray(grid_image(images, cols=len(images), padding=2, pad_value=0.5)))
        self.label.setText(f"drawing row {row + 1} of {rows}\u2026")
        self.bound.show(self.scope.made_for(channel))

    def _failed(self, message: str) -> None:
        self.label.setText(theme.error_html(f"No completions: {message}"))
        self.bound.show(self.scope.made_for(CHANNEL))
        self.message.emit(f"completion: {message}")

    def row(self) -> np.ndarray:
        """(1 + n, C, H, W): the source with the redrawn pixels dimmed, then the completions."""
        masked = np.where(self.result.known[None, None], self.result.source, 0.3 * self.result.source)
        return np.concatenate([masked, self.result.images])

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel != CHANNEL:
            return
        self.result = result
        row = self.row()
        self.view.set_array(np.asarray(grid_image(row, cols=len(row), padding=2, pad_value=0.5)))
        kept = int(result.known.sum())
        self.label.setText(f"Left: {result.name} with the {result.known.size - kept} pixels to redraw dimmed "
                           f"({kept} kept); then {len(result.images)} completions (seed {result.seed}) in "
                           f"{ms / 1000:.1f} s.")
        self.bound.show(self.scope.made_for(channel))
        self.message.emit(f"{len(result.images)} completions of {result.name}")
        self.export_button.setEnabled(True)
