"""Model work of translation models (Capability.TRANSLATION) as plain-data requests: the explorer's
input | translation | round trip of one image, its strip along the A <-> B path of style codes, the
Inspect tab's grid of data images and their translations, and the cycle error over a data set (a
long task: core/requests/tasks.py's convention, progress and cancel through a TaskState).

The source domain of a direction (0: A -> B translates A's images, 1: B -> A translates B's) is read
from the data set the model was trained on: a two-domain spec (`A=SPEC,B=SPEC`, a bundled pair)
loads only that domain's spec, so the smaller domain's repeats that `two_domains` adds for training
are not counted twice; a two-domain set given as it is (`dataset`) gives its images labelled with
the direction; any other set is all source images. A model with no data set (a public generator
read from its file) translates its kept examples. Images are (n, C, H, W) float in [0, 1] throughout;
the cycle error of an image is mean |input - round trip| over its pixels, in the same units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.domains import DOMAIN_NAMES, split_domains
from genstudio.core.errors import GenStudioError
from genstudio.core.explore.source_image import SourceImage
from genstudio.core.explore.traced_calls import traced_calls
from genstudio.core.families.translation.model import DIRECTIONS

CYCLE_BATCH = 256          # images per round trip in the cycle-error task


# --- the source domain ------------------------------------------------------------------------------
def source_domain(data_spec: str, direction: int, dataset: InMemoryDataset | None = None) -> InMemoryDataset:
    """The images direction `direction` translates (see the module docstring), uint8 (N, C, H, W)."""
    from genstudio.core.data.spec import load_dataset

    if dataset is not None:
        if not dataset.two_domains or dataset.labels is None:
            return dataset
        keep = dataset.labels == direction
        name = dataset.label_names[direction] if len(dataset.label_names) > direction else dataset.name
        return InMemoryDataset(name, dataset.data[keep], None, [], dataset.source)
    parts = split_domains(data_spec)
    loaded = load_dataset(parts[direction] if parts is not None else data_spec)
    if parts is not None:       # named by its spec: an image's index counts within that slice
        loaded.name = f"{DOMAIN_NAMES[direction]}: {parts[direction]}"
    return loaded


def _checked(domain: InMemoryDataset, model) -> InMemoryDataset:
    if domain.is_points or tuple(domain.shape) != tuple(model.data_shape):
        raise GenStudioError(f"{domain.source or domain.name}: images of shape {domain.shape}, the model "
                             f"translates {tuple(model.data_shape)}")
    if len(domain) == 0:
        raise GenStudioError(f"{domain.source or domain.name}: no images of the source domain")
    return domain


def cached_domain(model, cache: dict, data_spec: str, direction: int) -> InMemoryDataset:
    """source_domain of `data_spec`, kept in the renderer's per-model `cache`; the model's kept
    examples when `data_spec` is empty."""
    key = ("translation-domain", data_spec, direction)
    if key not in cache:
        if data_spec:
            domain = source_domain(data_spec, direction)
        else:
            examples = model.examples(direction)                          # (k, C, H, W) in [0, 1]
            domain = InMemoryDataset(f"the model's {DOMAIN_NAMES[direction]} examples",
                                     (examples.detach().cpu() * 255).round().to(torch.uint8))
        cache[key] = _checked(domain, model)
    return cache[key]


def _styles(model, style: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """The style code (1, D) or (n, D) as (n, style_dim) on the model's device; None for a one-to-one model."""
    if style is None or not model.style_dim:
        return None
    style = style.reshape(-1, style.shape[-1])[:, :model.style_dim].float()
    return style.expand(n, -1).to(model.device) if len(style) == 1 else style.to(model.device)


