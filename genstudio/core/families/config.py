"""Typed model configs: a dataclass per family whose fields are the architecture, with defaults.

A checkpoint stores every field (`to_dict`), and `from_dict` checks a stored or typed config
before any module is built: unknown names, missing fields, wrong types, values outside a field's
range or choices each give one clear line. Field metadata carries the rules:

    latent_dim: int = field(default=100, metadata={"min": 1, "max": 65536})
    loss: str = field(default="bce", metadata={"choices": ("bce", "hinge", "wgan-gp")})

A field added after checkpoints were written names, as "absent", the value that reproduces what
those files were trained and decode with; a stored config without it gets that value, and every
other missing field is still an error:

    d_augment: str = field(default="none", metadata={"choices": (...), "absent": "none"})

Written here rather than with a validation library because the rules are few and the types are
plain JSON ones; a dependency would be larger than this file.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import ClassVar


class ConfigError(ValueError):
    """A config value is missing, unknown, of the wrong type or out of range (one line)."""


def _is_int_tuple(hint) -> bool:
    return typing.get_origin(hint) in (tuple, list) and typing.get_args(hint)[:1] == (int,)


def _coerce(name: str, hint, value, meta: dict):
    """`value` as the field's type, or ConfigError. JSON gives lists for tuples and ints for floats."""
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(f"{name} must be an integer, not {value!r}")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, not {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be finite, not {value!r}")
    elif hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, not {value!r}")
    elif _is_int_tuple(hint):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{name} must be a list of integers, not {value!r}")
        limit = meta.get("max_len", 64)
        if len(value) > limit:
            raise ConfigError(f"{name} has {len(value)} entries; at most {limit}")
        value = tuple(value)
        for v in value:
            _check_range(name, v, meta)
        return value
    else:  # pragma: no cover - a family declared a type this module does not know
        raise ConfigError(f"{name}: unsupported config type {hint}")
    _check_range(name, value, meta)
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"{name} '{value}' is unknown: choose one of {', '.join(map(str, meta['choices']))}")
    return value


def _check_range(name: str, value, meta: dict) -> None:
    if "min" in meta and value < meta["min"]:
        raise ConfigError(f"{name} must be at least {meta['min']}, not {value!r}")
    if "max" in meta and value > meta["max"]:
        raise ConfigError(f"{name} must be at most {meta['max']}, not {value!r}")


@dataclass(frozen=True)
class ModelSize:
    """How big a described model is, in numbers (4 bytes each in float32)."""

    parameters: int                  # parameters and buffers
    activations: int                 # outputs of the layers for one sample's decode

    def bytes(self, batch: int = 1, training: bool = False) -> int:
        """Bytes to hold the weights and a batch's activations (training: Adam's two moments and the
        gradients, and the activations kept for backward, about twice a forward's)."""
        weights = self.parameters * (4 if training else 1)
        return 4 * (weights + self.activations * batch * (2 if training else 1))


def linear_size(sizes: list[int]) -> int:
    """Parameters of Linear layers sizes[0] -> sizes[1] -> ... (weights and biases)."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


@dataclass(frozen=True)
class ModelConfig:
    """Fields every family shares. `data_shape` is (C, H, W) for images, (2,) for points."""

    data_shape: tuple[int, ...] = field(default=(), metadata={"min": 1, "max": 4096, "max_len": 3})
    num_classes: int = field(default=0, metadata={"min": 0, "max": 100_000})

    # Fields that are not part of the architecture but are read by older files (never stored).
    ignored_legacy_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: dict, complete: bool = True) -> "ModelConfig":
        """Check and convert plain values. `complete`: every field must be given (a stored config);
        otherwise defaults fill the gaps (presets and command-line overrides)."""
        if not isinstance(values, dict):
            raise ConfigError(f"the model config must be a JSON object, not {type(values).__name__}")
        values = {k: v for k, v in values.items() if k not in cls.ignored_legacy_fields}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"unknown config fields {', '.join(map(str, unknown))} "
                              f"(it has {', '.join(name for name in fields if name not in ('data_shape', 'num_classes'))})")
        if complete:
            values = {**{name: f.metadata["absent"] for name, f in fields.items() if "absent" in f.metadata}, **values}
            missing = [name for name in fields if name not in values]
            if missing:
                raise ConfigError(f"config fields missing: {', '.join(missing)}")
        hints = typing.get_type_hints(cls)
        kwargs = {name: _coerce(name, hints[name], value, dict(fields[name].metadata))
                  for name, value in values.items()}
        config = cls(**kwargs)
        if len(config.data_shape) not in (1, 3):
            raise ConfigError(f"data_shape must be (C, H, W) or (2,), not {list(config.data_shape)}")
        config.check()
        return config

    def check(self) -> None:
        """Rules across fields (a family overrides it); raise ConfigError."""

    def size(self) -> "ModelSize | None":
        """Parameters (and buffers) and activations per sample of the model this config describes,
        from the fields alone, so a budget can refuse a config before anything is allocated. Families
        give it in closed form; None leaves it to `Family.size_of` (a build on the meta device)."""
        return None

    def to_dict(self) -> dict:
        """Every field as plain JSON values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def replace(self, **changes) -> "ModelConfig":
        return type(self).from_dict({**self.to_dict(), **changes})

    @property
    def is_points(self) -> bool:
        return len(self.data_shape) == 1
