"""The family registry: the one place a model family is registered.

Everything that offers a choice of family (the CLI's `--family`, the Train form, the loss plots,
the checkpoint reader, the demo recipes, the tests' parametrisation) asks this module. Adding a
family is a folder under `genstudio/core/families/` and one `register(...)` line below.
"""

from __future__ import annotations

from genstudio.core.families.base import GenerativeModel
from genstudio.core.families.capabilities import check_contract
from genstudio.core.families.config import ConfigError, ModelConfig
from genstudio.core.families.family import Capability, Family

_FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add a family; refused (ValueError, one line) when its name is taken or unusable, or when its
    model class does not keep a capability it declares (families/capabilities.py)."""
    if family.name in _FAMILIES and _FAMILIES[family.name] is not family:
        raise ValueError(f"a model family named '{family.name}' is registered already")
    if not family.name.isidentifier() or family.name == "foreign":
        raise ValueError(f"'{family.name}' cannot name a model family")
    check_contract(family)
    _FAMILIES[family.name] = family
    return family


def unregister(name: str) -> None:
    """Forget a family (tests that register one of their own put things back with this)."""
    _FAMILIES.pop(name, None)


def names() -> list[str]:
    return list(_FAMILIES)


def families() -> list[Family]:
    return list(_FAMILIES.values())


def get(name: str) -> Family:
    family = _FAMILIES.get(name) if isinstance(name, str) else None
    if family is None:
        raise ValueError(f"unknown model family '{name}': choose one of {', '.join(_FAMILIES)}")
    return family


def find(name: str) -> Family | None:
    """The family of this name, or None (a foreign generator's card names no registered family)."""
    return _FAMILIES.get(name) if isinstance(name, str) else None


def build_model(family: str, config: ModelConfig | dict) -> GenerativeModel:
    """The family's model from a typed config or plain values (defaults fill the gaps)."""
    return get(family).build(config)


def capabilities_of(model) -> frozenset[Capability]:
    """What an open model can do; a foreign generator (no registered family) only decodes."""
    family = _FAMILIES.get(getattr(model, "family", ""))
    if family is None:
        return frozenset()
    return family.capabilities_of(tuple(model.data_shape), model.num_classes)


# The built-in families.
from genstudio.core.families import autoregressive, diffusion, flow, gan, stylegan, translation, vae  # noqa: E402  (the registry's own names come first)

register(gan.FAMILY)
register(vae.FAMILY)
register(flow.FAMILY)
register(diffusion.FAMILY)
register(autoregressive.FAMILY)

__all__ = ["Capability", "ConfigError", "Family", "build_model", "capabilities_of", "families", "find", "get", "names",
           "register", "unregister"]
register(stylegan.FAMILY)
register(translation.FAMILY)
