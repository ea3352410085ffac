"""Rows of small image strips under column headings, each row with its caption on the left: what the
Diagnostics tab shows of the parts of the data a generator misses (real examples | the generated
images nearest to them) and of the outputs it repeats (panels/diagnostics_panel.py)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from genstudio.core.io.export import grid_image
from genstudio.ui import theme
from genstudio.ui.widgets.image_view import ImageView

MAX_SCALE = 2              # strips are drawn at 1x or 2x (a 28 px digit at 56 px), all rows alike
CAPTION_WIDTH = 260


def strip_array(images: np.ndarray) -> np.ndarray:
    """(k, C, H, W) floats in [0, 1] -> one row of tiles (H', W', 3) uint8, on grey padding."""
    return np.asarray(grid_image(images, cols=len(images), padding=2, pad_value=0.5))


class Strip(ImageView):
    """An ImageView that asks for its image at `scale` (set by PictureRows), and may narrow below it."""

    scale = 1

    def set_scale(self, scale: int) -> None:
        self.scale = scale
        image = self.image()
        self.setMaximumWidth(image.width() * scale)
        self.setFixedHeight(image.height() * scale)
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        return self.image().size() * self.scale


class PictureRows(QWidget):
    """`set_rows([(caption, [strip, ...]), ...])`: one row per caption, one strip (k, C, H, W) per
    heading; a strip of None leaves its cell empty (2-D points have no pictures).

    Every strip is drawn at one integer scale, the largest at which the widest fits its column:
    ImageView alone would scale a strip of 4 examples twice as large as one of 8 beside it."""

    def __init__(self, headings: list[str], parent=None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnMinimumWidth(0, CAPTION_WIDTH)
        self.headings = []
        for column, text in enumerate(headings, start=1):
            heading = QLabel(text)
            theme.themed(heading, "color: {muted}")
            self.grid.addWidget(heading, 0, column)
            self.headings.append(heading)
        self.grid.setColumnStretch(len(headings) + 1, 1)          # the spare width, right of the pictures
        self.rows: list[tuple[QLabel, list[Strip]]] = []
        self._show_headings()

    def set_rows(self, rows: list[tuple[str, list[np.ndarray | None]]]) -> None:
        self.clear()
        for index, (caption, strips) in enumerate(rows, start=1):
            label = QLabel(caption)
            label.setWordWrap(True)
            label.setFixedWidth(CAPTION_WIDTH)
            label.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Preferred)
            self.grid.addWidget(label, index, 0, Qt.AlignLeft | Qt.AlignVCenter)
            views = []
            for column, strip in enumerate(strips, start=1):
                if strip is None:
                    continue
                view = Strip(min_size=32)
                view.set_array(strip_array(strip))
                self.grid.addWidget(view, index, column)
                views.append(view)
            self.rows.append((label, views))
        self._show_headings()
        self._fit_scale()

    def clear(self) -> None:
        for label, views in self.rows:
            for widget in (label, *views):
                self.grid.removeWidget(widget)
                widget.deleteLater()
        self.rows = []
        self._show_headings()

    def captions(self) -> tuple[str, ...]:
        return tuple(label.text() for label, _ in self.rows)

    def views(self) -> list[Strip]:
        return [view for _, views in self.rows for view in views]

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit_scale()

    def _fit_scale(self) -> None:
        """One scale for every strip: the largest (up to MAX_SCALE) at which the widest strip fits the
        width each picture column has beside the captions."""
        views = self.views()
        if not views:
            return
        columns = len(self.headings)
        room = (self.width() - CAPTION_WIDTH - (columns + 1) * self.grid.horizontalSpacing()) / columns
        widest = max(view.image().width() for view in views)
        scale = int(min(MAX_SCALE, max(1, room // widest)))
        for view in views:
            if view.scale != scale or view.maximumWidth() != view.image().width() * scale:
                view.set_scale(scale)

    def _show_headings(self) -> None:
        pictures = bool(self.views())
        for heading in self.headings:
            heading.setVisible(pictures)
        self.setVisible(bool(self.rows))
