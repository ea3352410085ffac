"""A bank of horizontal sliders, one per latent coordinate or principal direction. A click on a
slider's readout opens a box in its place to type the value (Enter applies it, Escape or leaving
the box keeps the old one); a typed value may lie beyond the slider's ends."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSlider, QWidget

from genstudio.ui.widgets.readout import Readout

SCALE = 100      # slider ticks per unit of latent value
RANGE = 4.0      # sliders span [-RANGE, RANGE]: four standard deviations of N(0, 1)
TYPED_LIMIT = 100.0


class TypedReadout(Readout):
    """A slider's value; a click asks for a typed one."""

    clicked = Signal()

    def mousePressEvent(self, event) -> None:
        self.clicked.emit()


class LatentSliders(QWidget):
    """`changed(index, value)` fires as a slider moves (continuously while dragging)."""

    changed = Signal(int, float)
    dragStarted = Signal()           # a slider was grabbed: the moves until dragEnded are one edit
    dragEnded = Signal()
    rebuilt = Signal(int)            # the bank now has this many sliders (set_labels)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setVerticalSpacing(2)
        self.sliders: list[QSlider] = []
        self._values: list[QLabel] = []
        self.editor: QLineEdit | None = None

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
            readout = TypedReadout("-100.00", align=Qt.AlignRight | Qt.AlignVCenter)
            readout.setToolTip("Click to type a value")
            readout.setCursor(Qt.IBeamCursor)
            readout.clicked.connect(lambda i=i: self.edit_value(i))
            slider.valueChanged.connect(lambda v, i=i: self._moved(i, v))
            slider.sliderPressed.connect(self.dragStarted)
            slider.sliderReleased.connect(self.dragEnded)
            self._grid.addWidget(name, i, 0)
            self._grid.addWidget(slider, i, 1)
            self._grid.addWidget(readout, i, 2)
            self.sliders.append(slider)
            self._values.append(readout)
        # The rows packed at the top: a tall list (full HD) spread ten sliders a finger apart.
        for row in range(max(self._grid.rowCount(), len(labels) + 1)):
            self._grid.setRowStretch(row, 1 if row == len(labels) else 0)
        self.set_values(values)
        self.rebuilt.emit(len(self.sliders))

    def set_values(self, values: list[float]) -> None:
        for slider, readout, value in zip(self.sliders, self._values, values):
            slider.blockSignals(True)
            slider.setValue(int(round(max(-RANGE, min(RANGE, value)) * SCALE)))
            slider.blockSignals(False)
            readout.setText(f"{value:+.2f}")

    def values(self) -> list[float]:
        return [s.value() / SCALE for s in self.sliders]

    def edit_value(self, index: int) -> QLineEdit:
        """A box over readout `index`, holding its value selected, ready to type over."""
        self._close_editor()
        readout = self._values[index]
        editor = self.editor = QLineEdit(readout.text().lstrip("+"), self)
        editor.setValidator(QDoubleValidator(-TYPED_LIMIT, TYPED_LIMIT, 3, editor))
        editor.setGeometry(readout.geometry())
        editor.returnPressed.connect(lambda: self._typed(index, editor))
        editor.editingFinished.connect(self._close_editor)        # Enter, focus lost; Escape below
        editor.installEventFilter(self)
        editor.show()
        editor.setFocus()
        editor.selectAll()
        return editor

    def eventFilter(self, watched, event) -> bool:
        if watched is self.editor and event.type() == event.Type.KeyPress and event.key() == Qt.Key_Escape:
            self._close_editor()
            return True
        return super().eventFilter(watched, event)

    def _typed(self, index: int, editor: QLineEdit) -> None:
        try:
            value = float(editor.text().replace(",", "."))
        except ValueError:
            return
        slider = self.sliders[index]
        slider.blockSignals(True)
        slider.setValue(int(round(max(-RANGE, min(RANGE, value)) * SCALE)))
        slider.blockSignals(False)
        self._values[index].setText(f"{value:+.2f}")
        self.changed.emit(index, value)

    def _close_editor(self) -> None:
        editor, self.editor = self.editor, None
        if editor is not None:
            editor.hide()
            editor.deleteLater()

    def _moved(self, index: int, ticks: int) -> None:
        value = ticks / SCALE
        self._values[index].setText(f"{value:+.2f}")
        self.changed.emit(index, value)
