"""Long work on a model (map encode, t-SNE, likelihood over a data set, projection, diagnostics) as
plain functions of their inputs and a `TaskState` (Orange3's convention).

A task request is a small dataclass with `run(model, state)`: it reports progress and partial
results through the state, polls `state.is_interruption_requested()` between chunks, and returns a
named result object. The app runs requests in a background thread (ui/task_runner.py), the tests
and the command line call `run` directly with a plain `TaskState()`. Requests never hold the model:
the renderer that owns the open model passes each task a copy of its own, made in the render
thread between requests (ui/render_worker.py `task_copy`: deep-copied, eval, weights frozen): forward hooks and
buffers belong to a module, so a task sharing the explorer's module would race with its requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.cancel import CancelToken
from genstudio.core.errors import GenStudioError
from genstudio.core.metrics.report import DEFAULT_SAMPLES, diagnose_with_samples
from genstudio.core.metrics.translation_report import diagnose_translation, domain_specs, is_translation, load_domains
from genstudio.core.metrics.verdict import CLUSTER_NOTE, NOTE_COPIES


class TaskState:
    """Progress, partial results and cancellation of one task; safe to use from two threads. The
    task is cancelled through `token`, that of the job that runs it (ui/jobs.py)."""

    def __init__(self, on_progress: Callable[[float, str], None] | None = None,
                 on_partial: Callable[[Any], None] | None = None, token: CancelToken | None = None):
        self._on_progress = on_progress
        self._on_partial = on_partial
        self.token = token if token is not None else CancelToken()
        self.fraction = 0.0
        self.message = ""

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.fraction, self.message = float(fraction), message
        if self._on_progress is not None:
            self._on_progress(self.fraction, message)

    def set_partial_result(self, value) -> None:
        if self._on_partial is not None:
            self._on_partial(value)

    def is_interruption_requested(self) -> bool:
        return self.token.cancelled

    def check(self, what: str = "") -> None:
        """Raise Cancelled when the task was cancelled."""
        self.token.check(what)


def _dataset(spec: str, given: InMemoryDataset | None, data_shape: tuple[int, ...]) -> InMemoryDataset:
    from genstudio.core.data.spec import load_dataset

    data = given if given is not None else load_dataset(spec)
    if tuple(data.shape) != tuple(data_shape):
        raise GenStudioError(f"{spec or data.name}: samples of shape {data.shape}, the model takes {tuple(data_shape)}")
    return data


def first_images(data: InMemoryDataset, limit: int) -> InMemoryDataset:
    """The first `limit` samples of `data` (0 or more than it has: all of them)."""
    if not 0 < limit < len(data):
        return data
    return InMemoryDataset(data.name, data.data[:limit], None if data.labels is None else data.labels[:limit],
                           data.label_names, data.source)


# --- the latent map ------------------------------------------------------------------------------
@dataclass
class LatentMap:
    dataset: InMemoryDataset
    projection: Any                     # latent_map.Projection
    kl: np.ndarray | None               # (D,) nats, for KL_PER_DIMENSION models
    cached: bool = False                # read back from the map cache (latent_map_cache.py), not built


@dataclass
class BuildLatentMap:
    """Encode a data set, project the latents to 2-D (PCA / t-SNE), and (VAEs) KL per dimension.

    A slow encoder (a diffusion model's DDIM inversion: one network pass per step) maps the first
    `limit` images (0: all) with its decode `options` (fewer steps), in batches of `batch`."""

    data_spec: str
    method: str = "pca"
    with_kl: bool = False
    dataset: InMemoryDataset | None = None
    limit: int = 0
    options: dict = field(default_factory=dict)
    batch: int = 2000

    def run(self, model, state: TaskState) -> LatentMap:
        from genstudio.core.explore.latent_map import encode_dataset, kl_per_dimension, project

        data = first_images(_dataset(self.data_spec, self.dataset, model.data_shape), self.limit)
        state.set_progress(0.0, "encoding %p%")
        latents = encode_dataset(model, data.data, batch=self.batch,
                                 progress=lambda f: state.set_progress(0.8 * f, "encoding %p%"),
                                 should_stop=state.is_interruption_requested, options=self.options)
        state.set_progress(0.8, "projecting\u2026")
        projection = project(latents, self.method, should_stop=state.is_interruption_requested)
        kl = kl_per_dimension(model, data.data) if self.with_kl else None
        state.set_progress(1.0, "done")
        return LatentMap(data, projection, kl)


@dataclass
class CachedLatentMap:
    """`build`'s map from the map cache (core/explore/latent_map_cache.py) when it holds one for
    this checkpoint and these settings, else built and then kept there."""

    build: BuildLatentMap
    file: Path

    def run(self, model, state: TaskState) -> LatentMap:
        from genstudio.core.explore.latent_map_cache import load_map, save_map

        state.set_progress(0.0, "reading the cached map\u2026")
        data = first_images(_dataset(self.build.data_spec, None, model.data_shape), self.build.limit)
        saved = load_map(self.file, len(data))
        if saved is not None:
            state.set_progress(1.0, "done")
            return LatentMap(data, *saved, cached=True)
        built = replace(self.build, dataset=data, limit=0).run(model, state)     # the data set read above
        save_map(self.file, built.projection, built.kl)
        return built


# --- exact likelihood -----------------------------------------------------------------------------
@dataclass
class Likelihoods:
    dataset: InMemoryDataset
    bits_per_dim: np.ndarray            # (N,) one per image


@dataclass
class MeasureLikelihood:
    """bits/dim of every image of a data set (models with EXACT_LIKELIHOOD)."""

    data_spec: str
    dataset: InMemoryDataset | None = None

    def run(self, model, state: TaskState) -> Likelihoods:
        from genstudio.core.explore.likelihood import bits_per_dim

        data = _dataset(self.data_spec, self.dataset, model.data_shape)
        values = bits_per_dim(model, data.data, progress=lambda f: state.set_progress(f, "measuring %p%"),
                              should_stop=state.is_interruption_requested)
        state.check("measuring bits/dim")
        return Likelihoods(data, values)


# --- image projection -----------------------------------------------------------------------------
@dataclass
class ProjectedImage:
    target: np.ndarray                  # (C, H, W) in [0, 1]
    image: np.ndarray                   # (C, H, W) the closest generated image
    latent: torch.Tensor                # (D,)
    info: dict                          # start_error, final_error, steps, restarts


@dataclass
class ProjectImage:
    """The latent whose image is closest to `target` (C, H, W) in [0, 1] (IMAGE_PROJECTION models)."""

    target: torch.Tensor
    steps: int = 300
    restarts: int = 8

    def run(self, model, state: TaskState) -> ProjectedImage:
        from genstudio.core.explore.inversion import project_image

        z, info = project_image(model, self.target, steps=self.steps, restarts=self.restarts,
                                progress=lambda f, e: state.set_progress(f, f"error {e:.4f}"),
                                should_stop=state.is_interruption_requested)
        state.check("projecting")
        with torch.no_grad():
            image = model.decode(z.view(1, *model.latent_shape).to(model.device)).float().cpu().numpy()[0]
        return ProjectedImage(self.target.float().numpy(), image, z, info)


# --- diagnostics ------------------------------------------------------------------------------------
MISSING_SHOWN = 4        # rows of "what is missing": the regions left empty first, then the sparse ones
REPEATS_SHOWN = 3        # repeated images shown, largest first
POINTS_SHOWN = 2500      # 2-D sets: points drawn in the scatter (PacGAN's count)


@dataclass
class RegionPictures:
    """A part of the data the generator misses, as the Diagnostics tab shows it."""

    region: dict                        # a row of report["regions"]["empty"] or report["sparse_regions"]
    empty: bool                         # left empty (regions.py), else a sparse NDB bin drawn rarely
    real: np.ndarray | None             # (k, C, H, W) in [0, 1]: the region's real examples (None for points)
    generated: np.ndarray | None        # (k, C, H, W): the generated sample nearest to each of them


@dataclass
class RepeatPictures:
    cluster: dict                       # a row of report["duplicates"]["clusters"]
    images: np.ndarray                  # (<= 8, C, H, W) in [0, 1]: its members


@dataclass
class DiagnosticsResult:
    report: dict
    missing: list[RegionPictures]       # at most MISSING_SHOWN
    repeats: list[RepeatPictures]       # the clusters the verdict names (verdict.py's note rule), at most REPEATS_SHOWN
    pair_images: np.ndarray | None      # (P, 2, C, H, W) the closest generated pairs (images)
    points: np.ndarray | None           # (n, 2) generated points (2-D sets)
    real_points: np.ndarray | None      # (n, 2)
    missing_points: np.ndarray | None   # (m, 2) the real examples of the regions in `missing` (2-D sets)


def _as_unit_float(samples: torch.Tensor) -> np.ndarray:
    """Real images come as uint8 0..255, generated ones as floats in [0, 1]: both as float32 [0, 1]."""
    return (samples.float() / 255 if samples.dtype == torch.uint8 else samples.float()).numpy()


def shown_repeats(clusters: list[dict]) -> list[dict]:
    """The repeated outputs worth a picture: those verdict.py names (a signal above CLUSTER_SIGNAL,
    a note above CLUSTER_NOTE with NOTE_COPIES copies or more); a real sample's pairs of near-twins are not."""
    return [c for c in clusters if c["share"] > CLUSTER_NOTE and c["size"] >= NOTE_COPIES][:REPEATS_SHOWN]


@dataclass
class Diagnose:
    """The full mode-collapse report against a data set, with the pictures the Diagnostics tab shows:
    the regions it misses (real examples beside the nearest generated samples), the repeated
    outputs and the closest pairs, all cut from the samples the report compared.

    A translation model (TRANSLATION) is measured by its translations in `direction` (0: A -> B,
    1: B -> A) against the target domain: `data_spec` names the pair, or the target domain alone
    with the source from `trained_on` (its card's data spec); the pictures come from the target's data."""

    data_spec: str
    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    pairs_shown: int = 20
    dataset: InMemoryDataset | None = None
    direction: int = 0
    trained_on: str = ""

    def _report(self, model, state: TaskState):
        """(report, Drawn, the data set the samples were compared with)."""
        if is_translation(model):
            if self.dataset is not None:
                raise GenStudioError("a translation model is diagnosed on two domains named by a spec "
                                     "(A=SPEC,B=SPEC or the target domain), not on one data set")
            source, target = load_domains(domain_specs(self.direction, self.data_spec.strip() or None,
                                                       self.trained_on or None))
            report, drawn = diagnose_translation(model, source, target, samples=self.samples, seed=self.seed,
                                                 direction=self.direction, progress=state.set_progress,
                                                 should_stop=state.is_interruption_requested)
            return report, drawn, target
        data = _dataset(self.data_spec, self.dataset, model.data_shape)
        report, drawn = diagnose_with_samples(model, data, samples=self.samples, seed=self.seed,
                                              progress=state.set_progress, should_stop=state.is_interruption_requested)
        return report, drawn, data

    def run(self, model, state: TaskState) -> DiagnosticsResult:
        report, drawn, data = self._report(model, state)
        empty = report["regions"]["empty"]
        shown_classes = {r["class"] for r in empty}           # a class shown left empty is not shown again as rare
        rows = ([(r, True) for r in empty] + [(r, False) for r in report["sparse_regions"]
                                               if r["class"] is None or r["class"] not in shown_classes])[:MISSING_SHOWN]
        if data.is_points:
            shown = [i for r, _ in rows for i in r["real_examples"]]
            return DiagnosticsResult(report, [RegionPictures(r, left, None, None) for r, left in rows], [], None,
                                     drawn.fake[:POINTS_SHOWN].numpy(), drawn.real[:POINTS_SHOWN].numpy(),
                                     drawn.real[shown].numpy() if shown else None)
        missing = [RegionPictures(r, left, _as_unit_float(drawn.real[r["real_examples"]]),
                                  _as_unit_float(drawn.fake[r["generated_nearest"]])) for r, left in rows]
        repeats = [RepeatPictures(c, _as_unit_float(drawn.fake[c["members"]]))
                   for c in shown_repeats(report["duplicates"]["clusters"])]
        pairs = report["duplicates"]["closest_pairs"][:self.pairs_shown]
        images = np.stack([_as_unit_float(drawn.fake[[p["i"], p["j"]]]) for p in pairs]) if pairs else None
        return DiagnosticsResult(report, missing, repeats, images, None, None, None)
