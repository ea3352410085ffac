"""`genstudio info`: what a checkpoint (or a foreign generator) is."""

from __future__ import annotations

import json
from pathlib import Path

from genstudio.core.errors import GenStudioError

NAME = "info"


def add_parser(sub) -> None:
    info = sub.add_parser(NAME, help="print a checkpoint's description")
    info.add_argument("checkpoint", type=Path)
    info.add_argument("--json", action="store_true", help="print the whole header as JSON")
    info.add_argument("--image", type=Path, action="append", default=[],
                      help="models with an exact likelihood (flows): also print the bits/dim of this image "
                           "file (repeatable)")


def run(args) -> int:
    from genstudio.core import registry
    from genstudio.core.checkpoints import load_checkpoint, read_card, read_header
    from genstudio.core.families.family import Capability
    from genstudio.core.foreign import WARNING
    from genstudio.core.open_model import is_foreign_file

    if is_foreign_file(args.checkpoint):
        print(f"{args.checkpoint}: a TorchScript / torch.export archive (foreign generator). {WARNING}.")
        return 0
    if args.json:
        print(json.dumps(read_header(args.checkpoint), indent=2))
        return 0
    card = read_card(args.checkpoint)
    family = registry.get(card.family)
    data, train = card.data, card.train
    config = {k: v for k, v in card.config.to_dict().items() if k != "data_shape"}
    rows = [
        ("file", str(args.checkpoint)),
        ("family", f"{family.name} ({family.label})"),
        ("preset", card.preset),
        ("architecture", json.dumps(config)),
        ("data", f"{data.name or '?'} ({data.size} samples, {data.source or 'source unknown'})"),
        ("sample shape", " x ".join(map(str, card.data_shape))),
        ("latent shape", " x ".join(map(str, card.latent_shape))),
        ("value range", f"{card.value_range[0]:g} .. {card.value_range[1]:g}"),
        ("labels", ", ".join(card.label_names) or "none"),
        ("step", str(card.step)),
        ("hyper-parameters", json.dumps(train.get("hyper", {}))),
        ("resumable", "yes" if read_header(args.checkpoint).get("optimizers") else "no (weights only)"),
        ("created", card.created),
        ("format", f"genstudio-checkpoint v{card.format_version}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in card.versions.items())),
    ]
    if args.image:
        from genstudio.core.likelihood import image_bits_per_dim

        if not family.has(Capability.EXACT_LIKELIHOOD):
            raise GenStudioError(f"{args.checkpoint}: --image needs a model with an exact likelihood (a flow); "
                                 f"this is a {family.label}")
        model = load_checkpoint(args.checkpoint).model.eval()
        try:
            rows += [(f"bits/dim {path.name}", f"{image_bits_per_dim(model, path):.6f}") for path in args.image]
        except ValueError as exc:
            raise GenStudioError(f"{args.checkpoint}: {exc}") from None
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
