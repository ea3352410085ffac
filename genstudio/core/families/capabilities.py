"""What each `Capability` promises, as a checked contract: one `typing.Protocol` per capability.

A Protocol lists the methods (and properties) the family's model class must define itself, with the
parameters the tools that use the capability pass; its docstrings give the tensor shapes. A
capability that promises no method (CLASS_CONDITIONAL, POINTS, LIVE_DIAGNOSTICS) has a Protocol
without members whose docstring says what it does promise, and a check of the family's description
(`FAMILY_PROMISES`). `registry.register()` runs `contract_problems` and refuses a family that
declares a capability it does not keep; `tests/core/test_registry_contract.py` calls every promised
method on a small trained model of each family and checks what comes back.

How a class is checked against a Protocol (`contract_problems`):
- each member must be defined on the model class or a base of it other than `GenerativeModel`,
  whose `encode`, `decode_differentiable`, `decision_surface` and `decode` only raise
  NotImplementedError;
- each method must accept a call with the Protocol's parameters: the positional ones passed by
  position (callers pass them so), the keyword-only ones by name, checked with inspect.signature.
  A keyword-only `labels` is asked only of class-conditional families: the tools pass a class to
  those alone. Other keywords a method takes (decode settings, `should_stop`, `on_row`) are passed
  when it names them (`requests.encode_requests.accepted`), so the Protocols leave them out.
Conventions are base.py's: images (n, C, H, W) in [0, 1], labels (n,) int64 class indices.
"""

from __future__ import annotations

import inspect
from typing import Callable, Protocol

import numpy as np
import torch

from genstudio.core.families.base import GenerativeModel
from genstudio.core.families.family import Capability, Family

Tensor = torch.Tensor


