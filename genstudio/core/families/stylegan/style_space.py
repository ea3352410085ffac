"""The tools of W space, for models with the STYLE_SPACE capability (mapping(z) -> ws, synthesize(ws)).

Style mixing: one image's w's on some layers replaced by another's, and the grid the StyleGAN
paper shows (Karras et al. 2019, figure 3): a row of source images B across the top, a column of
destination images A down the side, and in each cell A with B's styles on the chosen layers.

Layer groups follow the paper's split of the w's: coarse (the first 4: pose, shape), middle (the
next 4: features), fine (the rest: colour scheme, micro-structure). A 32 px generator has 8 w's,
so its fine group is empty.

Principal directions in W (GANSpace, Härkönen et al. 2020, in the space the paper found best): the
principal components of many mapped w's. An edit adds sum_i alpha_i d_i to the w's of a layer range,
every w (W) or only the coarse, middle or fine ones (W+), as GANSpace applies its edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from genstudio.core.families.base import one_label
from genstudio.core.latent import seeded_latents

GROUPS = ("coarse", "middle", "fine")
MIXING_SETTINGS = ("mix_layers", "mix_seed")      # a style-based model's decode settings for mixing


def layer_group(name: str, num_ws: int) -> range:
    """The w indices of a group ('coarse', 'middle', 'fine') or of 'A-B' (inclusive, 0-based)."""
    bounds = {"coarse": (0, 4), "middle": (4, 8), "fine": (8, num_ws)}
    if name in bounds:
        first, end = bounds[name]
        return range(min(first, num_ws), min(end, num_ws))
    first, dash, last = name.partition("-")
    try:
        first_i, last_i = int(first), int(last if dash else first)
    except ValueError:
        raise ValueError(f"layers must be coarse, middle, fine or A-B, not {name!r}") from None
    if not 0 <= first_i <= last_i < num_ws:
        raise ValueError(f"layers {name} are outside 0-{num_ws - 1}")
    return range(first_i, last_i + 1)


def mix(ws: torch.Tensor, other: torch.Tensor, layers: range) -> torch.Tensor:
    """ws (N, num_ws, w_dim) with rows `layers` taken from `other` (N or 1, num_ws, w_dim)."""
    mixed = ws.clone()
    if len(layers):
        mixed[:, layers.start:layers.stop] = other[:, layers.start:layers.stop]
    return mixed


@torch.no_grad()
def mixing_grid(model, seeds_a: list[int], seeds_b: list[int], layers: range, label: int | None = None,
                **decode_options) -> torch.Tensor:
    """((len(a) + 1) * (len(b) + 1), C, H, W) images in [0, 1], row-major: a blank corner, the B
    images along the top, then for each A its own image followed by A mixed with each B. The model's
    decode settings apply, except its own style mixing (mix_layers, mix_seed): the grid is the mixing."""
    decode_options = {k: v for k, v in decode_options.items() if k not in MIXING_SETTINGS}
    z_a = torch.cat([seeded_latents(1, model.latent_shape, s) for s in seeds_a])
    z_b = torch.cat([seeded_latents(1, model.latent_shape, s) for s in seeds_b])
    labels = one_label(model, label)
    ws_a, ws_b = model.mapping(z_a, labels), model.mapping(z_b, labels)
    rows = [torch.cat([torch.ones(1, *model.data_shape), model.synthesize(ws_b, **decode_options).cpu()])]
    for i in range(len(seeds_a)):
        mixed = mix(ws_a[i:i + 1].expand(len(seeds_b), -1, -1), ws_b, layers)
        rows.append(torch.cat([model.synthesize(ws_a[i:i + 1], **decode_options).cpu(),
                               model.synthesize(mixed, **decode_options).cpu()]))
    return torch.cat(rows)


@torch.no_grad()
def style_directions(model, k: int = 10, samples: int = 4096, seed: int = 0,
                     label: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit principal directions of W (k, w_dim) and each one's share of the variance of w (k,), from
    `samples` w's of seeded latents (the same directions every time for a model)."""
    z = seeded_latents(samples, model.latent_shape, seed)
    labels = None if label is None or not model.num_classes else torch.full((samples,), int(label))
    w = model.mapping(z, labels)[:, 0].double().cpu()                                  # (S, w_dim)
    centred = w - w.mean(0, keepdim=True)
    k = min(k, centred.shape[1], samples - 1)
    _, s, v = torch.linalg.svd(centred, full_matrices=False)                          # rows of v: the PCs
    explained = s.square() / s.square().sum()
    return v[:k].float(), explained[:k].float()


