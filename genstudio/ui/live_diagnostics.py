"""Cheap mode-collapse figures while a GAN trains, computed in a job of their own (ui/jobs.py) on
weight snapshots.

The training worker hands over snapshots (CPU copies of the weights); this thread rebuilds the
generator from the newest one and runs `cheap_metrics` on a fixed-latent batch, so training never
waits for it. Snapshots that arrive while it is busy replace each other: only the newest is used.
The first run prepares the reference (and, once per data set, trains the feature classifier).
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal, Slot

from genstudio.core import registry
from genstudio.core.cancel import CancelToken
from genstudio.core.errors import Cancelled, first_line
from genstudio.ui.jobs import Job
from genstudio.ui.torch_threads import single_threaded

log = logging.getLogger(__name__)


class _Worker(QObject):
    metrics = Signal(int, object)       # step, cheap_metrics dict
    failed = Signal(str)
    preparing = Signal(str)

    def __init__(self, dataset, token: CancelToken):
        super().__init__()
        self.lock = threading.Lock()
        self.pending: dict | None = None
        self.reference = None
        self.dataset = dataset
        self.token = token                     # cancelled at shutdown: a classifier still training gives up

    @Slot()
    def work(self) -> None:
        from genstudio.core.metrics.report import cheap_metrics, prepare_live

        single_threaded()     # the cores belong to training (torch_threads); these figures can wait
        with self.lock:
            snapshot, self.pending = self.pending, None
        if snapshot is None:
            return
        try:
            if self.reference is None:
                self.preparing.emit("preparing live diagnostics (the feature classifier trains once per data set)\u2026")
                self.reference = prepare_live(self.dataset, should_stop=self.token.should_stop)
            card = snapshot["card"]
            model = registry.build_model(card.family, card.config)
            model.load_state_dict(snapshot["state"])
            model.eval()
            self.metrics.emit(card.step, cheap_metrics(model, self.reference, should_stop=self.token.should_stop))
        except Cancelled:
            pass                # shut down (training stopped) while the classifier trained or figures ran
        except Exception as exc:  # a failed figure must not stop training
            log.exception("live diagnostics failed")
            self.failed.emit(first_line(exc))


class LiveDiagnostics(QObject):
    metrics = Signal(int, object)
    failed = Signal(str)
    preparing = Signal(str)
    _kick = Signal()

    def __init__(self, dataset, parent=None, token: CancelToken | None = None):
        """`token`: cancelled with the training run's (a child of its job's token), or alone at shutdown."""
        super().__init__(parent)
        self._worker = _Worker(dataset, token if token is not None else CancelToken())
        self._kick.connect(self._worker.work)
        self._worker.metrics.connect(self.metrics)
        self._worker.failed.connect(self.failed)
        self._worker.preparing.connect(self.preparing)
        self.job = Job("live-diagnostics", worker=self._worker, token=self._worker.token).start()

    def submit(self, snapshot: dict) -> None:
        with self._worker.lock:
            self._worker.pending = snapshot
        self._kick.emit()

    def shutdown(self, wait: bool = False) -> None:
        """Drop pending work and end the job. Without `wait` the GUI never blocks on a figure (or a
        classifier) still being computed: the job ends, and is retired, when that work returns."""
        with self._worker.lock:
            self._worker.pending = None
        self.job.cancel()
        if wait:
            self.job.wait()
