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

import torch

from genstudio.core.families.base import one_label
from genstudio.core.families.family import Capability, EditGroup, LatentSpace, SpaceMixing
from genstudio.core.latent import SpaceEdit, seeded_latents

GROUPS = ("coarse", "middle", "fine")
MIXING_SETTINGS = ("mix_layers", "mix_seed")      # a style-based model's decode settings for mixing

# W as the family declares it (Family.latent_spaces): the explorer's slider modes, the latent record's
# 'style_edit' and `genstudio sample --style-mix` come from this description.
W_SPACE = LatentSpace(
    key="w", label="W",
    help="Principal directions of the mapped latents w (GANSpace), added to every w (W) or to one group "
         "of them (W+); the latent z stays",
    groups=(EditGroup("all", "W (all layers)"), EditGroup("coarse", "W+, coarse layers"),
            EditGroup("middle", "W+, middle layers"), EditGroup("fine", "W+, fine layers")),
    option="style_edit",
    capability=Capability.STYLE_SPACE,
    mixing=SpaceMixing(
        flag="--style-mix",
        help="style-based models: the style-mixing grid, seeds A down the side, seeds B across the top "
             "(e.g. 1,2,3/10,11,12,13)",
        layers_help="the layers that take B's styles: coarse, middle, fine or A-B (0-based w indices)",
        default_layers="coarse"))


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


def apply_edit(ws: torch.Tensor, edit: SpaceEdit) -> torch.Tensor:
    """ws (N, num_ws, w_dim) with an edit in W_SPACE applied: on every w ('all') or on a group's."""
    layers = range(ws.shape[1]) if edit.group == "all" else layer_group(edit.group, ws.shape[1])
    return edit_styles(ws, edit.directions, edit.alphas, layers)
