"""The small dialogs that ask how an image grid (or a style-mixing grid) should look before it is saved."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QSpinBox


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    """OK and Cancel buttons that accept or reject `dialog`."""
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


GRID_CHOICES = (("seeds", "Seeds from the seed below"),
                ("directions", "The current latent along the principal directions (a row each)"),
                ("variations", "Variations of the current latent"))


class GridExportDialog(QDialog):
    def __init__(self, parent=None, seed: int = 0):
        super().__init__(parent)
        self.setWindowTitle("Export image grid")
        self.kind = QComboBox()
        for kind, text in GRID_CHOICES:
            self.kind.addItem(text, kind)
        self.rows, self.cols, self.seed, self.padding, self.scale = (QSpinBox() for _ in range(5))
        for box, low, high, value in ((self.rows, 1, 64, 8), (self.cols, 1, 64, 8), (self.seed, 0, 2**31 - 1, seed),
                                      (self.padding, 0, 32, 2), (self.scale, 1, 16, 2)):
            box.setRange(low, high)
            box.setValue(value)
        form = QFormLayout(self)
        form.addRow("Latents", self.kind)
        form.addRow("Rows", self.rows)
        form.addRow("Columns", self.cols)
        form.addRow("Seed", self.seed)
        form.addRow("Padding (px)", self.padding)
        form.addRow("Upscale (x)", self.scale)
        form.addRow(ok_cancel(self))

    def values(self) -> dict:
        return {"kind": self.kind.currentData(), "rows": self.rows.value(), "cols": self.cols.value(),
                "seed": self.seed.value(), "padding": self.padding.value(), "scale": self.scale.value()}


class StyleMixingDialog(QDialog):
    """Seeds down the side (A), seeds across the top (B) and the layers that take B's styles."""

    def __init__(self, parent=None, seed: int = 0, layers: str = "coarse"):
        super().__init__(parent)
        self.setWindowTitle("Export style-mixing grid")
        self.seeds_a = QLineEdit(",".join(str(seed + i) for i in range(3)))
        self.seeds_b = QLineEdit(",".join(str(seed + 10 + i) for i in range(4)))
        self.layers = QComboBox()
        self.layers.setEditable(True)                 # coarse / middle / fine, or a range "A-B" typed in
        self.layers.addItems(["coarse", "middle", "fine"])
        self.layers.setCurrentText(layers)
        self.scale = QSpinBox()
        self.scale.setRange(1, 16)
        self.scale.setValue(2)
        form = QFormLayout(self)
        form.addRow("Rows: seeds A", self.seeds_a)
        form.addRow("Columns: seeds B", self.seeds_b)
        form.addRow("B's styles on the layers", self.layers)
        form.addRow("Upscale (x)", self.scale)
        form.addRow(ok_cancel(self))

    def values(self) -> dict:
        return {"seeds_a": self.seeds_a.text(), "seeds_b": self.seeds_b.text(),
                "layers": self.layers.currentText().strip(), "scale": self.scale.value()}
