"""The Explore panel: one generated image driven by latent sliders, A<->B interpolation, nearest
training images, and exports. All model work goes through the Renderer (worker thread)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QSlider, QSpinBox, QDoubleSpinBox, QVBoxLayout,
                               QWidget)

from genstudio.core.export import grid_image, points_image, save_gif, save_grid, save_strip
from genstudio.core.latent import lerp, path as latent_path, principal_directions, slerp
from genstudio.core.neighbours import NearestNeighbours
from genstudio.core.open_model import OpenedModel
from genstudio.ui.render_worker import Renderer
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.latent_sliders import LatentSliders
from genstudio.ui.widgets.readout import Readout

DIRECT_LIMIT = 32        # latents up to this size get one slider per dimension by default
PAGE = 16                # dimension sliders per page for larger latents
POINT_CLOUD = 2000       # samples drawn behind the current point of a 2-D toy model


def _decode_images(model, z: torch.Tensor, labels: torch.Tensor | None) -> np.ndarray:
    """Worker-side decode: (n, D) latents -> (n, *data_shape) float32 numpy."""
    z = z.view(len(z), *model.latent_shape).to(model.device)
    if labels is not None:
        labels = labels.to(model.device)
    return model.decode(z, labels).float().cpu().numpy()


class ExplorePanel(QWidget):
    status = Signal(str)
    latentChanged = Signal()

    def __init__(self, renderer: Renderer, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.opened: OpenedModel | None = None
        self.z = torch.zeros(1)                       # (D,) the current latent, source of truth
        self.base = torch.zeros(1)                    # (D,) origin of principal-direction moves
        self.directions: torch.Tensor | None = None   # (k, D) unit directions
        self.explained: np.ndarray | None = None
        self.alphas: list[float] = []
        self.a: torch.Tensor | None = None
        self.b: torch.Tensor | None = None
        self.last_image: np.ndarray | None = None     # (C, H, W) floats of the shown sample
        self.last_strip: np.ndarray | None = None     # (frames, C, H, W)
        self.last_decode_ms = 0.0
        self._neighbours: NearestNeighbours | None = None
        self._neighbour_source: str | None = None
        self._point_cloud: np.ndarray | None = None
        self._build()
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
        self.seed.valueChanged.connect(lambda _: self.reset_latent())
        randomise = QPushButton("Randomise")
        randomise.clicked.connect(self.randomise)
        reset = QPushButton("Reset")
        reset.setToolTip("Back to the seed's latent, all slider moves undone")
        reset.clicked.connect(self.reset_latent)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.05, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip("Scale of random latents (a flow's sampling temperature)")
        self.temperature.valueChanged.connect(lambda _: self.reset_latent())
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("Class to generate (class-conditional models)")
        self.label_combo.currentIndexChanged.connect(lambda _: self.render())
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
        set_a.clicked.connect(lambda: self.set_endpoint("a"))
        set_b = QPushButton("B = current")
        set_b.clicked.connect(lambda: self.set_endpoint("b"))
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
        self.slerp.toggled.connect(lambda _: (self._t_moved(self.t_slider.value()), self.render_strip()))
        self.frames = QSpinBox()
        self.frames.setRange(2, 64)
        self.frames.setValue(10)
        self.frames.setToolTip("Frames in the strip, the exported strip and the GIF")
        self.frames.valueChanged.connect(lambda _: self.render_strip())
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
    @property
    def model(self):
        return self.opened.model if self.opened else None

    def set_model(self, opened: OpenedModel, keep_latent: bool = False) -> None:
        """Show `opened`; keep the current latent when it fits (e.g. a fresher training snapshot)."""
        same_shape = self.model is not None and self.model.latent_dim == opened.model.latent_dim
        previous = self.opened
        self.opened = opened
        self.renderer.set_model(opened.model)
        self.setEnabled(True)
        model = opened.model
        name = opened.header.get("preset", "")
        self.model_label.setText(f"<b>{opened.path.name}</b> — {model.family} {name}, latent "
                                 f"{model.latent_dim}-D, output {' x '.join(map(str, model.data_shape))}")
        self._point_cloud = None
        if previous is None or previous.path != opened.path:
            self._neighbours = None
        labels = opened.label_names
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        if model.num_classes:
            self.label_combo.addItems(labels or [str(i) for i in range(model.num_classes)])
        self.label_combo.blockSignals(False)
        self.label_combo.setVisible(bool(model.num_classes))
        self.label_caption.setVisible(bool(model.num_classes))
        if keep_latent and same_shape:
            if self.directions is not None and self.slider_mode.currentIndex() == 0 and self._uses_directions():
                self._compute_directions()
            self.render()
            self.render_strip()
            return
        self.a = self.b = None
        self.directions = None
        self._fill_modes()
        self.reset_latent()

    def _uses_directions(self) -> bool:
        return self.model is not None and self.model.latent_dim > DIRECT_LIMIT

    def _fill_modes(self) -> None:
        d = self.model.latent_dim
        self.slider_mode.blockSignals(True)
        self.slider_mode.clear()
        if self._uses_directions():
            self.slider_mode.addItem("Principal directions")
        for start in range(0, d, PAGE if d > DIRECT_LIMIT else d):
            stop = min(start + (PAGE if d > DIRECT_LIMIT else d), d)
            self.slider_mode.addItem(f"Dimensions {start + 1}\u2013{stop}", (start, stop))
        self.slider_mode.blockSignals(False)
        self.k_spin.setVisible(self._uses_directions())

    def _page(self) -> tuple[int, int] | None:
        return self.slider_mode.currentData()

    # --- latent state ---------------------------------------------------------------------------
    def seeded_latent(self, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return torch.randn(self.model.latent_dim, generator=g) * self.temperature.value()

    def reset_latent(self) -> None:
        if self.model is None:
            return
        self.set_latent(self.seeded_latent(self.seed.value()))

    def randomise(self) -> None:
        self.seed.setValue(random.randrange(2**31 - 1))  # valueChanged resets the latent

    def set_latent(self, z: torch.Tensor, render: bool = True) -> None:
        """Make `z` (D,) current: dimension sliders show it, principal sliders restart from it."""
        self.z = z.detach().reshape(-1).float().clone()
        self.base = self.z.clone()
        self.alphas = [0.0] * (0 if self.directions is None else len(self.directions))
        if self._uses_directions() and self.slider_mode.currentIndex() == 0 and self.directions is None:
            self._compute_directions()
        self._refresh_sliders()
        self.latentChanged.emit()
        if render:
            self.render()

    def current_latent(self) -> torch.Tensor:
        return self.z.clone()

    def current_labels(self, n: int = 1) -> torch.Tensor | None:
        if not self.model.num_classes:
            return None
        return torch.full((n,), max(self.label_combo.currentIndex(), 0), dtype=torch.long)

    def _refresh_sliders(self) -> None:
        page = self._page()
        if page is None:  # principal directions
            if self.directions is None:
                self.sliders.set_labels([], [])
                return
            labels = [f"PC{i + 1} ({100 * e:.0f}%)" for i, e in enumerate(self.explained)]
            self.sliders.set_labels(labels, self.alphas)
        else:
            start, stop = page
            self.sliders.set_labels([f"z{i + 1}" for i in range(start, stop)], self.z[start:stop].tolist())

    def _mode_changed(self, _index: int) -> None:
        self.base = self.z.clone()
        self.alphas = [0.0] * (0 if self.directions is None else len(self.directions))
        if self._page() is None and self.directions is None:
            self._compute_directions()
        self._refresh_sliders()

    def _slider_moved(self, index: int, value: float) -> None:
        page = self._page()
        if page is None:
            self.alphas[index] = value
            alphas = torch.tensor(self.alphas)
            self.z = self.base + alphas @ self.directions              # (D,)
        else:
            self.z[page[0] + index] = value
        self.latentChanged.emit()
        self.render()

    def _compute_directions(self) -> None:
        if not self._uses_directions():
            return
        k = self.k_spin.value()
        d = self.model.latent_dim
        self.status.emit(f"computing {k} principal directions of the generator...")

        def work(model):
            decode = lambda z: model.decode(z.view(len(z), *model.latent_shape).to(model.device)).float().cpu()
            return principal_directions(decode, d, k=k, samples=1024, seed=0)

        self.renderer.submit("directions", work)

    # --- rendering ------------------------------------------------------------------------------
    def render(self) -> None:
        if self.model is None:
            return
        z = self.z.view(1, -1).clone()
        labels = self.current_labels()
        if self.model.is_points:
            cloud = self._point_cloud

            def work(model):
                nonlocal cloud
                if cloud is None:
                    g = torch.Generator().manual_seed(0)
                    cloud = _decode_images(model, torch.randn(POINT_CLOUD, model.latent_dim, generator=g), None)
                point = _decode_images(model, z, labels)
                return cloud, point
        else:
            def work(model):
                return _decode_images(model, z, labels)
        self.renderer.submit("image", work)
        if self.neighbours_check.isChecked():
            self.render_neighbours()

    def render_strip(self) -> None:
        if self.model is None or self.a is None or self.b is None or self.model.is_points:
            return
        frames = latent_path(self.a, self.b, self.frames.value(), self.slerp.isChecked())
        labels = self.current_labels(len(frames))
        self.renderer.submit("strip", lambda model: _decode_images(model, frames, labels))

    def render_neighbours(self) -> None:
        if self.model is None or self.model.is_points:
            self.neighbour_label.setText("Nearest neighbours are for image models.")
            return
        z, labels = self.z.view(1, -1).clone(), self.current_labels()
        header = self.opened.header

        def work(model):
            if self._neighbours is None:
                from genstudio.core.data.spec import load_dataset
                spec = (header.get("data") or {}).get("source") or "mnist"
                data = load_dataset(spec)
                if tuple(data.shape) != tuple(model.data_shape):
                    raise ValueError(f"the training data {spec} has shape {data.shape}, the model makes {model.data_shape}")
                self._neighbours, self._neighbour_source = NearestNeighbours(data.data), data.name
            image = _decode_images(model, z, labels)[0]
            index, distances = self._neighbours.query(torch.from_numpy(image), k=6)
            found = self._neighbours.data[index].view(-1, *self._neighbours.shape).numpy()
            return image, found, distances.numpy()

        self.renderer.submit("neighbours", work)

    def _on_done(self, channel: str, result, ms: float) -> None:
        if channel == "image":
            self.last_decode_ms = ms
            if self.model is not None and self.model.is_points:
                self._point_cloud, point = result
                self.last_image = None
                self.image_view.set_image(None)
                picture = points_image(self._point_cloud, size=420, highlight=point)
                self.image_view.set_array(np.asarray(picture))
            else:
                self.last_image = result[0]
                self.image_view.set_array(result[0])
            self.timing.setText(f"decode {ms:.1f} ms")
        elif channel == "strip":
            self.last_strip = result
            self.strip_view.set_array(np.asarray(grid_image(result, cols=len(result), padding=1)))
            self.strip_timing.setText(f"{len(result)} frames in {ms:.1f} ms ({ms / len(result):.2f} ms per image)")
        elif channel == "directions":
            self.directions, self.explained = result
            self.base = self.z.clone()
            self.alphas = [0.0] * len(self.directions)
            self._refresh_sliders()
            self.status.emit(f"{len(self.directions)} principal directions explain "
                             f"{100 * float(self.explained.sum()):.0f}% of the output variance")
        elif channel == "neighbours":
            image, found, distances = result
            row = np.concatenate([image[None], found])
            self.neighbour_view.set_array(np.asarray(grid_image(row, cols=len(row), padding=2, pad_value=0.5)))
            self.neighbour_label.setText(
                f"Left: this sample. Then its {len(found)} nearest images in {self._neighbour_source} "
                f"(pixel L2: {', '.join(f'{d:.2f}' for d in distances)})")

    def _on_failed(self, channel: str, message: str) -> None:
        if channel == "neighbours":
            self.neighbour_label.setText(f"No neighbours: {message}")
        self.status.emit(f"{channel}: {message}")

    # --- interpolation --------------------------------------------------------------------------
    def set_endpoint(self, which: str, z: torch.Tensor | None = None) -> None:
        z = self.current_latent() if z is None else z.reshape(-1).float()
        setattr(self, which, z)
        if self.a is None:
            self.a = z.clone()
        if self.b is None:
            self.b = z.clone()
        self.render_strip()

    def randomise_endpoints(self) -> None:
        seed = random.randrange(2**31 - 1)
        self.a, self.b = self.seeded_latent(seed), self.seeded_latent(seed + 1)
        self.t_slider.setValue(0)
        self._t_moved(0)
        self.render_strip()

    def _t_moved(self, ticks: int) -> None:
        t = ticks / 1000
        self.t_label.setText(f"t = {t:.2f}")
        if self.a is None or self.b is None:
            return
        z = (slerp if self.slerp.isChecked() else lerp)(self.a, self.b, t)
        self.set_latent(z)

    def interpolation_frames(self, frames: int | None = None) -> np.ndarray:
        """Decode the A->B path synchronously: (frames, C, H, W) for export."""
        frames = frames or self.frames.value()
        path = latent_path(self.a, self.b, frames, self.slerp.isChecked())
        return _decode_images(self.model, path, self.current_labels(frames))

    # --- exports --------------------------------------------------------------------------------
    def export_grid(self, path: str | Path, rows: int, cols: int, seed: int, padding: int = 2,
                    scale: int = 1) -> Path:
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(rows * cols, self.model.latent_dim, generator=g) * self.temperature.value()
        labels = self.current_labels(rows * cols)
        images = _decode_images(self.model, z, labels)
        if self.model.is_points:
            from genstudio.core.export import save_png
            return save_png(points_image(images), path)
        return save_grid(images, path, cols=cols, padding=padding, scale=scale)

    def export_strip(self, path: str | Path, scale: int = 1) -> Path:
        return save_strip(self.interpolation_frames(), path, padding=2, scale=scale)

    def export_gif(self, path: str | Path, frames: int = 24, frame_ms: int = 80, scale: int = 4,
                   boomerang: bool = True) -> Path:
        return save_gif(self.interpolation_frames(frames), path, frame_ms=frame_ms, scale=scale,
                        boomerang=boomerang)

    def latent_record(self) -> dict:
        """Everything needed to reproduce what is shown (saved as JSON)."""
        record = {"checkpoint": str(self.opened.path), "family": self.model.family,
                  "latent_shape": list(self.model.latent_shape), "seed": self.seed.value(),
                  "temperature": self.temperature.value(), "latent": self.z.tolist()}
        if self.model.num_classes:
            record["label"] = self.label_combo.currentIndex()
        if self.a is not None and self.b is not None:
            record["interpolation"] = {"a": self.a.tolist(), "b": self.b.tolist(),
                                       "t": self.t_slider.value() / 1000, "spherical": self.slerp.isChecked(),
                                       "frames": self.frames.value()}
        return record

    def save_latent_json(self, path: str | Path) -> Path:
        from genstudio.core.atomic import write_bytes_atomic
        return write_bytes_atomic(path, json.dumps(self.latent_record(), indent=1).encode())

    def load_latent_json(self, path: str | Path) -> None:
        record = json.loads(Path(path).read_text())
        z = torch.tensor(record["latent"], dtype=torch.float32)
        if z.numel() != self.model.latent_dim:
            raise ValueError(f"{path}: a latent of {z.numel()} values, the model takes {self.model.latent_dim}")
        if "interpolation" in record:
            self.a = torch.tensor(record["interpolation"]["a"])
            self.b = torch.tensor(record["interpolation"]["b"])
            self.slerp.setChecked(record["interpolation"]["spherical"])
        self.set_latent(z)
        self.render_strip()
