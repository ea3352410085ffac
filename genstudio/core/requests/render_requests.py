"""Interactive work on the open model as plain-data requests: decode, paths, directions, neighbours,
encodes, round trips and exports. Each request is a dataclass with `run(model, cache)`.

The app's renderer (ui/render_worker.py) owns the model and runs these in its thread, dropping a
request that a newer one of the same channel overtook; nothing else touches the model. `cache` is
a dict that lives as long as the open model (point clouds, nearest-neighbour indexes).

Decoding requests carry `options`: the family's decode settings (a diffusion sampler's steps, eta,
guidance; see Family.decode_settings) passed to `model.decode(z, labels, **options)`. Families
without settings, and foreign generators, get an empty dict and are called as before.

Requests whose decode may take seconds (a sampler's steps, a PixelCNN's rows) also have
`run_streaming(model, cache, emit, should_stop)`, which the renderer calls instead of `run`: the
model's decode gets `should_stop` when it takes one, so a cancelled or overtaken request ends at the
next step or row (Cancelled) rather than when it is done.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genstudio.core.explore.decoding import decode_numpy, stop_option
from genstudio.core.explore.directions_cache import directions_file, load_directions, save_directions
from genstudio.core.explore.traced_calls import traced_calls
from genstudio.core.latent import principal_directions, seeded_latents

log = logging.getLogger(__name__)

POINT_CLOUD = 2000       # samples drawn behind the current point of a 2-D model


@dataclass(frozen=True)
class Decode:
    """Decode latents (n, D) -> images (n, *data_shape)."""

    latents: torch.Tensor
    labels: torch.Tensor | None = None
    options: dict = field(default_factory=dict)
    # A held slider's image: by a frozen graph once the decode repeats (traced_calls.py), equal to the
    # eager decode up to float rounding. Left False, every decode is the eager one.
    traced: bool = False

    def run(self, model, cache: dict) -> np.ndarray:
        return decode_numpy(model, self.latents, self.labels, self.options, self._traced(cache))

    def run_streaming(self, model, cache: dict, emit, should_stop) -> np.ndarray:
        """As `run`, ended early by `should_stop()` (nothing to show until the end)."""
        return decode_numpy(model, self.latents, self.labels, {**self.options, **stop_option(model, should_stop)},
                            self._traced(cache))        # (a decode that takes should_stop stays eager)

    def _traced(self, cache: dict):
        return traced_calls(cache) if self.traced else None


@dataclass(frozen=True)
class DecodeRows(Decode):
    """Decode latents (n, D) with a family that draws rows in order (SEQUENTIAL_DECODE), reporting
    the image so far after each row: `emit((row, rows, images (n, *data_shape)))`. `should_stop()`
    (the renderer: a newer request of the channel arrived) ends the drawing early."""

    def run_streaming(self, model, cache: dict, emit, should_stop) -> np.ndarray:
        rows = model.data_shape[1]

        def on_row(row: int, images: torch.Tensor) -> None:
            emit((row, rows, images.float().cpu().numpy().copy()))   # a copy: the sampler goes on writing its buffer

        return decode_numpy(model, self.latents, self.labels, {**self.options, "on_row": on_row,
                                                               "should_stop": should_stop})


@dataclass(frozen=True)
class DecodePoint:
    """2-D models: the point of one latent, with a fixed cloud of samples to show it against."""

    latent: torch.Tensor
    labels: torch.Tensor | None = None
    options: dict = field(default_factory=dict)

    def run(self, model, cache: dict) -> tuple[np.ndarray, np.ndarray]:
        key = ("cloud", tuple(sorted(self.options.items())))        # the cloud as these settings decode it
        if key not in cache:
            cache[key] = decode_numpy(model, seeded_latents(POINT_CLOUD, tuple(model.latent_shape), 0),
                                      options=self.options)
        return cache[key], decode_numpy(model, self.latent.view(1, -1), self.labels, self.options)


DIRECTION_SIDE = 64                 # px: larger outputs are average-pooled to this before the PCA
DIRECTION_BATCH_VALUES = 1 << 22    # output values decoded at once for the directions (16 MB)


@dataclass(frozen=True)
class PrincipalDirections:
    """GANSpace directions (k, D) of the model's output and their variance shares (k,). Images larger
    than DIRECTION_SIDE are average-pooled to it (the PCA's features: a 1024 px generator's 256
    outputs held 3 GB), decoded a few at a time, and a newer request stops it between batches.
    With the model's `checkpoint` file they are kept on disk for it and these settings
    (core/explore/directions_cache.py): read back when they were, else computed and kept."""

    k: int = 10
    samples: int = 1024
    seed: int = 0
    options: dict = field(default_factory=dict)
    checkpoint: Path | None = None

    def run(self, model, cache: dict) -> tuple[torch.Tensor, np.ndarray]:
        return self.run_streaming(model, cache, None, None)

    def run_streaming(self, model, cache: dict, emit, should_stop) -> tuple[torch.Tensor, np.ndarray]:
        import torch.nn.functional as F

        from genstudio.core.errors import Cancelled

        def decode(z: torch.Tensor) -> torch.Tensor:
            if should_stop is not None and should_stop():
                raise Cancelled("principal directions overtaken")
            images = torch.from_numpy(decode_numpy(model, z, options=self.options))        # (n, *data_shape)
            if images.ndim == 4 and max(images.shape[-2:]) > DIRECTION_SIDE:
                images = F.adaptive_avg_pool2d(images, DIRECTION_SIDE)                     # (n, C, 64, 64)
            return images

        kept = None if self.checkpoint is None else directions_file(self.checkpoint, self.k, self.samples,
                                                                     self.seed, self.options)
        saved = None if kept is None else load_directions(kept, model.latent_dim)
        if saved is not None:
            return saved
        batch = max(1, min(256, DIRECTION_BATCH_VALUES // max(math.prod(model.data_shape), 1)))
        directions, explained = principal_directions(decode, model.latent_dim, k=self.k, samples=self.samples,
                                                     seed=self.seed, batch=batch)
        if kept is not None:
            try:
                save_directions(kept, directions, explained)
            except OSError as exc:      # a full or read-only cache folder costs the next open a recompute
                log.warning("%s: the principal directions were not kept (%s)", kept, exc)
        return directions, explained


@dataclass
class Neighbours:
    image: np.ndarray                   # (C, H, W) the sample
    found: np.ndarray                   # (k, C, H, W) its nearest data images
    distances: np.ndarray               # (k,) pixel L2
    source: str                         # the data set's name


@dataclass(frozen=True)
class NearestImages:
    """The k data images nearest (pixel L2) to the decoded latent: the memorisation check."""

    latent: torch.Tensor
    labels: torch.Tensor | None
    data_source: str
    k: int = 6
    options: dict = field(default_factory=dict)

    def run(self, model, cache: dict) -> Neighbours:
        from genstudio.core.data.spec import load_dataset
        from genstudio.core.explore.neighbours import NearestNeighbours

        key = ("neighbours", self.data_source)
        if key not in cache:
            data = load_dataset(self.data_source)
            if tuple(data.shape) != tuple(model.data_shape):
                raise ValueError(f"the training data {self.data_source} has shape {data.shape}, "
                                 f"the model makes {tuple(model.data_shape)}")
            cache[key] = (NearestNeighbours(data.data), data.name)
        index_, name = cache[key]
        image = decode_numpy(model, self.latent.view(1, -1), self.labels, self.options)[0]
        index, distances = index_.query(torch.from_numpy(image), k=self.k)
        found = index_.data[index].view(-1, *index_.shape).numpy()
        return Neighbours(image, found, distances.numpy(), name)


@dataclass(frozen=True)
class MeasureImageFile:
    """bits/dim of an image file under an EXACT_LIKELIHOOD model."""

    path: Path

    def run(self, model, cache: dict) -> float:
        from genstudio.core.explore.likelihood import image_bits_per_dim

        return image_bits_per_dim(model, self.path)


@dataclass
class SurpriseResult:
    original: np.ndarray                # (C, H, W) in [0, 1]
    nats: np.ndarray                    # (H, W): -log p(x_i | x_<i), channels summed
    bits_per_dim: float


@dataclass(frozen=True)
class Surprise:
    """Where a PIXEL_LIKELIHOOD model is surprised by one image: an image (C, H, W) in [0, 1], or an
    image file resized to the model's shape."""

    image: torch.Tensor | None = None
    path: Path | None = None
    label: int | None = None

    def run(self, model, cache: dict) -> SurpriseResult:
        from genstudio.core.data.image_io import load_image_as
        from genstudio.core.data.pixels import to_unit_float
        from genstudio.core.explore.likelihood import surprise_map

        image = self.image if self.path is None else to_unit_float(load_image_as(self.path, tuple(model.data_shape)))
        nats = surprise_map(model, image, self.label)
        bits = float(nats.sum() / (image.numel() * np.log(2.0)))
        return SurpriseResult(image.float().numpy(), nats, bits)


