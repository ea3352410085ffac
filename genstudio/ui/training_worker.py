"""Runs the core training engine in a background job (ui/jobs.py) and forwards its reports as
throttled Qt signals.

The worker is a QObject that lives in its job's thread; `run` iterates `Trainer.run()`. Stop goes
through the job's cancel token, which the trainer is given as its stop token: the busy loop checks
it between steps and the stop guard inside long model work (core/training/interruption.py). Pause
goes through the trainer's pause Event. Never through queued signals, which a busy thread would not
process. Step reports are batched so the GUI receives at most ~20 signals a second
whatever the step rate. `phase` says what the thread is doing when that is not taking steps: loading
the data, building the model, sampling the preview, evaluating, saving.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from genstudio.core.cancel import CancelToken
from genstudio.core.data.spec import load_dataset
from genstudio.core.errors import GenStudioError, first_line
from genstudio.core.training.engine import Report, TrainConfig, Trainer
from genstudio.ui.torch_threads import all_cores

log = logging.getLogger(__name__)

EMIT_INTERVAL_S = 0.05     # at most 20 progress signals a second
# Phases of the worker's own, before the engine's (engine.SAMPLING, EVALUATING, SAVING).
LOADING, BUILDING = "loading data", "building the model"


class TrainingWorker(QObject):
    progress = Signal(object)      # list[Report]: the step reports since the last signal
    samples = Signal(object)       # Report with .samples (n, C, H, W) or (n, 2)
    snapshot = Signal(object)      # dict: card (ModelCard at that step), state (CPU copy of the weights), name
    state = Signal(str)            # "running" | "paused"
    saved = Signal(str)            # path of an autosave
    finished = Signal(object)      # the final Report (finished / stopped / diverged), or None on failure
    failed = Signal(str)           # one-line message: bad data, absent device, ...
    phase = Signal(str, int)       # what the thread does now (LOADING, BUILDING, engine phases), at which step

    def __init__(self, config: TrainConfig, dataset=None, resume=None, snapshot_every_s: float = 2.0,
                 token: CancelToken | None = None):
        """`token`: the stop, honoured even before the trainer exists (the trainer's stop token)."""
        super().__init__()
        self.config = config
        self.dataset = dataset
        self.resume_from = resume
        self.snapshot_every_s = snapshot_every_s
        self.trainer: Trainer | None = None
        self.token = token if token is not None else CancelToken()
        self._paused = threading.Event()

    # Called from the GUI thread; thread-safe.
    def stop(self) -> None:
        self.token.cancel()
        if self.trainer is not None:      # wakes a paused loop at once
            self.trainer.stop()

    def pause(self) -> None:
        self._paused.set()
        if self.trainer is not None:
            self.trainer.pause()

    def resume(self) -> None:
        self._paused.clear()
        if self.trainer is not None:
            self.trainer.resume()

    def _make_snapshot(self) -> dict:
        trainer = self.trainer
        return {"card": trainer.card(), "state": trainer.snapshot_state(),
                "name": Path(trainer.config.out_dir or "training").name}

    def run(self) -> None:
        all_cores()                         # this thread alone trains on every core (torch_threads)
        final: Report | None = None
        try:
            self.phase.emit(LOADING, 0)
            dataset = self.dataset if self.dataset is not None else load_dataset(self.config.data)
            if self.token.cancelled:
                return          # stopped before there was a model: nothing to save
            self.phase.emit(BUILDING, 0)
            self.trainer = Trainer(self.config, dataset=dataset, resume=self.resume_from, stop_token=self.token)
            if self._paused.is_set():
                self.trainer.pause()
            pending: list[Report] = []
            last_emit = last_snapshot = time.perf_counter()
            self.state.emit("running")
            self.snapshot.emit(self._make_snapshot())
            for report in self.trainer.run():
                if report.kind == "step":
                    pending.append(report)
                    now = time.perf_counter()
                    if now - last_emit >= EMIT_INTERVAL_S:
                        self.progress.emit(pending)
                        pending, last_emit = [], now
                    if now - last_snapshot >= self.snapshot_every_s:
                        self.snapshot.emit(self._make_snapshot())
                        last_snapshot = now
                    continue
                if pending:  # keep order: steps before whatever comes next
                    self.progress.emit(pending)
                    pending, last_emit = [], time.perf_counter()
                if report.kind == "phase":
                    self.phase.emit(report.message, report.step)
                elif report.kind == "samples":
                    self.samples.emit(report)
                elif report.kind == "paused":
                    self.state.emit("paused")
                elif report.kind == "resumed":
                    self.state.emit("running")
                elif report.kind == "saved":
                    self.saved.emit(report.path)
                else:
                    final = report
            if final is not None and final.kind != "diverged":
                self.snapshot.emit(self._make_snapshot())
        except (GenStudioError, ValueError, OSError) as exc:
            self.failed.emit(first_line(exc))
        except Exception as exc:  # never let a training bug take the app down
            log.exception("training failed")
            reason = first_line(exc)
            self.failed.emit(f"training failed: {type(exc).__name__}"
                             + (f": {reason}" if reason != type(exc).__name__ else ""))
        finally:
            self.finished.emit(final)
