"""Write what a model makes: image grids, interpolation strips, animated GIFs, 2-D scatter plots."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from genstudio.core.io.atomic import write_bytes_atomic


def to_uint8_hwc(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] -> (N, H, W, 3) uint8, grey repeated to RGB."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return (x.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def grid_image(images: np.ndarray | torch.Tensor, cols: int, padding: int = 2, scale: int = 1,
               pad_value: float = 0.0) -> Image.Image:
    """Tile (N, C, H, W) images in [0, 1] into rows of `cols`, with `padding` px and integer upscaling.

    The layout is torchvision's `make_grid` (padding around every cell, so a row of k images of
    width w is k (w + p) + p wide); written with numpy because importing torchvision costs the app
    two seconds of start-up (its ops pull in torch._dynamo)."""
    tiles = to_uint8_hwc(images)                                  # (N, H, W, 3)
    n, h, w, _ = tiles.shape
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fill = int(round(float(np.clip(pad_value, 0, 1)) * 255))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, 3), fill, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = tile
    image = Image.fromarray(grid)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


def points_image(points: np.ndarray, size: int = 512, real: np.ndarray | None = None,
                 bounds: tuple[float, float, float, float] | None = None,
                 highlight: np.ndarray | None = None) -> Image.Image:
    """A scatter of 2-D points (N, 2) on white: generated in blue, optional real points in grey beneath,
    optional `highlight` points (M, 2) as red rings on top."""
    clouds = [p for p in (real, points) if p is not None]
    if bounds is None:
        everything = np.concatenate(clouds)
        lo, hi = everything.min(0), everything.max(0)
        margin = 0.1 * max(float((hi - lo).max()), 1e-3)
        bounds = (lo[0] - margin, hi[0] + margin, lo[1] - margin, hi[1] + margin)
    x0, x1, y0, y1 = bounds
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for cloud, colour in ((real, (170, 170, 170)), (points, (31, 119, 180))):
        if cloud is None:
            continue
        px = (cloud[:, 0] - x0) / (x1 - x0) * (size - 1)
        py = (1 - (cloud[:, 1] - y0) / (y1 - y0)) * (size - 1)   # y grows upwards
        for u, v in zip(px, py):
            draw.ellipse((u - 1.5, v - 1.5, u + 1.5, v + 1.5), fill=colour)
    if highlight is not None:
        hx = (highlight[:, 0] - x0) / (x1 - x0) * (size - 1)
        hy = (1 - (highlight[:, 1] - y0) / (y1 - y0)) * (size - 1)
        for u, v in zip(hx, hy):
            draw.ellipse((u - 6, v - 6, u + 6, v + 6), outline=(214, 39, 40), width=3)
    return image


def png_bytes(image: Image.Image, compress_level: int = 6) -> bytes:
    """The image as PNG; `compress_level` 1 encodes a sample grid about twice as fast as Pillow's
    default 6, for a file a little larger."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def save_png(image: Image.Image, path: str | Path) -> Path:
    return write_bytes_atomic(path, png_bytes(image))


def save_grid(images, path: str | Path, cols: int, padding: int = 2, scale: int = 1) -> Path:
    return save_png(grid_image(images, cols, padding, scale), path)


def save_strip(images, path: str | Path, padding: int = 2, scale: int = 1) -> Path:
    """An interpolation strip: the frames (N, C, H, W) side by side in one row."""
    return save_grid(images, path, cols=len(images), padding=padding, scale=scale)


def save_gif(images, path: str | Path, frame_ms: int = 80, scale: int = 1, loop: int = 0,
             boomerang: bool = False) -> Path:
    """An animated GIF of frames (N, C, H, W) in [0, 1]; `boomerang` plays the path back and forth."""
    frames = [Image.fromarray(f) for f in to_uint8_hwc(images)]
    if scale > 1:
        frames = [f.resize((f.width * scale, f.height * scale), Image.NEAREST) for f in frames]
    if boomerang and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms,
                   loop=loop, disposal=2, optimize=False)
    return write_bytes_atomic(path, buffer.getvalue())


def latents_path(image_path: str | Path) -> Path:
    """Where an export's latents go: beside it, same name, .json."""
    return Path(image_path).with_suffix(".json")


def save_latents_beside(image_path: str | Path, latents: torch.Tensor, labels: torch.Tensor | None,
                        options: dict, about: dict) -> Path:
    """The latents (n, D) an exported image was drawn from, in reading order, with their labels and
    decode settings, so any cell of it can be drawn again."""
    return save_export_record(image_path, {
        **about,
        # an edit in a declared latent space (SpaceEdit) is written as its record, as the latent record writes it
        "decode_options": {k: v.to_record() if hasattr(v, "to_record") else v for k, v in options.items()},
        "latents": latents.reshape(len(latents), -1).tolist(),
        "labels": None if labels is None else labels.reshape(-1).tolist()})


def save_export_record(image_path: str | Path, record: dict) -> Path:
    """What an exported image was drawn from, as JSON beside it (latents_path)."""
    header = {"format": "genstudio-export", "version": 1, "image": Path(image_path).name}
    return write_bytes_atomic(latents_path(image_path), json.dumps({**header, **record}).encode())
