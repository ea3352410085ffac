"""The training loop: one generator of reports, used by the CLI, the tests and the app's QThread worker.

`Trainer.run()` yields small `Report`s (step, float scalars, throughput, and now and then CPU numpy
samples from fixed latents). Between steps it checks a stop token (core/cancel.py) and a pause flag
(a threading Event), which a GUI thread may set at any time, autosaves every N steps and on stop, and
stops on a NaN/Inf loss without overwriting the last good checkpoint. Reports never carry live tensors.
"phase" reports say what comes next when it takes a while (sampling the preview, evaluating, saving).

A stop is honoured within about a second however long the pieces are (interruption.py): a train
step of a tenth of a second or more, a preview decode and an evaluation are abandoned at the next
layer, and the last finished step is saved. A stopped run draws no final sample grid.

A checkpoint is written only when the model is good: finite weights and a finite decode of a few
fixed latents (at the family's preview settings; a row-by-row model draws their first row, which
runs its whole network). So "the last good checkpoint" a diverged run names really is one. Autosave keeps
the previous K-1 checkpoints beside the latest (`checkpoint-stepNNNNNNNN.safetensors`, hard links
of the files as they were written, so keeping them costs no copy).

Exact resume: batches come from a per-epoch permutation derived from (seed, epoch) alone, and the
checkpoint stores optimiser and RNG states, so N steps + save + resume + M steps gives the same
weights as N + M steps. Sampling and evaluation run inside `fork_rng` so that they never shift
the training RNG, however often the (time-based) sample reports come.

The run folder: with an output folder, `run()` also writes the run's description, its figures and
sample grids beside the checkpoints (core/training/run_folder.py, docs/run-folder.md), and TensorBoard
event files when the `tensorboard` extra is installed (tensorboard_log.py); under torchrun only rank 0
does. `Trainer.run_log` is that writer while a run has one (None otherwise): the app adds its live
diagnostics through it. Its images/s are the whole run's: each process measures its own and the log
multiplies by the number of processes (a `Report` keeps the per-process figure its ETA uses).

Resuming with another number of processes: a step is one optimiser update of world_size x batch
images (a batch per process), and the step count carries over unchanged. The batch of step s comes
from position `(s + data_offset) mod per_epoch` of epoch `(s + data_offset) div per_epoch`, with
`per_epoch = len(train) // (batch * world_size)`. The checkpoint's card records world_size and
data_offset; a resume with another world size (or batch) picks a new offset so that the run goes on in
the same epoch from the first sample the old run had not reached, rounded up to a whole step of the
new world (`resumed_data_offset`). With the same world size and batch the offset is unchanged, so
the resume is exact.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import math
import os
import random
import shutil
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Generator, Iterator

import numpy as np
import torch

from genstudio.core import registry
from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.cancel import CancelToken
from genstudio.core.data.toy import plot_bounds
from genstudio.core.errors import GenStudioError, TrainingError, first_line
from genstudio.core.families.base import GenerativeModel
from genstudio.core.families.config import ConfigError
from genstudio.core.families.family import Capability
from genstudio.core.io.checkpoints import Checkpoint, load_checkpoint, read_card, restore_rng_state, save_checkpoint
from genstudio.core.io.model_card import DataDescription, ModelCard
from genstudio.core.runtime.devices import resolve_device
from genstudio.core.runtime.memory_budget import check_memory
from genstudio.core.training import distributed
from genstudio.core.training.interruption import Interrupted, ModelWorkGuard, StepUndo
from genstudio.core.training.run_folder import END_KINDS, RunLog, this_command
from genstudio.core.training.tensorboard_log import open_tensorboard

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.safetensors"
# Share of the time between sample reports that a row-by-row model's live grid may take to draw.
LIVE_ROWS_SHARE = 0.1
# Train steps at least this long run under the stop guard (interruption.py); shorter ones are left
# whole (the guard's hooks would cost them a few per cent, and a stop waits at most this long).
GUARDED_STEP_S = 0.1
# What "phase" reports announce (their message).
SAMPLING, EVALUATING, SAVING = "sampling preview", "evaluating", "saving"


@dataclass
class TrainConfig:
    family: str = "gan"                # a registered family (genstudio.core.registry)
    preset: str | None = None          # None: the family's first preset for the data's kind
    data: str = "mnist"                # a data spec (see core/data/spec.py)
    steps: int = 1000                  # train until this total step count
    batch_size: int | None = None      # None: the preset's
    hyper: dict = field(default_factory=dict)   # overrides of the preset's hyper-parameters (lr...)
    model: dict = field(default_factory=dict)   # overrides of the preset's model config
    seed: int = 0
    device: str = "auto"
    out_dir: str | None = None         # None: no checkpoints are written
    autosave_every: int = 500          # steps; 0 saves only at the end and on stop
    keep_checkpoints: int = 3          # the latest checkpoint and the K-1 autosaves before it
    report_every: int = 10             # steps between "step" reports
    sample_every_s: float = 2.0        # seconds between "samples" reports (0: only first and last)
    n_samples: int = 64                # fixed latents decoded for sample reports
    eval_batch: int = 256              # samples held out of training and evaluated with each sample report
    command: list[str] | None = None   # the command line recorded in run.json; None: sys.argv


@dataclass
class Report:
    """What the loop tells its caller. Plain Python and numpy only, safe to pass between threads."""

    kind: str            # step | phase | samples | saved | paused | resumed | finished | stopped | diverged
    step: int
    total_steps: int
    scalars: dict[str, float] = field(default_factory=dict)
    vectors: dict[str, list[float]] = field(default_factory=dict)
    images_per_sec: float = 0.0
    elapsed: float = 0.0               # seconds of training, pauses excluded
    samples: np.ndarray | None = None  # (n, C, H, W) in [0, 1] or (n, 2) points, float32
    path: str | None = None            # the checkpoint written, for saved/finished/stopped
    message: str = ""
    surface: np.ndarray | None = None  # 2-D GANs: D over the plane (R, R), row 0 at the bottom
    surface_bounds: tuple | None = None  # (x0, x1, y0, y1) of `surface`
    rows_drawn: int | None = None      # a row-by-row model's live samples: rows drawn so far (None: whole)
    columns: int | None = None         # samples per row of the grid when the family fixes it (translation: 6)

    batch_size: int = 0

    @property
    def eta(self) -> float:
        """Seconds left at the current throughput (inf before the first measurement)."""
        if self.images_per_sec <= 0 or self.batch_size <= 0:
            return math.inf
        return (self.total_steps - self.step) * self.batch_size / self.images_per_sec


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def steps_per_epoch(count: int, batch: int, world: int) -> int:
    """Steps in an epoch of `count` training samples at `batch` per process and `world` processes
    (the last partial step of an epoch is dropped)."""
    return max(count // (batch * world), 1)


def resumed_data_offset(step: int, count: int, old: tuple[int, int, int], new: tuple[int, int]) -> int:
    """The data offset a run resumed at `step` goes on with: `old` is the checkpoint's (batch, world
    size, data offset), `new` the resumed run's (batch, world size). The old run was `position` steps
    into `epoch`, that is `position * batch * world` samples of the epoch's permutation; the new run
    starts at the first whole new step at or after that sample, in the same epoch."""
    old_batch, old_world, old_offset = old
    new_batch, new_world = new
    epoch, position = divmod(step + old_offset, steps_per_epoch(count, old_batch, old_world))
    seen = position * old_batch * old_world
    new_position = -(-seen // (new_batch * new_world))      # rounded up to a whole step
    return epoch * steps_per_epoch(count, new_batch, new_world) + new_position - step


def held_out_count(size: int, eval_batch: int) -> int:
    """How many of a data set's `size` samples are kept out of training for the 'eval/' figures:
    `eval_batch`, but never more than a fifth of the data (a set of under 5 samples keeps none)."""
    return min(eval_batch, size // 5)


def _kind(value) -> str:
    if value is None or isinstance(value, bool):
        return "a flag"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    return type(value).__name__


def check_settings(path: Path, name: str, saved: list[dict], built: list[dict]) -> None:
    """Each setting of a checkpoint's optimiser parameter groups is of the kind the optimiser built
    here uses (a number for eps, two numbers for betas, a flag for amsgrad): Adam would take
    `betas: true` and fail inside its first step with a TypeError."""
    for number, (file_group, own_group) in enumerate(zip(saved, built)):
        for key, own in own_group.items():
            if key == "params" or key not in file_group:
                continue
            if _kind(file_group[key]) != _kind(own):
                raise TrainingError(f"{path}: its {name} optimiser's group {number} has {key} "
                                    f"{file_group[key]!r:.30}, where {_kind(own)} belongs")


class Trainer:
    def __init__(self, config: TrainConfig, dataset: InMemoryDataset | None = None,
                 resume: str | Path | Checkpoint | None = None, stop_token: CancelToken | None = None):
        """`stop_token`: the token whose cancel stops the run (the app's training job passes its own,
        so a stop asked before the trainer exists still counts); without it the trainer has one."""
        self.config = config
        # Under torchrun each process drives its own GPU (LOCAL_RANK) or shares the CPU.
        self.dist = distributed.from_environment()
        self.device = resolve_device(config.device)
        if self.dist and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        if self.dist:
            distributed.init_process_group(self.dist, self.device)
        if dataset is None:
            from genstudio.core.data.spec import load_dataset
            dataset = load_dataset(config.data)
        self.dataset = dataset.to(self.device)
        # Described once: every checkpoint and every 2-second snapshot carries the same description.
        self.data_description = DataDescription.of(self.dataset)
        checkpoint = None
        if resume is not None:
            checkpoint = resume if isinstance(resume, Checkpoint) else load_checkpoint(resume, expect_family=config.family)
        try:
            self.family = registry.get(config.family)
            self.preset_name = (checkpoint.card.preset if checkpoint
                                else config.preset or self.family.default_preset(self.dataset.is_points))
            # A checkpoint from a newer genstudio may name a preset this one lacks: its card has all we need.
            preset = self.family.presets.get(self.preset_name) if checkpoint else self.family.preset(self.preset_name)
        except ValueError as exc:
            raise TrainingError(str(exc)) from None
        saved = checkpoint.card.train.get("hyper", {}) if checkpoint else {}
        if not isinstance(saved, dict):
            raise TrainingError(f"{checkpoint.path}: its training settings are damaged ('hyper' is not an object)")
        self.hyper = {**(preset.hyper if preset else {}), **saved, **config.hyper}
        if config.batch_size:
            self.hyper["batch_size"] = int(config.batch_size)
        batch = self.hyper.get("batch_size", 64)
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise TrainingError(f"{checkpoint.path if checkpoint else 'the settings'}: batch size {batch!r:.20} "
                                f"is not a positive integer")
        held_out = held_out_count(len(self.dataset), config.eval_batch)
        self.batch_size = min(batch, len(self.dataset) - held_out)
        if self.batch_size < 1:
            raise TrainingError(f"{self.dataset.source or self.dataset.name}: the data set is empty")

        if self.family.has(Capability.TRANSLATION) and not self.dataset.two_domains:
            raise TrainingError(f"the {self.family.label} family trains on two image domains: give --data "
                                f"A=SPEC,B=SPEC or a bundled pair (mnist-thick, mnist-inverted)")
        if self.dataset.two_domains and not self.family.has(Capability.TRANSLATION):
            raise TrainingError(f"{self.dataset.source}: two domains are for image translation, not the "
                                f"{self.family.label} family")
        if checkpoint is None:
            seed_everything(config.seed)
            num_classes = 0
            if preset.conditional:
                if not self.dataset.num_classes:
                    raise TrainingError(f"preset '{self.preset_name}' is class-conditional but "
                                        f"{self.dataset.name} has no labels")
                num_classes = self.dataset.num_classes
            try:
                model_config = self.family.make_config({**preset.model, **config.model, "num_classes": num_classes,
                                                        "data_shape": list(self.dataset.shape)})
            except ConfigError as exc:
                raise TrainingError(f"{self.family.name} preset '{self.preset_name}' on {self.dataset.name}: {exc}") from None
            size = self.family.size_of(model_config)
            check_memory(size.bytes(self.batch_size, training=True),
                         f"training the {self.family.label} preset '{self.preset_name}' ({size.parameters:,} parameters) "
                         f"at batch {self.batch_size}", error=TrainingError)
            self.model: GenerativeModel = self.family.build(model_config)
            self.step = 0
        else:
            self._check_resumable(checkpoint)
            self.model = checkpoint.model
            self.step = checkpoint.step
        self.model.to(self.device).train()
        source = checkpoint.path if checkpoint is not None else f"{self.family.name} preset '{self.preset_name}'"
        try:
            self.optimizers = self.model.make_optimizers(self.hyper)
        except (ValueError, TypeError, KeyError) as exc:     # e.g. a NaN learning rate from a header
            raise TrainingError(f"{source}: its training settings are not usable ({exc})") from None
        if checkpoint is not None:
            for name, state in checkpoint.optimizer_states.items():
                optimizer = self.optimizers[name]
                # The learning rates of self.hyper: the card's, or --lr's on a resume that gives one.
                learning_rates = [group["lr"] for group in optimizer.param_groups]
                check_settings(checkpoint.path, name, state["param_groups"], optimizer.param_groups)
                try:
                    optimizer.load_state_dict(state)
                except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as exc:
                    first = first_line(exc)
                    raise TrainingError(f"{checkpoint.path}: its {name} optimiser state does not fit the model "
                                        f"({first})") from None
                # load_state_dict takes the file's learning rates; the run uses (and its card records)
                # self.hyper's, which equal them unless --lr asked for others.
                for group, lr in zip(optimizer.param_groups, learning_rates):
                    group["lr"] = lr
            restore_rng_state(checkpoint)
        if self.dist:
            distributed.broadcast_module(self.model)
            for optimizer in self.optimizers.values():
                distributed.average_gradients_before_step(optimizer, self.dist.world_size)
            # Same weights everywhere, but each process draws its own noise (z, dropout).
            torch.manual_seed(config.seed + 7919 * (self.dist.rank + 1) + self.step)

        # Fixed latents for sample reports: their own generator, so they never touch the training RNG.
        fixed = torch.Generator().manual_seed(config.seed + 1)
        self.fixed_latents = torch.randn((config.n_samples, *self.model.latent_shape), generator=fixed).to(self.device)
        # The 'eval/' figures come from a fixed slice that training never draws from.
        order = torch.randperm(len(self.dataset), generator=fixed)
        self.eval_index = order[:held_out].to(self.device)
        self.train_index = order[held_out:].sort().values.to(self.device)     # (N - held_out,)
        # Steps count from data_offset into the epoch-wise order (see the module docstring).
        self.data_offset = self._resumed_offset(checkpoint) if checkpoint is not None else 0
        if Capability.TRANSLATION in registry.capabilities_of(self.model) and checkpoint is None:
            # The inputs decode(z) and the live samples translate: the first `examples` images of each
            # domain in `order`, held-out ones first (a small held-out slice may lack a domain).
            domains = self.dataset.labels.cpu()[order]
            shown = torch.cat([order[domains == d][:self.model.config.examples] for d in (0, 1)])
            self.model.keep_examples(*self.dataset.batch(shown.to(self.dataset.device)))

        self.stop_token = stop_token if stop_token is not None else CancelToken()
        self.pause_event = threading.Event()    # set while paused
        self._unpaused = threading.Event()      # its complement, so a paused loop can block on it
        self._unpaused.set()
        # Under torchrun every process must take every step, so there a stop waits for the step's end.
        self.guard = ModelWorkGuard(self.model, self.optimizers, self.stop_token.should_stop) if self.dist is None else None
        # Only the main process writes checkpoints: the weights are the same in every process.
        writes = config.out_dir and (self.dist is None or self.dist.is_main)
        self.checkpoint_path = Path(config.out_dir) / CHECKPOINT_NAME if writes else None
        # The newest checkpoint known to be good, and the step of the file at checkpoint_path.
        self.last_good: Path | None = checkpoint.path if checkpoint is not None else None
        self._saved_step: int | None = (checkpoint.step if checkpoint is not None and self.checkpoint_path is not None
                                        and checkpoint.path.resolve() == self.checkpoint_path.resolve() else None)
        self._perm_epoch = -1
        self._perm: torch.Tensor | None = None
        self._live: torch.Tensor | None = None      # a row-by-row model's live grid, drawn so far
        self._live_row = 0
        if self.dataset.is_points:
            self._surface_bounds = plot_bounds(self.dataset.data[:5000].cpu().numpy())
        # The run folder's writer while run() runs with an output folder on rank 0; kept (closed) after.
        self.run_log: RunLog | None = None

    @property
    def world_size(self) -> int:
        return self.dist.world_size if self.dist else 1

    def _resumed_offset(self, checkpoint: Checkpoint) -> int:
        """This run's data offset, from the checkpoint's world size, batch and offset (a checkpoint
        from before they were recorded: one process, offset 0)."""
        train = checkpoint.card.train
        old = (train.get("batch_size", self.batch_size), train.get("world_size", 1), train.get("data_offset", 0))
        for name, value, least in zip(("batch_size", "world_size", "data_offset"), old, (1, 1, -2**62)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise TrainingError(f"{checkpoint.path}: its training settings are damaged "
                                    f"({name} {value!r:.20} is not a fitting whole number)")
        return resumed_data_offset(checkpoint.step, len(self.train_index), old, (self.batch_size, self.world_size))

    def _check_resumable(self, checkpoint: Checkpoint) -> None:
        if not checkpoint.has_resume_state:
            raise TrainingError(f"{checkpoint.path}: holds weights only (no optimiser state), so it cannot be resumed")
        shape = checkpoint.card.data_shape
        if shape != self.dataset.shape:
            raise TrainingError(f"{checkpoint.path}: was trained on data of shape {shape}, "
                                f"but {self.dataset.name} has shape {self.dataset.shape}")

    # --- control from other threads -------------------------------------------------------------
    def stop(self) -> None:
        self.stop_token.cancel()
        self._unpaused.set()  # wake a paused loop so that it can stop (a cancel of the token alone: within 0.1 s)

    def pause(self) -> None:
        self._unpaused.clear()
        self.pause_event.set()

    def resume(self) -> None:
        self.pause_event.clear()
        self._unpaused.set()

    # --- pieces of the loop ----------------------------------------------------------------------
    def _batch_index(self, step: int) -> torch.Tensor:
        """Indices (B,) of the batch for `step`: epoch-wise shuffles that depend on (seed, epoch) only.
        Under torchrun a step consumes world_size consecutive batches, one per process."""
        world, rank = self.world_size, (self.dist.rank if self.dist else 0)
        count = len(self.train_index)
        epoch, position = divmod(step + self.data_offset, steps_per_epoch(count, self.batch_size, world))
        if epoch != self._perm_epoch:
            g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
            self._perm = self.train_index[torch.randperm(count, generator=g).to(self.device)]
            self._perm_epoch = epoch
        start = (position * world + rank) * self.batch_size
        return self._perm[start:start + self.batch_size]

    def _fixed_labels(self, count: int) -> torch.Tensor | None:
        return torch.arange(count, device=self.device) % self.model.num_classes if self.model.num_classes else None

    @torch.no_grad()
    def decode_fixed(self, count: int | None = None, options: dict | None = None) -> np.ndarray:
        """Decode the (first `count`) fixed latents, with the family's decode `options` if given:
        (n, *data_shape) float32 numpy on the CPU."""
        latents = self.fixed_latents[:count]
        with torch.random.fork_rng(devices=self._rng_devices()):
            return self.model.decode(latents, self._fixed_labels(len(latents)), **(options or {})).float().cpu().numpy()

    def draw_live_rows(self, budget_s: float) -> np.ndarray:
        """For a model that samples row by row: draw the next rows of the fixed latents' images for
        about `budget_s` (at least one row) and return the grid so far; after the last row the next
        call starts a fresh grid. So the live samples fill in as they are drawn, at a bounded cost."""
        height = self.model.data_shape[1]
        if self._live_row >= height or self._live is None:
            self._live, self._live_row = torch.zeros_like(self.fixed_latents), 0
        start = time.perf_counter()
        with torch.random.fork_rng(devices=self._rng_devices()):
            while self._live_row < height:
                if self.stop_token.cancelled and self.dist is None:   # under torchrun: at the next step, all together
                    raise Interrupted("stopped while drawing the live samples")
                self._live = self.model.draw_rows(self.fixed_latents, self._live, self._live_row, self._live_row + 1,
                                                  self._fixed_labels(len(self.fixed_latents)))
                self._live_row += 1
                if time.perf_counter() - start >= budget_s:
                    break
        return self._live.float().cpu().numpy()

    def health_problem(self) -> str | None:
        """Why the model as it stands must not be saved (non-finite weights, or a decode of four fixed
        latents that is not finite), or None when it is good."""
        for name, value in self.model.state_dict().items():
            if value.is_floating_point() and not torch.isfinite(value).all():
                return f"weight {name} became NaN/Inf"
        if not np.isfinite(self._health_decode()).all():
            return "the weights are finite but decode to NaN/Inf (they overflowed)"
        return None

    @torch.no_grad()
    def preview_samples(self) -> tuple[np.ndarray, int | None]:
        """The live samples' grid and its columns (None: the caller's square): the fixed latents
        decoded, or for a translation model an example of A, its translation and the round trip,
        then the same from B, for each of the first 8 latents (6 columns)."""
        if Capability.TRANSLATION in registry.capabilities_of(self.model):
            with torch.random.fork_rng(devices=self._rng_devices()):
                triples = self.model.triples(self.fixed_latents[:8])            # (n, 6, C, H, W)
            return triples.flatten(0, 1).float().cpu().numpy(), triples.shape[1]
        return self.decode_fixed(), None

    @torch.no_grad()
    def _health_decode(self) -> np.ndarray:
        """Four fixed latents decoded as cheaply as runs the whole network: a diffusion model at its
        preview steps, a row-by-row model their first row only (a whole PixelCNN digit takes seconds)."""
        if Capability.SEQUENTIAL_DECODE in registry.capabilities_of(self.model):
            latents = self.fixed_latents[:4]
            with torch.random.fork_rng(devices=self._rng_devices()):
                drawn = self.model.draw_rows(latents, torch.zeros_like(latents), 0, 1,
                                             self._fixed_labels(len(latents)))
            return drawn[:, :, :1].float().cpu().numpy()                  # (4, C, 1, W)
        return self.decode_fixed(4, self.family.preview_options(self.model.config.to_dict()))

    def sample_reports(self, report, whole: bool = True) -> Iterator[Report]:
        """Phase reports, then a "samples" report: decoded fixed latents, evaluation figures and, for
        a GAN on 2-D points, its discriminator's surface over the data's bounds. A model that samples
        row by row gives, between the first and the last report (`whole`), the next few rows of its
        grid. Raises Interrupted when a stop is asked meanwhile (the guard or the row loop)."""
        extra = {}
        capabilities = registry.capabilities_of(self.model)
        yield report("phase", message=SAMPLING)
        with self._guarded():
            if not whole and Capability.SEQUENTIAL_DECODE in capabilities:
                samples = self.draw_live_rows(LIVE_ROWS_SHARE * self.config.sample_every_s)
                extra["rows_drawn"] = self._live_row
            else:
                samples, extra["columns"] = self.preview_samples()
            if Capability.DECISION_SURFACE in capabilities:
                bounds = self._surface_bounds
                extra.update(surface=self.model.decision_surface(bounds), surface_bounds=bounds)
        scalars = {}
        if len(self.eval_index):
            yield report("phase", message=EVALUATING)
            with self._guarded():
                scalars = self.evaluate()
        yield report("samples", samples=samples, scalars=scalars, **extra)

    def _guarded(self, keep_hooks: bool = False):
        """A block of model work that a stop abandons (Interrupted) at the next layer."""
        return self.guard.armed(keep_hooks) if self.guard is not None else contextlib.nullcontext()

    def _train_step(self, x: torch.Tensor, y: torch.Tensor | None, guarded: bool) -> dict[str, torch.Tensor]:
        """One train step. `guarded`: a stop abandons it before its first optimiser step, and the model,
        its buffers and the RNG are put back as they were (Interrupted is raised)."""
        if not guarded or self.guard is None:
            return self.model.train_step(x, y, self.optimizers)
        undo = StepUndo(self.model, self.device)
        try:
            with self.guard.armed(keep_hooks=True):
                return self.model.train_step(x, y, self.optimizers)
        except Interrupted:
            undo.restore()
            raise

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """The model's figures on the held-out slice of the data (names prefixed 'eval/'); none when
        the data set is too small to hold any out."""
        if not len(self.eval_index):
            return {}
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(self.config.seed + 2)
            x, y = self.dataset.batch(self.eval_index)
            figures = self.model.evaluate(x, y)
        return {f"eval/{k}": float(v) for k, v in figures.items() if v.ndim == 0}

    def _stop_agreed(self) -> bool:
        """Whether to stop before the next step. Under torchrun every process stops after the same
        step: a stop reaches each process at its own moment (torchrun signals them one by one), and
        one that stopped alone would leave the others waiting in their next gradient all-reduce."""
        if self.dist is None:
            return self.stop_token.cancelled
        return distributed.any_process(self.stop_token.cancelled, self.device)

    def _rng_devices(self) -> list:
        return [self.device] if self.device.type == "cuda" else []

    def snapshot_state(self) -> dict[str, torch.Tensor]:
        """A CPU copy of the weights, for exploring a model while it trains (never the live module)."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def train_description(self) -> dict:
        return {"config": asdict(self.config), "hyper": self.hyper, "batch_size": self.batch_size,
                "world_size": self.world_size, "data_offset": self.data_offset}

    def card(self) -> ModelCard:
        """The model card of the model as it is now (what a checkpoint or snapshot carries)."""
        return ModelCard.describe(self.model, preset=self.preset_name, data=self.data_description,
                                  step=self.step, train=self.train_description())

    def save(self, path: str | Path | None = None) -> Path:
        path = Path(path) if path else self.checkpoint_path
        if path is None:
            raise TrainingError("no output folder was given, so there is nowhere to save")
        if path == self.checkpoint_path:
            self._keep_previous(path)
        written = save_checkpoint(path, self.model, self.card(), optimizers=self.optimizers)
        self.last_good = written
        if path == self.checkpoint_path:
            self._saved_step = self.step
        return written

    def _keep_previous(self, path: Path) -> None:
        """Before `path` is replaced, keep it as checkpoint-stepN (a hard link), and drop all but the
        newest K-1 of those."""
        keep = max(int(self.config.keep_checkpoints), 1)
        if keep > 1 and path.exists():
            step = self._saved_step
            if step is None:
                try:
                    step = read_card(path).step
                except GenStudioError:
                    step = None      # not ours, or damaged: it is simply replaced
            if step is not None and step != self.step:
                kept = path.with_name(f"{path.stem}-step{step:08d}{path.suffix}")
                if not kept.exists():
                    try:
                        os.link(path, kept)
                    except OSError:          # a file system without hard links
                        shutil.copy2(path, kept)
        previous = sorted(path.parent.glob(f"{glob.escape(path.stem)}-step*{path.suffix}"))
        for old in previous[:max(len(previous) - (keep - 1), 0)]:
            old.unlink(missing_ok=True)

    def _diverged(self, report, what: str, scalars: dict | None = None) -> "Report":
        kept = f"; the last good checkpoint is {self.last_good}" if self.last_good else ""
        return report("diverged", scalars=scalars or {}, message=f"training diverged at step {self.step}: {what}{kept}")

    # --- the loop --------------------------------------------------------------------------------
    def run(self) -> Iterator[Report]:
        """The run's reports, until finished, stopped or diverged; with an output folder, rank 0 also
        writes them to the run folder (closed however the run ends)."""
        total = int(self.config.steps)
        if self.step >= total:
            raise TrainingError(f"already at step {self.step}: ask for more than {self.step} steps to go on")
        self.run_log = self._open_run_log(total)
        try:
            for report in self._reports(total):
                if self.run_log is not None:
                    self._log(self.run_log, report, total)
                yield report
        finally:
            if self.run_log is not None:
                self.run_log.close()

    def _open_run_log(self, total: int) -> RunLog | None:
        """The run folder's writer, its run.json written and its start recorded; None without an
        output folder and on ranks other than 0."""
        if not self.config.out_dir or (self.dist is not None and not self.dist.is_main):
            return None
        folder = Path(self.config.out_dir)
        real = self.dataset.data[:2000].cpu().numpy() if self.dataset.is_points else None
        run_log = RunLog(folder, real_points=real, mirror=open_tensorboard(folder))
        try:
            run_log.describe({
                "command": (list(self.config.command) if self.config.command is not None
                            else this_command(sys.argv, dict(os.environ))),
                "family": self.family.name, "preset": self.preset_name, "model": self.card().to_header(),
                "data": self.data_description.to_dict(), "devices": [str(self.device)] * self.world_size,
                "world_size": self.world_size, "config": asdict(self.config)})
            run_log.start(self.step, total, self.world_size, self.batch_size)
        except BaseException:
            run_log.close()
            raise
        return run_log

    def _log(self, run_log: RunLog, report: Report, total: int) -> None:
        """One report into the run folder: steps (images/s of all processes), sample grids of images or
        2-D points, checkpoints saved, and the end (a diverged run's last figures first, NaN as null)."""
        if report.kind == "step" or (report.kind == "diverged" and report.scalars):
            run_log.step(report.step, report.scalars, report.images_per_sec * self.world_size, report.elapsed)
        if report.kind == "samples" and report.samples is not None and report.samples.ndim in (2, 4):
            # Only the run's final grid is drawn at the last step (live ones come before it).
            whole = report.rows_drawn is None or report.rows_drawn >= report.samples.shape[-2]
            run_log.samples(report.step, report.samples, report.scalars, report.columns, last=report.step >= total,
                            whole=whole)
        elif report.kind == "saved":
            run_log.saved(report.step, report.path)
        elif report.kind in END_KINDS:
            path = report.path or (self.last_good if report.kind == "diverged" else None)
            run_log.end(report.step, report.kind, report.message, path)

    def _reports(self, total: int) -> Iterator[Report]:
        """What run() yields, before it is logged: the steps, then the final save, grid and end report."""
        self._elapsed = 0.0             # seconds of training so far, pauses excluded
        self._images_per_sec = 0.0      # over the last report's window

        def report(kind: str, **kw) -> Report:
            return Report(kind, self.step, total, images_per_sec=self._images_per_sec, elapsed=self._elapsed,
                          batch_size=self.batch_size, **kw)

        diverged = False
        try:
            diverged = yield from self._train(report, total)
        except Interrupted:
            pass    # a stop inside model work: that work was abandoned, the last finished step stands
        finally:
            if self.guard is not None:
                self.guard.remove()
        if diverged:
            return

        stopped = self.step < total
        path = None
        if self.checkpoint_path:
            yield report("phase", message=SAVING)
            problem = self.health_problem()
            if problem:
                yield self._diverged(report, problem)
                return
            path = str(self.save())
        if not stopped:
            try:
                yield from self.sample_reports(report)
            except Interrupted:
                pass    # stopped while the final grid was drawn: the run is finished all the same
        yield report("stopped" if stopped else "finished", path=path,
                     message=f"stopped at step {self.step} of {total}" if stopped else f"finished {total} steps")

    def _train(self, report, total: int) -> Generator[Report, None, bool]:
        """The steps, with their reports, autosaves and previews, until `total` or a stop. Returns
        True when the run diverged (its "diverged" report is yielded)."""
        cfg = self.config
        sums: dict[str, torch.Tensor] = {}
        count = 0
        window_steps = 0
        guard_steps = True              # until the first step has shown how long steps take
        yield from self.sample_reports(report)
        last_sample = window_start = time.perf_counter()
        while self.step < total:
            if self.pause_event.is_set() and not self.stop_token.cancelled:
                self._elapsed += time.perf_counter() - window_start
                yield report("paused")
                while self.pause_event.is_set() and not self.stop_token.cancelled:
                    self._unpaused.wait(0.1)
                window_start, window_steps = time.perf_counter(), 0
                if not self.stop_token.cancelled:
                    yield report("resumed")
            if self._stop_agreed():
                break

            x, y = self.dataset.batch(self._batch_index(self.step))
            began = time.perf_counter()
            out = self._train_step(x, y, guard_steps)
            guard_steps = time.perf_counter() - began >= GUARDED_STEP_S
            if not guard_steps and self.guard is not None and self.guard.installed:
                self.guard.remove()     # fast steps: no hooks in them
            self.step += 1
            window_steps += 1
            count += 1
            for key, value in out.items():
                sums[key] = sums[key] + value if key in sums else value.clone()

            due_save = bool(cfg.autosave_every) and self.step % cfg.autosave_every == 0
            if count >= cfg.report_every or self.step == total or due_save:
                now = time.perf_counter()
                self._elapsed += now - window_start
                self._images_per_sec = window_steps * self.batch_size / max(now - window_start, 1e-9)
                window_start, window_steps = now, 0
                means = {k: (v / count).float().cpu() for k, v in sums.items()}
                sums, count = {}, 0
                scalars = {k: float(v) for k, v in means.items() if v.ndim == 0}
                bad = [k for k, v in scalars.items() if not math.isfinite(v)]
                if bad:
                    yield self._diverged(report, f"{', '.join(bad)} became NaN/Inf", scalars)
                    return True
                yield report("step", scalars=scalars, vectors={k: v.tolist() for k, v in means.items() if v.ndim == 1})
                if due_save and self.checkpoint_path:
                    yield report("phase", message=SAVING)
                    with self._guarded():
                        problem = self.health_problem()
                    if problem:
                        yield self._diverged(report, problem, scalars)
                        return True
                    yield report("saved", path=str(self.save()))
                if cfg.sample_every_s and time.perf_counter() - last_sample >= cfg.sample_every_s and self.step < total:
                    yield from self.sample_reports(report, whole=False)
                    last_sample = time.perf_counter()
                window_start = time.perf_counter()  # reports, saves and samples are not training time
        return False
