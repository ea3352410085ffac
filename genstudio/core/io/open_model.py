"""Open anything a user may point genstudio at: whichever registered file reader (readers.py) takes it.

`OpenedModel` pairs the module with `ModelInfo`, the plain description the app's panels work from:
the GUI thread reads the info and hands the module to the renderer, which alone runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from genstudio.core import registry
from genstudio.core.errors import GenStudioError
from genstudio.core.families.base import GenerativeModel
from genstudio.core.families.family import Capability, DecodeSetting, Family, LatentSpace
from genstudio.core.io import readers
from genstudio.core.io.file_checks import printable
from genstudio.core.io.foreign import Consent, ForeignGenerator
from genstudio.core.io.model_card import ModelCard
from genstudio.core.io.reader import OpenOptions


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
        """The class names as shown to a person: control and bidi characters from the file escaped."""
        return [printable(name) for name in self.card.label_names]

    @property
    def data_source(self) -> str:
        return self.card.data_source

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    # --- the decoder's settings (a sampler's steps, eta, guidance) --------------------------------
    @property
    def family_spec(self) -> Family | None:
        """The registered family; None for a foreign generator, which decodes with no settings."""
        return registry.find(self.card.family)

    @property
    def decode_settings(self) -> tuple[DecodeSetting, ...]:
        """The settings this model's decode takes (guidance-like ones only when it has classes)."""
        family = self.family_spec
        if family is None:
            return ()
        return tuple(s for s in family.decode_settings if self.num_classes or not s.conditional)

    @property
    def latent_spaces(self) -> tuple[LatentSpace, ...]:
        """The spaces beyond Z this model is edited in: its family's, where it has their capability."""
        family = self.family_spec
        return () if family is None else tuple(s for s in family.latent_spaces if self.has(s.capability))

    def decode_defaults(self) -> dict:
        """{setting: value} this model decodes with unless told otherwise; {} when it has none."""
        family = self.family_spec
        return family.decode_defaults(self.card.config.to_dict(), self.num_classes) if family else {}

    def preview_options(self) -> dict:
        """{setting: value} of a fast preview decode while a slider moves; {} when every position
        decodes fast enough in full."""
        return dict(self._preview_options)

    @cached_property
    def _preview_options(self) -> dict:
        """Worked out once per open model: the explorer asks at every slider move and every image it
        shows, and the card's config as a dict (dataclasses.asdict) was 0.2-0.6 ms of each."""
        family = self.family_spec
        if family is None:
            return {}
        own = {s.key for s in self.decode_settings}
        return {k: v for k, v in family.preview_options(self.card.config.to_dict()).items() if k in own}

    def check_decode_options(self, options, where: str) -> dict:
        """`options` checked against this model's decode settings (known names, numbers in range)
        and converted to each setting's kind; GenStudioError names `where` and the setting."""
        if not isinstance(options, dict):
            raise GenStudioError(f"{where}: decode options must be an object of setting names and numbers")
        settings = {s.key: s for s in self.decode_settings}
        config = self.card.config.to_dict()
        checked = {}
        for key, value in options.items():
            setting = settings.get(key)
            if setting is None:
                takes = ", ".join(settings) or "none"
                raise GenStudioError(f"{where}: '{key}' is not a decode setting of this {self.family} model "
                                     f"(it takes {takes})")
            number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            maximum = setting.maximum_for(config)
            if not number or not setting.minimum <= value <= maximum:
                raise GenStudioError(f"{where}: {key} must be a number from {setting.minimum:g} to "
                                     f"{maximum:g}, not {value!r:.40}")
            if setting.kind is int and value != int(value):
                raise GenStudioError(f"{where}: {key} must be a whole number, not {value!r}")
            checked[key] = setting.kind(value)
        return checked


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
    """The model in `path`, opened by the registered reader that recognises it (readers.reader_for).
    Data formats (our checkpoints, StyleGAN2-ADA snapshots, diffusers folders) are read as data;
    a format whose files are programs (TorchScript / torch.export) loads only when `consent`
    (foreign.Consent: `trust_code` for --trust-code, the app's dialog, a remembered fingerprint)
    allows the file as read; without it, ConsentRefused says how to allow it. `latent_dim` and
    `output_range` are for such generators, whose files do not say them."""
    path = Path(path)
    model, card = readers.open_file(path, device, OpenOptions(latent_dim, output_range, consent))
    return OpenedModel.of(path, card, model)


def snapshot_model(snapshot: dict) -> OpenedModel:
    """A separate module built from a training snapshot's CPU weights (the trained module stays
    untouched): {"card": ModelCard, "state": state_dict, "name": shown name}."""
    card: ModelCard = snapshot["card"]
    model = registry.build_model(card.family, card.config)
    model.load_state_dict(snapshot["state"])
    return OpenedModel.of(Path(f"{snapshot['name']} (training, step {card.step})"), card, model)
