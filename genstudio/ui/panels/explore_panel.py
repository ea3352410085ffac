"""The Explore panel: one generated image driven by latent sliders, A<->B interpolation and the
nearest training images. Its state is a Qt-free `ExploreSession` the panel observes; all model work
is a request to the Renderer, which owns the model."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QSlider, QSpinBox, QDoubleSpinBox, QVBoxLayout,
                               QWidget)

from genstudio.core.explore_session import ExploreSession
from genstudio.core.export import grid_image, points_image
from genstudio.core.open_model import ModelInfo
from genstudio.core.render_requests import Decode, DecodePoint, NearestImages, PrincipalDirections
from genstudio.ui.render_worker import Renderer
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.latent_sliders import LatentSliders
from genstudio.ui.widgets.readout import Readout

DIRECT_LIMIT = 32        # latents up to this size get one slider per dimension by default
PAGE = 16                # dimension sliders per page for larger latents


class ExplorePanel(QWidget):
    status = Signal(str)
    latentChanged = Signal()             # the session's latent moved (any cause)

    def __init__(self, renderer: Renderer, session: ExploreSession | None = None, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.session = session or ExploreSession()
        self.info: ModelInfo | None = None
        self.last_image: np.ndarray | None = None     # (C, H, W) floats of the shown sample
        self.last_strip: np.ndarray | None = None     # (frames, C, H, W)
        self.last_decode_ms = 0.0
        self._from_sliders = False                    # a latent change made by the slider bank itself
        self._build()
        events = self.session.events
        events.latent.connect(self._latent_changed)
        events.directions.connect(lambda s: self._refresh_sliders())
        events.path.connect(self._path_changed)
        events.settings.connect(self._settings_changed)
        renderer.done.connect(self._on_done)
        renderer.failed.connect(self._on_failed)
        self.setEnabled(False)

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.image_view = ImageView(placeholder="Open a checkpoint to explore it", min_size=280)
        self.image_view.setObjectName("explore-image")
        self.timing = Readout("decode 9999.9 ms")
        self.timing.setObjectName("frame-time")
        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)

        # Latent controls
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
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.sliders)
        scroll.setMinimumWidth(300)

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
        grid.addWidget(QLabel("Sliders"), 2, 0)
        grid.addWidget(self.slider_mode, 2, 1, 1, 2)
        grid.addWidget(self.k_spin, 2, 3)
        grid.addWidget(scroll, 3, 0, 1, 4)

        # Interpolation
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
        self.slerp.setToolTip("Follow the great circle between A and B: Gaussian latents keep their norm")
        self.slerp.toggled.connect(self.session.set_spherical)
        self.frames = QSpinBox()
        self.frames.setRange(2, 64)
        self.frames.setValue(self.session.frames)
        self.frames.setToolTip("Frames in the strip, the exported strip and the GIF")
        self.frames.valueChanged.connect(self.session.set_frames)
        self.strip_view = ImageView(placeholder="Set A and B to see the path", min_size=48)
        self.strip_view.setObjectName("interpolation-strip")
        self.strip_view.setMinimumHeight(70)
        self.strip_timing = Readout("64 frames in 99999.9 ms (9999.99 ms per image)")
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
        ilay.addWidget(self.strip_timing, 3, 0, 1, 6)

        # Nearest training images
        self.neighbours_check = QCheckBox("Show the nearest training images (memorisation check)")
        self.neighbours_check.toggled.connect(lambda on: (self.neighbour_view.setVisible(on),
                                                          self.neighbour_label.setVisible(on),
                                                          on and self.render_neighbours()))
        self.neighbour_view = ImageView(min_size=40)
        self.neighbour_view.setObjectName("neighbours")
        self.neighbour_view.setMinimumHeight(64)
        self.neighbour_view.setVisible(False)
        self.neighbour_label = QLabel("")
        self.neighbour_label.setWordWrap(True)
        self.neighbour_label.setVisible(False)
        nn_box = QGroupBox("Nearest neighbours")
        nlay = QVBoxLayout(nn_box)
        nlay.addWidget(self.neighbours_check)
        nlay.addWidget(self.neighbour_view)
        nlay.addWidget(self.neighbour_label)

        left = QVBoxLayout()
        left.addWidget(self.model_label)
        left.addWidget(self.image_view, 3)
        left.addWidget(self.timing)
        left.addWidget(interp_box, 1)
        right = QVBoxLayout()
        right.addWidget(latent_box, 3)
        right.addWidget(nn_box, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    # --- model ----------------------------------------------------------------------------------
    def set_model(self, info: ModelInfo, keep_latent: bool = False) -> None:
        """Show the model the renderer now holds; keep the latent when it fits (a fresher snapshot)."""
        previous = self.info
        self.info = info
        self.setEnabled(True)
        self.model_label.setText(f"<b>{info.path.name}</b> \u2014 {info.family} {info.card.preset}, latent "
                                 f"{info.latent_dim}-D, output {' x '.join(map(str, info.data_shape))}")
        with QSignalBlocker(self.label_combo):
            self.label_combo.clear()
            if info.num_classes:
                self.label_combo.addItems(info.label_names or [str(i) for i in range(info.num_classes)])
        self.label_combo.setVisible(bool(info.num_classes))
        self.label_caption.setVisible(bool(info.num_classes))
        same = keep_latent and previous is not None and previous.latent_dim == info.latent_dim
        if same:
            self.session.configure(info.latent_shape, info.num_classes, info.family, str(info.path), keep_latent=True)
            if self.session.directions is not None and self._page() is None:
                self._compute_directions()
            self.render()
            self.render_strip()
            return
        self._fill_modes()
        self.session.configure(info.latent_shape, info.num_classes, info.family, str(info.path))
        if self._uses_directions():
            self._compute_directions()

    def _uses_directions(self) -> bool:
        return self.info is not None and self.info.latent_dim > DIRECT_LIMIT

    def _fill_modes(self) -> None:
        d = self.info.latent_dim
        self.slider_mode.blockSignals(True)
        self.slider_mode.clear()
        if self._uses_directions():
            self.slider_mode.addItem("Principal directions")
        step = PAGE if d > DIRECT_LIMIT else d
        for start in range(0, d, step):
            stop = min(start + step, d)
            self.slider_mode.addItem(f"Dimensions {start + 1}\u2013{stop}", (start, stop))
        self.slider_mode.blockSignals(False)
        self.k_spin.setVisible(self._uses_directions())

    def _page(self) -> tuple[int, int] | None:
        return self.slider_mode.currentData()

    # --- latent state ---------------------------------------------------------------------------
    def current_latent(self) -> torch.Tensor:
        return self.session.z.clone()

    def set_latent(self, z: torch.Tensor) -> None:
        self.session.set_latent(z)

    def randomise(self) -> None:
        self.session.randomise()

    def randomise_endpoints(self) -> None:
        self.session.randomise_endpoints()

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
        if session.num_classes:
            self.render()
            self.render_strip()

    def _path_changed(self, session: ExploreSession) -> None:
        with QSignalBlocker(self.slerp), QSignalBlocker(self.frames), QSignalBlocker(self.t_slider):
            self.slerp.setChecked(session.spherical)
            self.frames.setValue(session.frames)
            self.t_slider.setValue(int(round(session.t * 1000)))
        self.t_label.setText(f"t = {session.t:.2f}")
        self.render_strip()

    def _refresh_sliders(self) -> None:
        session = self.session
        page = self._page()
        if page is None:  # principal directions
            if session.directions is None:
                self.sliders.set_labels([], [])
                return
            labels = [f"PC{i + 1} ({100 * e:.0f}%)" for i, e in enumerate(session.explained)]
            if len(self.sliders.sliders) == len(labels):
                self.sliders.set_values(session.alphas)
            else:
                self.sliders.set_labels(labels, session.alphas)
        else:
            start, stop = page
            values = session.z[start:stop].tolist()
            if len(self.sliders.sliders) == stop - start:
                self.sliders.set_values(values)
            else:
                self.sliders.set_labels([f"z{i + 1}" for i in range(start, stop)], values)

    def _mode_changed(self, _index: int) -> None:
        # Rebuild the bank for the new page (a page may have the same size with other names).
        self.sliders.set_labels([], [])
        self.session.rebase()
        if self._page() is None and self.session.directions is None:
            self._compute_directions()

    def _slider_moved(self, index: int, value: float) -> None:
        page = self._page()
        self._from_sliders = True
        try:
            if page is None:
                self.session.move_direction(index, value)
            else:
                self.session.move_dimension(page[0] + index, value)
        finally:
            self._from_sliders = False

    def _compute_directions(self) -> None:
        if not self._uses_directions():
            return
        k = self.k_spin.value()
        self.status.emit(f"computing {k} principal directions of the generator...")
        self.renderer.submit("directions", PrincipalDirections(k=k))

    # --- rendering ------------------------------------------------------------------------------
    def render(self) -> None:
        if self.info is None:
            return
        z, labels = self.session.z.view(1, -1).clone(), self.session.labels()
        self.renderer.submit("image", DecodePoint(z, labels) if self.info.is_points else Decode(z, labels))
        if self.neighbours_check.isChecked():
            self.render_neighbours()

    def render_strip(self) -> None:
        if self.info is None or not self.session.has_path or self.info.is_points:
            return
        frames = self.session.path_latents()
        self.renderer.submit("strip", Decode(frames, self.session.labels(len(frames))))

    def render_neighbours(self) -> None:
        if self.info is None or self.info.is_points:
            self.neighbour_label.setText("Nearest neighbours are for image models.")
            return
        self.renderer.submit("neighbours", NearestImages(self.session.z.view(1, -1).clone(), self.session.labels(),
                                                         self.info.data_source or "mnist"))

    def _on_done(self, channel: str, result, ms: float) -> None:
        if channel == "image":
            self.last_decode_ms = ms
            if self.info is not None and self.info.is_points:
                cloud, point = result
                self.last_image = None
                self.image_view.set_array(np.asarray(points_image(cloud, size=420, highlight=point)))
            else:
                self.last_image = result[0]
                self.image_view.set_array(result[0])
            self.timing.setText(f"decode {ms:.1f} ms")
        elif channel == "strip":
            self.last_strip = result
            self.strip_view.set_array(np.asarray(grid_image(result, cols=len(result), padding=1)))
            self.strip_timing.setText(f"{len(result)} frames in {ms:.1f} ms ({ms / len(result):.2f} ms per image)")
        elif channel == "directions":
            directions, explained = result
            self.session.set_directions(directions, explained)
            self.status.emit(f"{len(directions)} principal directions explain "
                             f"{100 * float(explained.sum()):.0f}% of the output variance")
        elif channel == "neighbours":
            row = np.concatenate([result.image[None], result.found])
            self.neighbour_view.set_array(np.asarray(grid_image(row, cols=len(row), padding=2, pad_value=0.5)))
            self.neighbour_label.setText(
                f"Left: this sample. Then its {len(result.found)} nearest images in {result.source} "
                f"(pixel L2: {', '.join(f'{d:.2f}' for d in result.distances)})")

    def _on_failed(self, channel: str, message: str) -> None:
        if channel == "neighbours":
            self.neighbour_label.setText(f"No neighbours: {message}")
        if channel in ("image", "strip", "directions", "neighbours"):
            self.status.emit(f"{channel}: {message}")

    # --- interpolation --------------------------------------------------------------------------
    def _t_moved(self, ticks: int) -> None:
        t = ticks / 1000
        self.t_label.setText(f"t = {t:.2f}")
        self.session.set_t(t)

    # --- the latent record ----------------------------------------------------------------------
    def load_latent_json(self, path) -> None:
        from genstudio.core.explore_session import read_latent_record

        self.session.apply_record(read_latent_record(path, self.session.latent_dim))
