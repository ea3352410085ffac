"""TensorBoard event files beside a run's metrics log, when the optional `tensorboard` extra is installed,
so that `tensorboard --logdir runs/` shows genstudio runs beside everything else a person trains.

A mirror of the run folder's records (core/training/run_folder.py calls it as it writes them): the
step scalars under `train/`, the held-out figures under their own `eval/` names, the app's live
diagnostics under `diagnostics/`, the throughput of all processes as `perf/images_per_sec`, and
each sample grid the run folder keeps as the image `samples`. Without the extra, `open_tensorboard`
returns None and says so in one INFO line per process.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Seconds between flushes of the event file: a TensorBoard reading the folder while the run goes on
# sees its curves grow at about this pace (torch's default is two minutes).
FLUSH_SECS = 10
_said_unavailable = False


class TensorBoardLog:
    """One `SummaryWriter` over a run folder; thread-safe (the app's live diagnostics come from the
    GUI thread), and silent after `close()` (a late figure must not open a fresh event file)."""

    def __init__(self, folder: str | Path, writer_class):
        self._writer = writer_class(log_dir=str(folder), flush_secs=FLUSH_SECS)
        self._lock = threading.Lock()

    def _scalars(self, step: int, values: dict, prefix: str = "") -> None:
        with self._lock:
            if self._writer is None:
                return
            for name, value in values.items():
                self._writer.add_scalar(f"{prefix}{name}", float(value), int(step))

    def step(self, step: int, scalars: dict, images_per_sec: float) -> None:
        self._scalars(step, scalars, "train/")
        self._scalars(step, {"images_per_sec": images_per_sec}, "perf/")

    def samples(self, step: int, scalars: dict) -> None:
        self._scalars(step, scalars)        # already named 'eval/...'

    def diagnostics(self, step: int, scalars: dict) -> None:
        self._scalars(step, scalars, "diagnostics/")

    def image(self, step: int, png: bytes, width: int, height: int) -> None:
        """A sample grid as the run folder drew it: its PNG bytes, handed to the event file as they are
        (`add_image` would resize and encode the pixels once more, 25-40 ms a grid here)."""
        from tensorboard.compat.proto.summary_pb2 import Summary

        picture = Summary.Image(height=height, width=width, colorspace=3, encoded_image_string=png)
        with self._lock:
            if self._writer is not None:
                self._writer._get_file_writer().add_summary(
                    Summary(value=[Summary.Value(tag="samples", image=picture)]), int(step))

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None


def open_tensorboard(folder: str | Path) -> TensorBoardLog | None:
    """A TensorBoardLog writing into `folder`, or None when the `tensorboard` package is missing."""
    global _said_unavailable
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        if not _said_unavailable:
            how = ("the packaged app leaves TensorBoard out" if getattr(sys, "frozen", False)
                   else "install the extra with pip install 'genstudio-desktop[tensorboard]'")
            log.info("TensorBoard event files are not written: %s", how)
            _said_unavailable = True
        return None
    return TensorBoardLog(folder, SummaryWriter)
