"""Inspect tool for models with an exact likelihood (flows, PixelCNNs): bits/dim of every image of a
data set as a histogram with clickable bars and dropped images measured; for invertible models
(flows) also an encode -> decode round trip with its invertibility error, and samples at a chosen
latent temperature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout

from genstudio.core.data.pixels import to_unit_float
from genstudio.core.explore.likelihood import heat_colours
from genstudio.core.families.family import Capability
from genstudio.core.io.export import grid_image
from genstudio.core.requests.render_requests import MeasureImageFile, RoundTrip, Surprise, TemperatureSamples
from genstudio.core.requests.tasks import Likelihoods, MeasureLikelihood
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.histogram_plot import histogram_plot
from genstudio.ui.widgets.image_view import ImageView

BINS = 40
SHOWN = 24


class LikelihoodTool(InspectTool):
    title = ("Exact log-likelihood of the open model, in bits per dimension of 8-bit images (a flow's is "
             "dequantised, an upper bound on a PixelCNN's discrete one). Drop an image on the window to measure it.")

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.bpd: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.shown_indices: np.ndarray | None = None
        self.dropped_bpd: float | None = None
        self._dropped_name = ""
        self._surprise_name = ""
        self._measure_generation: int | None = None   # the model the histogram was (or is being) measured for
        renderer.done.connect(self._rendered)
        renderer.failed.connect(lambda channel, m: channel in ("round-trip", "measure-file", "temperature", "surprise")
                                and self.message.emit(f"{channel}: {m}"))
        self._build()

    def _build(self) -> None:
        measure = QPushButton("Measure bits/dim of the data set")
        measure.setObjectName("flow-measure")
        measure.clicked.connect(lambda: self.measure_dataset())
        self.hist, self.bars, self.drop_line = histogram_plot("Bits/dim per image (click a bar)", "bits/dim", 0.1,
                                                              "#d62728", self._hist_clicked)
        self.bin_view = ImageView(placeholder="The images of a bar appear here (the worst tail first)")
        self.bin_label = QLabel("")
        self.bin_label.setWordWrap(True)         # a chosen bar's long caption wraps, never widens the column
        self.pick = QSpinBox()
        self.pick.setRange(0, 0)
        self.pick.setToolTip("Index of a data image for the round trip")
        self.index_box = self.pick
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

        grid = QGridLayout(self)
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
        self.round_trip_box = trip
        temp = QGroupBox("Sampling temperature")
        self.temperature_box = temp
        tl2 = QVBoxLayout(temp)
        tl2.addWidget(self.temperature)
        tl2.addWidget(self.temperature_label)
        tl2.addWidget(self.temperature_view, 1)
        grid.addWidget(temp, 3, 0, 1, 2)
        grid.setColumnStretch(0, 1)              # the two columns share the width evenly, whatever they show
        grid.setColumnStretch(1, 1)
        surprise = QGroupBox("Where the model is surprised: -log p(pixel | the pixels before it)")
        self.surprise_box = surprise
        self.surprise_pick = QSpinBox()
        self.surprise_pick.setRange(0, 0)
        self.surprise_pick.setToolTip("Index of a data image (a chosen bar's worst image is put here)")
        show = QPushButton("Show the surprise map")
        show.clicked.connect(lambda: self.surprise(self.surprise_pick.value()))
        self.surprise_view = ImageView(placeholder="image | per-pixel surprise (bright: unlikely)", min_size=80)
        self.surprise_label = QLabel("")
        self.surprise_label.setWordWrap(True)
        sl = QGridLayout(surprise)
        sl.addWidget(QLabel("Image"), 0, 0)
        sl.addWidget(self.surprise_pick, 0, 1)
        sl.addWidget(show, 0, 2)
        sl.addWidget(self.surprise_view, 1, 0, 1, 3)
        sl.addWidget(self.surprise_label, 2, 0, 1, 3)
        grid.addWidget(surprise, 4, 0, 1, 2)
        grid.setRowStretch(1, 2)
        grid.setRowStretch(3, 1)
        grid.setRowStretch(4, 1)
        # What a model made, cleared when another opens (model_bound.py); each records its model.
        self.bound_histogram = self.scope.bind("likelihood: histogram", self.bars)
        self.bound_bin = self.scope.bind("likelihood: chosen bar", self.bin_view, self.bin_label)
        self.bound_dropped = self.scope.bind("likelihood: dropped image", self.drop_line)
        self.bound_round_trip = self.scope.bind("likelihood: round trip", self.round_view, self.round_label)
        self.bound_temperature = self.scope.bind("likelihood: temperature samples", self.temperature_view)
        self.bound_surprise = self.scope.bind("likelihood: surprise map", self.surprise_view, self.surprise_label)

    def set_model(self, info, same: bool) -> None:
        super().set_model(info, same)
        # The round trip and the latent temperature are an invertible model's (a flow's); a PixelCNN
        # has neither an encoder nor a latent whose scale is a temperature (its softmax temperature
        # is the explorer's Sampler setting).
        invertible = info.has(Capability.ENCODE)
        self.round_trip_box.setVisible(invertible)
        self.temperature_box.setVisible(invertible)
        self.surprise_box.setVisible(info.has(Capability.PIXEL_LIKELIHOOD))
        if not same:
            self.bpd, self.edges, self.shown_indices, self.dropped_bpd = None, None, None, None
        if invertible:
            self.render_temperature()

    # --- the data set's histogram ---------------------------------------------------------------
    def measure_dataset(self) -> None:
        self.message.emit("measuring the data set\u2026")
        self._measure_generation = self.scope.generation
        self.renderer.start_task(self.tasks, MeasureLikelihood(self.data_spec, dataset=self.dataset))

    def task_done(self, result) -> bool:
        if not isinstance(result, Likelihoods):
            return False
        self.use_dataset(result.dataset)
        self.bpd = result.bits_per_dim
        self._show_histogram()
        return True

    def _show_histogram(self) -> None:
        counts, self.edges = np.histogram(self.bpd, bins=BINS)
        width = float(self.edges[1] - self.edges[0])
        self.bars.setOpts(x=(self.edges[:-1] + self.edges[1:]) / 2, height=counts, width=0.9 * width)
        self.bound_histogram.show(self._measure_generation)
        self.message.emit(f"{self.dataset.name}: mean {self.bpd.mean():.4f} bits/dim over {len(self.bpd)} images "
                          f"(median {np.median(self.bpd):.3f}, worst {self.bpd.max():.3f})")
        self.show_bin(BINS - 1 - int(np.argmax(counts[::-1] > 0)))   # the tail: the last non-empty bar

    def show_bin(self, index: int) -> None:
        lo, hi = self.edges[index], self.edges[index + 1]
        inside = np.flatnonzero((self.bpd >= lo) & (self.bpd <= hi))
        inside = inside[np.argsort(-self.bpd[inside])][:SHOWN]
        self.shown_indices = inside
        if len(inside):
            images = to_unit_float(self.dataset.data[inside]).numpy()
            self.bin_view.set_array(np.asarray(grid_image(images, cols=8, padding=2, pad_value=0.5)))
        self.bin_label.setText(f"bits/dim {lo:.3f}\u2013{hi:.3f}: {len(inside)} shown, worst first "
                               f"(indices {', '.join(map(str, inside[:8]))}\u2026)")
        self.bound_bin.show(self._measure_generation)
        if len(inside) and self.info is not None and self.info.has(Capability.PIXEL_LIKELIHOOD):
            self.surprise_pick.setValue(int(inside[0]))
            self.surprise(int(inside[0]))

    def _hist_clicked(self, event) -> None:
        if self.bpd is None:
            return
        x = self.hist.getViewBox().mapSceneToView(event.scenePos()).x()
        self.show_bin(int(np.clip(np.searchsorted(self.edges, x) - 1, 0, BINS - 1)))

    # --- one image --------------------------------------------------------------------------------
    def take_image(self, path) -> bool:
        self.measure_image(path)
        if self.info is not None and self.info.has(Capability.PIXEL_LIKELIHOOD):
            self.scope.submit("surprise", Surprise(path=Path(path), label=self.class_of()))
            self._surprise_name = Path(path).name
        return True

    def use_dataset(self, dataset) -> None:
        super().use_dataset(dataset)
        self.surprise_pick.setRange(0, len(dataset) - 1)

    def surprise(self, index: int) -> None:
        """The per-pixel surprise map of data image `index` (PIXEL_LIKELIHOOD models)."""
        self._surprise_name = f"{self.data().name} image {index}"
        self.scope.submit("surprise", Surprise(to_unit_float(self.data().data[index]), label=self.class_of(index)))

    def measure_image(self, path: str | Path) -> None:
        """bits/dim of a dropped image file, marked on the histogram when it arrives."""
        self._dropped_name = Path(path).name
        self.scope.submit("measure-file", MeasureImageFile(Path(path)))

    def round_trip(self, index: int) -> None:
        self.scope.submit("round-trip", RoundTrip(to_unit_float(self.data().data[index:index + 1])))

    def render_temperature(self) -> None:
        t = self.temperature.value() / 100
        self.temperature_label.setText(f"T = {t:.2f} (samples z ~ N(0, T\u00b2 I); lower is cleaner, less varied)")
        self.scope.submit("temperature", TemperatureSamples(16, t))

    def _rendered(self, channel: str, result, ms: float) -> None:
        if channel == "round-trip":
            diff = np.clip(np.abs(result.original - result.decoded) * 10, 0, 1)
            self.round_view.set_array(np.asarray(grid_image(np.concatenate([result.original, result.decoded, diff]),
                                                            cols=3, padding=2, pad_value=0.5)))
            self.round_label.setText(f"invertibility error max|x - f\u207b\u00b9(f(x))| = {result.error:.2e} "
                                     f"(float32 precision is ~1e-6)")
            self.bound_round_trip.show(self.scope.made_for(channel))
        elif channel == "surprise":
            nats = result.nats
            heat = heat_colours(nats)
            original = np.repeat(result.original, 3 // result.original.shape[0], axis=0)
            self.surprise_view.set_array(np.asarray(grid_image(np.stack([original, heat]), cols=2, padding=2,
                                                               pad_value=0.5)))
            r, c = np.unravel_index(int(np.argmax(nats)), nats.shape)
            self.surprise_label.setText(f"{self._surprise_name}: {result.bits_per_dim:.3f} bits/dim; the most "
                                        f"surprising pixel is row {r}, column {c} at {nats[r, c]:.2f} nats "
                                        f"(brightest); mean {nats.mean():.2f} nats per pixel")
            self.bound_surprise.show(self.scope.made_for(channel))
        elif channel == "temperature":
            self.temperature_view.set_array(np.asarray(grid_image(result, cols=8, padding=1)))
            self.bound_temperature.show(self.scope.made_for(channel))
        elif channel == "measure-file":
            self.dropped_bpd = float(result)
            self.drop_line.setPos(self.dropped_bpd)
            self.drop_line.setVisible(True)
            self.bound_dropped.show(self.scope.made_for(channel))
            where = ""
            if self.bpd is not None:
                where = f"; higher than {100 * float((self.bpd < self.dropped_bpd).mean()):.0f}% of {self.dataset.name}"
            self.message.emit(f"{self._dropped_name}: {self.dropped_bpd:.4f} bits/dim{where}")
