"""Shows a numpy image scaled to fit, pixels kept sharp (nearest neighbour): digits are 28 px."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


def to_qimage(image: np.ndarray) -> QImage:
    """(C, H, W) or (H, W) floats in [0, 1], or (H, W, 3) uint8 -> an owned QImage."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        if image.ndim == 3:                      # (C, H, W) -> (H, W, C)
            image = image.transpose(1, 2, 0)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    if image.ndim == 2:
        return QImage(image.data, w, h, image.strides[0], QImage.Format_Grayscale8).copy()
    return QImage(image.data, w, h, image.strides[0], QImage.Format_RGB888).copy()


class ImageView(QWidget):
    """Paints one QImage centred and scaled to fit; emits `shown` after each paint of a new image."""

    shown = Signal()

    def __init__(self, parent=None, placeholder: str = "", min_size: int = 64):
        super().__init__(parent)
        self._image: QImage | None = None
        self._fresh = False
        self._placeholder = placeholder
        self._message = ""                      # a failed decode's one line, shown where the image was
        self.setMinimumSize(min_size, min_size)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_array(self, image: np.ndarray | None) -> None:
        self.set_image(None if image is None else to_qimage(image))

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._message = ""
        self._fresh = True
        self.update()

    def show_message(self, text: str) -> None:
        """No image and `text` in its place: a decode that failed (NaN output) is neither drawn black
        nor left looking like the image before it."""
        self.set_image(None)
        self._message = text

    def message(self) -> str:
        return self._message

    def image(self) -> QImage | None:
        return self._image

    def sizeHint(self) -> QSize:
        return QSize(256, 256)

    def target_rect(self) -> QRectF:
        """Where the image lands: the largest integer multiple that fits, else fit with aspect kept."""
        if self._image is None:
            return QRectF()
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        if scale >= 1:
            scale = int(scale)
        tw, th = w * scale, h * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self._image is None:
            if self._message or self._placeholder:
                painter.setPen(QColor(200, 70, 70) if self._message else QColor(128, 128, 128))
                painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self._message or self._placeholder)
            return
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
        painter.drawImage(self.target_rect(), self._image)
        painter.end()
        if self._fresh:
            self._fresh = False
            self.shown.emit()
