"""NVIDIA StyleGAN2-ADA snapshots (`network-snapshot-*.pkl`) as a file reader: the file read here, its
pickle parsed as data by families/stylegan/nvidia_pickle.py (nothing in it runs), the generator
rebuilt by families/stylegan/nvidia.py, and its card written here. A snapshot converts into an
ordinary genstudio checkpoint (`genstudio convert`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from genstudio.core.errors import CheckpointError
from genstudio.core.families.stylegan.model import StyleGAN
from genstudio.core.families.stylegan.nvidia import model_from_snapshot
from genstudio.core.families.stylegan.nvidia_pickle import (
    Snapshot,
    UnsupportedPickle,
    parse_snapshot,
)
from genstudio.core.io.file_checks import open_regular_file
from genstudio.core.io.model_card import DataDescription, ModelCard
from genstudio.core.io.reader import Description, OpenOptions, Reader

SUFFIX = ".pkl"
MAX_BYTES = 4 << 30              # the largest snapshot read (a 1024 px G + D + G_ema is about 380 MB)
PRESET = "nvidia-stylegan2-ada"
GENERATORS = ("G_ema", "G")      # G_ema: the averaged weights NVIDIA samples with
KIND = "StyleGAN2-ADA network snapshot (NVIDIA stylegan2-ada-pytorch)"


def sniff(path: Path) -> bool:
    """Named like a snapshot (`network-snapshot-*.pkl`, or any .pkl): no other reader takes pickles."""
    return path.suffix.lower() == SUFFIX and not path.is_dir()


def read_snapshot(path: str | Path) -> Snapshot:
    """The snapshot's contents without running anything from it, streamed from the file (never read
    whole); CheckpointError (one line naming the file) for anything it will not read."""
    path = Path(path)
    what = "a StyleGAN pickle"
    try:
        with open_regular_file(path, what, error=CheckpointError, max_bytes=MAX_BYTES) as handle:
            # The size when opened bounds every read, so a file that grows meanwhile is not read past it.
            return parse_snapshot(handle, min(os.fstat(handle.fileno()).st_size, MAX_BYTES), path)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read {what}: {exc.strerror or type(exc).__name__}") from None


def card_of(snapshot: Snapshot, model: StyleGAN, network: str) -> ModelCard:
    """A genstudio card for the rebuilt generator, recording the file, its digest and training set."""
    training = snapshot.training_set
    source = training.get("path") if isinstance(training.get("path"), str) else ""
    labels = tuple(str(i) for i in range(model.num_classes))
    data = DataDescription(name=Path(source).stem if source else "unknown (a StyleGAN2-ADA snapshot)",
                           size=0, shape=tuple(model.data_shape), label_names=labels)
    train = {"converted_from": {"file": Path(snapshot.path).name, "sha256": snapshot.sha256, "network": network,
                                "training_set": {k: v for k, v in training.items()
                                                 if isinstance(v, (str, int, float, bool)) or v is None}}}
    return ModelCard.describe(model, preset=PRESET, data=data, step=0, train=train)


def open_snapshot(path: Path, network: str = "G_ema") -> tuple[StyleGAN, ModelCard]:
    """genstudio's StyleGAN2 with the snapshot's `network` weights (G_ema unless asked), and its card:
    what `genstudio convert` writes as a checkpoint."""
    if network not in GENERATORS:
        raise CheckpointError(f"{path}: a snapshot's generators are {' and '.join(GENERATORS)}, not {network!r:.40}")
    snapshot = read_snapshot(path)
    model = model_from_snapshot(snapshot, network)
    return model, card_of(snapshot, model, network)


def open_for_exploring(path: Path, device, options: OpenOptions):
    model, card = open_snapshot(path)
    return model.to(device), card


def describe(path: Path) -> Description:
    """Described from its records: read as data, its generator rebuilt by genstudio's own
    implementation (which also checks every weight), nothing from the file run."""
    snapshot = read_snapshot(path)
    model = model_from_snapshot(snapshot)
    config = model.config
    try:                                     # the other networks (D, G) are only counted, but read all the same
        networks = {name: f"{record.class_name}, {len(record.tensors())} tensors" for name, record in
                    snapshot.networks.items()}
    except UnsupportedPickle as exc:
        raise UnsupportedPickle(f"{path}: {exc}") from None
    sources = {r.module_src for record in snapshot.networks.values() for r in record.walk()}
    g = {"resolution": config.resolution, "channels": config.data_shape[0], "z_dim": config.z_dim,
         "w_dim": config.w_dim, "c_dim": config.num_classes, "mapping_layers": config.mapping_layers,
         "num_ws": model.num_ws, "channel_base": config.channel_base, "channel_max": config.channel_max,
         "architecture": config.architecture, "conv_clamp": config.conv_clamp or None,
         "parameters": sum(p.numel() for p in model.parameters())}
    data = {"file": str(path), "kind": KIND, "sha256": snapshot.sha256, "networks": networks,
            "training_set": json.loads(json.dumps(snapshot.training_set, default=str)), "generator": g}
    rows = (
        ("file", str(path)),
        ("kind", KIND),
        ("networks", "; ".join(f"{k}: {v}" for k, v in networks.items())),
        ("generator", f"G_ema: {g['resolution']} x {g['resolution']} px, {g['channels']} channels, z {g['z_dim']}, "
                      f"w {g['w_dim']}, {g['mapping_layers']} mapping layers, {g['num_ws']} w's (W+), "
                      f"{g['parameters']:,} parameters"),
        ("labels", f"{g['c_dim']} classes" if g["c_dim"] else "none"),
        ("training set", json.dumps(snapshot.training_set, default=str) if snapshot.training_set else "not recorded"),
        ("code", f"none runs: {len(sources)} embedded module source{'s' if len(sources) != 1 else ''} read as text "
                 f"(checked to only import known libraries and define classes, functions and "
                 f"constants), weights parsed as data"),
        ("sha256", snapshot.sha256),
        ("convert", f"genstudio convert {path} OUT.safetensors"),
    )
    return Description(rows, data, "a StyleGAN2-ADA snapshot", model.family)


READER = Reader(name="stylegan2-ada-pickle", label="StyleGAN2-ADA snapshots", sniff=sniff, open=open_for_exploring,
                describe=describe, suffixes=(SUFFIX,), convert=open_snapshot, convert_options=("network",))
