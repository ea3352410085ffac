"""The image a model transforms, as part of the explorer's current image: a translation model's
input (a data image, a dropped file, another direction's output). The session holds it beside the
latent (ExploreSession.source), every decode of the current image passes it to `model.decode(...,
source=...)`, and the latent record keeps it, so the Layer view, the history's thumbnails, the
exports and `genstudio sample --latent` translate the image the explorer shows, not some other one.

The record keeps the pixels, as a base64 PNG, rather than where they came from: a data set, a file
or an output may be gone or changed by the time the record is read, and an output taken as input
has no place to point to. The image is rounded to 8 bits when it is made (`SourceImage.of`), so the
PNG holds it exactly and the record decodes to the same picture the explorer showed.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

import numpy as np
import torch

from genstudio.core.errors import GenStudioError

MAX_SIDE = 4096                 # px: the largest source image a record may hold
MAX_PNG_TEXT = 64 * 2**20       # characters of base64: a record is refused above this before decoding


@dataclass(frozen=True, eq=False)
class SourceImage:
    """An input image (1, C, H, W) float in [0, 1] on 8-bit levels, what it is (`name`: "A: mnist #12",
    a file's name) and, for a data image, its index in the source domain (else None)."""

    image: torch.Tensor
    name: str
    index: int | None
    png: str                    # base64 PNG of `image`: what the record keeps

    @classmethod
    def of(cls, image, name: str, index: int | None = None) -> SourceImage:
        """From an image (C, H, W) or (1, C, H, W) in [0, 1], array or tensor: rounded to 8 bits."""
        pixels = torch.as_tensor(np.asarray(image) if isinstance(image, np.ndarray) else image).detach().float().cpu()
        pixels = pixels.reshape(-1, *pixels.shape[-2:]).numpy()                                  # (C, H, W)
        levels = np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)
        if levels.shape[0] not in (1, 3):
            raise GenStudioError(f"{name}: a source image needs 1 or 3 channels, not {levels.shape[0]}")
        return cls(torch.from_numpy(levels.astype(np.float32) / 255)[None], name, index, _png_text(levels))

    def same_as(self, other: SourceImage | None) -> bool:
        return other is not None and (self.png, self.name, self.index) == (other.png, other.name, other.index)

    def to_record(self) -> dict:
        record = {"name": self.name, "png": self.png}
        if self.index is not None:
            record["index"] = self.index
        return record

    @classmethod
    def from_record(cls, record, where: str, shape: tuple[int, ...] | None = None) -> SourceImage:
        """A record's source image, checked (a dict with a name, an optional index and a PNG of at most
        MAX_SIDE px a side, of `shape` (C, H, W) when given); GenStudioError names `where`."""
        from PIL import Image

        if not (isinstance(record, dict) and isinstance(record.get("name"), str) and isinstance(record.get("png"), str)):
            raise GenStudioError(f"{where}: 'source' must be an object with a name and a base64 PNG")
        index = record.get("index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
            raise GenStudioError(f"{where}: the source's 'index' must be a whole number from 0")
        if len(record["png"]) > MAX_PNG_TEXT:
            raise GenStudioError(f"{where}: the source image is over {MAX_PNG_TEXT // 2**20} MB of text")
        try:
            data = base64.b64decode(record["png"], validate=True)
            with Image.open(io.BytesIO(data)) as picture:
                if picture.format != "PNG" or max(picture.size) > MAX_SIDE:
                    raise GenStudioError(f"{where}: the source must be a PNG of at most {MAX_SIDE} px a side")
                if picture.mode not in ("L", "RGB"):
                    raise GenStudioError(f"{where}: the source PNG must be grey or RGB, not {picture.mode}")
                levels = np.asarray(picture)
        except GenStudioError:
            raise
        except (binascii.Error, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise GenStudioError(f"{where}: the source image is not a readable PNG ({type(exc).__name__})") from None
        levels = levels[None] if levels.ndim == 2 else levels.transpose(2, 0, 1)       # (C, H, W)
        if shape is not None and tuple(levels.shape) != tuple(shape):
            raise GenStudioError(f"{where}: a source image of shape {tuple(levels.shape)}, the model translates "
                                 f"{tuple(shape)}")
        image = torch.from_numpy(levels.astype(np.float32) / 255)[None]
        return cls(image, record["name"], index, record["png"])


def _png_text(levels: np.ndarray) -> str:
    """base64 PNG of (C, H, W) uint8."""
    from PIL import Image

    picture = Image.fromarray(levels[0] if levels.shape[0] == 1 else levels.transpose(1, 2, 0))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
