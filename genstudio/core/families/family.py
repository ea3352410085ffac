"""What the rest of genstudio needs to know about a model family, in one description.

A `Family` is pure data: its model class, its typed config, presets, the curves it reports and how
they group into plots, the hyper-parameters the Train form and the command line offer, what it can
do (`Capability`), and the recipes of its bundled demos. The CLI, the app's panels, the checkpoint
reader and the tests read these descriptions from the registry (`genstudio.core.families`) instead
of switching on family names, so a new family is one folder plus one registration line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genstudio.core.families.demo_standard import Bar

if TYPE_CHECKING:
    from genstudio.core.families.base import GenerativeModel
    from genstudio.core.families.config import ModelConfig, ModelSize


class Capability(enum.Enum):
    """What a family's models can do beyond decoding latents; tools are registered by these. Each
    is a contract: the methods it promises, with their parameters and shapes, are a Protocol in
    families/capabilities.py, and registry.register() refuses a family whose model class lacks them."""

    ENCODE = "encode"                        # x -> latent (VAE posterior mean, flow inverse): latent map, drop to encode
    EXACT_LIKELIHOOD = "exact likelihood"    # bits/dim of images (flows): Inspect histogram, info --image
    CLASS_CONDITIONAL = "class-conditional"  # some presets decode with a class label
    IMAGE_PROJECTION = "image projection"    # optimise a latent towards an image (GANs: no encoder)
    POINTS = "2-D points"                    # has presets for the 2-D toy mixtures
    KL_PER_DIMENSION = "KL per dimension"    # posterior KL of each latent dimension (VAEs)
    DECISION_SURFACE = "decision surface"    # a critic over the plane for 2-D sets (GANs)
    LIVE_DIAGNOSTICS = "live diagnostics"    # mode-collapse figures on snapshots while training (GANs)
    VARIATIONS = "variations"                # variations(x, n, strength): noise an image part-way, redo it (diffusion)
    SEQUENTIAL_DECODE = "sequential decode"  # decode draws rows in order: decode(z, labels, on_row=, should_stop=),
                                             # draw_rows(z, x, first, last, labels) draws a few of them
    PIXEL_LIKELIHOOD = "per-pixel likelihood"  # pixel_nll(x, labels): -log p(x_i | x_<i) per pixel (autoregressive)
    COMPLETION = "completion"                # complete(x, known, n, seed, labels): redraw the unknown pixels
    STYLE_SPACE = "style space"              # mapping(z, labels) -> ws (N, num_ws, w_dim), synthesize(ws, **options):
                                             # W / W+ and style mixing (style-based GANs)
    TRANSLATION = "translation"              # translate(x, direction, style) an image of one domain into the
                                             # other, round_trip back (CycleGAN); the latent is a style code


# Capabilities that only make sense for image models, and for 2-D point models.
IMAGE_ONLY = frozenset({Capability.EXACT_LIKELIHOOD, Capability.IMAGE_PROJECTION, Capability.KL_PER_DIMENSION,
                        Capability.LIVE_DIAGNOSTICS, Capability.SEQUENTIAL_DECODE, Capability.PIXEL_LIKELIHOOD,
                        Capability.COMPLETION, Capability.STYLE_SPACE, Capability.TRANSLATION})
POINTS_ONLY = frozenset({Capability.DECISION_SURFACE})


@dataclass(frozen=True)
class Preset:
    """A named starting point: overrides of the config's defaults and the training hyper-parameters."""

    description: str
    data: str                                    # "images" or "points": the data it is made for
    model: dict[str, Any] = field(default_factory=dict)
    hyper: dict[str, Any] = field(default_factory=dict)
    conditional: bool = False                    # takes the data set's labels (num_classes from the data)


@dataclass(frozen=True)
class PlotSpec:
    """One live plot of the Train panel: its title and the report keys drawn on it ("eval/..." dashed)."""

    title: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class HyperField:
    """A hyper-parameter the Train form shows and the command line takes (`--key-with-dashes`)."""

    key: str
    label: str
    help: str = ""
    kind: type = float
    minimum: float = 1e-6
    maximum: float = 1.0
    decimals: int = 6
    learning_rate: bool = False                  # `--lr` on the command line sets every such field

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


