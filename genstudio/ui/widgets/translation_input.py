"""The explorer's input box for translation models: which image is translated. A data image of the
source domain (a slider and a spin box through it), an image file dropped on the explorer, or the
output shown now, taken as the input of the other direction. It holds the choice (`chosen()`: a
`TranslationInput` to resolve, core/requests/translation_requests.py, or a SourceImage as it is)
and says `changed` when it moves; the explorer panel resolves it into the session's source image
and shows a source the session got elsewhere (undo, a loaded record) with `show_source`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QSlider, QSpinBox

from genstudio.core.explore.source_image import SourceImage
from genstudio.core.requests.translation_requests import TranslationInput


class TranslationInputBox(QGroupBox):
    changed = Signal()                   # the input is another image: translate it
    useOutput = Signal()                 # "use the output as input" was clicked (the panel knows the output)

    def __init__(self, parent=None):
        super().__init__("Input image", parent)
        self.setObjectName("translation-input")
        self.data_spec = ""
        self.file: Path | None = None               # a dropped image file, while it is the input
        self.given: SourceImage | None = None       # an output taken as input (or a restored source)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("translation-index-slider")
        self.slider.setRange(0, 0)
        self.slider.setToolTip("A data image of the source domain (the images the chosen direction translates)")
        self.index = QSpinBox()
        self.index.setObjectName("translation-index")
        self.index.setRange(0, 0)
        self.index.setToolTip(self.slider.toolTip())
        self.slider.valueChanged.connect(self.index.setValue)
        self.index.valueChanged.connect(self._index_moved)
        self.use_output = QPushButton("Use the output as input")
        self.use_output.setObjectName("use-output-as-input")
        self.use_output.setToolTip("Translate the image shown as the translation back the other way: "
                                   "it becomes the input, and the direction turns round")
        self.use_output.clicked.connect(self.useOutput)
        self.use_output.setEnabled(False)
        self.what = QLabel("Drop an image file on the explorer to translate it.")
        self.what.setObjectName("translation-input-name")
        self.what.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Data image"), 0, 0)
        grid.addWidget(self.slider, 0, 1)
        grid.addWidget(self.index, 0, 2)
        grid.addWidget(self.use_output, 1, 0, 1, 3)
        grid.addWidget(self.what, 2, 0, 1, 3)
        grid.setColumnStretch(1, 1)

    # --- what the input is -------------------------------------------------------------------------
    def reset(self, data_spec: str) -> None:
        """Another model: data image 0 of its data set (`data_spec`; '' for its kept examples)."""
        self.data_spec = data_spec
        self.file, self.given = None, None
        self.set_count(0)
        self.use_output.setEnabled(False)

    def chosen(self) -> TranslationInput | SourceImage:
        if self.given is not None:
            return self.given
        if self.file is not None:
            return TranslationInput(path=self.file)
        return TranslationInput(self.data_spec, self.index.value())

    def is_data_image(self) -> bool:
        return self.file is None and self.given is None

    def set_count(self, count: int) -> None:
        """The data slider reaches `count` images of the source domain (0: one, until it is known)."""
        top = max(count - 1, 0)
        if self.slider.maximum() != top:
            with QSignalBlocker(self.slider), QSignalBlocker(self.index):
                self.slider.setRange(0, top)
                self.index.setRange(0, top)

    def set_name(self, text: str, has_output: bool) -> None:
        self.what.setText(f"Translating {text}. Drop an image file on the explorer to translate it instead.")
        self.use_output.setEnabled(has_output)

    def take_file(self, path: str | Path) -> None:
        self.file, self.given = Path(path), None
        self.changed.emit()

    def take_output(self, output: SourceImage) -> None:
        """The shown output becomes the input; the caller turns the direction."""
        self.file, self.given = None, output

    def show_source(self, source: SourceImage) -> None:
        """Show a source the session holds without resolving anything: a data image's index on the
        slider, any other image as given."""
        if source.index is not None:
            self.file, self.given = None, None
            with QSignalBlocker(self.slider), QSignalBlocker(self.index):
                self.index.setValue(source.index)
                self.slider.setValue(source.index)
        else:
            self.file, self.given = None, source
        self.set_name(source.name, has_output=True)

    def show_index(self, index: int) -> None:
        """Data image `index` is the input (the slider, spin box and any taken file agree)."""
        self.index.setValue(index)
        if not self.is_data_image():
            self.file, self.given = None, None
            self.changed.emit()

    def _index_moved(self, value: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(value)
        self.file, self.given = None, None           # moving through the data set goes back to its images
        self.changed.emit()
