"""Open a person's image files safely: a dropped file, `genstudio info --image`, every file of an image folder.

An image file is untrusted input. Before Pillow sees it, the path must be a regular file of at most
MAX_IMAGE_FILE_BYTES (a FIFO named x.png would block the open forever, /dev/zero would be read
without end). Before Pillow decodes it, the size its header declares must be at least 1×1 and at
most MAX_IMAGE_PIXELS, so a few-kilobyte PNG that claims 100000×100000 pixels (a decompression
bomb) is refused instead of allocated. Whatever Pillow raises for a malformed file (DECODE_ERRORS)
becomes a DataError of one line naming the file.
"""

from __future__ import annotations

import contextlib
import struct
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from genstudio.core.errors import DataError
from genstudio.core.io.file_checks import open_regular_file
from genstudio.core.runtime.memory_budget import GiB

# No image anyone trains on or drops on the window comes near either bound; both exist so that a
# file cannot make a loader read or allocate without limit.
MAX_IMAGE_FILE_BYTES = 1 * GiB
MAX_IMAGE_PIXELS = 89_478_485          # Pillow's own default bomb threshold (about 0.25 GiB of RGBA)

# What Pillow raises for malformed image files, seen across its decoders: OSError (unidentified,
# truncated, broken data stream), SyntaxError (bad PNG chunks), ValueError and struct.error (bad
# header fields), EOFError (cut short), IndexError (bad palettes and tables), DecompressionBombError.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, Image.DecompressionBombError)

# open_image refuses images over MAX_IMAGE_PIXELS with its own message; Pillow's warning for the same
# images would only add a second, less clear line on the console.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageTooLarge(DataError):
    """The header declares more pixels than MAX_IMAGE_PIXELS (a decompression bomb, or just huge)."""


def _too_large(path: Path, width: int, height: int) -> ImageTooLarge:
    return ImageTooLarge(f"{path}: image of {width}×{height} pixels is larger than the {MAX_IMAGE_PIXELS:,} pixels "
                         f"genstudio decodes")


@contextlib.contextmanager
def open_image(path: str | Path, draft: tuple[str, tuple[int, int]] | None = None) -> Iterator[Image.Image]:
    """The image at `path`, opened (header parsed, pixels not yet decoded) and checked as described above.

    `draft` is (mode, (width, height)): JPEGs are then decoded at a reduced scale no smaller than
    that, and the pixel bound applies to the reduced size. Raises DataError (ImageTooLarge for the
    pixel bound); Pillow's own errors while decoding inside the block are the caller's to convert
    (`describe_error`), since only the caller knows whether to skip or refuse.
    """
    path = Path(path)
    with open_regular_file(path, "image", error=DataError, max_bytes=MAX_IMAGE_FILE_BYTES) as handle:
        try:
            image = Image.open(handle)
        except Image.DecompressionBombError:
            raise ImageTooLarge(f"{path}: image larger than the {MAX_IMAGE_PIXELS:,} pixels genstudio decodes") from None
        with image:
            if draft is not None:
                image.draft(*draft)
            width, height = image.size
            if width < 1 or height < 1:
                raise DataError(f"{path}: image of {width}×{height} pixels holds no pixels")
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_large(path, width, height)
            yield image


def describe_error(exc: BaseException) -> str:
    """A short reason for one of DECODE_ERRORS, without the file object repr Pillow puts in some."""
    if isinstance(exc, UnidentifiedImageError):
        return "not an image format Pillow reads"
    if isinstance(exc, Image.DecompressionBombError):
        return f"larger than the {MAX_IMAGE_PIXELS:,} pixels genstudio decodes"
    text = " ".join(str(exc).split())
    return text[:120] if text else type(exc).__name__


def load_translation_input(path: str | Path, channels: int, size: tuple[int, int]) -> torch.Tensor:
    """An image file as the public CycleGAN / pix2pix test pipeline prepares it, so a translation in
    genstudio (the explorer, `genstudio translate`) equals that code's: opened with PIL and converted
    to RGB (then to grey for a one-channel model, as its Grayscale transform does), resized to
    (height, width) = `size` with PIL's bicubic filter (torchvision's Resize on a PIL image), scaled to
    [0, 1] (ToTensor): (1, C, H, W) float32."""
    path = Path(path)
    height, width = size
    try:
        with open_image(path) as image:
            image = image.convert("RGB")
            if channels == 1:
                image = image.convert("L")                # before the resize, as Grayscale(1) comes first
            image = image.resize((width, height), Image.BICUBIC)
            array = np.asarray(image, dtype=np.uint8)
    except DECODE_ERRORS as exc:
        raise DataError(f"{path}: not a readable image ({describe_error(exc)})") from None
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)           # (C, H, W)
    return torch.from_numpy(array.copy()).float().div(255).unsqueeze(0)


def load_image_as(path: str | Path, shape: tuple[int, int, int]) -> torch.Tensor:
    """A user's image file as the model's input: (C, H, W) uint8, grey or RGB, resized with Lanczos."""
    path = Path(path)
    channels, height, width = shape
    mode = "L" if channels == 1 else "RGB"
    try:
        with open_image(path, draft=(mode, (width, height))) as image:
            image = image.convert(mode)
            if image.size != (width, height):
                image = image.resize((width, height), Image.LANCZOS)
            array = np.asarray(image, dtype=np.uint8)
    except DECODE_ERRORS as exc:
        raise DataError(f"{path}: not a readable image ({describe_error(exc)})") from None
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(array.copy())