@dataclass(frozen=True)
class DecodeSetting:
    """A setting of the family's decoder (a sampler's steps, eta, guidance): the Explore panel shows a
    control for it, `genstudio sample` takes `--key-with-dashes`, and `decode(z, labels, key=value)`
    receives it. A model's own default comes from its config field `default_field` when named.
    `preview_field` names the config field whose value replaces this setting while a slider moves
    (a progressive preview: a few sampling steps while dragging, the full count when it stops);
    with `preview_above_ms`, only for a model whose full decode takes longer than that (a StyleGAN's
    lower resolution is a preview for a 256 px generator on a CPU, not for a 28 px one)."""

    key: str
    label: str
    help: str = ""
    kind: type = float
    minimum: float = 0.0
    maximum: float = 1.0
    decimals: int = 2
    default: float = 0.0
    default_field: str = ""
    preview_field: str = ""
    preview_above_ms: float = 0.0                # preview only when the full decode is slower (0: always)
    maximum_field: str = ""                      # a config field that lowers `maximum` for one model
    conditional: bool = False                    # only shown for class-conditional models
    choices: tuple[str, ...] = ()                # int settings: the name of each value 0, 1, ... (a drop-down)
    slider: bool = False                         # float settings: a slider beside the number, for dragging

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    def default_for(self, config: dict):
        """This setting's starting value for a model with these config values."""
        value = config.get(self.default_field, self.default) if self.default_field else self.default
        return self.kind(value)

    def maximum_for(self, config: dict) -> float:
        """The largest value a model with these config values takes (its timestep count for steps)."""
        if self.maximum_field and self.maximum_field in config:
            return min(self.maximum, config[self.maximum_field])
        return self.maximum


@dataclass(frozen=True)
class EditGroup:
    """The layers an edit in a latent space applies to: every layer (StyleGAN's W) or a group of
    them (W+: coarse, middle, fine)."""

    key: str                                     # what a latent record stores ("coarse")
    label: str                                   # what people read ("W+, coarse layers")


@dataclass(frozen=True)
class SpaceMixing:
    """A latent space's mixing grid (StyleGAN's style mixing): images A down the side, B across the
    top, each cell A with B's latents on a layer group. `genstudio sample` takes `flag` SEEDS_A/SEEDS_B
    and `--layers`; the model draws it with the capability's `mixing_grid`."""

    flag: str                                    # "--style-mix"
    help: str
    layers_help: str                             # what `--layers` takes with it
    default_layers: str


@dataclass(frozen=True)
class LatentSpace:
    """A latent space of the family's models beyond Z that the explorer edits in: sliders along its
    principal directions (`model.space_directions(k, label=)`, promised by `capability`'s Protocol),
    on the layers of one of `groups`. The latent z stays; the edit (latent.SpaceEdit) reaches the
    model as the decode keyword `option`, and a latent record keeps it under the same key as
    {"layers": group key, "k": directions, "alphas": k offsets}."""

    key: str                                     # "w"
    label: str                                   # what people read ("W")
    help: str
    groups: tuple[EditGroup, ...]                # the slider modes, in order
    option: str                                  # the decode keyword and the record's key ("style_edit")
    capability: Capability
    mixing: SpaceMixing | None = None

    def group_keys(self) -> tuple[str, ...]:
        return tuple(group.key for group in self.groups)


@dataclass(frozen=True)
class DemoRecipe:
    """How a bundled demo checkpoint is trained (training/make_demo_checkpoints.py)."""

    name: str                                    # file stem under resources/checkpoints
    preset: str
    steps: int
    seed: int = 1
    data: str = "mnist"
    model: dict[str, Any] = field(default_factory=dict)
    hyper: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    # A second stage: this many more steps from the first stage's weights (EMA included) with a fresh
    # optimiser and these hyper-parameter overrides, e.g. a lower learning rate to settle the weights.
    refine_steps: int = 0
    refine_hyper: dict[str, Any] = field(default_factory=dict)
    # The standard it is trained to (genstudio.core.families.demo_standard), checked on its diagnostics
    # against the bundled MNIST with this many samples, and on its held-out slice.
    standard: tuple[Bar, ...] = ()
    diagnose_samples: int = 5000          # metrics.report.DEFAULT_SAMPLES: the bundled MNIST holds the real reference


