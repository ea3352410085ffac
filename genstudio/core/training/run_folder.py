"""The run folder's writer: `run.json`, the append-only `metrics.jsonl` and the sample grids beside a
run's checkpoints, so the run can be followed from anywhere its folder can be read (docs/run-folder.md
gives the format; core/training/run_follow.py reads it).

Written here rather than with a logging library: a reader must be able to tail the log while it
grows, so each record is one line written with a single `write()` in append mode and flushed at once
(no buffered half-lines), and sample grids are renamed into place before the record that names them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from genstudio.core.io.atomic import write_bytes_atomic

FORMAT = "genstudio-run"
VERSION = 1
RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
SAMPLES_FOLDER = "samples"
# The newest preview when its grid is not kept (between the kept ones): replaced at each such report.
LATEST_GRID = f"{SAMPLES_FOLDER}/latest.png"
# Seconds between the sample grids kept (besides each run's first and last): the app previews every
# two seconds, and an hour of those would be 1,800 files.
GRID_EVERY_S = 30.0
# Report kinds that end a run, and the `state` their `end` record carries.
END_KINDS = ("finished", "stopped", "diverged")


def _finite(values: dict) -> dict:
    """JSON has no NaN: a non-finite figure is written as null (a diverged run's last losses)."""
    return {str(k): (float(v) if math.isfinite(float(v)) else None) for k, v in values.items()}


def this_command(argv: list[str], environ: dict) -> list[str]:
    """The command line that started this process as a person would type it again: `genstudio ...`
    for the installed command or `python -m genstudio` (whose argv[0] is the package's __main__.py),
    after `torchrun --nproc_per_node=N [--nnodes=M] -m` when torchrun started it (its WORLD_SIZE and
    LOCAL_WORLD_SIZE say so). Any other program's argv is kept as it is."""
    first = Path(argv[0]) if argv else Path()
    ours = first.name == "genstudio" or (first.name == "__main__.py" and first.parent.name == "genstudio")
    if not ours:
        return list(argv)
    world = int(environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return ["genstudio", *argv[1:]]
    local = int(environ.get("LOCAL_WORLD_SIZE", world) or world)
    nodes = [f"--nnodes={world // local}"] if local < world else []
    return ["torchrun", f"--nproc_per_node={local}", *nodes, "-m", "genstudio", *argv[1:]]


def grid_name(step: int) -> str:
    return f"{SAMPLES_FOLDER}/step-{step:08d}.png"


class RunLog:
    """Appends a run's records to `folder/metrics.jsonl`; thread-safe (the app's live diagnostics
    append from the GUI thread while the training thread logs its steps)."""

    def __init__(self, folder: str | Path, grid_every_s: float = GRID_EVERY_S,
                 real_points: np.ndarray | None = None, mirror=None):
        """`real_points`: (n, 2) data points drawn under a 2-D model's samples in its grids. `mirror`:
        also given every figure and kept grid (step, samples, diagnostics, image, close), e.g. a
        core/training/tensorboard_log.TensorBoardLog."""
        self.folder = Path(folder)
        self.mirror = mirror
        self.grid_every_s = grid_every_s
        self.real_points = real_points
        self.run_id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._last_grid = -math.inf       # perf_counter of the last grid kept
        self._pending_grid = None         # (step, samples, columns) of the newest grid not kept
        self.folder.mkdir(parents=True, exist_ok=True)
        # O_APPEND: every write lands at the end, whole, even with a reader (or a second writer) open.
        self._fd = os.open(self.folder / METRICS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    # --- the run's description --------------------------------------------------------------------
    def describe(self, description: dict) -> Path:
        """Write run.json (atomically): `description`'s keys (command, family, preset, model, data,
        devices, world_size, config) with the format, this start's id, the time, host and versions."""
        from genstudio.core.io.model_card import library_versions

        record = {"format": FORMAT, "version": VERSION, "run_id": self.run_id,
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
                  "versions": dict(library_versions()), **description}
        return write_bytes_atomic(self.folder / RUN_FILE,
                                  (json.dumps(record, indent=2, default=str) + "\n").encode())

    # --- records ------------------------------------------------------------------------------------
    def append(self, kind: str, step: int, **fields) -> None:
        record = {"kind": kind, "step": int(step), "time": round(time.time(), 3), **fields}
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            if self._fd is None:
                return            # closed: the run has ended (a late live-diagnostics figure)
            os.write(self._fd, line)

    def start(self, step: int, total_steps: int, world_size: int, batch_size: int) -> None:
        self.append("start", step, run_id=self.run_id, total_steps=int(total_steps), world_size=int(world_size),
                    batch_size=int(batch_size))

    def step(self, step: int, scalars: dict, images_per_sec: float, elapsed: float) -> None:
        self.append("step", step, scalars=_finite(scalars), images_per_sec=round(float(images_per_sec), 2),
                    elapsed=round(float(elapsed), 3))
        if self.mirror is not None:
            self.mirror.step(step, scalars, images_per_sec)

    def samples(self, step: int, samples: np.ndarray, scalars: dict, columns: int | None = None,
                last: bool = False, whole: bool = True) -> str | None:
        """Log a sample report; keep its grid when the first, the `last`, or `grid_every_s` after the
        previous one kept, and otherwise draw it as LATEST_GRID (replaced each time), so that a run
        previewing every two seconds is seen live without keeping every grid; unless not `whole` (a
        row-by-row model's grid still being drawn: its figures are logged, its grid is not). Returns
        the path the record names, relative to the folder, or None."""
        now = time.perf_counter()
        image = None
        if whole and (last or now - self._last_grid >= self.grid_every_s):
            image = self._write_grid(step, samples, columns)
            self._last_grid, self._pending_grid = now, None
        elif whole:
            image = self._write_grid(step, samples, columns, LATEST_GRID, mirrored=False)
            self._pending_grid = (step, samples, columns)
        self.append("samples", step, scalars=_finite(scalars), **({"image": image} if image else {}))
        if self.mirror is not None:
            self.mirror.samples(step, scalars)
        return image

    def diagnostics(self, step: int, figures: dict) -> None:
        numbers = {k: v for k, v in figures.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self.append("diagnostics", step, scalars=_finite(numbers))
        if self.mirror is not None:
            self.mirror.diagnostics(step, numbers)

    def saved(self, step: int, path: str | Path) -> None:
        self.append("saved", step, path=self._relative(path))

    def end(self, step: int, state: str, message: str = "", path: str | Path | None = None) -> None:
        """The run's last record; a stopped run's newest preview not yet kept as a grid is kept now."""
        if self._pending_grid is not None:
            pending_step, samples, columns = self._pending_grid
            self.append("samples", pending_step, scalars={}, image=self._write_grid(pending_step, samples, columns))
            self._pending_grid = None
        self.append("end", step, state=state, message=message, **({"path": self._relative(path)} if path else {}))

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        if self.mirror is not None:
            self.mirror.close()

    # --- pieces ---------------------------------------------------------------------------------------
    def _relative(self, path: str | Path) -> str:
        path = Path(path)
        try:
            return path.resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return str(path)       # saved outside the folder (an explicit path): named whole

    def _write_grid(self, step: int, samples: np.ndarray, columns: int | None, name: str | None = None,
                    mirrored: bool = True) -> str:
        """(n, C, H, W) images in [0, 1] as a grid, or (n, 2) points over the real ones, written as
        `name` (default: the step's kept grid) and, when `mirrored`, given to the mirror; NaN is drawn
        as 0 (a diverging run's grid is still worth seeing)."""
        from genstudio.core.io.export import grid_image, png_bytes, points_image

        samples = np.nan_to_num(np.asarray(samples, dtype=np.float32))
        if samples.ndim == 2:
            image = points_image(samples, real=self.real_points)
        else:
            image = grid_image(samples, cols=columns or int(np.ceil(np.sqrt(len(samples)))), padding=2)
        name = name or grid_name(step)
        # Fast to encode and not fsynced: a grid is drawn again by the run, and its cost is training's
        # (encoding at the default level and two fsyncs took 40-60 ms a grid here; now about 10).
        payload = png_bytes(image, compress_level=1)
        write_bytes_atomic(self.folder / name, payload, durable=False)
        if mirrored and self.mirror is not None:
            self.mirror.image(step, payload, image.width, image.height)
        return name
