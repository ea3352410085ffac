"""The small dialog that asks how an image grid should look before it is saved."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QSpinBox


class GridExportDialog(QDialog):
    def __init__(self, parent=None, seed: int = 0):
        super().__init__(parent)
        self.setWindowTitle("Export image grid")
        self.rows, self.cols, self.seed, self.padding, self.scale = (QSpinBox() for _ in range(5))
        for box, low, high, value in ((self.rows, 1, 64, 8), (self.cols, 1, 64, 8), (self.seed, 0, 2**31 - 1, seed),
                                      (self.padding, 0, 32, 2), (self.scale, 1, 16, 2)):
            box.setRange(low, high)
            box.setValue(value)
        form = QFormLayout(self)
        form.addRow("Rows", self.rows)
        form.addRow("Columns", self.cols)
        form.addRow("Seed", self.seed)
        form.addRow("Padding (px)", self.padding)
        form.addRow("Upscale (x)", self.scale)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        return {"rows": self.rows.value(), "cols": self.cols.value(), "seed": self.seed.value(),
                "padding": self.padding.value(), "scale": self.scale.value()}
