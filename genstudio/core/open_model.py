"""Open anything a user may point genstudio at: our checkpoints, or a foreign TorchScript/export generator.

`OpenedModel` pairs the module with `ModelInfo`, the plain description the app's panels work from:
the GUI thread reads the info and hands the module to the renderer, which alone runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from genstudio.core import registry
from genstudio.core.checkpoints import load_checkpoint
from genstudio.core.families.family import Capability
from genstudio.core.foreign import (Consent, ForeignGenerator, is_foreign_name,
                                    load_foreign_generator)
from genstudio.core.model_card import ModelCard
from genstudio.core.models.base import GenerativeModel


@dataclass(frozen=True)
class ModelInfo:
    """An open model as plain data: its file (or run), card and what it can do. Never the module."""

    path: Path
    card: ModelCard
    capabilities: frozenset[Capability]
    latent_shape: tuple[int, ...]
    data_shape: tuple[int, ...]
    num_classes: int = 0

    @classmethod
    def of(cls, path: Path, card: ModelCard, model) -> "ModelInfo":
        return cls(Path(path), card, registry.capabilities_of(model), tuple(model.latent_shape),
                   tuple(model.data_shape), int(model.num_classes))

    @property
    def family(self) -> str:
        return self.card.family

    @property
    def latent_dim(self) -> int:
        return math.prod(self.latent_shape)

    @property
    def is_points(self) -> bool:
        return len(self.data_shape) == 1

    @property
    def is_foreign(self) -> bool:
        return self.card.is_foreign

    @property
    def label_names(self) -> list[str]:
        return self.card.label_names

    @property
    def data_source(self) -> str:
        return self.card.data_source

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities


@dataclass
class OpenedModel:
    """A model ready to decode (in eval mode), and its description."""

    info: ModelInfo
    model: GenerativeModel | ForeignGenerator

    @classmethod
    def of(cls, path: str | Path, card: ModelCard, model) -> "OpenedModel":
        if isinstance(model, GenerativeModel):
            model.eval()   # a foreign module is already in its own inference mode (export forbids train())
        return cls(ModelInfo.of(Path(path), card, model), model)

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def card(self) -> ModelCard:
        return self.info.card

    @property
    def family(self) -> str:
        return self.info.family

    @property
    def is_foreign(self) -> bool:
        return self.info.is_foreign


def open_model(path: str | Path, device: str | torch.device = "cpu", latent_dim: int | None = None,
               output_range: tuple[float, float] | None = None, consent: Consent | None = None) -> OpenedModel:
    """Our safetensors checkpoints load as data. TorchScript / torch.export generators are programs:
    they load only when `consent` (foreign.Consent: `trust_code` for --trust-code, the app's dialog,
    a remembered fingerprint) allows the file as read; without it, ConsentRefused says how to allow it."""
    path = Path(path)
    if is_foreign_name(path):
        generator = load_foreign_generator(path, latent_dim, output_range, consent=consent)
        return OpenedModel.of(path, generator.card(), generator)
    checkpoint = load_checkpoint(path, device=device)
    return OpenedModel.of(path, checkpoint.card, checkpoint.model)


def snapshot_model(snapshot: dict) -> OpenedModel:
    """A separate module built from a training snapshot's CPU weights (the trained module stays
    untouched): {"card": ModelCard, "state": state_dict, "name": shown name}."""
    card: ModelCard = snapshot["card"]
    model = registry.build_model(card.family, card.config)
    model.load_state_dict(snapshot["state"])
    return OpenedModel.of(Path(f"{snapshot['name']} (training, step {card.step})"), card, model)