def translated(model, x: torch.Tensor, direction: int, style: torch.Tensor | None, round_trip: bool = True
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(translation, round trip) of x (n, C, H, W) in [0, 1]; the round trip None for a model without a
    way back, or when `round_trip` is not asked."""
    x = x.to(model.device)
    styles = _styles(model, style, len(x))
    if model.directions != 2 and direction != 0:
        raise GenStudioError("this model holds one generator (A -> B) only: it has no B -> A")
    if model.directions == 2 and round_trip:
        return model.round_trip(x, direction=direction, style=styles)
    return model.translate(x, direction=direction, style=styles), None


def cycle_errors(x: torch.Tensor, back: torch.Tensor) -> torch.Tensor:
    """(n,) mean |x - back| per image of (n, C, H, W) in [0, 1]."""
    return (x.float() - back.float().to(x.device)).abs().flatten(1).mean(1)


# --- the explorer's image ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TranslationInput:
    """Where the image to translate comes from: data image `index` of the source domain of `data_spec`
    (the model's kept examples when it is ''), or an image file `path` (read at the model's shape as
    the public CycleGAN code reads it: image_io.load_translation_input)."""

    data_spec: str = ""
    index: int = 0
    path: Path | None = None

    def resolve(self, model, cache: dict, direction: int) -> tuple[SourceImage, int]:
        """(the image as a SourceImage, how many images the data slider reaches: the source domain's
        count, or 0 for a file)."""
        from genstudio.core.data.image_io import load_translation_input
        from genstudio.core.data.pixels import to_unit_float

        if self.path is not None:
            image = load_translation_input(self.path, model.data_shape[0], tuple(model.data_shape[1:]))
            return SourceImage.of(image, Path(self.path).name), 0
        domain = cached_domain(model, cache, self.data_spec, direction)
        index = min(max(int(self.index), 0), len(domain) - 1)
        return SourceImage.of(to_unit_float(domain.data[index:index + 1]), f"{domain.name} #{index}", index), len(domain)


def _source(given: TranslationInput | SourceImage, model, cache: dict, direction: int) -> SourceImage:
    return given if isinstance(given, SourceImage) else given.resolve(model, cache, direction)[0]


@dataclass(frozen=True)
class ResolveSource:
    """The explorer's input as a SourceImage (the session's source), and the data slider's reach."""

    input: TranslationInput
    direction: int = 0

    def run(self, model, cache: dict) -> tuple[SourceImage, int]:
        return self.input.resolve(model, cache, self.direction)


@dataclass
class TranslationView:
    """One translated image as the explorer shows it."""

    input: np.ndarray                   # (C, H, W) in [0, 1]
    translation: np.ndarray             # (C, H, W)
    round_trip: np.ndarray | None       # (C, H, W); None for a model without a way back
    cycle_error: float | None           # mean |input - round trip|, [0, 1] units
    direction: int
    name: str                           # what the input is ("A: mnist #12", a file's name)
    style_dim: int                      # the model's: 0 for a one-to-one translation
    directions: int                     # the model's: 1 for a single public generator

    @property
    def round_trip_left_out(self) -> bool:
        """A model with a way back, translated without it (a held slider's image: TranslateImage)."""
        return self.round_trip is None and self.directions == 2

    def panels(self) -> list[np.ndarray]:
        """input, translation[, round trip], each (C, H, W)."""
        return [self.input, self.translation] + ([] if self.round_trip is None else [self.round_trip])

    def picture(self, padding: int = 2, pad_value: float = 0.5) -> np.ndarray:
        """The panels side by side on grey, (C, H + 2p, k (W + p) + p) floats in [0, 1]."""
        c, h, w = self.input.shape
        panels = self.panels()
        out = np.full((c, h + 2 * padding, len(panels) * (w + padding) + padding), pad_value, np.float32)
        for i, panel in enumerate(panels):
            left = padding + i * (w + padding)
            out[:, padding:padding + h, left:left + w] = panel
        return out


@dataclass(frozen=True)
class TranslateImage:
    """Translate an input (the explorer's source image, or one to read) in `direction` with style code
    `style` (1, D) (None: zeros) and, when the model can and `round_trip` is asked, translate it back
    (the round trip takes the input's own style). A held slider asks for the translation alone: the way
    back is a second generator and a style encoder, 40 % of the decode, for a panel the hand's move
    does not aim at; its round trip follows at rest, as a preview's full image does."""

    input: TranslationInput | SourceImage
    direction: int = 0
    style: torch.Tensor | None = None
    traced: bool = False            # a held slider's: by a frozen graph once it repeats (as Decode.traced)
    round_trip: bool = True

    @torch.no_grad()
    def run(self, model, cache: dict) -> TranslationView:
        source = _source(self.input, model, cache, self.direction)
        x, name = source.image.reshape(1, *model.data_shape), source.name
        translate = lambda x, style: translated(model, x, self.direction, style, self.round_trip)
        settings = {"direction": self.direction, "round_trip": self.round_trip}
        there, back = (traced_calls(cache).run(model, "translate", settings, translate, x, self.style)
                       if self.traced else translate(x, self.style))
        error = None if back is None else float(cycle_errors(x, back)[0])
        as_numpy = lambda t: t[0].float().cpu().numpy()
        return TranslationView(x[0].numpy(), as_numpy(there), None if back is None else as_numpy(back), error,
                               self.direction, name, int(model.style_dim), int(model.directions))