@dataclass(frozen=True)
class Family:
    name: str                                    # the key in checkpoints and on the command line
    label: str                                   # what people read ("Normalizing flow")
    description: str
    model_class: type["GenerativeModel"]
    config_class: type["ModelConfig"]
    presets: dict[str, Preset]
    plots: tuple[PlotSpec, ...]
    hyper_fields: tuple[HyperField, ...] = ()
    capabilities: frozenset[Capability] = frozenset()
    demos: tuple[DemoRecipe, ...] = ()
    decode_settings: tuple[DecodeSetting, ...] = ()
    latent_spaces: tuple[LatentSpace, ...] = ()  # spaces beyond Z the explorer edits in (StyleGAN's W)
    # Architecture fields that format-1 checkpoints left out, as this family rebuilt them then:
    # (data_shape) -> values. Frozen here, so changing a default later never changes an old file.
    v1_defaults: Any = None

    def __post_init__(self):
        if not self.presets:
            raise ValueError(f"family '{self.name}' has no presets")
        for name, preset in self.presets.items():
            if preset.data not in ("images", "points"):
                raise ValueError(f"{self.name} preset '{name}': data must be 'images' or 'points'")
            unknown = set(preset.model) - set(self.config_class.field_names())
            if unknown:
                raise ValueError(f"{self.name} preset '{name}' sets unknown config fields {sorted(unknown)}")
        for space in self.latent_spaces:
            if space.capability not in self.capabilities:
                raise ValueError(f"{self.name} latent space '{space.key}' needs the capability "
                                 f"'{space.capability.value}', which the family does not declare")

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def preset(self, name: str) -> Preset:
        if name not in self.presets:
            raise ValueError(f"unknown {self.name} preset '{name}': choose one of {', '.join(self.presets)}")
        return self.presets[name]

    def default_preset(self, points: bool) -> str:
        """The first preset made for 2-D points or for images; a clear error when there is none."""
        wanted = "points" if points else "images"
        for name, preset in self.presets.items():
            if preset.data == wanted:
                return name
        raise ValueError(f"the {self.label} family has no preset for {wanted}")

    def presets_for(self, points: bool) -> list[str]:
        wanted = "points" if points else "images"
        return [name for name, preset in self.presets.items() if preset.data == wanted]

    def make_config(self, values: dict) -> "ModelConfig":
        """A validated config from plain values (defaults fill what is absent)."""
        return self.config_class.from_dict(values, complete=False)

    def size_of(self, config: "ModelConfig") -> "ModelSize":
        """How big the described model is: the config's closed form, or else a build on the meta
        device (no memory is allocated; slow only for models of thousands of modules)."""
        size = config.size()
        if size is not None:
            return size
        import torch

        from genstudio.core.families.config import ModelSize

        activations = [0]

        def count(module, inputs, output):
            if torch.is_tensor(output):
                activations[0] += output[:1].numel()

        with torch.device("meta"):
            model = self.build(config)
            handle = torch.nn.modules.module.register_module_forward_hook(count)
            try:
                model.eval().decode(torch.zeros(1, *model.latent_shape))
            finally:
                handle.remove()
        return ModelSize(sum(t.numel() for t in (*model.parameters(), *model.buffers())), activations[0])

    def build(self, config: "ModelConfig | dict") -> "GenerativeModel":
        if isinstance(config, dict):
            config = self.make_config(config)
        return self.model_class(config)

    def decode_defaults(self, config: dict, num_classes: int = 0) -> dict:
        """{setting: value} a model with these config values decodes with by default."""
        return {s.key: s.default_for(config) for s in self.decode_settings if num_classes or not s.conditional}

    def preview_options(self, config: dict) -> dict:
        """{setting: value} that make a fast preview decode while a slider moves; empty when the
        family decodes fast enough to show every position in full."""
        return {s.key: s.kind(config[s.preview_field]) for s in self.decode_settings
                if s.preview_field and s.preview_field in config}

    def capabilities_of(self, data_shape: tuple[int, ...], num_classes: int = 0) -> frozenset[Capability]:
        """What one model of this family can do, given its data (points or images) and classes."""
        caps = set(self.capabilities)
        if len(data_shape) == 1:
            caps -= IMAGE_ONLY
        else:
            caps -= POINTS_ONLY | {Capability.POINTS}
        if not num_classes:
            caps.discard(Capability.CLASS_CONDITIONAL)
        return frozenset(caps)
