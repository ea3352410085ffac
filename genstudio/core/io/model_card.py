"""The model card: what a checkpoint says about its model, typed, with one writer and one reader.

A card names the family and preset, carries the family's full typed config (every architecture
field, so a changed default never changes what an old file rebuilds), the data the model was
trained on (name, source spec, size, sample shape, value range, label names), the latent shape,
the training step and settings, and the versions that wrote it. `to_header()` is the only writer
of the checkpoint's JSON header fields and `ModelCard.from_header()` the only reader; it also reads
format-1 headers (the demos shipped before, and any a user has), whose configs left defaults out:
those are filled from the family's frozen `v1_defaults`.
"""

from __future__ import annotations

import functools
import math
import platform
import time
from dataclasses import dataclass, field, replace
from typing import Any

from genstudio.core import registry
from genstudio.core.errors import CheckpointError
from genstudio.core.families.config import ConfigError, ModelConfig
from genstudio.core.runtime.memory_budget import check_memory

FORMAT = "genstudio-checkpoint"
FORMAT_VERSION = 2
FOREIGN = "foreign"


def _fail(path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path}: {reason}")


def _shape(path, name: str, value) -> tuple[int, ...]:
    if (not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 4
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 1_000_000 for v in value)):
        raise _fail(path, f"{name} must be a short list of positive integers, not {value!r:.60}")
    return tuple(value)


def _text(value, default: str = "") -> str:
    return value if isinstance(value, str) else default


