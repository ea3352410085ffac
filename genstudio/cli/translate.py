"""`genstudio translate CKPT IMAGE... --out PNG|DIR`: image files through a translation model, A -> B
(or B -> A where the model has that generator).

CKPT is a genstudio translation checkpoint or a generator state dict saved by the public CycleGAN /
pix2pix code (core/io/cyclegan_reader.py), opened through the reader registry. The images are
prepared as that code's test pipeline prepares them (core/data/image_io.load_translation_input,
which the explorer uses too), so the output equals its output (in eval mode) within 1/255; the model maps [0, 1] to
[-1, 1] inside (Normalize(0.5, 0.5)) and back, and the output is written as its tensor2im writes it:
(y + 1) / 2 * 255, truncated to uint8.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genstudio.cli.arguments import DIRECTION_NAMES
from genstudio.core.errors import GenStudioError

NAME = "translate"
MAX_SIZE = 2048


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 4 <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"a side in pixels from 4 to {MAX_SIZE}, not {text!r}")
    return value


def add_parser(sub) -> None:
    translate = sub.add_parser(NAME, help="translate image files with a translation model (CycleGAN), or a "
                                          "CycleGAN / pix2pix generator .pth saved by the public code")
    translate.add_argument("checkpoint", type=Path,
                           help="a genstudio translation checkpoint or a public CycleGAN / pix2pix generator .pth")
    translate.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files to translate")
    translate.add_argument("--out", type=Path, required=True,
                           help="the PNG to write (one image), or an existing folder: each output is named after "
                                "its input (IMAGE.png)")
    translate.add_argument("--direction", choices=DIRECTION_NAMES, default="AtoB",
                           help="AtoB (default) or BtoA, which needs a model with both generators")
    translate.add_argument("--size", type=_size,
                           help="resize each image to SIZE x SIZE first (default: the model's sample size; 256 for "
                                "a public .pth, the public code's default load size)")


def output_paths(images: list[Path], out: Path) -> list[Path]:
    """Where each translation goes: `out` itself for one image unless it is a folder, else
    out/<input name>.png; GenStudioError for a missing folder, a clash, or an input overwritten."""
    if len(images) > 1 and not out.is_dir():
        raise GenStudioError(f"{out}: several images are written to a folder, and this is not an existing folder")
    if out.is_dir():
        paths = [out / f"{image.stem}.png" for image in images]
    else:
        if out.suffix.lower() != ".png":
            raise GenStudioError(f"{out}: the translation is written as a PNG (name it .png) or into an existing folder")
        if not out.parent.is_dir():
            raise GenStudioError(f"{out}: the folder {out.parent} does not exist")
        paths = [out]
    seen: dict[Path, Path] = {}
    inputs = {image.resolve() for image in images}
    for image, path in zip(images, paths):
        if path in seen:
            raise GenStudioError(f"{image}: its output {path} is also {seen[path]}'s (two inputs of the same name)")
        if path.resolve() in inputs:
            raise GenStudioError(f"{path}: the output would overwrite an input image")
        seen[path] = image
    return paths


def _check_size(args, config, size: tuple[int, int]) -> None:
    """The generator's own multiple: a ResNet halves twice, a U-Net `unet_downs` times."""
    multiple = 2 ** config.unet_downs if config.generator == "unet" else 4
    if size[0] % multiple or size[1] % multiple:
        kind = f"a U-Net with {config.unet_downs} downsamplings" if config.generator == "unet" else "a ResNet generator"
        raise GenStudioError(f"{args.checkpoint}: {kind} needs sides that are multiples of {multiple}, not "
                             f"{size[1]} x {size[0]}")


def to_uint8(images):
    """(1, C, H, W) in [0, 1] -> (H, W, C) uint8 as tensor2im: x * 255 truncated (not rounded)."""
    return images[0].mul(255).permute(1, 2, 0).numpy().astype("uint8")


def run(args) -> int:
    from PIL import Image

    from genstudio.core.data.image_io import load_translation_input
    from genstudio.core.errors import check_finite
    from genstudio.core.families.family import Capability
    from genstudio.core.io.export import save_png
    from genstudio.core.io.file_checks import check_readable_file
    from genstudio.core.io.open_model import open_model

    paths = output_paths(args.images, args.out)
    for image in args.images:                             # every input checked before any output is written
        check_readable_file(image, "image", error=GenStudioError)
    opened = open_model(args.checkpoint)
    model, info = opened.model, opened.info
    if not info.has(Capability.TRANSLATION):
        what = "a foreign generator" if info.is_foreign else f"a {info.family} model"
        raise GenStudioError(f"{args.checkpoint}: not a translation model (it is {what}); translate takes a "
                             "translation checkpoint or a CycleGAN / pix2pix generator .pth")
    direction = DIRECTION_NAMES.index(args.direction)
    if direction and model.directions < 2:
        raise GenStudioError(f"{args.checkpoint}: this model holds one generator (A -> B) only: it has no B -> A "
                             "(a public file holds one; its partner is the other net_G file, e.g. latest_net_G_B.pth)")
    channels = model.data_shape[0]
    size = (args.size, args.size) if args.size else tuple(model.data_shape[1:])
    _check_size(args, model.config, size)
    arrow = "A -> B" if direction == 0 else "B -> A"
    for image, path in zip(args.images, paths):
        x = load_translation_input(image, channels, size).to(next(model.parameters()).device)
        y = model.translate(x, direction=direction).cpu()                      # (1, C, H, W) in [0, 1]
        check_finite(y, f"{args.checkpoint}: the translation of {image}")
        array = to_uint8(y)
        save_png(Image.fromarray(array[:, :, 0] if channels == 1 else array), path)
        print(f"wrote {path} ({image.name}, {arrow}, {size[1]} x {size[0]})")
    return 0
