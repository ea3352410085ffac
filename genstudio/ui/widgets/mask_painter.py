"""An image with a mask painted on it by mouse: which pixels to keep (completion's given pixels).

Left button paints "keep", right button paints "redraw", with a round brush of `brush` image pixels;
pixels to redraw are shown dimmed and tinted. `set_top_rows(k)` replaces the mask by the top k rows.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter

from genstudio.ui.widgets.image_view import ImageView, to_qimage


class MaskPainter(ImageView):
    maskChanged = Signal()

    def __init__(self, parent=None, placeholder: str = "", min_size: int = 160):
        super().__init__(parent, placeholder, min_size)
        self.source: np.ndarray | None = None          # (C, H, W) floats in [0, 1]
        self.mask: np.ndarray | None = None            # (H, W) bool: True keeps the pixel
        self.brush = 1.5
        self._painting: bool | None = None             # the value being painted while a button is down
        self.setMouseTracking(False)

    def set_source(self, image: np.ndarray, mask: np.ndarray | None = None) -> None:
        self.source = np.asarray(image, np.float32)
        height, width = self.source.shape[-2:]
        if mask is None or mask.shape != (height, width):
            mask = np.zeros((height, width), bool)
        self.mask = mask.astype(bool)
        self._redraw()

    def set_top_rows(self, rows: int) -> None:
        """Keep the top `rows` rows, redraw the rest."""
        if self.mask is None:
            return
        self.mask[:] = False
        self.mask[:rows] = True
        self._redraw()

    def _redraw(self) -> None:
        """The source with the pixels to redraw dimmed towards a blue tint."""
        image = self.source if self.source.shape[0] == 3 else np.repeat(self.source, 3, axis=0)
        tint = np.array([0.15, 0.25, 0.55], np.float32)[:, None, None]
        shown = np.where(self.mask[None], image, 0.35 * image + tint)
        self.set_image(to_qimage(shown))
        self.maskChanged.emit()

    def pixel_at(self, position: QPointF) -> tuple[float, float] | None:
        """Image coordinates (row, column) of a widget position, or None outside the image."""
        rect = self.target_rect()
        if self.mask is None or not rect.contains(position):
            return None
        height, width = self.mask.shape
        return ((position.y() - rect.top()) / rect.height() * height,
                (position.x() - rect.left()) / rect.width() * width)

    def paint_at(self, position: QPointF, keep: bool) -> None:
        spot = self.pixel_at(position)
        if spot is None:
            return
        rows, cols = np.ogrid[:self.mask.shape[0], :self.mask.shape[1]]
        inside = (rows + 0.5 - spot[0]) ** 2 + (cols + 0.5 - spot[1]) ** 2 <= self.brush ** 2
        self.mask[inside] = keep
        self._redraw()

    def mousePressEvent(self, event) -> None:
        if event.button() in (Qt.LeftButton, Qt.RightButton):
            self._painting = event.button() == Qt.LeftButton
            self.paint_at(event.position(), self._painting)

    def mouseMoveEvent(self, event) -> None:
        if self._painting is not None:
            self.paint_at(event.position(), self._painting)

    def mouseReleaseEvent(self, event) -> None:
        self._painting = None

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.mask is None:
            return
        painter = QPainter(self)
        painter.setPen(QColor(128, 128, 128))
        painter.drawRect(self.target_rect())
        painter.end()
