"""`genstudio info`: what a checkpoint (or a foreign generator, or a diffusers folder) is."""

from __future__ import annotations

import json
from pathlib import Path

from genstudio.core.errors import GenStudioError

NAME = "info"
LIKELIHOOD_OPTIONS = "--image and --data need a genstudio checkpoint of a model with an exact likelihood"


def add_parser(sub) -> None:
    info = sub.add_parser(NAME, help="print a checkpoint's description")
    info.add_argument("checkpoint", type=Path, help="a genstudio checkpoint, a TorchScript / torch.export generator "
                                                    "or a folder saved by Hugging Face diffusers")
    info.add_argument("--json", action="store_true", help="print the whole header as JSON")
    info.add_argument("--image", type=Path, action="append", default=[],
                      help="models with an exact likelihood (flows): also print the bits/dim of this image "
                           "file (repeatable)")
    info.add_argument("--data", metavar="SPEC",
                      help="models with an exact likelihood: also print the mean bits/dim of this data set, e.g. "
                           "mnist[9000:] for the bundled digits the demos never trained on")


def run(args) -> int:
    from genstudio.core import registry
    from genstudio.core.families.family import Capability
    from genstudio.core.families.stylegan.nvidia_pickle import is_stylegan_pickle_name
    from genstudio.core.io.checkpoints import load_checkpoint, read_header
    from genstudio.core.io.foreign import is_foreign_name
    from genstudio.core.io.model_card import ModelCard

    if is_foreign_name(args.checkpoint):
        return _foreign_info(args)
    if is_stylegan_pickle_name(args.checkpoint):
        return _snapshot_info(args)
    if args.checkpoint.is_dir():
        return _diffusers_info(args)
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
    if args.image or args.data:
        if not family.has(Capability.EXACT_LIKELIHOOD):
            option = "--image" if args.image else "--data"
            raise GenStudioError(f"{args.checkpoint}: {option} needs a model with an exact likelihood (a flow or "
                                 f"an autoregressive model); this is a {family.label}")
        model = load_checkpoint(args.checkpoint).model.eval()
        rows += _likelihood_rows(args, model)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _likelihood_rows(args, model) -> list[tuple[str, str]]:
    """bits/dim of each --image file, and the mean (with its standard error) over --data."""
    from genstudio.core.data.spec import load_dataset
    from genstudio.core.explore.likelihood import bits_per_dim, image_bits_per_dim

    try:
        rows = [(f"bits/dim {path.name}", f"{image_bits_per_dim(model, path):.6f}") for path in args.image]
        if args.data:
            dataset = load_dataset(args.data)
            if dataset.is_points or dataset.shape != tuple(model.data_shape):
                raise ValueError(f"{args.data} holds samples of shape {dataset.shape}, the model takes "
                                 f"{tuple(model.data_shape)}")
            unlabelled = " (no label)" if model.num_classes else ""
            rows.append((f"bits/dim {dataset.source}{unlabelled}", _mean_text(bits_per_dim(model, dataset.data))))
            if model.num_classes:
                rows += _conditional_rows(model, dataset)
    except ValueError as exc:
        raise GenStudioError(f"{args.checkpoint}: {exc}") from None
    return rows


def _conditional_rows(model, dataset) -> list[tuple[str, str]]:
    """A class-conditional model's other figures. The row before is p(x | no label), the model label
    dropout trains. p(x) = mean over classes of p(x | y) is the exact likelihood of the model with a
    uniform class prior (K passes), comparable with an unconditional model's; p(x | y) given each
    image's own label is lower and is not."""
    import math

    import numpy as np
    import torch

    from genstudio.core.explore.likelihood import bits_per_dim

    dims = math.prod(model.data_shape)
    per_class = np.stack([bits_per_dim(model, dataset.data, labels=torch.full((len(dataset),), c))
                          for c in range(model.num_classes)], axis=1).astype(np.float64)     # (N, K)
    log_p = -per_class * dims * math.log(2.0)                                             # nats
    top = log_p.max(1, keepdims=True)
    mixture = top[:, 0] + np.log(np.exp(log_p - top).mean(1))
    rows = [("  mean over classes", _mean_text(-mixture / (dims * math.log(2.0))))]
    if dataset.labels is not None:
        rows.append(("  given each label", _mean_text(bits_per_dim(model, dataset.data, labels=dataset.labels))))
    return rows


def _mean_text(values) -> str:
    error = values.std(ddof=1) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return f"{values.mean():.4f} +- {error:.4f} (mean +- standard error over {len(values)} images)"


def _foreign_info(args) -> int:
    """A foreign generator described from its archive alone: loading it would run its author's code,
    and `info` is the command one uses to decide whether to."""
    from genstudio.core.io.foreign import HOW_TO_ALLOW, inspect_foreign_file

    if args.image or args.data:
        raise GenStudioError(f"{args.checkpoint}: {LIKELIHOOD_OPTIONS}, not a TorchScript / torch.export generator")
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


