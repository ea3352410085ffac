"""Grids, strips and GIFs have the pixel sizes and frame counts their arguments promise."""

import numpy as np
from PIL import Image

from genstudio.core.io.export import points_image, save_gif, save_grid, save_strip


def test_grid_size_padding_and_scale(tmp_path):
    images = np.random.rand(12, 1, 28, 28).astype(np.float32)
    path = save_grid(images, tmp_path / "g.png", cols=4, padding=2, scale=2)
    with Image.open(path) as im:
        # 4 columns, 3 rows of 28 px with 2 px padding around each, then doubled.
        assert im.size == ((4 * 30 + 2) * 2, (3 * 30 + 2) * 2)
        assert im.mode == "RGB"


def test_strip_and_gif(tmp_path):
    frames = np.linspace(0, 1, 9, dtype=np.float32)[:, None, None, None] * np.ones((9, 3, 16, 16), np.float32)
    with Image.open(save_strip(frames, tmp_path / "s.png", padding=0)) as im:
        assert im.size == (9 * 16, 16)
    with Image.open(save_gif(frames, tmp_path / "a.gif", frame_ms=50, scale=3)) as gif:
        assert gif.n_frames == 9 and gif.size == (48, 48)
        gif.seek(8)
        assert np.asarray(gif.convert("L")).mean() > 250  # the last frame is white
    with Image.open(save_gif(frames, tmp_path / "b.gif", boomerang=True)) as gif:
        assert gif.n_frames == 9 + 7


def test_points_image_draws_points(tmp_path):
    pts = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    image = points_image(pts, size=64)
    pixels = np.asarray(image)
    assert image.size == (64, 64)
    assert (pixels[:, :, 2] > pixels[:, :, 0] + 50).any()  # blue dots on white