class Encodes(Protocol):
    """ENCODE: the latent map, the Inspect tab's Encode tool, an image dropped on the explorer."""

    def encode(self, x: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """(n, *data_shape) -> (n, *latent_shape) latents that decode back to about x: a VAE's
        posterior mean, a flow's exact inverse, a diffusion model's DDIM inversion. It may also name
        decode settings (steps, guidance) and `should_stop`; it gets them when it does."""


class ExactLikelihood(Protocol):
    """EXACT_LIKELIHOOD: the Inspect tab's bits/dim histogram, `genstudio info --image`."""

    def bits_per_dim(self, x: Tensor, generator: torch.Generator | None = None, *,
                     labels: Tensor | None = None) -> Tensor:
        """8-bit images x (B, C, H, W) in [0, 1] -> bits per dimension (B,), > 0. `generator` draws
        any dequantisation noise, so a figure is repeatable."""


class Invertible(Protocol):
    """ENCODE and EXACT_LIKELIHOOD together (a flow): the bits/dim tool's round trip."""

    def invertibility_error(self, x: Tensor) -> float:
        """max |decode(encode(x)) - x| over images x (B, C, H, W), unclamped: near float precision."""


class ClassConditional(Protocol):
    """CLASS_CONDITIONAL: at least one preset is conditional (`Preset.conditional`); a model built
    from one has `num_classes > 0` and its `decode(z, labels)` depends on the labels (n,)."""


class ImageProjection(Protocol):
    """IMAGE_PROJECTION: the Inspect tab's projection tool (explore/inversion.py, a GAN inversion)."""

    def decode_differentiable(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """`decode` with the autograd graph kept: latents (n, latent_dim) -> images (n, *data_shape)
        in [0, 1] whose gradient reaches z. The model's own weights are only read."""


class Points(Protocol):
    """POINTS: at least one preset is made for the 2-D toy mixtures (`Preset.data == "points"`);
    its models take and decode points (n, 2) in data coordinates."""


class KLPerDimension(Protocol):
    """KL_PER_DIMENSION: the latent map's KL bars (explore/latent_map.py)."""

    def kl_per_dimension(self, x: Tensor) -> Tensor:
        """Mean KL(q(z|x) || N(0, I)) of each latent dimension over the batch x (B, *data_shape),
        (latent_dim,) nats, >= 0; a dimension near 0 carries nothing about x (posterior collapse)."""


class DecisionSurface(Protocol):
    """DECISION_SURFACE: the Train panel's live critic map for 2-D points (needs a points preset)."""

    def decision_surface(self, bounds: tuple[float, float, float, float], resolution: int = 64) -> np.ndarray:
        """The critic's score over the rectangle (x0, x1, y0, y1): (resolution, resolution) float32,
        row 0 at the bottom."""


class LiveDiagnostics(Protocol):
    """LIVE_DIAGNOSTICS: the Train panel computes mode-collapse figures on weight snapshots (any
    generator's `sample` will do) and reads D's verdicts for its "D wins" signal: `train_step`
    reports `d_real` and `d_fake` (D's mean output on real and generated data), which the family's
    plots show."""


class Variations(Protocol):
    """VARIATIONS: the Inspect tab's variations tool (SDEdit for diffusion)."""

    def variations(self, x: Tensor, n: int, strength: float, *, seed: int = 0,
                   labels: Tensor | None = None) -> Tensor:
        """n variations (n, *data_shape) in the data range of one sample x (*data_shape): noised
        `strength` in (0, 1] of the way, then redrawn; the same seed gives the same variations."""


class SequentialDecode(Protocol):
    """SEQUENTIAL_DECODE: the explorer draws an image row by row, the Train panel's live grid fills
    in a few rows at a time."""

    def decode(self, z: Tensor, labels: Tensor | None = None, *, on_row=None, should_stop=None) -> Tensor:
        """`decode` that calls on_row(row, x (n, *data_shape) so far) after each row and raises
        errors.Cancelled when should_stop() turns true."""

    def draw_rows(self, z: Tensor, x: Tensor, first: int, last: int, labels: Tensor | None = None) -> Tensor:
        """Rows first..last-1 of what latents z (n, *latent_shape) decode to, drawn onto x
        (n, *data_shape) whose rows above `first` are drawn already: (n, *data_shape). Drawing every
        row this way gives `decode(z, labels)`."""


class PixelLikelihood(Protocol):
    """PIXEL_LIKELIHOOD: the Inspect tab's surprise map."""

    def pixel_nll(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """-log p(x_i | x_<i) in nats per pixel (B, H, W), channels summed, of 8-bit images
        x (B, C, H, W) in [0, 1]."""


class Completion(Protocol):
    """COMPLETION: the Inspect tab's completion tool."""

    def complete(self, x: Tensor, known: Tensor, n: int, *, seed: int = 0, labels: Tensor | None = None) -> Tensor:
        """n completions (n, *data_shape) of one image x (*data_shape): the pixels where known (H, W)
        is true keep x's 8-bit values, the others are drawn; the same seed gives the same
        completions. It gets `on_row` and `should_stop` when it names them (streamed rows)."""


class StyleSpace(Protocol):
    """STYLE_SPACE: W / W+ exploration, style mixing and edits (families/stylegan/style_space.py)."""

    @property
    def num_ws(self) -> int:
        """How many w's the synthesis network takes (W+)."""

    def mapping(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """z (n, z_dim) -> ws (n, num_ws, w_dim)."""

    def synthesize(self, ws: Tensor) -> Tensor:
        """ws (n, num_ws, w_dim) -> images (n, *data_shape) in [0, 1]; it also takes the family's
        decode settings. `synthesize(mapping(z, labels))` is `decode(z, labels)`."""

    def decode(self, z: Tensor, labels: Tensor | None = None, *, style_edit=None) -> Tensor:
        """`decode` that applies a latent.SpaceEdit in W (the family's declared space's `option`)."""

    def space_directions(self, k: int, *, label: int | None = None) -> tuple[Tensor, Tensor]:
        """Unit principal directions of W (k, w_dim) and each one's share of the variance of w (k,);
        seeded, so a latent record's edit finds the same directions again."""

    def mixing_grid(self, seeds_a: list[int], seeds_b: list[int], layers: str, *,
                    label: int | None = None) -> Tensor:
        """The mixing grid ((len(a) + 1) * (len(b) + 1), C, H, W) in [0, 1], row-major: a blank corner,
        the B images, then each A and A with B's w's on `layers` (a group or 'A-B'); it also takes
        the family's decode settings. ValueError for layers the model does not have."""


class Translates(Protocol):
    """TRANSLATION: image-to-image translation between two domains A and B (families/translation):
    the explorer's input | translation | round trip, `genstudio translate`, the Inspect tab's
    translation grid and cycle-error histogram, diagnostics of translated images."""

    @property
    def style_dim(self) -> int:
        """Numbers in a style code: 0 for a one-to-one model, whose latent changes nothing."""

    @property
    def directions(self) -> int:
        """2: A -> B and B -> A (and the round trip); 1: A -> B only."""

    def translate(self, x: Tensor, *, direction: int, style: Tensor | None) -> Tensor:
        """Images x (n, C, H, W) in [0, 1] of the source domain (direction 0: A, 1: B) -> (n, C, H, W)
        in [0, 1] of the other, with style codes (n, style_dim) (a multimodal model; None: zeros)."""

    def round_trip(self, x: Tensor, *, direction: int, style: Tensor | None) -> tuple[Tensor, Tensor]:
        """(translation, the translation translated back), each (n, C, H, W) in [0, 1]."""

    def examples(self, direction: int) -> Tensor:
        """(k, C, H, W) in [0, 1]: the model's kept example inputs of the source domain, which
        `decode(z)` translates."""

    def keep_examples(self, x: Tensor, y: Tensor) -> None:
        """Keep images x (n, C, H, W) in [0, 1] of domains y (n,) (0: A, 1: B) as the example inputs;
        the engine gives held-out images before training."""

    def triples(self, z: Tensor) -> Tensor:
        """(n, 6, C, H, W) in [0, 1] for style codes z (n, style_dim): an example of A, its translation,
        the round trip, then the same from B (the Train tab's live samples)."""


PROTOCOLS: dict[Capability, type] = {
    Capability.ENCODE: Encodes,
    Capability.EXACT_LIKELIHOOD: ExactLikelihood,
    Capability.CLASS_CONDITIONAL: ClassConditional,
    Capability.IMAGE_PROJECTION: ImageProjection,
    Capability.POINTS: Points,
    Capability.KL_PER_DIMENSION: KLPerDimension,
    Capability.DECISION_SURFACE: DecisionSurface,
    Capability.LIVE_DIAGNOSTICS: LiveDiagnostics,
    Capability.VARIATIONS: Variations,
    Capability.SEQUENTIAL_DECODE: SequentialDecode,
    Capability.PIXEL_LIKELIHOOD: PixelLikelihood,
    Capability.COMPLETION: Completion,
    Capability.STYLE_SPACE: StyleSpace,
    Capability.TRANSLATION: Translates,
}

# Protocols that a pair of capabilities asks for together (a tool that needs both).
COMBINED: dict[frozenset[Capability], type] = {
    frozenset({Capability.ENCODE, Capability.EXACT_LIKELIHOOD}): Invertible,
}

# Keyword-only parameters asked only of class-conditional families.
CONDITIONAL_ONLY = frozenset({"labels"})


def _has_preset(data: str) -> Callable[[Family], str | None]:
    def check(family: Family) -> str | None:
        if not family.presets_for(points=data == "points"):
            return f"has no preset for {data}"
        return None
    return check


def _conditional_preset(family: Family) -> str | None:
    return None if any(p.conditional for p in family.presets.values()) else "has no conditional preset"


def _declares_space(family: Family) -> str | None:
    spaces = [space for space in family.latent_spaces if space.capability is Capability.STYLE_SPACE]
    return None if spaces else "declares no latent space for it (Family.latent_spaces)"


def _plots_d_outputs(family: Family) -> str | None:
    plotted = {key for spec in family.plots for key in spec.keys}
    missing = [key for key in ("d_real", "d_fake") if key not in plotted]
    return f"plots no {' or '.join(missing)}" if missing else None


# What a capability promises of the family's description rather than of its model class.
FAMILY_PROMISES: dict[Capability, Callable[[Family], str | None]] = {
    Capability.CLASS_CONDITIONAL: _conditional_preset,
    Capability.POINTS: _has_preset("points"),
    Capability.DECISION_SURFACE: _has_preset("points"),
    Capability.LIVE_DIAGNOSTICS: _plots_d_outputs,
    Capability.STYLE_SPACE: _declares_space,
}


def members(protocol: type) -> dict[str, object]:
    """The Protocol's own methods and properties by name (what a model class must define)."""
    return {name: value for name, value in vars(protocol).items()
            if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))}


def _promised_call(method, conditional: bool) -> tuple[list[str], list[str]]:
    """(positional parameter names, keyword-only names) a caller passes to this Protocol method."""
    positional, keywords = [], []
    for name, parameter in list(inspect.signature(method).parameters.items())[1:]:     # past self
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            if conditional or name not in CONDITIONAL_ONLY:
                keywords.append(name)
        else:
            positional.append(name)
    return positional, keywords


def shown(method, conditional: bool = True) -> str:
    """'complete(x, known, n, *, seed, labels)': a Protocol method as the error messages name it."""
    positional, keywords = _promised_call(method, conditional)
    return f"{method.__name__}({', '.join(positional + (['*'] + keywords if keywords else []))})"


def _member_problem(model_class: type, name: str, promised, conditional: bool) -> str | None:
    """Why model_class does not keep one Protocol member, or None."""
    found = inspect.getattr_static(model_class, name, None)
    if found is None or found is inspect.getattr_static(GenerativeModel, name, None):
        return f"{model_class.__name__} has no {shown(promised, conditional) if inspect.isfunction(promised) else name}"
    if isinstance(promised, property):
        return None
    positional, keywords = _promised_call(promised, conditional)
    try:
        inspect.signature(getattr(model_class, name)).bind(None, *positional, **{k: None for k in keywords})
    except (TypeError, ValueError) as exc:
        return f"{model_class.__name__}.{name} cannot be called as {shown(promised, conditional)} ({exc})"
    return None


def protocols_of(capabilities: frozenset[Capability]) -> dict[str, type]:
    """{what it is named in messages: Protocol} for a model with these capabilities, combined ones included."""
    found = {c.value: PROTOCOLS[c] for c in Capability if c in capabilities}
    found.update({" + ".join(c.value for c in Capability if c in pair): protocol
                  for pair, protocol in COMBINED.items() if pair <= capabilities})
    return found


def contract_problems(family: Family) -> list[str]:
    """What the family declares but does not keep, one phrase per capability (empty when all kept)."""
    conditional = family.has(Capability.CLASS_CONDITIONAL)
    promises = {c.value: FAMILY_PROMISES[c] for c in Capability if c in family.capabilities and c in FAMILY_PROMISES}
    problems = []
    for named, protocol in protocols_of(family.capabilities).items():
        broken = [problem for name, promised in members(protocol).items()
                  if (problem := _member_problem(family.model_class, name, promised, conditional))]
        if named in promises and (reason := promises[named](family)):
            broken.append(f"the family {reason}")
        if broken:
            problems.append(f"{named}: {', '.join(broken)}")
    return problems


def check_contract(family: Family) -> None:
    """Refuse (ValueError, one line) a family that declares a capability it does not keep."""
    problems = contract_problems(family)
    if problems:
        raise ValueError(f"model family '{family.name}' does not keep what it declares: {'; '.join(problems)}")
