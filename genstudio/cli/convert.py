"""`genstudio convert`: an NVIDIA StyleGAN2-ADA snapshot (`network-snapshot-*.pkl`) as an ordinary
genstudio checkpoint. The pickle is read as data (core/stylegan_pickle.py): nothing in it runs."""

from __future__ import annotations

from pathlib import Path

from genstudio.core.errors import GenStudioError

NAME = "convert"


def add_parser(sub) -> None:
    convert = sub.add_parser(NAME, help="convert a StyleGAN2-ADA .pkl snapshot into a genstudio checkpoint")
    convert.add_argument("snapshot", type=Path, help="a network-snapshot-*.pkl written by NVIDIA's stylegan2-ada-pytorch")
    convert.add_argument("out", type=Path, help="the genstudio checkpoint to write (.safetensors)")
    convert.add_argument("--network", default="G_ema", choices=("G_ema", "G"),
                         help="which generator to take (default G_ema, the averaged weights NVIDIA samples with)")


def run(args) -> int:
    from genstudio.core.families.stylegan.nvidia import model_from_snapshot
    from genstudio.core.families.stylegan.nvidia_pickle import is_stylegan_pickle_name, read_snapshot
    from genstudio.core.io.checkpoints import save_checkpoint

    if not is_stylegan_pickle_name(args.snapshot):
        raise GenStudioError(f"{args.snapshot}: convert reads StyleGAN2-ADA snapshots (.pkl); genstudio checkpoints, "
                             "TorchScript files and diffusers folders open as they are")
    if args.out.suffix.lower() != ".safetensors":
        raise GenStudioError(f"{args.out}: a genstudio checkpoint is written as .safetensors")
    model, card = model_from_snapshot(read_snapshot(args.snapshot), args.network)
    written = save_checkpoint(args.out, model, card)
    print(f"{args.snapshot} ({args.network}) -> {written}: StyleGAN2 {card.config.resolution} px, "
          f"{card.config.data_shape[0]} channel{'s' if card.config.data_shape[0] > 1 else ''}, "
          f"{model.num_ws} w's, {sum(p.numel() for p in model.parameters()):,} parameters")
    return 0
