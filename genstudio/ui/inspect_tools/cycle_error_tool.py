"""Inspect tool for translation models (TRANSLATION): the cycle error (mean |input - round trip| in
[0, 1] units) of every image of the source domain, measured as a task (progress, Cancel), as a
histogram. When the measure lands, the worst images of the whole set are shown, worst first (their
share of each bar in red); a click on a bar shows that bar's images instead; a click on an image
shows its input | translation | round trip, so where the translation fails can be looked at. A
dropped image file is translated there too and marked on the histogram (a green line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QVBoxLayout

import genstudio.ui.widgets.plot_config  # noqa: F401  (global pyqtgraph options first)
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.explore.source_image import SourceImage
from genstudio.core.requests.translation_requests import (
    DIRECTIONS,
    CycleErrors,
    MeasureCycleErrors,
    TranslateImage,
    TranslationInput,
    TranslationView,
)
from genstudio.ui import theme
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.clickable_grid import ClickableGrid
from genstudio.ui.widgets.histogram_plot import histogram_plot
from genstudio.ui.widgets.image_view import ImageView

BINS = 40
SHOWN = 24               # images shown, worst first: the set's worst, or a bar's
COLS = 8
CHANNEL = "cycle-error-image"


class CycleErrorTool(InspectTool):
    tab = "Cycle error"
    title = ("Cycle error: how far each image of the source domain comes back from the round trip "
             "(mean |input \u2212 round trip|); click a bar, then an image, to see where it fails.")

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.result: CycleErrors | None = None
        self.edges: np.ndarray | None = None
        self.shown_indices: np.ndarray | None = None      # the images shown, worst first
        self.picked: TranslationView | None = None
        self._measure_generation: int | None = None
        self._picking_file = False                         # the image asked for is a dropped file
        renderer.done.connect(self._rendered)
        renderer.failed.connect(lambda channel, m: channel == CHANNEL and self._pick_failed(m))
        measure = QPushButton("Measure the cycle error of the data set")
        measure.setObjectName("cycle-error-measure")
        measure.clicked.connect(lambda: self.measure())
        self.hist, self.bars, self.drop_line = histogram_plot(
            "Cycle error per image (click a bar)", "mean |input \u2212 round trip|", 0.01, "#2ca02c", self._hist_clicked)
        self.chosen_bar = pg.BarGraphItem(x=[], height=[], width=0.01, brush="#d62728")
        self.hist.addItem(self.chosen_bar)
        self.bin_view = ClickableGrid(placeholder="The images of a bar appear here, worst first", min_size=80)
        self.bin_view.setObjectName("cycle-error-bar-images")
        self.bin_view.clicked.connect(lambda i: self.pick(int(self.shown_indices[i])))
        self.bin_label = QLabel("")
        self.bin_label.setWordWrap(True)
        self.pick_view = ImageView(placeholder="input | translation | round trip of a clicked image", min_size=80)
        self.pick_view.setObjectName("cycle-error-pick")
        self.pick_label = QLabel("")
        self.pick_label.setWordWrap(True)

        grid = QGridLayout(self)
        grid.addWidget(measure, 0, 0)
        grid.addWidget(self.hist, 1, 0, 2, 1)
        tail = QGroupBox("The worst images, or a clicked bar's, worst first (click one)")
        tl = QVBoxLayout(tail)
        tl.addWidget(self.bin_view, 1)
        tl.addWidget(self.bin_label)
        grid.addWidget(tail, 0, 1, 2, 1)
        picked = QGroupBox("The clicked image: input | translation | round trip")
        pl = QVBoxLayout(picked)
        pl.addWidget(self.pick_view, 1)
        pl.addWidget(self.pick_label)
        grid.addWidget(picked, 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(2, 1)
        # What a model made, cleared when another opens (model_bound.py); each records its model.
        self.bound_histogram = self.scope.bind("cycle error: histogram", self.bars, self.chosen_bar)
        self.bound_bin = self.scope.bind("cycle error: chosen bar", self.bin_view, self.bin_label)
        self.bound_pick = self.scope.bind("cycle error: clicked image", self.pick_view, self.pick_label)
        self.bound_dropped = self.scope.bind("cycle error: dropped image", self.drop_line)

    @classmethod
    def applies_to(cls, info) -> bool:
        return not info.is_points

    def set_model(self, info, same: bool) -> None:
        super().set_model(info, same)
        if not same:
            self.result, self.edges, self.shown_indices, self.picked = None, None, None, None

    # --- the measure ----------------------------------------------------------------------------------
    def direction(self) -> int:
        return int(self.decode_options().get("direction", 0))

    def style(self):
        """The explorer's style code (1, D), so the histogram measures what the explorer shows."""
        if self.session is None or self.session.z.numel() != self.info.latent_dim:
            return None
        return self.session.z.view(1, -1).clone()

    def measure(self) -> None:
        direction = self.direction()
        self.message.emit(f"measuring the cycle error of every source image ({DIRECTIONS[direction]})\u2026")
        self._measure_generation = self.scope.generation
        self.renderer.start_task(self.tasks, MeasureCycleErrors(self.info.data_source, direction, self.style(),
                                                                dataset=self.dataset))

    def task_done(self, result) -> bool:
        if not isinstance(result, CycleErrors):
            return False
        self.result = result
        self._show_histogram()
        return True

    def _show_histogram(self) -> None:
        errors = self.result.errors
        counts, self.edges = np.histogram(errors, bins=BINS)
        width = float(self.edges[1] - self.edges[0]) or 1e-6
        self.bars.setOpts(x=(self.edges[:-1] + self.edges[1:]) / 2, height=counts, width=0.9 * width)
        self.bound_histogram.show(self._measure_generation)
        self.message.emit(f"{self.result.domain.name}, {DIRECTIONS[self.result.direction]}: mean cycle error "
                          f"{errors.mean():.4f} over {len(errors)} images (median {np.median(errors):.4f}, "
                          f"worst {errors.max():.4f}, image {int(np.argmax(errors))})")
        self.show_worst()

    def _bar_of(self, values: np.ndarray) -> np.ndarray:
        """The bar each cycle error falls in (the last bar includes its right edge)."""
        return np.clip(np.searchsorted(self.edges, values, side="right") - 1, 0, BINS - 1)

    def _show(self, indices: np.ndarray, caption: str) -> None:
        """Images `indices` of the source domain (worst first) in the grid, their bars' share in red."""
        self.shown_indices = indices
        width = float(self.edges[1] - self.edges[0]) or 1e-6
        counts = np.bincount(self._bar_of(self.result.errors[indices]), minlength=BINS)
        self.chosen_bar.setOpts(x=(self.edges[:-1] + self.edges[1:]) / 2, height=counts, width=0.9 * width)
        images = to_unit_float(self.result.domain.data[indices]).numpy() if len(indices) else None
        self.bin_view.set_images(images, cols=COLS)
        self.bin_label.setText(caption)
        self.bound_bin.show(self._measure_generation)
        if len(indices):
            self.pick(int(indices[0]))

    def show_worst(self) -> None:
        """The SHOWN images with the largest cycle error, worst first."""
        errors = self.result.errors
        worst = np.argsort(-errors, kind="stable")[:SHOWN]
        more = "\u2026" if len(worst) > 8 else ""
        self._show(worst, f"the {len(worst)} worst of {len(errors)} images, cycle error {errors[worst[0]]:.4f} "
                          f"down to {errors[worst[-1]]:.4f} (indices {', '.join(map(str, worst[:8]))}{more}); "
                          f"click a bar for its images")

    def bin_of(self, index: int) -> np.ndarray:
        """The images of bar `index`, worst first (indices into the source domain)."""
        errors = self.result.errors
        inside = np.flatnonzero(self._bar_of(errors) == index)
        return inside[np.argsort(-errors[inside], kind="stable")]

    def show_bin(self, index: int) -> None:
        inside = self.bin_of(index)
        shown = inside[:SHOWN]
        lo, hi = self.edges[index], self.edges[index + 1]
        more = "\u2026" if len(inside) > 8 else ""
        self._show(shown, f"cycle error {lo:.4f}\u2013{hi:.4f}: {len(inside)} image{'s' * (len(inside) != 1)}, "
                          f"{len(shown)} shown worst first (indices {', '.join(map(str, shown[:8]))}{more})")

    def _hist_clicked(self, event) -> None:
        if self.result is None:
            return
        x = self.hist.getViewBox().mapSceneToView(event.scenePos()).x()
        self.show_bin(int(np.clip(np.searchsorted(self.edges, x) - 1, 0, BINS - 1)))

    # --- one image ------------------------------------------------------------------------------------
    def pick(self, index: int) -> None:
        """Show source image `index`'s input | translation | round trip, as measured."""
        domain, result = self.result.domain, self.result
        image = to_unit_float(domain.data[index:index + 1])
        style = None if result.style is None else torch.tensor(result.style).view(1, -1)
        self._picking_file = False
        self.scope.submit(CHANNEL, TranslateImage(SourceImage.of(image, f"{domain.name} #{index}", index),
                                                  result.direction, style))

    def take_image(self, path) -> bool:
        """A dropped image file: its round trip, marked on the histogram when there is one."""
        self._picking_file = True
        self.scope.submit(CHANNEL, TranslateImage(TranslationInput(path=Path(path)), self.direction(), self.style()))
        return True

    def _pick_failed(self, message: str) -> None:
        self.pick_label.setText(theme.error_html(message))
        self.bound_pick.show(self.scope.made_for(CHANNEL))
        self.message.emit(f"cycle error: {message}")

    def _rendered(self, channel: str, view, ms: float) -> None:
        if channel != CHANNEL:
            return
        self.picked = view
        self.pick_view.set_array(view.picture())
        self.bound_pick.show(self.scope.made_for(channel))
        if view.cycle_error is None:
            self.pick_label.setText(f"{view.name}, {DIRECTIONS[view.direction]}: this model has no way back")
            return
        where = ""
        if self.result is not None and view.direction == self.result.direction:
            errors = self.result.errors
            # The same image measured again may differ in the last float bits: 1e-6 is far below a bar.
            where = f"; rank {1 + int((errors > view.cycle_error + 1e-6).sum())} of {len(errors)}, worst first"
        self.pick_label.setText(f"{view.name}, {DIRECTIONS[view.direction]}: cycle error "
                                f"{view.cycle_error:.4f}{where}")
        if self._picking_file and self.result is not None:
            self.drop_line.setPos(view.cycle_error)          # a dropped file, on the histogram
            self.drop_line.setVisible(True)
            self.bound_dropped.show(self.scope.made_for(channel))
