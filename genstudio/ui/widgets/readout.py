"""A label for text that changes many times a second (slider values, timings, progress).

A plain QLabel asks its parent layouts to recompute on every setText whose size hint may differ;
in a QMainWindow that request climbs to the window, which re-lays out and repaints everything
(measured: about 5 ms per slider move, most of a slider's latency budget). A readout has a fixed
size, fitted once to the widest text it will show, so a new value repaints only itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


class Readout(QLabel):
    def __init__(self, widest: str, text: str = "", align=Qt.AlignLeft | Qt.AlignVCenter, parent=None):
        super().__init__(text, parent)
        self.setAlignment(align)
        self.fit(widest)

    def fit(self, widest: str) -> None:
        """Size the readout for `widest` (lines split at newlines): once, or when what it will show
        changes kind (another model), never per value."""
        metrics = self.fontMetrics()
        lines = widest.splitlines() or [""]
        width = max(metrics.horizontalAdvance(line) for line in lines) + 2 * self.margin() + 6
        height = metrics.lineSpacing() * len(lines) + 2 * self.margin() + 2
        self.setFixedSize(width, height)

    def setText(self, text: str) -> None:
        """Text wider than the readout is clipped; the tooltip then shows all of it."""
        super().setText(text)
        metrics = self.fontMetrics()
        fits = all(metrics.horizontalAdvance(line) <= self.width() for line in text.splitlines())
        self.setToolTip("" if fits else text)
