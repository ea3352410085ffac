"""Model families and their presets: `build_model(family, config)` rebuilds any model from its config."""

from __future__ import annotations

from genstudio.core.models import flow, gan, vae
from genstudio.core.models.base import GenerativeModel

FAMILIES: dict[str, type[GenerativeModel]] = {"gan": gan.GAN, "vae": vae.VAE, "flow": flow.Flow}
PRESETS: dict[str, dict[str, dict]] = {"gan": gan.PRESETS, "vae": vae.PRESETS, "flow": flow.PRESETS}


def family_class(family: str) -> type[GenerativeModel]:
    if family not in FAMILIES:
        raise ValueError(f"unknown model family '{family}': choose one of {', '.join(FAMILIES)}")
    return FAMILIES[family]


def get_preset(family: str, name: str) -> dict:
    family_class(family)
    presets = PRESETS[family]
    if name not in presets:
        raise ValueError(f"unknown {family} preset '{name}': choose one of {', '.join(presets)}")
    return presets[name]


def default_preset(family: str, points: bool) -> str:
    """The first preset of the family made for images or for 2-D points."""
    wanted = "points" if points else "images"
    return next(name for name, p in PRESETS[family].items() if p["data"] == wanted)


def build_model(family: str, config: dict) -> GenerativeModel:
    return family_class(family)(config)


__all__ = ["FAMILIES", "PRESETS", "GenerativeModel", "build_model", "default_preset", "family_class", "get_preset"]
