"""A bank of horizontal sliders, one per latent coordinate or principal direction."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QWidget

from genstudio.ui.widgets.readout import Readout

SCALE = 100      # slider ticks per unit of latent value
RANGE = 4.0      # sliders span [-RANGE, RANGE]: four standard deviations of N(0, 1)


class LatentSliders(QWidget):
    """`changed(index, value)` fires as a slider moves (continuously while dragging)."""

    changed = Signal(int, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setVerticalSpacing(2)
        self.sliders: list[QSlider] = []
        self._values: list[QLabel] = []

    def set_labels(self, labels: list[str], values: list[float]) -> None:
        """Rebuild the bank with one slider per label, placed at `values`, without emitting."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.sliders, self._values = [], []
        for i, (label, value) in enumerate(zip(labels, values)):
            name = QLabel(label)
            slider = QSlider(Qt.Horizontal)
            slider.setRange(int(-RANGE * SCALE), int(RANGE * SCALE))
            slider.setSingleStep(5)
            slider.setPageStep(50)
            slider.setObjectName(f"latent-slider-{i}")
            readout = Readout("-4.00", align=Qt.AlignRight | Qt.AlignVCenter)
            slider.valueChanged.connect(lambda v, i=i: self._moved(i, v))
            self._grid.addWidget(name, i, 0)
            self._grid.addWidget(slider, i, 1)
            self._grid.addWidget(readout, i, 2)
            self.sliders.append(slider)
            self._values.append(readout)
        self.set_values(values)

    def set_values(self, values: list[float]) -> None:
        for slider, readout, value in zip(self.sliders, self._values, values):
            slider.blockSignals(True)
            slider.setValue(int(round(max(-RANGE, min(RANGE, value)) * SCALE)))
            slider.blockSignals(False)
            readout.setText(f"{value:+.2f}")

    def values(self) -> list[float]:
        return [s.value() / SCALE for s in self.sliders]

    def _moved(self, index: int, ticks: int) -> None:
        value = ticks / SCALE
        self._values[index].setText(f"{value:+.2f}")
        self.changed.emit(index, value)
