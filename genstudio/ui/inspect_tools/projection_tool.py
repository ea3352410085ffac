"""Inspect tool for models that project images (GANs): several random starts optimised towards a
data image (or a dropped file) in the background; the best latent lands in the explorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSpinBox

from genstudio.core.data.image_io import load_image_as
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.io.export import grid_image
from genstudio.core.requests.tasks import ProjectedImage, ProjectImage
from genstudio.ui.inspect_tools.base import InspectTool
from genstudio.ui.widgets.image_view import ImageView


class ProjectionTool(InspectTool):
    title = "Project an image: find the latent whose generated image is closest, then explore around it."

    def __init__(self, renderer, tasks, scope, parent=None):
        super().__init__(renderer, tasks, scope, parent)
        self.projection_info: dict | None = None
        self.target_index = QSpinBox()
        self.target_index.setRange(0, 0)
        self.index_box = self.target_index
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
        grid = QGridLayout(self)
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
        self.bound = self.scope.bind("projection: target and result", self.projection_view,
                                     self.projection_label)                      # model_bound.py
        self._projection_generation: int | None = None   # the model the running projection is for

    def project(self, index: int | None = None, target=None) -> None:
        """Project a data image (by index) or a given (C, H, W) image, in the background."""
        if target is None:
            target = self.data().data[index]
        self.message.emit("projecting\u2026")
        self._projection_generation = self.scope.generation
        self.renderer.start_task(self.tasks, ProjectImage(to_unit_float(target), self.steps.value(),
                                                          self.restarts.value()))

    def take_image(self, path) -> bool:
        self.project(target=load_image_as(Path(path), tuple(self.info.data_shape)))
        return True

    def task_done(self, result) -> bool:
        if not isinstance(result, ProjectedImage):
            return False
        info = self.projection_info = result.info
        pair = np.stack([result.target, result.image])
        self.projection_view.set_array(np.asarray(grid_image(pair, cols=2, padding=2, pad_value=0.5)))
        self.projection_label.setText(f"pixel MSE {info['start_error']:.4f} (best random start) \u2192 "
                                      f"{info['final_error']:.4f} after {info['steps']} steps x "
                                      f"{info['restarts']} restarts; the latent is now in the explorer.")
        self.bound.show(self._projection_generation)
        self.message.emit("projection done")
        self.pinLatent.emit(result.latent)
        return True
