"""A grid of small images (grid_image's layout) in which a click picks one: `clicked(i)` with the
index of the image under the mouse, in the order the images were given. The Inspect tab's
cycle-error histogram shows the images of a bar this way, worst first, and a click shows that
image's translation."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal

from genstudio.core.io.export import grid_image
from genstudio.ui.widgets.image_view import ImageView


class ClickableGrid(ImageView):
    clicked = Signal(int)

    def __init__(self, parent=None, placeholder: str = "", min_size: int = 64, padding: int = 2):
        super().__init__(parent, placeholder, min_size)
        self.padding = padding
        self.count = 0
        self.cols = 1
        self.tile: tuple[int, int] = (0, 0)        # (H, W) of one image
        self.setCursor(Qt.PointingHandCursor)

    def set_images(self, images: np.ndarray | None, cols: int) -> None:
        """Images (n, C, H, W) in [0, 1], `cols` to a row, on grey padding (None or none: empty)."""
        if images is None or len(images) == 0:
            self.count = 0
            self.set_image(None)
            return
        self.count, self.cols = len(images), max(1, min(cols, len(images)))
        self.tile = tuple(images.shape[-2:])
        self.set_array(np.asarray(grid_image(images, cols=self.cols, padding=self.padding, pad_value=0.5)))

    def index_at(self, pos: QPointF) -> int | None:
        """The index of the image under widget position `pos`, or None (padding, outside, nothing shown)."""
        rect = self.target_rect()
        if self.count == 0 or rect.isEmpty() or not rect.contains(pos):
            return None
        scale = rect.width() / self.image().width()
        x, y = (pos.x() - rect.left()) / scale, (pos.y() - rect.top()) / scale    # grid image pixels
        h, w = self.tile
        col, dx = divmod(x - self.padding, w + self.padding)
        row, dy = divmod(y - self.padding, h + self.padding)
        index = int(row) * self.cols + int(col)
        if x < self.padding or y < self.padding or dx >= w or dy >= h or col >= self.cols or index >= self.count:
            return None
        return index

    def centre_of(self, index: int) -> QPointF:
        """Widget position of the centre of image `index` (what a click on it would hit)."""
        rect = self.target_rect()
        scale = rect.width() / self.image().width()
        h, w = self.tile
        row, col = divmod(index, self.cols)
        x = self.padding + col * (w + self.padding) + w / 2
        y = self.padding + row * (h + self.padding) + h / 2
        return QPointF(rect.left() + x * scale, rect.top() + y * scale)

    def mousePressEvent(self, event) -> None:
        index = self.index_at(event.position())
        if event.button() == Qt.LeftButton and index is not None:
            self.clicked.emit(index)
        super().mousePressEvent(event)
