"""`genstudio info`: what a model file or folder is, in any format a registered reader takes
(core/io/readers.py), described without running anything in it."""

from __future__ import annotations

import json
from pathlib import Path

from genstudio.core.errors import GenStudioError

NAME = "info"


def add_parser(sub) -> None:
    from genstudio.core.io import readers

    info = sub.add_parser(NAME, help="print a checkpoint's description")
    info.add_argument("checkpoint", type=Path, help="a model file or folder: "
                      + ", ".join(r.label for r in readers.readers()))
    info.add_argument("--json", action="store_true", help="print the whole description as JSON")
    info.add_argument("--image", type=Path, action="append", default=[],
                      help="models with an exact likelihood (flows): also print the bits/dim of this image "
                           "file (repeatable)")
    info.add_argument("--data", metavar="SPEC",
                      help="models with an exact likelihood: also print the mean bits/dim of this data set, e.g. "
                           "mnist[9000:] for the bundled digits the demos never trained on")


def run(args) -> int:
    from genstudio.core import registry
    from genstudio.core.families.family import Capability
    from genstudio.core.io import readers
    from genstudio.core.io.file_checks import printable
    from genstudio.core.io.open_model import open_model

    described = readers.describe(args.checkpoint)
    measure = bool(args.image or args.data)
    if measure:
        family = registry.find(described.family)
        if family is None or not family.has(Capability.EXACT_LIKELIHOOD):
            option = "--image" if args.image else "--data"
            raise GenStudioError(f"{args.checkpoint}: {option} needs a model with an exact likelihood (a flow or "
                                 f"an autoregressive model); this is {described.kind}")
    if args.json:
        print(json.dumps(described.data, indent=2, default=str))
        return 0
    rows = list(described.rows)
    if measure:
        rows += _likelihood_rows(args, open_model(args.checkpoint).model)
    # A file's fields may hold terminal escape sequences or bidi overrides: shown as escapes.
    rows = [(printable(str(k)), printable(str(v))) for k, v in rows]
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
