"""The Explore panel: one generated image driven by latent sliders, A<->B interpolation and the
nearest training images. Its state is a Qt-free `ExploreSession` the panel observes; all model work
is a request to the Renderer, which owns the model.

A family whose decoder has settings (Family.decode_settings: a diffusion sampler's steps, eta,
guidance) gets a "Sampler" group with one control each. A family with preview settings decodes
too slowly to follow a hand: every latent change first decodes with the preview values (a few
sampling steps), and once the latent has rested PREVIEW_REST_MS the full decode follows; the
caption under the image says which of the two is shown. A family that draws pixel by pixel
(SEQUENTIAL_DECODE: a PixelCNN) is shown row by row as it draws, and a newer latent stops the
drawing in progress; such models get no principal directions (each decode is a sampling run).
A family that declares latent spaces beyond Z (Family.latent_spaces: StyleGAN's W) gets a slider
mode per layer group of each, named by the description: sliders along the space's principal directions.
A translation model (Capability.TRANSLATION) shows an input image beside its translation and the
round trip back, with the cycle error in the caption: the input is a data image of the source
domain, a dropped image file, or the output taken as the other direction's input (the "Input
image" box); the Sampler's direction turns it round, and the latent (sliders, seed, A <-> B) is
the style code of a multimodal model, which the strip translates the input with frame by frame.
"""

from __future__ import annotations

import dataclasses
import html

import numpy as np
import torch
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from genstudio.core.explore.explore_session import CurrentImage, ExploreSession
from genstudio.core.explore.source_image import SourceImage
from genstudio.core.families.family import Capability
from genstudio.core.io.export import grid_image, points_image
from genstudio.core.io.file_checks import printable
from genstudio.core.io.open_model import ModelInfo
from genstudio.core.requests.render_requests import Decode, DecodePoint, DecodeRows, NearestImages, PrincipalDirections
from genstudio.core.requests.space_requests import SpaceDirections
from genstudio.core.requests.translation_requests import (
    DIRECTIONS,
    ResolveSource,
    TranslateImage,
    TranslateStrip,
    TranslationView,
)
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.render_worker import Renderer
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.keep_space import keep_space_when_hidden
from genstudio.ui.widgets.latent_sliders import LatentSliders
from genstudio.ui.widgets.readout import Readout
from genstudio.ui.widgets.setting_control import SettingControl
from genstudio.ui.widgets.translation_input import TranslationInputBox

DIRECT_LIMIT = 32        # latents up to this size get one slider per dimension by default
PAGE = 16                # dimension sliders per page for larger latents
PREVIEW_REST_MS = 180    # a latent unchanged this long gets its full decode after the preview
CANCEL_SHOWN_AFTER_MS = 250      # a decode still running this long gets the Cancel button (Esc)
DIRECTION_SAMPLES = 1024         # decodes behind the principal directions
DIRECTION_SAMPLES_PREVIEW = 256  # ... for families that preview (each decode is a sampler run)
DIRECTIONS_BUDGET_MS = 30_000    # ... fewer for a model whose decodes would take longer than this
SETTINGS_PER_ROW = 1     # decode-setting controls side by side in the Sampler group (3 made StyleGAN's 730 px wide)
CONTROLS_WIDTH = 420     # the right column (Sampler, Latent, Nearest neighbours), scrolled vertically
IMAGE_MIN = 220          # the main image's smallest side: the window fits 1280 x 680 with it


