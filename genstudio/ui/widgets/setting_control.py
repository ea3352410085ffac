"""The control of one decode setting (Family.decode_settings): a spin box for a number, a slider
beside the spin box when the setting asks for one (a truncation psi is dragged, not typed), or a
drop-down for a setting whose values are named choices (noise: fixed, fresh, off). All of them
offer `value()`, `setValue()` and `valueChanged`, so the Explore panel treats them alike."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QSlider, QSpinBox, QWidget

from genstudio.core.families.family import DecodeSetting

SLIDER_STEPS = 1000


class SettingControl(QWidget):
    valueChanged = Signal(object)

    def __init__(self, setting: DecodeSetting, maximum: float, parent=None):
        super().__init__(parent)
        self.setting = setting
        self.setObjectName(f"decode-{setting.key}")
        self.setToolTip(setting.help)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo: QComboBox | None = None
        self.spin: QSpinBox | QDoubleSpinBox | None = None
        self.slider: QSlider | None = None
        if setting.choices:
            self.combo = QComboBox()
            self.combo.addItems(list(setting.choices))
            self.combo.currentIndexChanged.connect(self.valueChanged.emit)
            layout.addWidget(self.combo)
            return
        if setting.kind is int:
            self.spin = QSpinBox()
            self.spin.setRange(int(setting.minimum), int(maximum))
        else:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(setting.decimals)
            self.spin.setRange(setting.minimum, maximum)
            self.spin.setSingleStep(5 * 10 ** -setting.decimals)
        self.spin.setKeyboardTracking(False)        # typing "50" decodes once, not at "5" and again at "50"
        self.spin.valueChanged.connect(self._spun)
        if setting.slider:
            self.slider = QSlider(Qt.Horizontal)
            self.slider.setRange(0, SLIDER_STEPS)
            self.slider.setMinimumWidth(120)
            self.slider.valueChanged.connect(self._slid)
            layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)

    def value(self):
        return self.combo.currentIndex() if self.combo is not None else self.spin.value()

    def setValue(self, value) -> None:
        if self.combo is not None:
            self.combo.setCurrentIndex(int(value))
        else:
            self.spin.setValue(value)

    def _slider_position(self, value: float) -> int:
        low, high = self.spin.minimum(), self.spin.maximum()
        return round((value - low) / (high - low) * SLIDER_STEPS) if high > low else 0

    def _spun(self, value) -> None:
        if self.slider is not None:
            with QSignalBlocker(self.slider):
                self.slider.setValue(self._slider_position(value))
        self.valueChanged.emit(value)

    def _slid(self, position: int) -> None:
        low, high = self.spin.minimum(), self.spin.maximum()
        self.spin.setValue(low + (high - low) * position / SLIDER_STEPS)