@dataclass(frozen=True)
class DataDescription:
    """The data a model was trained on, as checkpoints and `genstudio info` show it."""

    name: str = ""
    source: str = ""                        # a data spec that loads it again ("mnist", "folder:...")
    size: int = 0
    shape: tuple[int, ...] = ()
    value_range: tuple[float, float] = (0.0, 1.0)
    label_names: tuple[str, ...] = ()
    kind: str = "images"                    # "images" | "points" | "two domains" (translation, data/domains.py)

    @classmethod
    def of(cls, dataset) -> "DataDescription":
        """Describe an `InMemoryDataset`: the fields its own `describe()` gives, lists as tuples."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in dataset.describe().items()})

    @classmethod
    def from_dict(cls, path, values) -> "DataDescription":
        if values is None:
            return cls()
        if not isinstance(values, dict):
            raise _fail(path, "the data description must be a JSON object")
        names = values.get("label_names") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) > 100_000:
            raise _fail(path, "label_names must be a list of strings")
        low_high = values.get("value_range") or [0.0, 1.0]
        if (not isinstance(low_high, list) or len(low_high) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in low_high)):
            raise _fail(path, f"value_range must be two finite numbers, not {low_high!r:.60}")
        size = values.get("size", 0)
        shape = values.get("shape")
        return cls(name=_text(values.get("name")), source=_text(values.get("source")),
                   size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else 0,
                   shape=_shape(path, "data shape", shape) if shape else (),
                   value_range=(float(low_high[0]), float(low_high[1])), label_names=tuple(names),
                   kind=values["kind"] if values.get("kind") in ("points", "two domains") else "images")

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "size": self.size, "shape": list(self.shape),
                "value_range": list(self.value_range), "label_names": list(self.label_names), "kind": self.kind}


@dataclass(frozen=True)
class ModelCard:
    family: str
    config: ModelConfig
    latent_shape: tuple[int, ...]
    preset: str = ""
    data: DataDescription = field(default_factory=DataDescription)
    step: int = 0
    train: dict = field(default_factory=dict)     # {"config": TrainConfig fields, "hyper": ..., "batch_size": ...}
    created: str = ""
    versions: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # A model opened from another program's files rather than a genstudio checkpoint: "diffusers" (a
    # folder saved by Hugging Face diffusers), "" otherwise. Such a card is never written to a checkpoint.
    origin: str = ""
    notes: tuple[str, ...] = ()                    # what genstudio assumed or left out when it read them

    # --- what people ask of a card --------------------------------------------------------------
    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.config.data_shape)

    @property
    def value_range(self) -> tuple[float, float]:
        return self.data.value_range

    @property
    def label_names(self) -> list[str]:
        return list(self.data.label_names)

    @property
    def data_source(self) -> str:
        """The spec that loads the training data again, or "" when unknown (foreign files)."""
        return self.data.source

    @property
    def is_foreign(self) -> bool:
        return self.family == FOREIGN

    def with_step(self, step: int) -> "ModelCard":
        return replace(self, step=int(step))

    # --- the one writer -------------------------------------------------------------------------
    @classmethod
    def describe(cls, model, *, preset: str, data: DataDescription, step: int, train: dict | None = None) -> "ModelCard":
        """A fresh card for a model built by genstudio (training, snapshots, demos)."""
        return cls(family=model.family, config=model.config, latent_shape=tuple(model.latent_shape), preset=preset,
                   data=data, step=int(step), train=dict(train or {}),
                   created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), versions=dict(library_versions()))

    def to_header(self) -> dict:
        """The checkpoint header's description fields (checkpoints.py adds the resume state)."""
        if self.origin:
            raise CheckpointError(f"a model opened from a {self.origin} folder is not saved as a genstudio "
                                  "checkpoint")
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "family": self.family, "preset": self.preset,
                "model_config": self.config.to_dict(), "data_shape": list(self.data_shape),
                "latent_shape": list(self.latent_shape), "value_range": list(self.value_range),
                "label_names": self.label_names, "data": self.data.to_dict(), "train": self.train,
                "step": self.step, "created": self.created, "versions": self.versions}

    # --- the one reader -------------------------------------------------------------------------
    @classmethod
    def from_header(cls, header: Any, path) -> "ModelCard":
        """Check a checkpoint header and type it; CheckpointError names the file and the reason."""
        if not isinstance(header, dict):
            raise _fail(path, "the genstudio header must be a JSON object")
        if header.get("format") != FORMAT:
            raise _fail(path, f"unknown format {header.get('format')!r:.60}")
        version = header.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION or version < 1:
            raise _fail(path, f"checkpoint format version {version!r:.20} is not supported by this genstudio "
                              f"(it reads versions 1 to {FORMAT_VERSION}); update genstudio")
        name = header.get("family")
        if not isinstance(name, str) or name not in registry.names():
            raise _fail(path, f"unknown model family {name!r:.40} (this genstudio knows {', '.join(registry.names())})")
        family = registry.get(name)
        values = header.get("model_config")
        if not isinstance(values, dict):
            raise _fail(path, "the header has no model_config object")
        if version == 1:
            data_shape = _shape(path, "data_shape", values.get("data_shape") or header.get("data_shape"))
            values = {**family.v1_defaults(data_shape), **values, "data_shape": list(data_shape)}
        try:
            config = family.config_class.from_dict(values, complete=True)
        except ConfigError as exc:
            raise _fail(path, f"cannot rebuild the {name} from its description ({exc})") from None
        size = family.size_of(config)
        check_memory(size.bytes(), f"{path}: the {family.label} it describes ({size.parameters:,} parameters)",
                     error=CheckpointError)
        step = header.get("step", 0)
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise _fail(path, f"step must be a non-negative integer, not {step!r:.30}")
        train = header.get("train") or {}
        versions = header.get("versions") or {}
        latent = header.get("latent_shape")
        return cls(family=name, config=config, preset=_text(header.get("preset")),
                   latent_shape=_shape(path, "latent_shape", latent) if latent else (),
                   data=DataDescription.from_dict(path, header.get("data")), step=step,
                   train=train if isinstance(train, dict) else {}, created=_text(header.get("created")),
                   versions=versions if isinstance(versions, dict) else {}, format_version=version)


@functools.cache
def library_versions() -> dict:
    """The versions a card records (fixed for the process: computed once, copied for each card)."""
    from importlib import metadata

    import numpy as np
    import torch

    import genstudio

    try:    # read from the installed package's metadata: importing torchvision takes seconds
        torchvision = metadata.version("torchvision")
    except metadata.PackageNotFoundError:     # a frozen app may not carry the metadata
        import torchvision as package

        torchvision = package.__version__
    return {"genstudio": genstudio.__version__, "torch": torch.__version__, "torchvision": torchvision,
            "numpy": np.__version__, "python": platform.python_version()}