class ExplorePanel(QWidget):
    status = Signal(str)
    latentChanged = Signal()             # the session's latent moved (any cause)
    imageRequested = Signal(str)         # "preview" or "full": a decode of the current latent was asked for
    imageRendered = Signal(str)          # "preview" or "full": which decode the image now shows

    def __init__(self, renderer: Renderer, session: ExploreSession | None, scope: ModelScope, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.scope = scope
        self.session = session or ExploreSession()
        self.info: ModelInfo | None = None
        self.last_image: np.ndarray | None = None     # (C, H, W) floats of the shown sample
        self.last_strip: np.ndarray | None = None     # (frames, C, H, W)
        self.last_translation: TranslationView | None = None   # a translation model's input, output, round trip
        # The round trip (C, H, W) of the last translation decoded whole: shown faded while a held
        # slider's images leave it out (TranslateImage.round_trip).
        self._rest_round_trip: np.ndarray | None = None
        # A translation model's input: (the input box's choice, the direction) the session's source
        # image was made for, and that SourceImage; the choice being resolved into one, if any.
        self._source_for: tuple[tuple, SourceImage] | None = None
        self._resolving: tuple | None = None
        self.last_decode_ms = 0.0
        # The open model's fastest full decode so far, ms (None until one lands; the first includes
        # torch's warm-up): a decode setting with `preview_above_ms` previews only a model slower than
        # that (a 256 px StyleGAN on a CPU, not a 28 px one).
        self._full_decode_ms: float | None = None
        # The directions wait for that figure too: hundreds of decodes queued before the model's
        # first image would hold it back (the GAN demo's, 0.3-0.6 s at start-up), and a slow model
        # computes them from fewer samples.
        self._directions_wait = False
        self.last_image_kind = ""                     # "preview", "drag" (a held slider's) or "full"
        self.option_boxes: dict[str, SettingControl] = {}
        self._from_sliders = False                    # a latent change made by the slider bank itself
        self._image_request: tuple[str, dict, dict] = ("full", {}, {})  # kind, its options, the full options
        self._settings_shown: tuple = ()              # (class, decode options) the image was last rendered with
        self._sampler_layout: tuple | None = None     # (settings, preview) the Sampler controls were built for
        self._edit_request: tuple[str, str] = ("", "")  # (space, group) the last space directions were asked for
        self._full_timer = QTimer(self)
        self._full_timer.setSingleShot(True)
        self._full_timer.setInterval(PREVIEW_REST_MS)
        self._full_timer.timeout.connect(lambda: self.render(full=True))
        # While a slider is held, its images decode as a frozen graph once the decode repeats
        # (core/explore/traced_calls.py): the same image up to float rounding, and up to 2x sooner on
        # a CPU. The decode the hand lets go on is the eager one every other view decodes, so the
        # image at rest is the same pixels as the neighbours' query, the exports and the history.
        self._dragging = False
        # Long decodes the Cancel button stops: channel -> what it is ("the image", "writing walk.gif").
        self._long_decodes: dict[str, str] = {}
        self._drawn_rows: tuple[int, int] | None = None   # (rows drawn, rows) of the image being drawn
        self._cancel_timer = QTimer(self)
        self._cancel_timer.setSingleShot(True)
        self._cancel_timer.setInterval(CANCEL_SHOWN_AFTER_MS)
        self._cancel_timer.timeout.connect(lambda: self.cancel_button.setVisible(bool(self._long_decodes)))
        self._build()
        events = self.session.events
        events.latent.connect(self._latent_changed)
        events.directions.connect(lambda s: self._refresh_sliders())
        events.path.connect(self._path_changed)
        events.settings.connect(self._settings_changed)
        # What a model made, cleared when another opens (model_bound.py); each records its model.
        self.bound_model = scope.bind("explore: model", self.model_label)
        self.bound_image = scope.bind("explore: image", self.image_view, self.timing)
        self.bound_strip = scope.bind("explore: A-B strip", self.strip_view, self.strip_timing)
        self.bound_neighbours = scope.bind("explore: neighbours", self.neighbour_view, self.neighbour_label)
        scope.changed.connect(self.reset_for_model)
        scope.changed.connect(lambda info: self._end_decode("image"))   # the switch cancelled it
        scope.refreshed.connect(lambda info: self.set_model(info, keep_latent=True))
        renderer.done.connect(self._on_done)
        renderer.failed.connect(self._on_failed)
        renderer.partial.connect(self._on_partial)
        self.setAcceptDrops(True)           # an image file dropped here is a translation model's input
        self.setEnabled(False)

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        """The image column on the left (model name, image, caption and Cancel, the history row, the
        A <-> B box); the controls column on the right (Sampler, Latent, Nearest neighbours)."""
        self._build_image()
        interp_box = self._build_interpolation_box()
        left = QVBoxLayout()
        left.addWidget(self.model_label)
        left.addWidget(self.image_view, 3)
        timing_row = QHBoxLayout()
        timing_row.addWidget(self.timing)
        timing_row.addWidget(self.cancel_button)
        timing_row.addStretch(1)
        left.addLayout(timing_row)
        self.history_row = QHBoxLayout()        # the main window puts the undo history strip here
        left.addLayout(self.history_row)
        left.addWidget(interp_box, 1)
        self.interpolation_box = interp_box
        right_widget = QWidget()
        right = QVBoxLayout(right_widget)
        right.setContentsMargins(0, 0, 0, 0)
        self.translation_input = TranslationInputBox()
        self.translation_input.changed.connect(self._translation_input_changed)
        self.translation_input.useOutput.connect(self.use_output_as_input)
        self.translation_input.setVisible(False)
        right.addWidget(self.translation_input)
        right.addWidget(self._build_sampler_box())
        self.latent_box = self._build_latent_box()
        right.addWidget(self.latent_box, 3)
        self.neighbours_box = self._build_neighbours_box()
        right.addWidget(self.neighbours_box)     # its own fixed height; the rest goes to the sliders
        # The controls scroll when the window is short (a 1366 x 768 laptop) rather than set its
        # minimum height; their width is fixed, so nothing on the right resizes the image.
        self.controls = QScrollArea()
        self.controls.setObjectName("explore-controls")
        self.controls.setWidgetResizable(True)
        self.controls.setFrameShape(QScrollArea.NoFrame)
        self.controls.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.controls.setWidget(right_widget)
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(self.controls)

    def _build_image(self) -> None:
        """The model's name, the image, its caption and the Cancel button (and Escape)."""
        self.image_view = ImageView(placeholder="Open a checkpoint to explore it", min_size=IMAGE_MIN)
        self.image_view.setObjectName("explore-image")
        # Fitted to the longest caption: a sampler's preview, or a translation's cycle error.
        self.timing = Readout("input | B -> A | round trip \u00b7 cycle error 0.0000 \u00b7 decode 99999.9 ms")
        self.timing.setObjectName("frame-time")
        # Shown only while a long decode runs (a PixelCNN's rows, a sampler's full decode, an export).
        # Escape cancels too: an action enabled only while such a decode runs, so it takes the key
        # from nothing else (a button's own shortcut would click it 100 ms late, animated).
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel-decode")
        self.cancel_button.setToolTip("Stop the decode in progress (Esc)")
        self.cancel_button.clicked.connect(self.cancel_decodes)
        keep_space_when_hidden(self.cancel_button)
        self.cancel_button.setVisible(False)
        self.cancel_action = QAction("Cancel the decode in progress", self)
        self.cancel_action.setShortcut(QKeySequence(Qt.Key_Escape))
        self.cancel_action.triggered.connect(self.cancel_decodes)
        self.cancel_action.setEnabled(False)
        self.addAction(self.cancel_action)
        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        # Two lines reserved whatever the name: a long file name wraps inside them instead of
        # taking height from the image (the full text is the tooltip).
        self.model_label.setFixedHeight(2 * self.model_label.fontMetrics().lineSpacing() + 4)

    def _build_latent_box(self) -> QGroupBox:
        """Seed, temperature, class, the slider mode (dimensions, principal directions, a declared
        latent space's groups) and the slider bank."""
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The latent is drawn from N(0, I) with this seed")
        self.seed.valueChanged.connect(self.session.set_seed)
        randomise = QPushButton("Randomise")
        randomise.clicked.connect(self.randomise)
        reset = QPushButton("Reset")
        reset.setToolTip("Back to the seed's latent, all slider moves undone")
        reset.clicked.connect(self.session.reset)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.05, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip("Scale of random latents (a flow's sampling temperature)")
        self.temperature.valueChanged.connect(self.session.set_temperature)
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("Class to generate (class-conditional models)")
        self.label_combo.currentIndexChanged.connect(lambda i: i >= 0 and self.session.set_label(i))
        self.random_class = QCheckBox("random class")
        self.random_class.setObjectName("random-class")
        self.random_class.setToolTip("Randomise and Random A, B draw a class too (A and B each their own)")
        self.slider_mode = QComboBox()
        self.slider_mode.setToolTip("Move latent dimensions directly, or principal directions of the "
                                    "generator's output (GANSpace)")
        self.slider_mode.currentIndexChanged.connect(self._mode_changed)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(2, 32)
        self.k_spin.setValue(10)
        self.k_spin.setToolTip("Number of principal directions")
        self.k_spin.valueChanged.connect(lambda _: self._compute_directions())
        self.sliders = LatentSliders()
        self.sliders.changed.connect(self._slider_moved)
        self.sliders.dragStarted.connect(lambda: setattr(self, "_dragging", True))
        self.sliders.dragEnded.connect(self._drag_ended)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.sliders)
        scroll.setMinimumWidth(300)
        # Six slider rows at least: below that the list is a peephole (a style-based model's five
        # sampler settings left it three rows at 1280 x 680); the controls column scrolls instead.
        scroll.setMinimumHeight(6 * (self.fontMetrics().height() + 4))

        latent_box = QGroupBox("Latent")
        grid = QGridLayout(latent_box)
        grid.addWidget(QLabel("Seed"), 0, 0)
        grid.addWidget(self.seed, 0, 1)
        grid.addWidget(randomise, 0, 2)
        grid.addWidget(reset, 0, 3)
        grid.addWidget(QLabel("Temperature"), 1, 0)
        grid.addWidget(self.temperature, 1, 1)
        self.label_caption = QLabel("Class")
        grid.addWidget(self.label_caption, 1, 2)
        grid.addWidget(self.label_combo, 1, 3)
        grid.addWidget(self.random_class, 2, 2, 1, 2)         # its own row: hidden (no height) when unconditional
        grid.addWidget(QLabel("Sliders"), 3, 0)
        grid.addWidget(self.slider_mode, 3, 1, 1, 2)
        grid.addWidget(self.k_spin, 3, 3)
        grid.addWidget(scroll, 4, 0, 1, 4)
        return latent_box

    def _build_sampler_box(self) -> QGroupBox:
        """The decoder's settings, filled per model from its family's decode_settings (_fill_sampler)."""
        self.sampler_box = QGroupBox("Sampler")
        self.sampler_box.setObjectName("sampler")
        self.sampler_grid = QGridLayout(self.sampler_box)
        self.sampler_box.setVisible(False)
        return self.sampler_box

    def _build_interpolation_box(self) -> QGroupBox:
        """A and B, t, slerp, the frame count, the strip and its |z| line."""
        set_a = QPushButton("A = current")
        set_a.clicked.connect(lambda: self.session.set_endpoint("a"))
        set_b = QPushButton("B = current")
        set_b.clicked.connect(lambda: self.session.set_endpoint("b"))
        random_ab = QPushButton("Random A, B")
        random_ab.clicked.connect(self.randomise_endpoints)
        self.t_slider = QSlider(Qt.Horizontal)
        self.t_slider.setObjectName("interpolation-t")
        self.t_slider.setRange(0, 1000)
        self.t_slider.valueChanged.connect(self._t_moved)
        self.t_label = Readout("t = 0.00", "t = 0.00")
        self.slerp = QCheckBox("Spherical (slerp)")
        self.slerp.setChecked(True)
        self.slerp.setToolTip("Follow the great circle between A and B: Gaussian latents keep their norm "
                              "(|z| \u2248 \u221aD). Unticked, the straight line cuts through the inside of the "
                              "sphere, where Gaussian noise never lies: the middle frames leave the typical set "
                              "(tick \u201cshow |z|\u201d to see it)")
        self.slerp.toggled.connect(self.session.set_spherical)
        self.frames = QSpinBox()
        self.frames.setRange(2, 64)
        self.frames.setValue(self.session.frames)
        self.frames.setToolTip("Frames in the strip, the exported strip and the GIF")
        self.frames.valueChanged.connect(self.session.set_frames)
        self.strip_view = ImageView(placeholder="Set A and B to see the path", min_size=48)
        self.strip_view.setObjectName("interpolation-strip")
        self.strip_view.setMinimumHeight(70)
        self.strip_timing = Readout("64 frames, 9999.99 ms per image \u00b7 class 9 \u2192 9")
        self.norm_check = QCheckBox("show |z|")
        self.norm_check.setToolTip("Each frame's latent norm relative to \u221aD, the norm Gaussian latents have")
        self.norm_check.toggled.connect(lambda _: self._show_norms())
        self.norm_label = QLabel("")
        self.norm_label.setObjectName("path-norms")
        keep_space_when_hidden(self.norm_label)        # one line kept for it: ticking moves nothing
        self.norm_label.setFixedHeight(self.norm_label.fontMetrics().lineSpacing() + 4)
        self.norm_label.setMinimumWidth(1)             # a long line (64 frames) is cut; the tooltip has it all
        self.norm_label.setVisible(False)
        interp_box = QGroupBox("Interpolate A \u2194 B")
        ilay = QGridLayout(interp_box)
        ilay.addWidget(set_a, 0, 0)
        ilay.addWidget(set_b, 0, 1)
        ilay.addWidget(random_ab, 0, 2)
        ilay.addWidget(self.slerp, 0, 3)
        ilay.addWidget(QLabel("Frames"), 0, 4)
        ilay.addWidget(self.frames, 0, 5)
        ilay.addWidget(self.t_slider, 1, 0, 1, 5)
        ilay.addWidget(self.t_label, 1, 5)
        ilay.addWidget(self.strip_view, 2, 0, 1, 6)
        ilay.addWidget(self.strip_timing, 3, 0, 1, 5)
        ilay.addWidget(self.norm_check, 3, 5)
        ilay.addWidget(self.norm_label, 4, 0, 1, 6)
        return interp_box

    def _build_neighbours_box(self) -> QGroupBox:
        """The nearest training images of the image shown (a memorisation check), hidden until asked."""
        self.neighbours_check = QCheckBox("Show the nearest training images (memorisation check)")
        self.neighbours_check.toggled.connect(lambda on: (self.neighbour_view.setVisible(on),
                                                          self.neighbour_label.setVisible(on),
                                                          on and self.render_neighbours()))
        self.neighbour_view = ImageView(min_size=40)
        self.neighbour_view.setObjectName("neighbours")
        self.neighbour_view.setFixedHeight(80)          # one row of thumbnails; the same height shown or not
        self.neighbour_label = QLabel("")
        self.neighbour_label.setWordWrap(True)
        self.neighbour_label.setFixedHeight(3 * self.neighbour_label.fontMetrics().lineSpacing() + 4)
        for widget in (self.neighbour_view, self.neighbour_label):
            keep_space_when_hidden(widget)     # ticking the box shows them without squeezing the sliders
            widget.setVisible(False)
        nn_box = QGroupBox("Nearest neighbours")
        nlay = QVBoxLayout(nn_box)
        nlay.addWidget(self.neighbours_check)
        nlay.addWidget(self.neighbour_view)
        nlay.addWidget(self.neighbour_label)
        return nn_box

    # --- model ----------------------------------------------------------------------------------
    def reset_for_model(self, info: ModelInfo) -> None:
        """Another model (the scope has cleared the bound views and cancelled the old requests)."""
        self.last_image = self.last_strip = None
        self.last_translation = self._rest_round_trip = None
        self._source_for = self._resolving = None
        self._full_decode_ms, self._directions_wait = None, False
        self.last_image_kind = ""
        self.set_model(info)

    def set_model(self, info: ModelInfo, keep_latent: bool = False) -> None:
        """Show the model the renderer now holds; keep the latent when it fits (a fresher snapshot)."""
        previous = self.info
        self.info = info
        self.setEnabled(True)
        self.model_label.setText(f"<b>{html.escape(printable(info.path.name))}</b> \u2014 {info.family} "
                                 f"{html.escape(printable(info.card.preset))}, latent "
                                 f"{info.latent_dim}-D, output {' x '.join(map(str, info.data_shape))}")
        self.model_label.setToolTip(str(info.path))
        self.bound_model.show(self.scope.generation)
        with QSignalBlocker(self.label_combo):
            self.label_combo.clear()
            if info.num_classes:
                self.label_combo.addItems(info.label_names or [str(i) for i in range(info.num_classes)])
        self.label_combo.setVisible(bool(info.num_classes))
        self.label_caption.setVisible(bool(info.num_classes))
        self.random_class.setVisible(bool(info.num_classes))
        self._show_translation_controls(info, keep_input=keep_latent)
        same = keep_latent and previous is not None and previous.latent_dim == info.latent_dim
        self._full_timer.stop()
        if same:
            self.session.configure(info.latent_shape, info.num_classes, info.family, str(info.path), keep_latent=True,
                                   decode_options=info.decode_defaults(), latent_spaces=info.latent_spaces)
            self._fill_sampler()
            self.render()
            self.render_strip()
            if self.session.directions is not None and self._page() is None:
                self._compute_directions()      # after the image: the renderer runs requests in turn
            return
        self._fill_modes()
        self.session.configure(info.latent_shape, info.num_classes, info.family, str(info.path),
                               decode_options=info.decode_defaults(), latent_spaces=info.latent_spaces)
        self._fill_sampler()
        if self._uses_directions():
            self._compute_directions()

    def translating(self) -> bool:
        """Whether the open model translates images (its picture is input | translation | round trip)."""
        return self.info is not None and self.info.has(Capability.TRANSLATION)

    def _show_translation_controls(self, info: ModelInfo, keep_input: bool) -> None:
        """The input box for a translation model, in place of the nearest neighbours (its picture is
        no sample of the data); a new model's input is its first data image."""
        translating = info.has(Capability.TRANSLATION)
        self.translation_input.setVisible(translating)
        self.neighbours_box.setVisible(not translating)
        if not translating:
            self.latent_box.setVisible(True)          # a one-to-one translation hid them (_show_translation)
            self.interpolation_box.setVisible(True)
        elif not keep_input or self.translation_input.data_spec != info.data_source:
            self.translation_input.reset(info.data_source)

    def _fill_sampler(self) -> None:
        """One control per decode setting of the open model, showing the session's values. A fresher
        snapshot with the same settings keeps its controls (a value being typed is not lost)."""
        layout_key = (self.info.decode_settings, tuple(self.info.preview_options().items()))
        if layout_key == self._sampler_layout:
            self._show_options()
            self._settings_shown = self._settings_key()
            return
        self._sampler_layout = layout_key
        while self.sampler_grid.count():
            item = self.sampler_grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.option_boxes = {}
        settings = self.info.decode_settings
        config = self.info.card.config.to_dict()
        for i, setting in enumerate(settings):
            box = SettingControl(setting, setting.maximum_for(config))
            box.setValue(self.session.decode_options.get(setting.key, setting.default))
            box.valueChanged.connect(lambda value, key=setting.key: self.session.set_decode_option(key, value))
            caption = QLabel(setting.label)
            caption.setToolTip(setting.help)
            row, col = divmod(i, SETTINGS_PER_ROW)
            self.sampler_grid.addWidget(caption, row, 2 * col)
            self.sampler_grid.addWidget(box, row, 2 * col + 1)
            self.option_boxes[setting.key] = box
        preview = self.info.preview_options()
        if preview:
            names = {s.key: s.label.lower() for s in settings}
            note = QLabel("While the latent moves: a preview with " +
                          ", ".join(f"{v:g} {names[k]}" for k, v in preview.items()) +
                          "; the full decode follows when it rests.")
            note.setWordWrap(True)
            self.sampler_grid.addWidget(note, (len(settings) - 1) // SETTINGS_PER_ROW + 1, 0, 1, 2 * SETTINGS_PER_ROW)
        self.sampler_box.setVisible(bool(settings))
        self._settings_shown = self._settings_key()

    def _show_options(self) -> None:
        """The Sampler controls show the session's decode options (blocked: nothing changes back)."""
        for key, box in self.option_boxes.items():
            if key in self.session.decode_options:
                with QSignalBlocker(box):
                    box.setValue(self.session.decode_options[key])

    def _settings_key(self) -> tuple:
        return self.session.label, tuple(sorted(self.session.decode_options.items()))

    def _preview_options(self, full: dict | None = None) -> dict | None:
        """The options of a preview decode of `full` (the session's decode options by default), or
        None when the family has none or the chosen settings are already as cheap (a preview value
        is the cheap end of its setting, e.g. 2 of 20 steps: with 1 step chosen, a 2-step preview
        would only be slower)."""
        if self.info is None:
            return None
        full = dict(self.session.decode_options if full is None else full)
        cheaper = {k: v for k, v in self.info.preview_options().items()
                   if k in full and v < full[k] and self._previewing(k)}
        return {**full, **cheaper} if cheaper else None

    def _previewing(self, key: str) -> bool:
        """Whether the open model previews with decode setting `key`: always, or when its full decode
        is slower than the setting's `preview_above_ms`."""
        setting = next(s for s in self.info.decode_settings if s.key == key)
        return not setting.preview_above_ms or (self._full_decode_ms is not None
                                                and self._full_decode_ms > setting.preview_above_ms)

    def _uses_directions(self) -> bool:
        # Not for models that draw pixel by pixel: every one of the decodes behind the directions
        # would be a whole sampling run, and their latent is per-pixel sampling noise anyway.
        return (self.info is not None and self.info.latent_dim > DIRECT_LIMIT
                and not self.info.has(Capability.SEQUENTIAL_DECODE))

    def _fill_modes(self) -> None:
        d = self.info.latent_dim
        self.slider_mode.blockSignals(True)
        self.slider_mode.clear()
        if self._uses_directions():
            self.slider_mode.addItem("Principal directions")
        for space in self.info.latent_spaces:
            for group in space.groups:
                self.slider_mode.addItem(f"Principal directions in {group.label}", ("space", space.key, group.key))
                self.slider_mode.setItemData(self.slider_mode.count() - 1, space.help, Qt.ToolTipRole)
        step = PAGE if d > DIRECT_LIMIT else d
        for start in range(0, d, step):
            stop = min(start + step, d)
            self.slider_mode.addItem(f"Dimensions {start + 1}\u2013{stop}", (start, stop))
        self.slider_mode.blockSignals(False)
        self.k_spin.setVisible(self._uses_directions())

    def _page(self) -> tuple[int, int] | None:
        """The dimensions the sliders show, or None for principal directions (of the output, or of a
        declared space)."""
        data = self.slider_mode.currentData()
        return None if data is None or data[0] == "space" else data

    def _edit_mode(self) -> tuple[str, str] | None:
        """(space key, group key) the sliders edit in, or None when they are not in a declared space."""
        data = self.slider_mode.currentData()
        return (data[1], data[2]) if data is not None and data[0] == "space" else None

    # --- latent state ---------------------------------------------------------------------------
    def current_latent(self) -> torch.Tensor:
        return self.session.z.clone()

    def set_latent(self, z: torch.Tensor) -> None:
        self.session.set_latent(z)

    def randomise(self) -> None:
        self.session.randomise(random_class=self.random_class.isChecked())

    def randomise_endpoints(self) -> None:
        self.session.randomise_endpoints(random_class=self.random_class.isChecked())

    @property
    def a(self) -> torch.Tensor | None:
        return self.session.a

    @property
    def b(self) -> torch.Tensor | None:
        return self.session.b

    @property
    def directions(self) -> torch.Tensor | None:
        return self.session.directions

    def _latent_changed(self, session: ExploreSession) -> None:
        if self.translating() and session.source is not None and (self._source_for is None
                                                                   or self._source_for[1] is not session.source):
            # A source the session got elsewhere (undo, a loaded record): the input box shows it.
            self.translation_input.show_source(session.source)
            self._source_for = (self._source_key(), session.source)
        if not self._from_sliders:
            self._refresh_sliders()
        self.render()
        self.latentChanged.emit()

    def _settings_changed(self, session: ExploreSession) -> None:
        # The widgets show the session's values; blocked, so showing them changes nothing back.
        with QSignalBlocker(self.seed), QSignalBlocker(self.temperature), QSignalBlocker(self.label_combo):
            self.seed.setValue(session.seed)
            self.temperature.setValue(session.temperature)
            if session.num_classes:
                self.label_combo.setCurrentIndex(session.label)
        self._show_options()
        # A seed or temperature change moves the latent, whose own event renders; a class or a
        # decode setting changes the image of the same latent: render it in full now.
        key = self._settings_key()
        if key != self._settings_shown:
            self._settings_shown = key
            self.render(full=True)
            self.render_strip()

    def _path_changed(self, session: ExploreSession) -> None:
        with QSignalBlocker(self.slerp), QSignalBlocker(self.frames), QSignalBlocker(self.t_slider):
            self.slerp.setChecked(session.spherical)
            self.frames.setValue(session.frames)
            self.t_slider.setValue(int(round(session.t * 1000)))
        self.t_label.setText(f"t = {session.t:.2f}")
        self.render_strip()
        self._show_norms()

    def path_norms(self) -> np.ndarray | None:
        """|z| / sqrt(D) of each frame of the A -> B path (frames,): about 1 for Gaussian latents."""
        if not self.session.has_path:
            return None
        frames = self.session.path_latents()                                   # (frames, D)
        return (frames.norm(dim=1) / self.session.latent_dim ** 0.5).numpy()

    def _show_norms(self) -> None:
        norms = self.path_norms() if self.norm_check.isChecked() else None
        self.norm_label.setVisible(self.norm_check.isChecked())
        if norms is None:
            self.norm_label.setText("Set A and B to see the norms along the path." if self.norm_check.isChecked() else "")
            return
        kind = "slerp" if self.session.spherical else "linear"
        self.norm_label.setText(f"|z| / \u221aD per frame ({kind}): {' '.join(f'{n:.2f}' for n in norms)} "
                                f"\u2014 lowest {norms.min():.2f}; Gaussian noise has about 1.00")
        self.norm_label.setToolTip(self.norm_label.text())

    def _refresh_sliders(self) -> None:
        session = self.session
        page = self._page()
        edit = self._edit_mode()
        if edit is not None:
            label = session.space(edit[0]).label
            self._show_directions(f"{label} PC", session.edit_directions is not None, session.edit_explained,
                                  session.edit_alphas)
        elif page is None:  # principal directions
            self._show_directions("PC", session.directions is not None, session.explained, session.alphas)
        else:
            start, stop = page
            self._show_sliders([f"z{i + 1}" for i in range(start, stop)], session.z[start:stop].tolist())

    def _show_directions(self, prefix: str, ready: bool, explained, alphas: list[float]) -> None:
        """A slider per principal direction, labelled with its share of the variance (none until ready)."""
        if not ready:
            self.sliders.set_labels([], [])
            return
        self._show_sliders([f"{prefix}{i + 1} ({100 * e:.0f}%)" for i, e in enumerate(explained)], alphas)

    def _show_sliders(self, labels: list[str], values: list[float]) -> None:
        """Move the bank to `values`, rebuilt only when its size changes (a drag keeps its slider)."""
        if len(self.sliders.sliders) == len(labels):
            self.sliders.set_values(values)
        else:
            self.sliders.set_labels(labels, values)

    def _mode_changed(self, _index: int) -> None:
        # Rebuild the bank for the new page (a page may have the same size with other names).
        self.sliders.set_labels([], [])
        self.session.rebase()
        if self._edit_mode() is not None:
            self._compute_space_directions()
        elif self._page() is None and self.session.directions is None:
            self._compute_directions()

    def _slider_moved(self, index: int, value: float) -> None:
        page = self._page()
        self._from_sliders = True
        try:
            if self._edit_mode() is not None:
                self.session.move_edit(index, value)
            elif page is None:
                self.session.move_direction(index, value)
            else:
                self.session.move_dimension(page[0] + index, value)
        finally:
            self._from_sliders = False

    def _compute_space_directions(self) -> None:
        """Principal directions of the chosen declared space for its sliders (the model's own, seeded:
        cached by the renderer); they apply to the chosen group when they arrive."""
        space, group = self._edit_mode()
        label = self.session.label if self.session.num_classes else None
        self._edit_request = (space, group)
        self.status.emit(f"computing {self.k_spin.value()} principal directions of {self.session.space(space).label}...")
        self.scope.submit("space-directions", SpaceDirections(space, k=self.k_spin.value(), label=label))

    def _compute_directions(self) -> None:
        if self._edit_mode() is not None:
            self._compute_space_directions()
            return
        if not self._uses_directions():
            return
        if self._full_decode_ms is None:
            self._directions_wait = True        # computed once the model's first full image is shown
            return
        k = self.k_spin.value()
        preview = self._preview_options()
        samples = DIRECTION_SAMPLES if preview is None else DIRECTION_SAMPLES_PREVIEW
        if self._full_decode_ms:
            # A slow model's directions take about DIRECTIONS_BUDGET_MS (previews cost about a third
            # of a full decode), from at least 32 samples: 1024 px StyleGAN2 decodes cost seconds.
            samples = min(samples, max(32, int(3 * DIRECTIONS_BUDGET_MS / self._full_decode_ms)))
        options = dict(self.session.decode_options) if preview is None else preview
        self.status.emit(f"computing {k} principal directions of the generator ({samples} decodes"
                         f"{' at the preview settings' if preview else ''})...")
        self.scope.submit("directions", PrincipalDirections(k=k, samples=samples, options=options,
                                                            checkpoint=self.info.path))

    # --- rendering ------------------------------------------------------------------------------
    def render(self, full: bool = False) -> None:
        """Decode the current latent: a preview first (restarting the rest timer) when the family
        has preview settings and `full` is not asked, else the full decode."""
        if self.info is None:
            return
        if self.translating() and not self._source_current():
            self._resolve_source()          # the session's source image is shown when it is made
            return
        image = self.session.current_image()
        preview = None if full else self._preview_options(image.options)
        if preview is not None:
            self._submit_image("preview", preview, image, traced=self._dragging)
            self._full_timer.start()
            return
        self._full_timer.stop()
        if self._dragging and not full:
            self._submit_image("drag", image.options, image, traced=True)
            return
        self._submit_image("full", image.options, image)
        if self.neighbours_check.isChecked() and not self.translating():
            self.render_neighbours()

    def _drag_ended(self) -> None:
        self._dragging = False
        if self._image_request[0] == "drag":
            self.render(full=True)          # the image at rest: the eager decode, as every view draws it

    def _submit_image(self, kind: str, options: dict, image: CurrentImage, traced: bool = False) -> None:
        """Decode the session's current image with `options`: its own, or a
        preview's cheaper ones; `traced`: by a frozen graph once the decode repeats."""
        z, labels, full = image.latent, image.labels, image.options
        # The renderer delivers only the newest request of a channel: the result is this one's.
        self._image_request = (kind, options, full)
        if self.translating():
            # The style code is the latent (a one-to-one model ignores it); the direction a decode setting.
            request = TranslateImage(image.options["source"], int(options.get("direction", 0)), z, traced=traced,
                                     round_trip=kind != "drag")
        elif self.info.is_points:
            request = DecodePoint(z, labels, options)
        elif self.info.has(Capability.SEQUENTIAL_DECODE):
            request = DecodeRows(z, labels, options)         # shown row by row as it is drawn
        else:
            request = Decode(z, labels, options, traced=traced)
        self.scope.submit("image", request)
        self._drawn_rows = None
        self.track_decode("image", "the image")
        self.imageRequested.emit(kind)

    def caption(self, kind: str, options: dict, full: dict, ms: float) -> str:
        """What the image shows: "preview: 2 of 20 sampling steps" or "20 sampling steps", and the time."""
        previewed = [s for s in self.info.decode_settings
                     if s.key in self.info.preview_options() and self._previewing(s.key)] if self.info else []
        if not previewed:
            return f"decode {ms:.1f} ms"
        value = lambda s, v: s.choices[int(v)] if s.choices else f"{v:g}"       # "1/8", or 20 (steps)
        if kind == "preview":
            parts = [f"{value(s, options[s.key])} of {value(s, full[s.key])} {s.label.lower()}" for s in previewed]
            return f"preview: {', '.join(parts)} \u00b7 decode {ms:.1f} ms"
        return f"{', '.join(f'{value(s, options[s.key])} {s.label.lower()}' for s in previewed)} \u00b7 decode {ms:.1f} ms"

    def render_strip(self) -> None:
        if self.info is None or not self.session.has_path or self.info.is_points:
            return
        frames = self.session.path_latents()
        if self.translating():          # the input translated with each frame's style code
            if self._source_current():      # else the strip follows when the source is made
                direction = int(self.session.decode_options.get("direction", 0))
                self.scope.submit("strip", TranslateStrip(self.session.source, frames, direction))
            return
        self.scope.submit("strip", Decode(frames, self.session.path_labels(len(frames)),
                                             self.session.decode_options_with_edit()))

    def render_neighbours(self) -> None:
        if self.info is None or self.info.is_points:
            self.neighbour_label.setText("Nearest neighbours are for image models.")
            self.bound_neighbours.show(self.scope.generation)
            return
        image = self.session.current_image()        # the query is the image shown, its edit and all
        self.scope.submit("neighbours", NearestImages(image.latent, image.labels, self.info.data_source or "mnist",
                                                         options=image.options))

    def _on_partial(self, channel: str, part) -> None:
        """A row-by-row decode's image so far: (row, rows, images (1, C, H, W))."""
        if channel != "image":
            return
        row, rows, images = part
        self._drawn_rows = (row + 1, rows)
        self.image_view.set_array(images[0])
        self.bound_image.show(self.scope.made_for(channel))
        self.timing.setText(f"drawing: row {row + 1} of {rows}")

    def _on_done(self, channel: str, result, ms: float) -> None:
        self._end_decode(channel)
        if channel == "image":
            self.last_decode_ms = ms
            if isinstance(result, TranslationView):
                self._show_translation(result, ms)
            elif self.info is not None and self.info.is_points:
                cloud, point = result
                self.last_image = None
                self.image_view.set_array(np.asarray(points_image(cloud, size=420, highlight=point)))
            else:
                self.last_image = result[0]
                self.image_view.set_array(result[0])
            kind, options, full = self._image_request
            self.last_image_kind = kind
            if kind == "full":
                self._full_decode_ms = ms if self._full_decode_ms is None else min(ms, self._full_decode_ms)
                if self._directions_wait:
                    self._directions_wait = False
                    self._compute_directions()
            if not isinstance(result, TranslationView):
                self.timing.setText(self.caption(kind, options, full, ms))
            self.bound_image.show(self.scope.made_for(channel))
            self.imageRendered.emit(kind)
        elif channel == "strip":
            self.last_strip = result
            self.strip_view.set_array(np.asarray(grid_image(result, cols=len(result), padding=1)))
            self.bound_strip.show(self.scope.made_for(channel))
            names = [self.label_combo.itemText(i) for i in (self.session.a_label, self.session.b_label)]
            classes = f" \u00b7 class {names[0]} \u2192 {names[1]}" if self.session.num_classes else ""
            self.strip_timing.setText(f"{len(result)} frames, {ms / len(result):.2f} ms per image{classes}")
            self.strip_timing.setToolTip(f"{len(result)} frames decoded in {ms:.1f} ms")
        elif channel == "source":
            source, count = result
            key, self._resolving = self._resolving, None
            self.translation_input.set_count(count)
            if key == self._source_key():
                self._adopt_source(source, key)
            else:
                self._resolve_source()          # the choice moved on while this one was read
        elif channel == "space-directions":
            directions, explained = result
            space, group = self._edit_mode() or self._edit_request
            self.session.set_edit_directions(space, group, directions, explained.numpy())
            self.status.emit(f"{len(directions)} principal directions of {self.session.space(space).label} "
                             f"explain {100 * float(explained.sum()):.0f}% of its variance")
        elif channel == "directions":
            directions, explained = result
            self.session.set_directions(directions, explained)
            self.status.emit(f"{len(directions)} principal directions explain "
                             f"{100 * float(explained.sum()):.0f}% of the output variance")
        elif channel == "neighbours":
            row = np.concatenate([result.image[None], result.found])
            self.neighbour_view.set_array(np.asarray(grid_image(row, cols=len(row), padding=2, pad_value=0.5)))
            self.bound_neighbours.show(self.scope.made_for(channel))
            self.neighbour_label.setText(
                f"Left: this sample. Then its {len(result.found)} nearest images in {result.source} "
                f"(pixel L2: {', '.join(f'{d:.2f}' for d in result.distances)})")

    def _on_failed(self, channel: str, message: str) -> None:
        self._end_decode(channel)
        if channel == "source":
            self._resolving = None
        if channel in ("image", "source"):  # the reason in the image's place (NaN output is not drawn black)
            self.last_image = None
            self.image_view.show_message(message)
            self.bound_image.show(self.scope.made_for(channel))
        elif channel == "strip":
            self.strip_view.show_message(message)
        if channel == "neighbours":
            self.neighbour_label.setText(f"No neighbours: {message}")
            self.bound_neighbours.show(self.scope.made_for(channel))
        if channel in ("image", "strip", "directions", "space-directions", "neighbours"):
            self.status.emit(f"{channel}: {message}")

    # --- translation models ------------------------------------------------------------------------
    def _show_translation(self, view: TranslationView, ms: float) -> None:
        """input | translation | round trip side by side (the image "as shown"), the cycle error below.
        A held slider's image has no round trip of its own: the last one stands in, faded towards the
        grey between the panels, until the hand lets go."""
        held = view.round_trip_left_out
        if held:
            rest = self._rest_round_trip
            faded = np.full_like(view.input, 0.5) if rest is None or rest.shape != view.input.shape else \
                0.5 + 0.3 * (rest - 0.5)
            view = dataclasses.replace(view, round_trip=faded)
        elif view.round_trip is not None:
            self._rest_round_trip = view.round_trip
        self.last_translation = view
        self.last_image = view.picture()                       # (C, H + 4, 3 (W + 2) + 2)
        self.image_view.set_array(self.last_image)
        self.translation_input.set_name(view.name, has_output=True)
        direction = DIRECTIONS[view.direction]
        if held:
            self.timing.setText(f"input | {direction} | round trip when you let go \u00b7 decode {ms:.1f} ms")
            self.timing.setToolTip("While a slider is held only the translation is decoded; the round trip "
                                   "and its cycle error follow when it is released")
        elif view.cycle_error is None:
            self.timing.setText(f"input | {direction} \u00b7 decode {ms:.1f} ms")
            self.timing.setToolTip("The input and its translation (the model has no way back: no round trip)")
        else:
            self.timing.setText(f"input | {direction} | round trip \u00b7 cycle error {view.cycle_error:.4f} "
                                f"\u00b7 decode {ms:.1f} ms")
            self.timing.setToolTip("The input, its translation, and the translation translated back; the cycle "
                                   "error is the mean |input \u2212 round trip| over the pixels, in [0, 1] units")
        # A single public generator has no B -> A; a one-to-one model's latent changes nothing.
        box = self.option_boxes.get("direction")
        if box is not None:
            box.setEnabled(view.directions == 2)
        self.latent_box.setVisible(view.style_dim > 0)
        self.interpolation_box.setVisible(view.style_dim > 0)

    def _source_key(self) -> tuple:
        return self.translation_input.chosen(), int(self.session.decode_options.get("direction", 0))

    def source_pending(self) -> bool:
        """Whether a translation model's input is still being made into the session's source."""
        return self.translating() and not self._source_current()

    def _source_current(self) -> bool:
        """Whether the session's source image is the input box's choice in the chosen direction."""
        made = self._source_for
        return made is not None and made[1] is self.session.source and made[0] == self._source_key()

    def _resolve_source(self) -> None:
        """Make the input box's choice the session's source: a given image at once, a data image or
        a file read by the renderer (channel "source")."""
        key = self._source_key()
        chosen, direction = key
        if isinstance(chosen, SourceImage):
            self._adopt_source(chosen, key)
        elif self._resolving != key:
            self._resolving = key
            self.scope.submit("source", ResolveSource(chosen, direction))

    def _adopt_source(self, source: SourceImage, key: tuple) -> None:
        """The session's source is `source`, made for `key`: its latent event renders the image
        (when it is another image), and the strip follows."""
        same = source.same_as(self.session.source)
        if same:
            source = self.session.source
        self._source_for = (key, source)
        if same:
            self.render(full=True)
        else:
            self.session.set_source(source)
        self.render_strip()

    def _translation_input_changed(self) -> None:
        self.render(full=True)

    def use_output_as_input(self) -> None:
        """The translation shown becomes the input, and the direction turns round (a model with two
        directions), so the other generator translates it."""
        view = self.last_translation
        if view is None or not self.translating():
            return
        self.translation_input.take_output(SourceImage.of(view.translation,
                                                          f"the {DIRECTIONS[view.direction]} output of {view.name}"))
        if view.directions == 2 and "direction" in self.session.decode_options:
            self.session.set_decode_option("direction", 1 - view.direction)    # its settings event renders
        else:
            self._translation_input_changed()

    def take_image(self, path) -> bool:
        """An image file as a translation model's input; False for other models (not taken)."""
        if not self.translating():
            return False
        self.translation_input.take_file(path)
        return True

    @staticmethod
    def _dropped_image(event) -> str | None:
        from genstudio.ui.main_window import IMAGE_SUFFIXES      # imported here: the window imports this panel

        urls = [u for u in event.mimeData().urls() if u.isLocalFile()] if event.mimeData().hasUrls() else []
        path = urls[0].toLocalFile() if urls else ""
        return path if path and path.lower().endswith(tuple(IMAGE_SUFFIXES)) else None

    def dragEnterEvent(self, event) -> None:
        # Only a translation model takes images here; anything else goes on to the window (it opens models).
        if self.translating() and self._dropped_image(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        path = self._dropped_image(event)
        if path and self.take_image(path):
            event.acceptProposedAction()
        else:
            event.ignore()

    # --- cancelling long decodes -----------------------------------------------------------------
    def track_decode(self, channel: str, what: str) -> None:
        """A renderer request on `channel` that may take long: the Cancel button (and Escape) stops it
        if it is still running after CANCEL_SHOWN_AFTER_MS. Its done or failed signal ends it."""
        self._long_decodes[channel] = what
        self.cancel_action.setEnabled(True)
        if not self.cancel_button.isVisible() and not self._cancel_timer.isActive():
            self._cancel_timer.start()

    def _end_decode(self, channel: str) -> None:
        if self._long_decodes.pop(channel, None) is not None and not self._long_decodes:
            self._forget_decodes()

    def _forget_decodes(self) -> None:
        self._long_decodes.clear()
        self._cancel_timer.stop()
        self.cancel_button.setVisible(False)
        self.cancel_action.setEnabled(False)

    def cancel_decodes(self) -> None:
        """Cancel every long decode in flight: the renderer drops their requests, and a sampler or a
        PixelCNN stops at its next step or row (render_requests.py: should_stop)."""
        cancelled = dict(self._long_decodes)
        for channel in cancelled:
            self.renderer.cancel(channel)
        self._forget_decodes()
        if "image" in cancelled:
            self._full_timer.stop()         # a preview's full decode must not follow a cancel
            drawn = self._drawn_rows
            self.timing.setText(f"cancelled at row {drawn[0]} of {drawn[1]}" if drawn else "decode cancelled")
        others = [what for channel, what in cancelled.items() if channel != "image"]
        if others:
            self.status.emit(f"cancelled {', '.join(others)}")

    # --- interpolation --------------------------------------------------------------------------
    def _t_moved(self, ticks: int) -> None:
        t = ticks / 1000
        self.t_label.setText(f"t = {t:.2f}")
        self.session.set_t(t)

    # --- the latent record ----------------------------------------------------------------------
    def load_latent_json(self, path) -> None:
        from genstudio.core.explore.explore_session import read_latent_record

        record = read_latent_record(path, self.session.latent_dim, self.session.latent_spaces)
        if "decode_options" in record and self.info is not None:
            record["decode_options"] = self.info.check_decode_options(record["decode_options"], str(path))
        self.session.apply_record(record)
