"""The small dialogs that ask how an image grid, a style-mixing grid or a walk should look before it is saved."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from genstudio.core.io.video import video_available
from genstudio.ui import file_dialogs
from genstudio.ui.widgets.combo_items import mark_available


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    """OK and Cancel buttons that accept or reject `dialog`."""
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def spin_box(low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    return box


GRID_CHOICES = (("seeds", "Seeds from the seed below"),
                ("directions", "The current latent along the principal directions (a row each)"),
                ("variations", "Variations of the current latent"))


class GridExportDialog(QDialog):
    """`num_classes` > 0 (a conditional model) offers one class per row: row r decodes class r."""

    def __init__(self, parent=None, seed: int = 0, num_classes: int = 0):
        super().__init__(parent)
        self.setWindowTitle("Export image grid")
        self.kind = QComboBox()
        for kind, text in GRID_CHOICES:
            self.kind.addItem(text, kind)
        self.rows, self.cols, self.seed = spin_box(1, 64, 8), spin_box(1, 64, 8), spin_box(0, 2**31 - 1, seed)
        self.padding, self.scale = spin_box(0, 32, 2), spin_box(1, 16, 2)
        form = QFormLayout(self)
        form.addRow("Latents", self.kind)
        form.addRow("Rows", self.rows)
        form.addRow("Columns", self.cols)
        form.addRow("Seed", self.seed)
        form.addRow("Padding (px)", self.padding)
        form.addRow("Upscale (x)", self.scale)
        self.class_per_row = QCheckBox("One class per row (row 1: class 0, row 2: class 1, \u2026)")
        self.class_per_row.setEnabled(num_classes > 0)
        self.class_per_row.setToolTip("Unticked, every image has the explorer's class"
                                      if num_classes else "For class-conditional models")
        form.addRow("Classes", self.class_per_row)
        form.addRow(ok_cancel(self))

    def values(self) -> dict:
        return {"kind": self.kind.currentData(), "rows": self.rows.value(), "cols": self.cols.value(),
                "seed": self.seed.value(), "padding": self.padding.value(), "scale": self.scale.value(),
                "class_per_row": self.class_per_row.isChecked()}


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
        self.scale = spin_box(1, 16, 2)
        form = QFormLayout(self)
        form.addRow("Rows: seeds A", self.seeds_a)
        form.addRow("Columns: seeds B", self.seeds_b)
        form.addRow("B's styles on the layers", self.layers)
        form.addRow("Upscale (x)", self.scale)
        form.addRow(ok_cancel(self))

    def values(self) -> dict:
        return {"seeds_a": self.seeds_a.text(), "seeds_b": self.seeds_b.text(),
                "layers": self.layers.currentText().strip(), "scale": self.scale.value()}


WALK_KEYS = (("seeds", "Seeds"), ("ab", "A and B"), ("map", "Points picked on the latent map"),
             ("file", "Latents from a JSON file"))


class WalkDialog(QDialog):
    """A walk through key latents (seeds, the A/B pair, or a JSON's latents), as a GIF or an MP4."""

    def __init__(self, parent=None, seed: int = 0, has_path: bool = False, map_points: int = 0):
        super().__init__(parent)
        self.setWindowTitle("Export a walk")
        self.keys = QComboBox()
        for key, text in WALK_KEYS:
            self.keys.addItem(text, key)
        self.keys.model().item(1).setEnabled(has_path)
        self.keys.model().item(2).setEnabled(map_points >= 2)
        self.seeds = QLineEdit(",".join(str(seed + i) for i in range(4)))
        self.file = QLineEdit()
        browse = QPushButton("\u2026")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(browse)
        self.frames, self.fps, self.scale = spin_box(1, 1000, 24), spin_box(1, 60, 24), spin_box(1, 16, 4)
        self.loop = QCheckBox("Back to the first key (a seamless loop)")
        self.loop.setChecked(True)
        self.format = QComboBox()
        self.format.addItem("GIF", "gif")
        self.format.addItem("MP4 (H.264)", "mp4")
        mark_available(self.format, 1, video_available(), "MP4 needs the video extra: pip install \"genstudio[video]\"")
        form = QFormLayout(self)
        form.addRow("Key latents", self.keys)
        form.addRow("Seeds", self.seeds)
        form.addRow("JSON file", file_row)
        form.addRow("Frames per key", self.frames)
        form.addRow("Frames per second", self.fps)
        form.addRow("Upscale (x)", self.scale)
        form.addRow("", self.loop)
        form.addRow("Format", self.format)
        form.addRow(ok_cancel(self))

    def _browse(self) -> None:
        path = file_dialogs.open_file(self, "latents", "Latents", "JSON (*.json)")
        if path:
            self.file.setText(path)

    def values(self) -> dict:
        return {"keys": self.keys.currentData(), "seeds": self.seeds.text(), "file": self.file.text().strip(),
                "frames": self.frames.value(), "fps": self.fps.value(), "scale": self.scale.value(),
                "loop": self.loop.isChecked(), "format": self.format.currentData()}
