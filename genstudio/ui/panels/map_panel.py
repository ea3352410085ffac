"""The latent map: a data set encoded by the open VAE (or flow, or diffusion model), coloured by
label; hover decodes, a click pins the latent in the explorer, two clicks draw an interpolation path;
a decoded manifold and prior samples can be laid over it; per-dimension KL and reconstructions of
picked points.

A family with preview decode settings (a diffusion model: its encode is a DDIM inversion, one
network pass per step) is mapped with those settings, for encoding and for every decode of the map
alike so picked points still reconstruct, and over SLOW_MAP_IMAGES images by default; the
"Images" box changes that, and Cancel stops mid-batch."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
import torch
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from genstudio.core.data.pixels import to_unit_float
from genstudio.core.explore.latent_map import manifold_grid, tile_images
from genstudio.core.explore.latent_map_cache import cache_file
from genstudio.core.explore.map_selection import MAX_GRID, export_selection, points_in_rect
from genstudio.core.families.family import Capability
from genstudio.core.io.export import grid_image
from genstudio.core.io.open_model import ModelInfo
from genstudio.core.latent import path as latent_path
from genstudio.core.latent import seeded_latents
from genstudio.core.requests.render_requests import Decode
from genstudio.core.requests.tasks import BuildLatentMap, CachedLatentMap
from genstudio.ui import file_dialogs, theme
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.render_worker import Renderer
from genstudio.ui.task_runner import TaskRunner
from genstudio.ui.widgets.combo_items import mark_available
from genstudio.ui.widgets.image_view import ImageView
from genstudio.ui.widgets.plot_config import add_grid  # (global pyqtgraph options first)
from genstudio.ui.widgets.plot_title import fit_title
from genstudio.ui.widgets.readout import Readout

SPRITE_VISIBLE = 2000    # points in view at most before thumbnails show
SPRITE_COUNT = 150       # thumbnails shown at most
SPRITE_SCALE = 25        # a thumbnail is this fraction of the view's width and height
# Ten well-separated colours (matplotlib's tab10), then a hue wheel for more labels.
TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
         "#bcbd22", "#17becf"]
PRIOR_SAMPLES = 400
SLOW_MAP_IMAGES = 1000   # images a family with preview settings maps by default (about 10 s on a CPU)
SLOW_MAP_BATCH = 100     # ... in batches this small, so progress moves and Cancel is prompt
# A model that encodes in one pass (no preview settings) images of at most this many values is
# mapped by itself when the tab shows, with PCA (the demo VAE maps MNIST's 10k test images in about
# a second); the map is then kept in the map cache (core/explore/latent_map_cache.py).
AUTO_MAP_VALUES = 3 * 32 * 32


def label_colour(i: int, n: int) -> pg.QtGui.QColor:
    return pg.mkColor(TAB10[i]) if n <= 10 else pg.intColor(i, hues=n)


class MapPanel(QWidget):
    status = Signal(str)
    pinLatent = Signal(object)               # (D,) latent for the explorer
    pathChosen = Signal(object, object)      # A, B latents for the explorer's interpolation

    def __init__(self, renderer: Renderer, scope: ModelScope, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.scope = scope
        self.map_generation: int | None = None       # the model generation the map was built for
        self._build_generation: int | None = None    # ... the one being built is for
        self.info: ModelInfo | None = None
        self.options: dict = {}                      # decode settings of the map's encode and decodes
        self.dataset = None
        self.selector: pg.RectROI | None = None
        self.selected = np.zeros(0, dtype=np.int64)            # data indices inside the selection
        self.selection_rect = (0.0, 0.0, 0.0, 0.0)
        self.projection = None
        self.labels: np.ndarray | None = None
        self.scatter_items: list[pg.ScatterPlotItem] = []
        self.clicks: list[np.ndarray] = []          # map points of the last clicks (A, then B)
        self.picked: list[int] = []                 # data indices picked, for reconstructions
        self._picked_originals: np.ndarray | None = None
        self.manifold_tiles = 0
        self.last_hover: np.ndarray | None = None
        self.tasks = TaskRunner(self)
        self.tasks.progress.connect(lambda f, m: (self.progress.setValue(int(1000 * f)), m and self.progress.setFormat(m)))
        self.tasks.done.connect(self._built)
        self.tasks.failed.connect(self._failed)
        self.tasks.cancelled.connect(lambda: self._finish("cancelled"))
        self._build()
        renderer.done.connect(self._on_rendered)
        self._manifold_timer = QTimer(self)
        self._manifold_timer.setSingleShot(True)
        self._manifold_timer.setInterval(150)       # regenerate after pan/zoom settles
        self._manifold_timer.timeout.connect(self.render_manifold)
        self._sprite_timer = QTimer(self)
        self._sprite_timer.setSingleShot(True)
        self._sprite_timer.setInterval(150)         # thumbnails too
        self._sprite_timer.timeout.connect(self.show_sprites)
        self.sprite_items: list[pg.ImageItem] = []
        # What a model made, cleared when another opens (model_bound.py); each records its model.
        self.bound_description = scope.bind("map: description", self.description)
        self.bound_points = scope.bind("map: points and legend", clear=self._remove_points,
                                       content=lambda: len(self.scatter_items))
        self.bound_kl = scope.bind("map: KL per dimension", self.kl_bars, self.kl_plot)
        self.bound_hover = scope.bind("map: hover", self.hover_view, self.hover_label)
        self.bound_path = scope.bind("map: path", self.path_item, self.strip_view)
        self.bound_recon = scope.bind("map: reconstructions", self.recon_view)
        self.bound_prior = scope.bind("map: prior samples", self.prior_item, self.prior_view)
        self.bound_manifold = scope.bind("map: decoded manifold", self.manifold_item)
        self.bound_sprites = scope.bind("map: thumbnails", clear=self._remove_sprites,
                                        content=lambda: len(self.sprite_items))
        self.bound = [self.bound_points, self.bound_kl, self.bound_hover, self.bound_path, self.bound_recon,
                      self.bound_prior, self.bound_manifold, self.bound_sprites]
        scope.changed.connect(self.reset_for_model)
        scope.refreshed.connect(self.refresh_model)

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        """Two rows of controls (what to map and how; overlays and exports) over the map beside its
        side panel (under the cursor, KL per dimension, picked points, prior samples)."""
        top = self._build_map_row()
        second = self._build_overlay_row()
        self._build_plot()
        left_widget = self._build_plot_column()
        side_widget = self._build_side_panel()
        split = QSplitter(Qt.Horizontal)
        split.setObjectName("map-split")
        split.addWidget(left_widget)
        split.addWidget(side_widget)
        split.setSizes([820, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(split, 1)

    def _build_map_row(self) -> QHBoxLayout:
        """What to map: the data, how many of its images, the projection; Build, Cancel, progress."""
        self.data = QComboBox()
        self.data.setEditable(True)
        self.data.addItems(["mnist"])
        self.data.setToolTip("Data set to encode (a data spec, as in the Train panel)")
        self.method = QComboBox()
        self.method.addItem("PCA", "pca")
        self.method.addItem("t-SNE", "tsne")
        self.method.addItem("UMAP", "umap")
        mark_available(self.method, self.method.count() - 1, importlib.util.find_spec("umap") is not None,
                       "UMAP needs the umap-learn package (pip install umap-learn)")      # an optional package
        self.method.setToolTip("How latents of more than two dimensions are laid out in 2-D")
        self.limit = QSpinBox()
        self.limit.setRange(0, 10_000_000)
        self.limit.setSingleStep(500)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("Encode only the first N images of the data set (all: the whole set)")
        self.build_button = QPushButton("Build map")
        self.build_button.setObjectName("map-build")
        self.build_button.clicked.connect(lambda: self.build_map())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.tasks.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        top = QHBoxLayout()
        for w in (QLabel("Data"), self.data, QLabel("Images"), self.limit, QLabel("Projection"), self.method,
                  self.build_button, self.cancel_button, self.progress):
            top.addWidget(w)
        return top

    def _build_overlay_row(self) -> QHBoxLayout:
        """What to draw over the map (decoded manifold, prior samples, thumbnails, a selection) and
        the exports, a second row so the tab needs no wider a window than the others."""
        self.manifold_check = QCheckBox("Decoded manifold")
        self.manifold_check.setToolTip("Tile decoded images over the visible region (regenerated after pan/zoom)")
        self.manifold_check.toggled.connect(self._manifold_toggled)
        self.tiles = QSpinBox()
        self.tiles.setRange(3, 40)
        self.tiles.setValue(15)
        self.tiles.setToolTip("Tiles per side")
        self.tiles.valueChanged.connect(lambda _: self.manifold_check.isChecked() and self.render_manifold())
        self.prior_check = QCheckBox("Prior samples")
        self.prior_check.setToolTip("z ~ N(0, I) placed on the map: where they fall outside the data's "
                                    "clusters, the aggregate posterior has holes")
        self.prior_check.toggled.connect(self._prior_toggled)
        export_png = QPushButton("Export PNG\u2026")
        export_png.clicked.connect(self._export_png_dialog)
        export_data = QPushButton("Export latents\u2026")
        export_data.clicked.connect(self._export_latents_dialog)
        self.sprites_check = QCheckBox("Thumbnails")
        self.sprites_check.setChecked(True)
        self.sprites_check.setToolTip(f"Zoomed in to {SPRITE_VISIBLE:,} points or fewer, up to {SPRITE_COUNT} of them "
                                      "show their images (the embedding projector's sprites)")
        self.sprites_check.toggled.connect(lambda _: self.show_sprites())
        self.select_check = QCheckBox("Select")
        self.select_check.setToolTip("A rectangle to drag and resize over the map: the points inside are selected")
        self.select_check.toggled.connect(self._select_toggled)
        self.export_selection_button = QPushButton("Export selection\u2026")
        self.export_selection_button.setEnabled(False)
        self.export_selection_button.clicked.connect(self._export_selection_dialog)

        second = QHBoxLayout()
        for w in (self.manifold_check, self.tiles, self.prior_check, self.sprites_check, self.select_check,
                  self.export_selection_button):
            second.addWidget(w)
        second.addStretch(1)
        second.addWidget(export_png)
        second.addWidget(export_data)
        return second

    def _build_plot(self) -> None:
        """The scatter's plot, its legend column and the overlay items; hover, clicks and pan/zoom."""
        self.plot = theme.themed_plot(pg.PlotWidget())
        self.plot.setObjectName("latent-map")
        self.plot.setAspectLocked(False)
        add_grid(self.plot)
        # The legend in its own column right of the plot area, so it never covers points.
        self.legend = pg.LegendItem(brush=pg.mkBrush(255, 255, 255, 220), pen=pg.mkPen(180, 180, 180))
        self.plot.getPlotItem().layout.addItem(self.legend, 2, 3)   # right of the right axis (column 2)
        self.manifold_item = pg.ImageItem()
        self.manifold_item.setZValue(-10)
        self.manifold_item.setOpacity(0.85)
        self.plot.addItem(self.manifold_item)
        self.prior_item = pg.ScatterPlotItem(size=7, symbol="x", pen=None, brush=pg.mkBrush(20, 20, 20, 150))
        self.prior_item.setZValue(5)
        self.plot.addItem(self.prior_item)
        self.path_item = pg.PlotDataItem(pen=pg.mkPen("k", width=2.5), symbol="o", symbolSize=9,
                                         symbolBrush="w", symbolPen=pg.mkPen("k", width=2))
        self.path_item.setZValue(10)
        self.plot.addItem(self.path_item)
        theme.on_theme(self, self._restyle)
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.getViewBox().sigRangeChanged.connect(self._range_changed)

    def _build_plot_column(self) -> QWidget:
        """The model's description over the plot, the path strip under it."""
        self.description = QLabel("Open a VAE (or a flow) and build its latent map.")
        self.description.setWordWrap(True)
        self.strip_view = ImageView(placeholder="Click twice on the map for a path", min_size=40)
        self.strip_view.setMinimumHeight(50)
        self.strip_view.setMaximumHeight(90)
        left = QVBoxLayout()
        left.addWidget(self.description)
        left.addWidget(self.plot, 1)
        left.addWidget(self.strip_view)
        left_widget = QWidget()
        left_widget.setLayout(left)
        return left_widget

    def _build_side_panel(self) -> QWidget:
        """Under the cursor (image and position), KL per dimension, picked points and their
        reconstructions, decoded prior samples."""
        self.hover_view = ImageView(placeholder="Hover over the map", min_size=120)
        self.hover_view.setObjectName("map-hover")
        self.hover_label = Readout("map (-9999.99, -9999.99) \u00b7 decoded in 999.9 ms")
        self.kl_plot = theme.themed_plot(pg.PlotWidget(title="KL per dimension (nats)"))
        fit_title(self.kl_plot)
        self.kl_plot.setMaximumHeight(190)
        self.kl_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#1f77b4")
        self.kl_plot.addItem(self.kl_bars)
        self.recon_view = ImageView(placeholder="Click data points: originals (top) and reconstructions", min_size=60)
        self.prior_view = ImageView(placeholder="Prior samples decoded", min_size=60)
        self.prior_view.setVisible(False)

        side = QVBoxLayout()
        hover_box = QGroupBox("Under the cursor")
        hl = QVBoxLayout(hover_box)
        hl.addWidget(self.hover_view, 1)
        hl.addWidget(self.hover_label)
        side.addWidget(hover_box, 2)
        side.addWidget(self.kl_plot, 1)
        recon_box = QGroupBox("Picked points and reconstructions")
        QVBoxLayout(recon_box).addWidget(self.recon_view)
        side.addWidget(recon_box, 1)
        side.addWidget(self.prior_view, 1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        return side_widget

    # --- model and building ---------------------------------------------------------------------
    def _restyle(self, colours: theme.Theme) -> None:
        """The prior's crosses and the A-B path in the theme's foreground, so they show on either background."""
        ink = QColor(colours.plot_foreground)
        ink.setAlpha(150)
        self.prior_item.setBrush(pg.mkBrush(ink))
        ink = colours.plot_foreground
        self.path_item.setPen(pg.mkPen(ink, width=2.5))
        self.path_item.setSymbolPen(pg.mkPen(ink, width=2))
        self.path_item.setSymbolBrush(colours.plot_background)

    def refresh_model(self, info: ModelInfo) -> None:
        """Newer weights of the model on show (a training snapshot): the map stays."""
        if self.info is None:
            self.reset_for_model(info)
        else:
            self.info = info

    def reset_for_model(self, info: ModelInfo) -> None:
        """Another model: the map being built is cancelled, the one shown goes."""
        self.tasks.cancel()
        self.info = info
        self._clear()
        preview = info.preview_options()
        self.options = {**info.decode_defaults(), **preview}
        self.limit.setValue(SLOW_MAP_IMAGES if preview else 0)
        usable = info.has(Capability.ENCODE) and not info.is_points
        self.build_button.setEnabled(usable)
        self.method.setEnabled(usable and info.latent_dim > 2)
        # KL per dimension is a VAE's posterior figure: a flow or a GAN has none to show.
        self.kl_plot.setVisible(info.has(Capability.KL_PER_DIMENSION))
        source = info.data_source
        if source and self.data.findText(source) < 0:
            self.data.addItem(source)
        self.data.setCurrentText(source or "mnist")
        settings = ", ".join(f"{key} {value:g}" for key, value in preview.items())
        slow = (f" Encoding is slow for a {info.family} model: the map uses its preview settings ({settings}) "
                f"to encode and decode, and the first {SLOW_MAP_IMAGES} images." if preview else "")
        self.description.setText("Build the map to encode the data set with this model." + slow if usable else
                                 f"The latent map needs a model that encodes images (a VAE or a flow); "
                                 f"this is a {info.family}{' on 2-D points' if info.is_points else ''}.")
        self.bound_description.show(self.scope.generation)
        self._auto_map()

    def _remove_points(self) -> None:
        for item in self.scatter_items:
            self.plot.removeItem(item)
        self.scatter_items = []
        self.legend.clear()

    def _clear(self) -> None:
        """No map: its points, plots, images and captions cleared, nothing picked or selected."""
        self.projection, self.labels, self.clicks, self.picked = None, None, [], []
        self.map_generation = None
        self._remove_selector()
        self.select_check.setChecked(False)
        for bound in self.bound:
            bound.clear()

    def build_map(self, dataset=None) -> None:
        """Encode and project in a background task; `dataset` skips loading the data spec."""
        if self.info is None or not self.info.has(Capability.ENCODE):
            return
        slow = bool(self.info.preview_options())
        request = BuildLatentMap(self.data.currentText().strip(), self.method.currentData(),
                                 with_kl=self.info.has(Capability.KL_PER_DIMENSION), dataset=dataset,
                                 limit=self.limit.value(), options=dict(self.options),
                                 batch=SLOW_MAP_BATCH if slow else 2000)
        cached = None if dataset is not None else self._cache_file()
        if cached is not None:
            request = CachedLatentMap(request, cached)
        self._clear()
        self.build_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._build_generation = self.scope.generation     # the model the map is built for
        self.renderer.start_task(self.tasks, request)

    def _cache_file(self):
        """Where the map of the open model with the chosen data, projection and limit is kept."""
        return cache_file(self.info.path, self.data.currentText().strip(), self.method.currentData(),
                          self.limit.value(), self.options)

    def _auto_map(self) -> None:
        """With the tab shown and no map yet: the cached map comes back, or a cheap one is built."""
        info = self.info
        if (info is None or self.projection is not None or self.tasks.busy or not self.isVisible()
                or not self.build_button.isEnabled()):
            return
        cached = self._cache_file()
        cheap = (not info.preview_options() and math.prod(info.data_shape) <= AUTO_MAP_VALUES
                 and (info.latent_dim == 2 or self.method.currentData() == "pca"))
        if cheap or (cached is not None and cached.exists()):
            self.build_map()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._auto_map()

    def _finish(self, message: str) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.emit(message)

    def _failed(self, message: str) -> None:
        self.description.setText(theme.error_html(f"Cannot build the map: {message}"))
        self.bound_description.show(self._build_generation)
        self._finish(message)

    def _built(self, result) -> None:
        self.dataset, self.projection, kl = result.dataset, result.projection, result.kl
        self.map_generation = self._build_generation
        points = self.projection.points
        labels = self.dataset.labels
        self.labels = None if labels is None else labels.cpu().numpy()
        names = self.dataset.label_names
        if self.labels is None:
            groups = [("data", np.arange(len(points)), pg.mkColor("#1f77b4"))]
        else:
            groups = [(names[i] if i < len(names) else str(i), np.flatnonzero(self.labels == i),
                       label_colour(i, len(names))) for i in range(max(len(names), int(self.labels.max()) + 1))]
        for name, index, colour in groups:
            colour.setAlpha(170)
            item = pg.ScatterPlotItem(points[index, 0], points[index, 1], size=4, pen=None,
                                      brush=pg.mkBrush(colour), name=name)
            self.plot.addItem(item)
            self.legend.addItem(item, name)
            self.scatter_items.append(item)
        self.plot.autoRange()
        if kl is not None:
            self.kl_bars.setOpts(x=np.arange(1, len(kl) + 1), height=kl)
            # Short enough for the side panel's narrowest width; the tooltip says what "collapsed" is.
            self.kl_plot.getPlotItem().setTitle(f"KL/dim: {int((kl < 0.01).sum())} of {len(kl)} collapsed")
            self.kl_plot.setToolTip("KL per latent dimension in nats; collapsed: below 0.01 nats "
                                    "(the dimension carries no information about the image)")
            self.bound_kl.show(self.map_generation)
        self.bound_points.show(self.map_generation)
        settings = ", ".join(f"{key} {value:g}" for key, value in self.options.items())
        self.description.setText(f"{len(points)} images of {self.dataset.name} encoded"
                                 f"{' with ' + settings if settings else ''}; "
                                 f"{self.projection.description}. Hover to decode, click to pin in the "
                                 f"explorer, click again for a path.")
        self.bound_description.show(self.map_generation)
        self._finish(f"latent map of {len(points)} points {'read from the cache' if result.cached else 'built'}")
        if self.prior_check.isChecked():
            self._prior_toggled(True)
        if self.manifold_check.isChecked():
            self.render_manifold()

    def point_count(self) -> int:
        return sum(len(item.data) for item in self.scatter_items)

    # --- interaction ----------------------------------------------------------------------------
    def _view_point(self, scene_pos) -> np.ndarray | None:
        vb = self.plot.getViewBox()
        if self.projection is None or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        return np.array([p.x(), p.y()], dtype=np.float32)

    def _decode(self, latents: np.ndarray) -> Decode:
        """Map latents (n, D) decoded with the settings they were encoded with."""
        return Decode(torch.from_numpy(np.asarray(latents, np.float32)), options=dict(self.options))

    def _hovered(self, scene_pos) -> None:
        point = self._view_point(scene_pos)
        if point is not None:
            self.hover_at(point)

    def hover_at(self, point: np.ndarray) -> None:
        latent = self.projection.to_latent(point[None])
        self.hover_label.setText(f"map ({point[0]:.2f}, {point[1]:.2f})")
        self.bound_hover.show(self.map_generation)
        self.scope.submit("map-hover", self._decode(latent))

    def _clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        point = self._view_point(event.scenePos())
        if point is not None:
            self.click_at(point)

    def click_at(self, point: np.ndarray) -> np.ndarray:
        """Pin the latent under `point` in the explorer; every second click completes an A->B path."""
        latent = self.projection.to_latent(point[None])[0]
        self.pinLatent.emit(torch.from_numpy(latent))
        nearest = int(self.projection.nearest_point(point[None])[0])
        self.picked = (self.picked + [nearest])[-6:]
        self._show_picked()
        self.clicks = [point] if len(self.clicks) != 1 else self.clicks + [point]
        if len(self.clicks) == 2:
            a, b = (torch.from_numpy(self.projection.to_latent(c[None])[0]) for c in self.clicks)
            frames = latent_path(a, b, 10, spherical=False)
            drawn = self.projection.to_plane(frames.numpy())
            self.path_item.setData(drawn[:, 0], drawn[:, 1])
            self.pathChosen.emit(a, b)
            self.scope.submit("map-strip", self._decode(frames.numpy()))
        else:
            self.path_item.setData([point[0]], [point[1]])
        self.bound_path.show(self.map_generation)
        return latent

    def _show_picked(self) -> None:
        self._picked_originals = to_unit_float(self.dataset.data[self.picked]).numpy()
        self.scope.submit("map-recon", self._decode(self.projection.latents[self.picked]))

    def _range_changed(self, *args) -> None:
        if self.manifold_check.isChecked() and self.projection is not None:
            self._manifold_timer.start()
        if self.projection is not None:
            self._sprite_timer.start()

    def picked_latents(self) -> np.ndarray:
        """(K, D) latents of the data points picked on the map (the last six clicks), in click order."""
        if self.projection is None or not self.picked:
            return np.zeros((0, 0), dtype=np.float32)
        return self.projection.latents[self.picked]

    def _remove_sprites(self) -> None:
        for item in self.sprite_items:
            self.plot.removeItem(item)
        self.sprite_items = []

    def show_sprites(self) -> list[int]:
        """Images of up to SPRITE_COUNT of the points in view, once the view holds SPRITE_VISIBLE or
        fewer (a fixed random sample of them, so panning keeps the same ones); none when zoomed out.
        Returns the data indices shown."""
        self._remove_sprites()
        if self.projection is None or not self.sprites_check.isChecked():
            return []
        (x0, x1), (y0, y1) = self.plot.getPlotItem().viewRange()
        visible = points_in_rect(self.projection.points, (x0, y0, x1, y1))
        if len(visible) == 0 or len(visible) > SPRITE_VISIBLE:
            return []
        rank = np.random.default_rng(0).permutation(len(self.projection.points))     # the same sample each time
        shown = visible[np.argsort(rank[visible])[:SPRITE_COUNT]]
        w, h = (x1 - x0) / SPRITE_SCALE, (y1 - y0) / SPRITE_SCALE
        images = to_unit_float(self.dataset.data[torch.as_tensor(shown)]).numpy()    # (n, C, H, W)
        for index, image in zip(shown, images):
            x, y = self.projection.points[index]
            tile = image.transpose(1, 2, 0)[::-1]          # row 0 of an ImageItem is drawn at the bottom
            item = pg.ImageItem(np.ascontiguousarray(tile[..., 0] if tile.shape[2] == 1 else tile), levels=(0, 1))
            item.setRect(QRectF(x - w / 2, y - h / 2, w, h))
            item.setZValue(8)
            self.plot.addItem(item)
            self.sprite_items.append(item)
        self.bound_sprites.show(self.map_generation)
        return shown.tolist()

    def _manifold_toggled(self, on: bool) -> None:
        if on:
            self.render_manifold()
        else:
            self.manifold_item.clear()
            self.manifold_tiles = 0

    def render_manifold(self) -> None:
        if self.projection is None or not self.manifold_check.isChecked():
            return
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        tiles = self.tiles.value()
        self._manifold_view = ((x0, x1, y0, y1), tiles)
        self.scope.submit("map-manifold", self._decode(self.projection.to_latent(manifold_grid((x0, x1, y0, y1), tiles))))

    def _prior_toggled(self, on: bool) -> None:
        self.prior_view.setVisible(on)
        if not on or self.projection is None:
            self.prior_item.setData([], [])
            return
        z = seeded_latents(PRIOR_SAMPLES, (self.info.latent_dim,), 0)
        plane = self.projection.to_plane(z.numpy())
        self.prior_item.setData(plane[:, 0], plane[:, 1])
        self.bound_prior.show(self.map_generation)
        self.scope.submit("map-prior", self._decode(z[:32].numpy()))

    def _on_rendered(self, channel: str, result, ms: float) -> None:
        if channel == "map-hover":
            self.last_hover = result[0]
            self.hover_view.set_array(result[0])
            self.hover_label.setText(self.hover_label.text().split(" \u00b7")[0] + f" \u00b7 decoded in {ms:.1f} ms")
            self.bound_hover.show(self.scope.made_for(channel))
        elif channel == "map-strip":
            self.strip_view.set_array(np.asarray(grid_image(result, cols=len(result), padding=1)))
            self.bound_path.show(self.scope.made_for(channel))
        elif channel == "map-recon":
            originals, recons = self._picked_originals, result
            self.recon_view.set_array(np.asarray(grid_image(np.concatenate([originals, recons]),
                                                            cols=len(originals), padding=2, pad_value=0.5)))
            self.bound_recon.show(self.scope.made_for(channel))
        elif channel == "map-prior":
            self.prior_view.set_array(np.asarray(grid_image(result, cols=8, padding=1)))
            self.bound_prior.show(self.scope.made_for(channel))
        elif channel == "map-manifold":
            (x0, x1, y0, y1), tiles = self._manifold_view
            images = result
            mosaic = tile_images(images, tiles)[::-1]     # row 0 of an ImageItem is drawn at the bottom
            self.manifold_item.setImage(np.ascontiguousarray(mosaic), levels=(0, 1))
            self.manifold_item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            self.manifold_tiles = tiles * tiles
            self.bound_manifold.show(self.scope.made_for(channel))

    # --- export ---------------------------------------------------------------------------------
    # --- selecting a region --------------------------------------------------------------------
    def _remove_selector(self) -> None:
        if self.selector is not None:
            self.plot.removeItem(self.selector)
            self.selector = None
        self.selected = np.zeros(0, dtype=np.int64)

    def _select_toggled(self, on: bool) -> None:
        self._remove_selector()
        if on and self.projection is not None:
            (x0, x1), (y0, y1) = self.plot.getPlotItem().viewRange()
            w, h = x1 - x0, y1 - y0
            self.select_rect((x0 + 0.35 * w, y0 + 0.35 * h, x0 + 0.65 * w, y0 + 0.65 * h))
        self._show_selection()

    def select_rect(self, rect: tuple[float, float, float, float]) -> np.ndarray:
        """Select the points inside rect (x0, y0, x1, y1), shown as a rectangle one can drag and resize."""
        x0, y0, x1, y1 = rect
        if self.selector is None:
            self.selector = pg.RectROI((min(x0, x1), min(y0, y1)), (abs(x1 - x0), abs(y1 - y0)),
                                       pen=pg.mkPen(theme.current().warning, width=2))
            self.selector.addScaleHandle((0, 0), (1, 1))
            self.selector.sigRegionChangeFinished.connect(self._selector_moved)
            self.selector.setZValue(20)
            self.plot.addItem(self.selector)
        else:
            self.selector.setPos((min(x0, x1), min(y0, y1)), finish=False)
            self.selector.setSize((abs(x1 - x0), abs(y1 - y0)), finish=False)
        self._selector_moved()
        return self.selected

    def _selector_moved(self, *args) -> None:
        (x, y), (w, h) = self.selector.pos(), self.selector.size()
        self.selection_rect = (float(x), float(y), float(x + w), float(y + h))
        self.selected = points_in_rect(self.projection.points, self.selection_rect)
        self._show_selection()

    def _show_selection(self) -> None:
        n = len(self.selected)
        self.export_selection_button.setEnabled(n > 0)
        if self.selector is not None:
            self.status.emit(f"{n} points selected")

    def export_selection(self, path: str) -> tuple:
        """The selection's JSON (indices, labels, latents) and grid PNG of its data images."""
        images = to_unit_float(self.dataset.data[torch.as_tensor(self.selected[:MAX_GRID])]).numpy()
        return export_selection(path, self.selected, self.projection.latents, self.labels, images,
                                self.selection_rect, {"data": self.dataset.name, "checkpoint": str(self.info.path),
                                                      "projection": self.projection.kind})

    def _export_selection_dialog(self) -> None:
        path = file_dialogs.save_file(self, "exports", "Export the selection", "selection.json", "JSON (*.json)")
        if path:
            written = self.export_selection(path)
            self.status.emit(f"wrote {written[0]} and {written[1]}")

    def export_png(self, path: str, width: int = 1600) -> str:
        exporter = pg.exporters.ImageExporter(self.plot.getPlotItem())
        exporter.parameters()["width"] = width
        exporter.export(str(path))
        return str(path)

    def export_latents(self, path: str) -> str:
        """.npz (latents, map points, labels) or .csv (index, label, map x, map y, latent...)."""
        import io

        from genstudio.core.io.atomic import write_bytes_atomic

        latents, points = self.projection.latents, self.projection.points
        labels = self.labels if self.labels is not None else np.full(len(points), -1)
        buffer = io.BytesIO()
        if str(path).lower().endswith(".npz"):
            np.savez_compressed(buffer, latents=latents, points=points, labels=labels,
                                label_names=np.array(self.dataset.label_names),
                                projection=np.array(self.projection.kind))
        else:
            header = "index,label,map_x,map_y," + ",".join(f"z{i + 1}" for i in range(latents.shape[1]))
            table = np.column_stack([np.arange(len(points)), labels, points, latents])
            np.savetxt(buffer, table, delimiter=",", header=header, comments="",
                       fmt=["%d", "%d"] + ["%.6g"] * (table.shape[1] - 2))
        write_bytes_atomic(path, buffer.getvalue())
        return str(path)

    def _export_png_dialog(self) -> None:
        if self.projection is None:
            return
        path = file_dialogs.save_file(self, "exports", "Export the map", "latent-map.png", "PNG image (*.png)")
        if path:
            self.status.emit(f"wrote {self.export_png(path)}")

    def _export_latents_dialog(self) -> None:
        if self.projection is None:
            return
        path = file_dialogs.save_file(self, "exports", "Export latents", "latents.npz",
                                      "NumPy archive (*.npz);;CSV (*.csv)")
        if path:
            self.status.emit(f"wrote {self.export_latents(path)}")
