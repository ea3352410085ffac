"""genstudio's own checkpoints (checkpoints.py) as a file reader: a safetensors file read as data, its
model rebuilt from the card's family and config. readers.py also hands it every file no other
reader recognises, so a stray file is refused by the checkpoint loader's one-line reasons."""

from __future__ import annotations

import json
from pathlib import Path

from genstudio.core import registry
from genstudio.core.io.checkpoints import SUFFIX, load_checkpoint, read_header
from genstudio.core.io.model_card import ModelCard
from genstudio.core.io.reader import Description, OpenOptions, Reader


def sniff(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX and not path.is_dir()


def open_checkpoint(path: Path, device, options: OpenOptions):
    checkpoint = load_checkpoint(path, device=device)
    return checkpoint.model, checkpoint.card


def describe(path: Path) -> Description:
    """The card's fields as rows; --json prints the whole header (read and checked once)."""
    header = read_header(path)
    card = ModelCard.from_header(header, path)
    family = registry.get(card.family)
    data, train = card.data, card.train
    config = {k: v for k, v in card.config.to_dict().items() if k != "data_shape"}
    rows = (
        ("file", str(path)),
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
    )
    return Description(rows, header, f"a {family.label} checkpoint", family.name)


READER = Reader(name="genstudio-checkpoint", label="genstudio checkpoints", sniff=sniff, open=open_checkpoint,
                describe=describe, suffixes=(SUFFIX,),
                no_convert="a genstudio checkpoint already: it opens as it is")