def _snapshot_info(args) -> int:
    """A StyleGAN2-ADA snapshot described from its records: read as data, its generator rebuilt by
    genstudio's own implementation (which also checks every weight), nothing from the file run."""
    from genstudio.core.families.stylegan.nvidia import model_from_snapshot
    from genstudio.core.families.stylegan.nvidia_pickle import read_snapshot

    if args.image or args.data:
        raise GenStudioError(f"{args.checkpoint}: {LIKELIHOOD_OPTIONS}, not a GAN's snapshot")
    snapshot = read_snapshot(args.checkpoint)
    model, card = model_from_snapshot(snapshot)
    config = card.config
    networks = {name: f"{record.class_name}, {len(record.tensors())} tensors" for name, record in
                snapshot.networks.items()}
    sources = {r.module_src for record in snapshot.networks.values() for r in record.walk()}
    description = {"file": str(args.checkpoint), "kind": "StyleGAN2-ADA network snapshot (NVIDIA stylegan2-ada-pytorch)",
                   "sha256": snapshot.sha256, "networks": networks, "training_set": snapshot.training_set,
                   "generator": {"resolution": config.resolution, "channels": config.data_shape[0],
                                 "z_dim": config.z_dim, "w_dim": config.w_dim, "c_dim": config.num_classes,
                                 "mapping_layers": config.mapping_layers, "num_ws": model.num_ws,
                                 "channel_base": config.channel_base, "channel_max": config.channel_max,
                                 "architecture": config.architecture, "conv_clamp": config.conv_clamp or None,
                                 "parameters": sum(p.numel() for p in model.parameters())}}
    if args.json:
        print(json.dumps(description, indent=2, default=str))
        return 0
    g = description["generator"]
    rows = [
        ("file", str(args.checkpoint)),
        ("kind", description["kind"]),
        ("networks", "; ".join(f"{k}: {v}" for k, v in networks.items())),
        ("generator", f"G_ema: {g['resolution']} x {g['resolution']} px, {g['channels']} channels, z {g['z_dim']}, "
                      f"w {g['w_dim']}, {g['mapping_layers']} mapping layers, {g['num_ws']} w's (W+), "
                      f"{g['parameters']:,} parameters"),
        ("labels", f"{g['c_dim']} classes" if g["c_dim"] else "none"),
        ("training set", json.dumps(snapshot.training_set, default=str) if snapshot.training_set else "not recorded"),
        ("code", f"none runs: {len(sources)} embedded module source{'s' if len(sources) != 1 else ''} read as text "
                 f"(checked to only define classes and functions), weights parsed as data"),
        ("sha256", snapshot.sha256),
        ("convert", f"genstudio convert {args.checkpoint} OUT.safetensors"),
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


def _diffusers_info(args) -> int:
    """A diffusers folder described from its JSON and the weights' header: no tensor is loaded and
    diffusers need not be installed, so this also says what opening it would take."""
    from genstudio.core.io.diffusers_folder import INSTALL, inspect_diffusers_folder

    if args.image or args.data:
        raise GenStudioError(f"{args.checkpoint}: {LIKELIHOOD_OPTIONS}, not a diffusers folder")
    found = inspect_diffusers_folder(args.checkpoint)
    if args.json:
        print(json.dumps(found.describe(), indent=2))
        return 0
    where = lambda path: str(path.relative_to(found.path))           # noqa: E731
    kind = {"pipeline": f"diffusers pipeline folder ({found.pipeline})", "model": "diffusers model folder",
            "bare model": "diffusers model folder, without a scheduler config"}[found.layout]
    labels = "none"
    if found.num_classes:
        labels = f"{found.num_classes} classes (num_class_embeds); guidance not available (no 'no label' class)"
    steps = min(50, found.schedule.timesteps)
    rows = [
        ("folder", str(args.checkpoint)),
        ("kind", kind),
        ("network", f"UNet2DModel ({where(found.unet_config_path)}), {found.weight_numbers:,} parameters in "
                    f"{found.tensors} tensors ({where(found.weights)})"),
        ("family", "diffusion (explored through DDIM: the latent is the starting noise x_T)"),
        ("sample shape", " x ".join(map(str, found.data_shape))),
        ("latent shape", " x ".join(map(str, found.data_shape))),
        ("value range", "0 .. 1 (the U-Net's -1 .. 1)"),
        ("labels", labels),
        ("scheduler", f"{found.scheduler} ({where(found.scheduler_config_path)})" if found.scheduler else "none"),
        ("schedule", found.schedule_text),
        ("sampling", f"DDIM, {steps} steps and eta 0 unless told otherwise (genstudio sample --steps, --eta)"),
        ("code", "none runs: genstudio reads the config JSON and the safetensors weights as data"),
        ("diffusers", f"saved by {found.diffusers_version or 'an unknown version'}; "
                      f"{_installed('diffusers') or 'not installed here (opening it needs ' + INSTALL + ')'}"),
    ]
    rows += [("note", note) for note in found.notes]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _installed(package: str) -> str:
    """'installed 1.2.3', or '' when the package is not installed (nothing is imported)."""
    from importlib import metadata

    try:
        return f"installed {metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return ""