def edit_styles(ws: torch.Tensor, directions: torch.Tensor, alphas: torch.Tensor, layers: range) -> torch.Tensor:
    """ws (N, num_ws, w_dim) moved by alphas (k,) along directions (k, w_dim), on the w's of `layers`."""
    edited = ws.clone()
    if len(layers):
        edited[:, layers.start:layers.stop] += (alphas.to(ws) @ directions.to(ws))[None, None]
    return edited


@dataclass(frozen=True)
class StyleEdit:
    """An edit in W: alphas (k,) along principal directions (k, w_dim) on the w's of `layers` ('all',
    'coarse', 'middle', 'fine' or 'A-B'). What the explorer's W sliders hold, and a latent record keeps
    (the directions are recomputed from the model: `style_directions` is seeded)."""

    directions: torch.Tensor
    alphas: torch.Tensor
    layers: str = "all"

    def apply(self, ws: torch.Tensor) -> torch.Tensor:
        layers = range(ws.shape[1]) if self.layers == "all" else layer_group(self.layers, ws.shape[1])
        return edit_styles(ws, self.directions, self.alphas, layers)

    def to_record(self) -> dict:
        return {"layers": self.layers, "k": len(self.alphas), "alphas": [float(a) for a in self.alphas]}


def style_edit_from_record(model, record: dict, label: int | None = None) -> StyleEdit:
    """The StyleEdit a latent record's 'style_edit' describes, its directions recomputed for `model`."""
    directions, _ = style_directions(model, k=int(record["k"]), label=label)
    return StyleEdit(directions, torch.tensor(record["alphas"], dtype=torch.float32), str(record["layers"]))


@dataclass(frozen=True)
class StyleDirections:
    """A render request: the principal directions of W of the open model (and their variance shares)."""

    k: int = 10
    label: int | None = None

    def run(self, model, cache: dict) -> tuple[torch.Tensor, torch.Tensor]:
        key = ("style-directions", self.k, self.label)
        if key not in cache:
            cache[key] = style_directions(model, self.k, label=self.label)
        return cache[key]


def parse_seeds(text: str) -> list[int]:
    """'1, 2,3' -> [1, 2, 3]; ValueError for anything else or nothing."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or any(s < 0 for s in seeds):
        raise ValueError(f"seeds are whole numbers separated by commas, not {text!r}")
    return seeds


@dataclass(frozen=True)
class ExportStyleMixing:
    """A render request: the style-mixing grid of seeds A x B with B's styles on `layers` (a group
    name or 'A-B'), written as a PNG. Returns the path written."""

    path: Path
    seeds_a: list[int]
    seeds_b: list[int]
    layers: str = "coarse"
    label: int | None = None
    scale: int = 2
    options: dict = field(default_factory=dict)

    def run(self, model, cache: dict) -> Path:
        from genstudio.core.io.export import save_export_record, save_grid

        images = mixing_grid(model, self.seeds_a, self.seeds_b, layer_group(self.layers, model.num_ws), self.label,
                             **self.options)
        written = save_grid(images.numpy(), self.path, cols=len(self.seeds_b) + 1, padding=2, scale=self.scale)
        # The grid is drawn from seeds, not stored latents: the seeds, layers and settings redraw it.
        save_export_record(written, {"kind": "style-mixing", "seeds_a": self.seeds_a, "seeds_b": self.seeds_b,
                                     "layers": self.layers, "label": self.label, "decode_options": self.options})
        return written
