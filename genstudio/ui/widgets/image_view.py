"""Shows a numpy image scaled to fit, pixels kept sharp (nearest neighbour): digits are 28 px.

An image shown at a whole multiple of its size is enlarged here with numpy (each pixel repeated)
and drawn 1:1. Qt's scaled drawImage spreads the scaling over its thread pool and waits for it: on
two cores those threads took the core the render thread was decoding the next image on (about half
of the image's paint time at every slider move, in `genstudio bench --only ui`)."""

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


def enlarged(image: QImage, scale: int) -> tuple[QImage, np.ndarray]:
    """`image` with each pixel repeated `scale` times across and down (nearest neighbour), in its own
    format (any of whole bytes per pixel), and the array holding its pixels, which must outlive it."""
    w, h, depth = image.width(), image.height(), image.depth() // 8
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h).reshape(h, -1)
    pixels = rows[:, :w * depth].reshape(h, w, depth)                          # (H, W, bytes per pixel)
    big = np.ascontiguousarray(np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1))
    return QImage(big.data, w * scale, h * scale, w * scale * depth, image.format()), big


class ImageView(QWidget):
    """Paints one QImage centred and scaled to fit; emits `shown` after each paint of a new image."""

    shown = Signal()

    def __init__(self, parent=None, placeholder: str = "", min_size: int = 64):
        super().__init__(parent)
        self._image: QImage | None = None
        self._enlarged: tuple | None = None     # (scale, the image repeated scale times, its pixels)
        self._fresh = False
        self._placeholder = placeholder
        self._message = ""                      # a failed decode's one line, shown where the image was
        self.setMinimumSize(min_size, min_size)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        # paintEvent fills every pixel: Qt need not paint the panels and tab frames beneath it first
        # (without this, a new image repainted its parents, a third of a slider move's GUI time).
        self.setAttribute(Qt.WA_OpaquePaintEvent)

    def set_array(self, image: np.ndarray | None) -> None:
        self.set_image(None if image is None else to_qimage(image))

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._enlarged = None
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
        return QRectF() if self._image is None else self._fit()[1]

    def _fit(self) -> tuple[int | float, QRectF]:
        """(scale, target rect) of the image: a whole scale (int) at whole-pixel offsets when the
        image fits at least once, else the float scale that fits it, centred."""
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        if scale >= 1:
            scale = int(scale)
            tw, th = w * scale, h * scale
            # whole pixels: drawn 1:1 from the enlarged image, not resampled at a half-pixel offset
            return scale, QRectF((self.width() - tw) // 2, (self.height() - th) // 2, tw, th)
        tw, th = w * scale, h * scale
        return scale, QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self._image is None:
            if self._message or self._placeholder:
                painter.setPen(QColor(200, 70, 70) if self._message else QColor(128, 128, 128))
                painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self._message or self._placeholder)
            return
        scale, target = self._fit()
        if scale == 1:
            painter.drawImage(target.topLeft(), self._image)
        elif scale > 1 and self._image.depth() % 8 == 0:
            if self._enlarged is None or self._enlarged[0] != scale:
                self._enlarged = (scale, *enlarged(self._image, scale))
            painter.drawImage(target.topLeft(), self._enlarged[1])
        else:
            painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
            painter.drawImage(target, self._image)
        painter.end()
        if self._fresh:
            self._fresh = False
            self.shown.emit()
