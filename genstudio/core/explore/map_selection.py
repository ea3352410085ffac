"""A region of the latent map: the points inside a rectangle, and their export. The selection is
written as a JSON (the data set's indices, labels and latents, and the rectangle) and a grid PNG of
the selected data images, both atomically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from genstudio.core.io.atomic import write_bytes_atomic
from genstudio.core.io.export import save_grid

MAX_GRID = 400       # images in the selection's grid (the JSON holds every point)


def points_in_rect(points: np.ndarray, rect: tuple[float, float, float, float]) -> np.ndarray:
    """Indices of the map points (N, 2) inside rect (x0, y0, x1, y1), corners in any order."""
    x0, y0, x1, y1 = rect
    (lo_x, hi_x), (lo_y, hi_y) = sorted((x0, x1)), sorted((y0, y1))
    inside = (points[:, 0] >= lo_x) & (points[:, 0] <= hi_x) & (points[:, 1] >= lo_y) & (points[:, 1] <= hi_y)
    return np.flatnonzero(inside)


def export_selection(path: str | Path, indices: np.ndarray, latents: np.ndarray, labels: np.ndarray | None,
                     images: np.ndarray, rect: tuple[float, float, float, float], about: dict) -> tuple[Path, Path]:
    """`path`.json (indices, labels, latents, rect) and `path`.png (the first MAX_GRID selected images,
    (n, C, H, W) in [0, 1], in a square-ish grid); returns both paths."""
    if len(indices) == 0:
        raise ValueError("the selection holds no point")
    path = Path(path)
    record = {"format": "genstudio-map-selection", "version": 1, **about, "rect": [float(v) for v in rect],
              "indices": [int(i) for i in indices],
              "labels": None if labels is None else [int(v) for v in labels[indices]],
              "latents": np.asarray(latents[indices], dtype=np.float32).tolist()}
    json_path = write_bytes_atomic(path.with_suffix(".json"), json.dumps(record).encode())
    shown = images[:MAX_GRID]
    png_path = save_grid(shown, path.with_suffix(".png"), cols=int(np.ceil(np.sqrt(len(shown)))), padding=1)
    return json_path, png_path