@dataclass(frozen=True)
class TranslateStrip:
    """The explorer's source image translated with each style code of an A <-> B path (frames, D):
    (frames, C, H, W) in [0, 1]."""

    source: SourceImage
    styles: torch.Tensor
    direction: int = 0

    @torch.no_grad()
    def run(self, model, cache: dict) -> np.ndarray:
        x = self.source.image.reshape(1, *model.data_shape)
        frames = x.to(model.device).expand(len(self.styles), *x.shape[1:])
        styles = _styles(model, self.styles, len(frames))
        return model.translate(frames, direction=self.direction, style=styles).float().cpu().numpy()


# --- the Inspect tab's grid -------------------------------------------------------------------------
@dataclass
class TranslationGrid:
    """Data images and their translations, for the grid and its export."""

    inputs: np.ndarray                  # (n, C, H, W) in [0, 1]
    translations: np.ndarray            # (n, C, H, W)
    round_trips: np.ndarray | None      # (n, C, H, W); None for a model without a way back
    indices: list[int]                  # the images' indices in the source domain
    cycle_errors: list[float] | None    # (n,) mean |input - round trip| each
    direction: int
    source: str                         # the source domain's name

    def rows(self) -> np.ndarray:
        """(rows * n, C, H, W): the inputs, then their translations[, then the round trips], a row each."""
        rows = [self.inputs, self.translations] + ([] if self.round_trips is None else [self.round_trips])
        return np.concatenate(rows)

    def row_names(self) -> list[str]:
        return ["input", "translation"] + ([] if self.round_trips is None else ["round trip"])

    def record(self) -> dict:
        """What the grid is, for the JSON beside its exported PNG."""
        return {"kind": "translation grid", "direction": DIRECTIONS[self.direction], "source": self.source,
                "indices": self.indices, "rows": self.row_names(), "cols": len(self.indices),
                "cycle_errors": self.cycle_errors}


@dataclass(frozen=True)
class TranslateGrid:
    """`count` images of the source domain from `start` (the tool's own data set `dataset` when given),
    translated in `direction` with style code `style` (1, D), and back."""

    data_spec: str
    direction: int = 0
    style: torch.Tensor | None = None
    start: int = 0
    count: int = 8
    dataset: InMemoryDataset | None = None

    @torch.no_grad()
    def run(self, model, cache: dict) -> TranslationGrid:
        from genstudio.core.data.pixels import to_unit_float

        if self.dataset is not None:
            domain = _checked(source_domain(self.data_spec, self.direction, self.dataset), model)
        else:
            domain = cached_domain(model, cache, self.data_spec, self.direction)
        start = min(max(self.start, 0), len(domain) - 1)
        indices = list(range(start, min(start + max(self.count, 1), len(domain))))
        x = to_unit_float(domain.data[indices])
        there, back = translated(model, x, self.direction, self.style)
        errors = None if back is None else cycle_errors(x, back.cpu()).tolist()
        return TranslationGrid(x.numpy(), there.float().cpu().numpy(),
                               None if back is None else back.float().cpu().numpy(), indices, errors,
                               self.direction, domain.name)


# --- the cycle error over a data set (a task) ---------------------------------------------------------
@dataclass
class CycleErrors:
    domain: InMemoryDataset             # the source domain's images, uint8 (N, C, H, W)
    errors: np.ndarray                  # (N,) mean |input - round trip| each, [0, 1] units
    direction: int
    style: list[float] | None           # the style code every image was translated with


@dataclass
class MeasureCycleErrors:
    """The cycle error of every image of the source domain of `data_spec` (or of `dataset`), in
    batches of `batch`, translated with style code `style` (1, D) (None: zeros) and back."""

    data_spec: str
    direction: int = 0
    style: torch.Tensor | None = None
    dataset: InMemoryDataset | None = None
    batch: int = CYCLE_BATCH

    @torch.no_grad()
    def run(self, model, state) -> CycleErrors:
        from genstudio.core.data.pixels import to_unit_float

        if model.directions != 2:
            raise GenStudioError("this model holds one generator (A -> B) only: it has no round trip to measure")
        domain = _checked(source_domain(self.data_spec, self.direction, self.dataset), model)
        errors = np.empty(len(domain), np.float32)
        state.set_progress(0.0, "round trips %p%")
        for start in range(0, len(domain), self.batch):
            state.check("measuring the cycle error")
            x = to_unit_float(domain.data[start:start + self.batch])
            _, back = translated(model, x, self.direction, self.style)
            errors[start:start + len(x)] = cycle_errors(x, back.cpu()).numpy()
            state.set_progress(min(1.0, (start + len(x)) / len(domain)), "round trips %p%")
        style = None if self.style is None or not model.style_dim else \
            self.style.reshape(-1)[:model.style_dim].tolist()
        return CycleErrors(domain, errors, self.direction, style)
