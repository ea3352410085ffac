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
    from genstudio.core.checkpoints import load_checkpoint, read_header
    from genstudio.core.model_card import ModelCard
    from genstudio.core.families.family import Capability
    from genstudio.core.foreign import is_foreign_name

    if is_foreign_name(args.checkpoint):
        return _foreign_info(args)
    if args.json:
        print(json.dumps(read_header(args.checkpoint), indent=2))
        return 0
    header = read_header(args.checkpoint)              # read and checked once; the card is its typed view
    card = ModelCard.from_header(header, args.checkpoint)
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
        ("resumable", "yes" if header.get("optimizers") else "no (weights only)"),
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


def _foreign_info(args) -> int:
    """A foreign generator described from its archive alone: loading it would run its author's code,
    and `info` is the command one uses to decide whether to."""
    from genstudio.core.foreign import HOW_TO_ALLOW, inspect_foreign_file

    if args.image:
        raise GenStudioError(f"{args.checkpoint}: --image needs a genstudio checkpoint of a flow, not a "
                             "TorchScript / torch.export generator")
    foreign = inspect_foreign_file(args.checkpoint, unpickle_tensors=False)
    if args.json:
        print(json.dumps(foreign.describe(), indent=2))
        return 0
    shown = list(foreign.entries[:20])
    if len(foreign.entries) > 20:
        shown.append(f"... {len(foreign.entries) - 20} more (all of them with --json)")
    rows = [
        ("file", str(args.checkpoint)),
        ("kind", f"{foreign.label} archive (a foreign generator)"),
        ("code", f"a program from its author: it runs on this computer when opened ({HOW_TO_ALLOW})"),
        ("genstudio", _verdict(foreign)),
        ("sha256", foreign.sha256),
        ("size", f"{foreign.size} bytes"),
        ("entries", f"{len(foreign.entries)}: " + ", ".join(shown)),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _verdict(foreign) -> str:
    if foreign.problem:
        return f"refuses it: {foreign.problem}"
    if foreign.kind == "export":
        # the sample inputs are a pickle; even weights-only unpickling is left to the open itself
        return ("would load it with your consent, if its sample inputs load with weights_only=True "
                "(checked when it is opened: info unpickles nothing)")
    return "would load it with your consent"
