"""Encoding and variations as render requests: an image's latent and how well it decodes back (the
Inspect tab's Encode tool, for any ENCODE family: a VAE's posterior mean, a flow's inverse, a
diffusion model's DDIM inversion), and variations of one image (VARIATIONS: SDEdit).

Like render_requests.py, each request is a frozen dataclass with `run(model, cache)` that the
renderer's thread runs: a diffusion model's inversion runs its network once per sampling step, far
too long for the GUI thread. Kept apart from render_requests.py so the two grow independently.
Decode settings reach each of the three calls through explore/decoding.py's `accepted`, which keeps
what a method names in its signature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from genstudio.core.explore.decoding import accepted, decode_numpy
from genstudio.core.families.base import one_label

PIXEL = 255.0            # errors are reported in 8-bit pixel units


def round_trip_error(original: np.ndarray, decoded: np.ndarray) -> tuple[float, float, float]:
    """(mean |error|, max |error|) in 0..255 pixel units and PSNR in dB (peak 1 on [0, 1] images;
    inf when the round trip is exact) of two (n, C, H, W) arrays."""
    diff = np.abs(original.astype(np.float64) - decoded.astype(np.float64))
    mse = float(np.mean(diff ** 2))
    psnr = math.inf if mse == 0 else 10 * math.log10(1.0 / mse)
    return float(diff.mean() * PIXEL), float(diff.max() * PIXEL), psnr


@dataclass
class RoundTripReport:
    original: np.ndarray                # (1, C, H, W) in [0, 1]
    decoded: np.ndarray                 # (1, C, H, W) decode(encode(original))
    latent: torch.Tensor                # (D,) on the CPU
    label: int | None                   # the class it was encoded and decoded with (conditional models)
    options: dict                       # the decode settings of the round trip
    mean_abs: float                     # mean |x - decode(encode(x))|, 0..255
    max_abs: float                      # max |x - decode(encode(x))|, 0..255
    psnr: float                         # dB
    source: str                         # what the image was ("mnist #12", a file name)


@dataclass(frozen=True)
class EncodeRoundTrip:
    """Encode one image (1, C, H, W) in [0, 1] and decode its latent back, with the same settings."""

    image: torch.Tensor
    label: int | None = None
    options: dict = field(default_factory=dict)
    source: str = ""

    @torch.no_grad()
    def run(self, model, cache: dict) -> RoundTripReport:
        x = self.image.reshape(1, *model.data_shape).to(model.device, torch.float32)
        labels = one_label(model, self.label)
        given = dict(self.options, labels=labels) if labels is not None else dict(self.options)
        z = model.encode(x, **accepted(model.encode, given))                       # (1, *latent_shape)
        decoded = decode_numpy(model, z, labels, self.options)                      # (1, *data_shape)
        original = x.float().cpu().numpy()
        mean_abs, max_abs, psnr = round_trip_error(original, decoded)
        return RoundTripReport(original, decoded, z.detach().float().cpu().reshape(-1),
                               None if labels is None else int(self.label), dict(self.options), mean_abs,
                               max_abs, psnr, self.source)


@dataclass
class VariationsResult:
    source: np.ndarray                  # (1, C, H, W) the image varied
    images: np.ndarray                  # (n, C, H, W) its variations
    strength: float
    seed: int
    label: int | None
    name: str                           # what the source was


@dataclass(frozen=True)
class Variations:
    """n variations of one image: given as pixels (1, C, H, W) in [0, 1], or as a latent (1, D)
    whose decoded image is varied (the explorer's image). `strength` in (0, 1]: how far down the
    noise chain the image goes before it is denoised again."""

    n: int
    strength: float
    seed: int = 0
    image: torch.Tensor | None = None
    latent: torch.Tensor | None = None
    label: int | None = None
    options: dict = field(default_factory=dict)
    name: str = ""

    @torch.no_grad()
    def run(self, model, cache: dict) -> VariationsResult:
        if (self.image is None) == (self.latent is None):
            raise ValueError("variations need one source: an image or a latent")
        if self.n < 1:
            raise ValueError(f"the number of variations must be at least 1, not {self.n}")
        labels = one_label(model, self.label)
        if self.image is None:
            source = decode_numpy(model, self.latent, labels, self.options)          # (1, *data_shape)
        else:
            source = self.image.reshape(1, *model.data_shape).float().numpy()
        x = torch.from_numpy(source).to(model.device)
        given = dict(self.options, labels=labels, seed=int(self.seed))
        images = model.variations(x[0], int(self.n), float(self.strength), **accepted(model.variations, given))
        return VariationsResult(source, images.float().cpu().numpy(), float(self.strength), int(self.seed),
                                None if labels is None else int(self.label), self.name)


@dataclass
class CompletionResult:
    source: np.ndarray                  # (1, C, H, W) in [0, 1]: the image, as its 8-bit values
    known: np.ndarray                   # (H, W) bool: the pixels kept
    images: np.ndarray                  # (n, C, H, W): the completions
    seed: int
    name: str = ""


@dataclass(frozen=True)
class Complete:
    """n completions of one image (C, H, W) in [0, 1] by a COMPLETION model (a PixelCNN): the pixels
    where `known` (H, W) is true are kept, the others drawn in raster order given those before them.
    Streams the completions row by row: `emit((row, rows, images (n, C, H, W)))`."""

    image: torch.Tensor
    known: torch.Tensor
    n: int
    seed: int = 0
    label: int | None = None
    options: dict = field(default_factory=dict)
    name: str = ""

    def run(self, model, cache: dict) -> CompletionResult:
        return self.run_streaming(model, cache, lambda part: None, lambda: False)

    @torch.no_grad()
    def run_streaming(self, model, cache: dict, emit, should_stop) -> CompletionResult:
        if self.n < 1:
            raise ValueError(f"the number of completions must be at least 1, not {self.n}")
        known = self.known.bool()
        if tuple(known.shape) != tuple(model.data_shape[1:]):
            raise ValueError(f"the mask is {tuple(known.shape)}, the model's images {tuple(model.data_shape[1:])}")
        x = self.image.reshape(*model.data_shape).float().to(model.device)
        labels = one_label(model, self.label)
        rows = model.data_shape[1]
        given = dict(self.options, labels=labels, seed=int(self.seed), should_stop=should_stop,
                     on_row=lambda row, images: emit((row, rows, images.float().cpu().numpy().copy())))
        images = model.complete(x, known, int(self.n), **accepted(model.complete, given))
        source = ((x.clamp(0, 1) * 255).round() / 255).cpu().numpy()[None]
        return CompletionResult(source, known.cpu().numpy(), images.float().cpu().numpy(), int(self.seed), self.name)
