"""Inspect tool for translation models (TRANSLATION): a grid of data images of the source domain and
their translations, a row each (input, translation, and the round trip back when the model has
one), in the explorer's direction and with its style code, exportable as a PNG with a JSON record
beside it (which images, which direction and style, each one's cycle error)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSpinBox

from genstudio.core.io.export import grid_image, save_export_record, save_grid
from genstudio.core.requests.translation_requests import DIRECTIONS, TranslateGrid, TranslationGrid
from genstudio.ui import file_dialogs, theme
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.image_view import ImageView

CHANNEL = "translation-grid"
PADDING = 2


class TranslationGridTool(InspectTool):
    tab = "Translations"
    title = ("Translations: data images of the source domain and their translations (and round trips), "
             "in the explorer's direction and style.")

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.result: TranslationGrid | None = None
        self._following = None                    # the explorer session whose changes redraw the grid
        self._style: list[float] | None = None    # the style code the grid was asked with
        renderer.done.connect(self._rendered)
        renderer.failed.connect(lambda channel, m: channel == CHANNEL and self._failed(m))
        self.first = QSpinBox()
        self.first.setObjectName("translation-grid-first")
        self.first.setRange(0, 1_000_000)
        self.first.setToolTip("Index of the first data image of the source domain")
        self.count = QSpinBox()
        self.count.setObjectName("translation-grid-count")
        self.count.setRange(1, 32)
        self.count.setValue(8)
        self.count.setToolTip("Images in the grid (its columns)")
        translate = QPushButton("Translate")
        translate.setObjectName("translation-grid-translate")
        translate.clicked.connect(self.translate)
        self.first.valueChanged.connect(lambda _: self.translate())
        self.count.valueChanged.connect(lambda _: self.translate())
        self.export_button = QPushButton("Export grid\u2026")
        self.export_button.setToolTip("Save the grid as a PNG, with a JSON record of its images beside it")
        self.export_button.clicked.connect(self.export_dialog)
        self.export_button.setEnabled(False)
        self.view = ImageView(placeholder="inputs | translations | round trips, a row each", min_size=120)
        self.view.setObjectName("translation-grid")
        self.label = QLabel("")
        self.label.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("First image"), 0, 0)
        grid.addWidget(self.first, 0, 1)
        grid.addWidget(QLabel("Images"), 0, 2)
        grid.addWidget(self.count, 0, 3)
        grid.addWidget(translate, 0, 4)
        grid.addWidget(self.export_button, 0, 5)
        grid.addWidget(self.view, 1, 0, 1, 7)
        grid.addWidget(self.label, 2, 0, 1, 7)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(6, 1)
        self.bound = self.scope.bind("translation grid", self.view, self.label)      # model_bound.py

    @classmethod
    def applies_to(cls, info) -> bool:
        return not info.is_points

    def set_model(self, info, same: bool) -> None:
        super().set_model(info, same)
        if self.session is not None and self._following is not self.session:
            self._following = self.session     # the explorer's direction and style code redraw it
            self.session.events.latent.connect(lambda s: self.isVisible() and self.translate())
            self.session.events.settings.connect(lambda s: self.isVisible() and self.translate())
        if not same:
            self.result = None
            self.export_button.setEnabled(False)
        if self.isVisible():
            self.translate()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.info is not None and self.result is None:
            self.translate()

    def direction(self) -> int:
        options = self.decode_options()
        return int(options.get("direction", 0))

    def translate(self) -> None:
        """Ask for the grid of the chosen images in the explorer's direction, with its style code."""
        if self.info is None:
            return
        style = None
        if self.session is not None and self.session.z.numel() == self.info.latent_dim:
            style = self.session.z.view(1, -1).clone()
        self._style = None if style is None else style.reshape(-1).tolist()
        self.scope.submit(CHANNEL, TranslateGrid(self.data_spec, self.direction(), style, self.first.value(),
                                                 self.count.value(), dataset=self.dataset))

    @property
    def data_spec(self) -> str:
        """The model's own data set: its card's two-domain spec ('' for the model's kept examples)."""
        return self.info.data_source

    def _failed(self, message: str) -> None:
        self.label.setText(theme.error_html(f"No translations: {message}"))
        self.bound.show(self.scope.made_for(CHANNEL))
        self.message.emit(f"translation grid: {message}")

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel != CHANNEL:
            return
        self.result = result
        n = len(result.indices)
        self.view.set_array(np.asarray(grid_image(result.rows(), cols=n, padding=PADDING, pad_value=0.5)))
        errors = ""
        if result.cycle_errors is not None:
            errors = (f"; cycle error (mean |input \u2212 round trip|, [0, 1]) {np.mean(result.cycle_errors):.4f} "
                      f"on average, worst {max(result.cycle_errors):.4f}")
        self.label.setText(f"Rows: {', '.join(result.row_names())}. {result.source} images "
                           f"{result.indices[0]}\u2013{result.indices[-1]}, {DIRECTIONS[result.direction]}"
                           f"{errors}; {ms:.0f} ms.")
        self.bound.show(self.scope.made_for(channel))
        self.export_button.setEnabled(True)

    # --- export ---------------------------------------------------------------------------------------
    def export(self, path: str | Path) -> Path:
        """The grid shown, as a PNG (a row per kind, a column per image), and its JSON record beside it."""
        result = self.result
        written = save_grid(result.rows(), path, cols=len(result.indices), padding=PADDING)
        save_export_record(written, {**result.record(), "checkpoint": str(self.info.path),
                                     "family": self.info.family, "style": self._style, "padding": PADDING})
        return written

    def export_dialog(self) -> None:
        path = file_dialogs.save_file(self, "exports", "Export the translation grid", "translations.png",
                                      "PNG image (*.png)")
        if path:
            try:
                self.status.emit(f"wrote {self.export(path)}")
            except OSError as exc:
                self.message.emit(f"{path}: {exc}")
