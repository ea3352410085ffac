"""Run one long function (encode a data set, t-SNE, a diagnostics report, image projection) in a
QThread with progress and cancel, delivering its result or a one-line error as signals."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)


class _Job(QObject):
    progress = Signal(float, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: Callable, stop: threading.Event):
        super().__init__()
        self.fn = fn
        self.stop = stop

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(lambda fraction, message="": self.progress.emit(float(fraction), message),
                             self.stop.is_set)
        except Exception as exc:  # any failure becomes a message; the app keeps running
            if self.stop.is_set():
                self.cancelled.emit()
                return
            log.exception("background task failed")
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.failed.emit(text)
            return
        if self.stop.is_set():
            self.cancelled.emit()
        else:
            self.done.emit(result)


class TaskRunner(QObject):
    """One task at a time: `start(fn)` where fn(progress, should_stop) -> result."""

    progress = Signal(float, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()          # after done / failed / cancelled, once the thread has ended

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._job: _Job | None = None
        self._stop = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, fn: Callable[[Callable, Callable], Any]) -> None:
        self.cancel(wait=True)
        self._stop = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("genstudio-task")
        self._job = _Job(fn, self._stop)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.progress.connect(self.progress)
        for signal, relay in ((self._job.done, self.done), (self._job.failed, self.failed),
                              (self._job.cancelled, self.cancelled)):
            signal.connect(relay)
            signal.connect(self._end)
        self._thread.start()

    def _end(self, *args) -> None:
        if self._thread is None:
            return
        self._thread.quit()
        self._thread.wait()
        self._thread.deleteLater()
        self._job.deleteLater()
        self._thread, self._job = None, None
        self.finished.emit()

    def cancel(self, wait: bool = False) -> None:
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
            self._job.deleteLater()
            self._thread, self._job = None, None
