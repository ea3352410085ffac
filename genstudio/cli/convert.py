"""`genstudio convert`: a model in another format as an ordinary genstudio checkpoint, for every format
whose reader converts (core/io/readers.py; today NVIDIA StyleGAN2-ADA snapshots and public CycleGAN /
pix2pix generator state dicts, both read as data: nothing in them runs). Other formats are refused in one line saying why."""

from __future__ import annotations

from pathlib import Path

from genstudio.core.errors import GenStudioError

NAME = "convert"


def add_parser(sub) -> None:
    from genstudio.core.io import readers

    convertible = ", ".join(r.label for r in readers.readers() if r.convert is not None)
    convert = sub.add_parser(NAME, help=f"convert a model file into a genstudio checkpoint ({convertible})")
    convert.add_argument("snapshot", type=Path, help=f"the file to convert: {convertible}")
    convert.add_argument("out", type=Path, help="the genstudio checkpoint to write (.safetensors)")
    convert.add_argument("--network", help="formats holding several networks: which one to take (StyleGAN2-ADA "
                                           "snapshots: G_ema, the averaged weights NVIDIA samples with, or G)")


def run(args) -> int:
    from genstudio.core import registry
    from genstudio.core.io import readers
    from genstudio.core.io.checkpoints import SUFFIX, save_checkpoint

    if args.out.suffix.lower() != SUFFIX:
        raise GenStudioError(f"{args.out}: a genstudio checkpoint is written as {SUFFIX}")
    options = {"network": args.network} if args.network is not None else {}
    model, card = readers.convert(args.snapshot, **options)
    written = save_checkpoint(args.out, model, card)
    family = registry.get(card.family)
    taken = f" ({args.network})" if args.network else ""
    print(f"{args.snapshot}{taken} -> {written}: {family.label} ({card.preset}), "
          f"{' x '.join(map(str, card.data_shape))}, {sum(p.numel() for p in model.parameters()):,} parameters")
    return 0