@dataclass
class RoundTripResult:
    original: np.ndarray                # (1, C, H, W)
    decoded: np.ndarray                 # (1, C, H, W)
    error: float                        # max |x - f^-1(f(x))|
    latent: torch.Tensor                # (D,)


@dataclass(frozen=True)
class RoundTrip:
    """Encode then decode one image (1, C, H, W) in [0, 1] with an invertible model."""

    image: torch.Tensor

    @torch.no_grad()
    def run(self, model, cache: dict) -> RoundTripResult:
        x = self.image.to(model.device)
        z = model.encode(x)
        back = model.decode(z)
        return RoundTripResult(self.image.numpy(), back.float().cpu().numpy(), model.invertibility_error(x),
                               z.flatten().cpu())


@dataclass(frozen=True)
class TemperatureSamples:
    """n samples at a temperature, from a fixed seed."""

    n: int
    temperature: float
    seed: int = 0
    options: dict = field(default_factory=dict)

    def run(self, model, cache: dict) -> np.ndarray:
        return decode_numpy(model, seeded_latents(self.n, tuple(model.latent_shape), self.seed, self.temperature),
                            options=self.options)


@dataclass(frozen=True)
class ExportImages:
    """Decode latents (n, D) and write them: a grid ("grid"), one row ("strip"), an animated GIF ("gif"),
    an MP4 ("mp4", needs the video extra), or a scatter for 2-D models. Returns the path written."""

    path: Path
    latents: torch.Tensor
    labels: torch.Tensor | None = None
    kind: str = "grid"
    cols: int = 8
    padding: int = 2
    scale: int = 1
    frame_ms: int = 80
    boomerang: bool = True
    options: dict = field(default_factory=dict)
    about: dict = field(default_factory=dict)     # what made it (checkpoint, seed, grid kind...), into the JSON

    def run(self, model, cache: dict) -> Path:
        return self._write(model, decode_numpy(model, self.latents, self.labels, self.options))

    def run_streaming(self, model, cache: dict, emit, should_stop) -> Path:
        """As `run`, ended early (nothing written) by `should_stop()`: a walk's frames take minutes to sample."""
        return self._write(model, decode_numpy(model, self.latents, self.labels,
                                               {**self.options, **stop_option(model, should_stop)}))

    def _write(self, model, images: np.ndarray) -> Path:
        """Write the decoded images (n, *data_shape) as this request's kind of file."""
        from genstudio.core.io import export

        if model.is_points:
            written = export.save_png(export.points_image(images), self.path)
        elif self.kind == "gif":
            written = export.save_gif(images, self.path, frame_ms=self.frame_ms, scale=self.scale,
                                      boomerang=self.boomerang)
        elif self.kind == "mp4":
            from genstudio.core.io.video import save_mp4
            written = save_mp4(images, self.path, fps=round(1000 / self.frame_ms), scale=self.scale)
        else:
            cols = len(images) if self.kind == "strip" else self.cols
            written = export.save_grid(images, self.path, cols=cols, padding=self.padding, scale=self.scale)
        export.save_latents_beside(written, self.latents, self.labels, self.options,
                                   {"kind": self.kind, "cols": self.cols if self.kind == "grid" else len(images),
                                    **self.about})
        return written
