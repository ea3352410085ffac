"""The Inspect tab, per family: a flow's exact likelihood (bits/dim histogram with clickable tail,
dropped images, encode->decode round trip, temperature); a GAN's image projection (the latent
whose image is closest to a real one lands in the explorer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
import torch
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QSlider, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

from genstudio.core.data.spec import load_dataset
from genstudio.core.export import grid_image
from genstudio.core.inversion import project_image
from genstudio.core.likelihood import bits_per_dim, image_bits_per_dim, load_image_as
from genstudio.core.open_model import OpenedModel
from genstudio.ui.render_worker import Renderer
from genstudio.ui.task_runner import TaskRunner
from genstudio.ui.widgets.image_view import ImageView

BINS = 40
SHOWN = 24


class InspectPanel(QWidget):
    status = Signal(str)
    pinLatent = Signal(object)

    def __init__(self, renderer: Renderer, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.opened: OpenedModel | None = None
        self.dataset = None
        self.bpd: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.shown_indices: np.ndarray | None = None
        self.dropped_bpd: float | None = None
        self.projection_info: dict | None = None
        self.tasks = TaskRunner(self)
        self.tasks.progress.connect(lambda f, m: self.progress.setValue(int(1000 * f)))
        self.tasks.done.connect(self._task_done)
        self.tasks.failed.connect(lambda m: (self.message.setText(f"<span style='color:#b00020'>{m}</span>"),
                                             self.status.emit(m)))
        renderer.done.connect(self._rendered)
        self._build()

    def _build(self) -> None:
        self.title = QLabel("Open a flow to measure likelihoods, or a GAN to project images into it.")
        self.title.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(QWidget())                   # nothing to inspect
        self.stack.addWidget(self._flow_page())
        self.stack.addWidget(self._gan_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        row = QHBoxLayout()
        row.addWidget(self.progress)
        row.addWidget(self.message, 2)
        layout.addLayout(row)
        layout.addWidget(self.stack, 1)

    # --- flow page ------------------------------------------------------------------------------
    def _flow_page(self) -> QWidget:
        page = QWidget()
        measure = QPushButton("Measure bits/dim of the data set")
        measure.setObjectName("flow-measure")
        measure.clicked.connect(lambda: self.measure_dataset())
        self.hist = pg.PlotWidget(background="w", title="Bits per dimension of each image (click a bar)")
        self.hist.setLabel("bottom", "bits/dim")
        self.hist.setLabel("left", "images")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.1, brush="#1f77b4")
        self.hist.addItem(self.bars)
        self.drop_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#d62728", width=2))
        self.drop_line.setVisible(False)
        self.hist.addItem(self.drop_line)
        self.hist.scene().sigMouseClicked.connect(self._hist_clicked)
        self.bin_view = ImageView(placeholder="The images of a bar appear here (the worst tail first)")
        self.bin_label = QLabel("")
        self.pick = QSpinBox()
        self.pick.setRange(0, 0)
        self.pick.setToolTip("Index of a data image for the round trip")
        round_trip = QPushButton("Encode \u2192 decode")
        round_trip.clicked.connect(lambda: self.round_trip(self.pick.value()))
        self.round_view = ImageView(placeholder="original | decoded | 10x |difference|", min_size=80)
        self.round_label = QLabel("")
        self.temperature = QSlider(Qt.Horizontal)
        self.temperature.setRange(5, 150)
        self.temperature.setValue(70)
        self.temperature.valueChanged.connect(lambda _: self.render_temperature())
        self.temperature_label = QLabel("")
        self.temperature_view = ImageView(min_size=80)

        grid = QGridLayout(page)
        grid.addWidget(measure, 0, 0)
        grid.addWidget(self.hist, 1, 0, 2, 1)
        tail = QGroupBox("Images in the chosen bar")
        tl = QVBoxLayout(tail)
        tl.addWidget(self.bin_view, 1)
        tl.addWidget(self.bin_label)
        grid.addWidget(tail, 0, 1, 2, 1)
        trip = QGroupBox("Round trip")
        rl = QGridLayout(trip)
        rl.addWidget(QLabel("Image"), 0, 0)
        rl.addWidget(self.pick, 0, 1)
        rl.addWidget(round_trip, 0, 2)
        rl.addWidget(self.round_view, 1, 0, 1, 3)
        rl.addWidget(self.round_label, 2, 0, 1, 3)
        grid.addWidget(trip, 2, 1)
        temp = QGroupBox("Sampling temperature")
        tl2 = QVBoxLayout(temp)
        tl2.addWidget(self.temperature)
        tl2.addWidget(self.temperature_label)
        tl2.addWidget(self.temperature_view, 1)
        grid.addWidget(temp, 3, 0, 1, 2)
        grid.setRowStretch(1, 2)
        grid.setRowStretch(3, 1)
        return page

    # --- GAN page -------------------------------------------------------------------------------
    def _gan_page(self) -> QWidget:
        page = QWidget()
        self.target_index = QSpinBox()
        self.target_index.setRange(0, 0)
        self.restarts = QSpinBox()
        self.restarts.setRange(1, 64)
        self.restarts.setValue(8)
        self.steps = QSpinBox()
        self.steps.setRange(10, 5000)
        self.steps.setValue(300)
        project = QPushButton("Project this data image")
        project.setObjectName("gan-project")
        project.clicked.connect(lambda: self.project(self.target_index.value()))
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.tasks.cancel)
        self.projection_view = ImageView(placeholder="target | closest generated image", min_size=120)
        self.projection_label = QLabel("Drop an image file on the window to project it.")
        self.projection_label.setWordWrap(True)
        grid = QGridLayout(page)
        grid.addWidget(QLabel("Data image"), 0, 0)
        grid.addWidget(self.target_index, 0, 1)
        grid.addWidget(QLabel("Restarts"), 0, 2)
        grid.addWidget(self.restarts, 0, 3)
        grid.addWidget(QLabel("Steps"), 0, 4)
        grid.addWidget(self.steps, 0, 5)
        grid.addWidget(project, 0, 6)
        grid.addWidget(cancel, 0, 7)
        grid.addWidget(self.projection_view, 1, 0, 1, 8)
        grid.addWidget(self.projection_label, 2, 0, 1, 8)
        grid.setRowStretch(1, 1)
        return page

    # --- model ----------------------------------------------------------------------------------
    @property
    def model(self):
        return self.opened.model if self.opened else None

    def set_model(self, opened: OpenedModel) -> None:
        same = self.opened is not None and self.opened.path == opened.path
        self.opened = opened
        model = opened.model
        if not same:
            self.tasks.cancel()
            self.bpd, self.dataset = None, None
            self.bars.setOpts(x=[], height=[])
            self.drop_line.setVisible(False)
            for view in (self.bin_view, self.round_view, self.projection_view):
                view.set_image(None)
            self.message.setText("")
        if model.family == "flow" and not model.is_points:
            self.stack.setCurrentIndex(1)
            self.title.setText("Exact log-likelihood of the open flow, in bits per dimension (8-bit dequantised). "
                               "Drop an image on the window to measure it.")
            self.render_temperature()
        elif model.family == "gan" and not model.is_points:
            self.stack.setCurrentIndex(2)
            self.title.setText("Project an image: find the latent whose generated image is closest, then explore around it.")
        else:
            self.stack.setCurrentIndex(0)
            self.title.setText(f"Nothing to inspect here for a {model.family}: the latent map shows a VAE.")

    def _data(self):
        if self.dataset is None:
            spec = (self.opened.header.get("data") or {}).get("source") or "mnist"
            self.dataset = load_dataset(spec)
            self.pick.setRange(0, len(self.dataset) - 1)
            self.target_index.setRange(0, len(self.dataset) - 1)
        return self.dataset

    # --- flows ----------------------------------------------------------------------------------
    def measure_dataset(self) -> None:
        model, data = self.model, self._data()
        self.message.setText(f"measuring {len(data)} images\u2026")
        self.tasks.start(lambda progress, stop: ("bpd", bits_per_dim(model, data.data, progress=progress,
                                                                     should_stop=stop)))

    def _show_histogram(self) -> None:
        counts, self.edges = np.histogram(self.bpd, bins=BINS)
        width = float(self.edges[1] - self.edges[0])
        self.bars.setOpts(x=(self.edges[:-1] + self.edges[1:]) / 2, height=counts, width=0.9 * width)
        self.message.setText(f"{self.dataset.name}: mean {self.bpd.mean():.4f} bits/dim over {len(self.bpd)} images "
                             f"(median {np.median(self.bpd):.3f}, worst {self.bpd.max():.3f})")
        self.show_bin(BINS - 1 - int(np.argmax(counts[::-1] > 0)))   # the tail: the last non-empty bar

    def show_bin(self, index: int) -> None:
        lo, hi = self.edges[index], self.edges[index + 1]
        inside = np.flatnonzero((self.bpd >= lo) & (self.bpd <= hi))
        inside = inside[np.argsort(-self.bpd[inside])][:SHOWN]
        self.shown_indices = inside
        if len(inside):
            images = (self.dataset.data[inside].float() / 255).numpy()
            self.bin_view.set_array(np.asarray(grid_image(images, cols=8, padding=2, pad_value=0.5)))
        self.bin_label.setText(f"bits/dim {lo:.3f}\u2013{hi:.3f}: {len(inside)} shown, worst first "
                               f"(indices {', '.join(map(str, inside[:8]))}\u2026)")

    def _hist_clicked(self, event) -> None:
        if self.bpd is None:
            return
        x = self.hist.getViewBox().mapSceneToView(event.scenePos()).x()
        index = int(np.clip(np.searchsorted(self.edges, x) - 1, 0, BINS - 1))
        self.show_bin(index)

    def measure_image(self, path: str | Path) -> float:
        """bits/dim of a dropped image file, marked on the histogram."""
        value = image_bits_per_dim(self.model, path)
        self.dropped_bpd = value
        self.drop_line.setPos(value)
        self.drop_line.setVisible(True)
        where = ""
        if self.bpd is not None:
            where = f"; higher than {100 * float((self.bpd < value).mean()):.0f}% of {self.dataset.name}"
        self.message.setText(f"{Path(path).name}: {value:.4f} bits/dim{where}")
        return value

    def round_trip(self, index: int) -> None:
        x = self._data().data[index:index + 1].float() / 255

        def work(model):
            xd = x.to(model.device)
            z = model.encode(xd)
            back = model.decode(z)
            error = model.invertibility_error(xd)
            return x.numpy(), back.cpu().numpy(), error, z.flatten().cpu()
        self.renderer.submit("round-trip", work)

    def render_temperature(self) -> None:
        t = self.temperature.value() / 100
        self.temperature_label.setText(f"T = {t:.2f} (samples z ~ N(0, T\u00b2 I); lower is cleaner, less varied)")

        def work(model):
            z = model.sample_latents(16, torch.Generator(device=model.device).manual_seed(0)) * t
            return model.decode(z).cpu().numpy()
        self.renderer.submit("temperature", work)

    # --- GANs -----------------------------------------------------------------------------------
    def project(self, index: int | None = None, target: torch.Tensor | None = None) -> None:
        """Project a data image (by index) or a given (C, H, W) uint8 image, in the background."""
        if target is None:
            target = self._data().data[index]
        target = target.float() / 255 if target.dtype == torch.uint8 else target.float()
        model, steps, restarts = self.model, self.steps.value(), self.restarts.value()
        self.message.setText("projecting\u2026")

        def work(progress, stop):
            z, info = project_image(model, target, steps=steps, restarts=restarts,
                                    progress=lambda f, e: progress(f, f"error {e:.4f}"), should_stop=stop)
            with torch.no_grad():
                image = model.decode(z.view(1, -1).to(model.device)).cpu().numpy()[0]
            return "projection", target.numpy(), image, z, info
        self.tasks.start(work)

    def project_file(self, path: str | Path) -> None:
        self.project(target=load_image_as(path, tuple(self.model.data_shape)))

    # --- results --------------------------------------------------------------------------------
    def _task_done(self, result) -> None:
        if result[0] == "bpd":
            self.bpd = result[1]
            self._show_histogram()
        elif result[0] == "projection":
            _, target, image, z, info = result
            self.projection_info = info
            self.projection_view.set_array(np.asarray(grid_image(np.stack([target, image]), cols=2, padding=2,
                                                                 pad_value=0.5)))
            self.projection_label.setText(f"pixel MSE {info['start_error']:.4f} (best random start) \u2192 "
                                          f"{info['final_error']:.4f} after {info['steps']} steps x "
                                          f"{info['restarts']} restarts; the latent is now in the explorer.")
            self.message.setText("projection done")
            self.pinLatent.emit(z)

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel == "round-trip":
            original, decoded, error, _ = result
            diff = np.clip(np.abs(original - decoded) * 10, 0, 1)
            self.round_view.set_array(np.asarray(grid_image(np.concatenate([original, decoded, diff]), cols=3,
                                                            padding=2, pad_value=0.5)))
            self.round_label.setText(f"invertibility error max|x - f\u207b\u00b9(f(x))| = {error:.2e} "
                                     f"(float32 precision is ~1e-6)")
        elif channel == "temperature":
            self.temperature_view.set_array(np.asarray(grid_image(result, cols=8, padding=1)))
