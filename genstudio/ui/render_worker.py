"""Model work off the GUI thread, with stale requests dropped so images follow the hand.

Every request names a channel ("image", "strip", "directions", ...) and gets a stamp. The worker
thread runs a request only if it is still the newest of its channel when its turn comes: while a
slider is dragged, intermediate positions that were overtaken are skipped, never queued up
(the StyleGAN3 visualizer's scheme). The model object is touched only in the worker thread.

The worker runs torch on one thread (see genstudio.ui.torch_threads): a single-image decode is
faster that way, and the core left free goes to the GUI thread that paints the result.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.ui.torch_threads import single_threaded

log = logging.getLogger(__name__)


class _Worker(QObject):
    done = Signal(str, int, object, float)      # channel, stamp, result, milliseconds
    failed = Signal(str, int, str)              # channel, stamp, one-line message

    def __init__(self, latest: dict[str, int]):
        super().__init__()
        self.latest = latest
        self.model = None

    @Slot(object)
    def set_model(self, model) -> None:
        self.model = model

    @Slot()
    def started(self) -> None:
        single_threaded()

    @Slot(str, int, object)
    def run(self, channel: str, stamp: int, fn: Callable[[Any], Any]) -> None:
        if self.latest.get(channel) != stamp or self.model is None:
            return  # overtaken by a newer request of the same channel
        start = time.perf_counter()
        try:
            result = fn(self.model)
        except Exception as exc:  # report, never kill the thread: the next request may work
            log.exception("render request %s failed", channel)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.failed.emit(channel, stamp, first)
            return
        self.done.emit(channel, stamp, result, (time.perf_counter() - start) * 1000)


class Renderer(QObject):
    """GUI-side handle: `submit(channel, fn)` runs fn(model) in the worker; `done` carries the result
    only if no newer request of that channel was submitted meanwhile."""

    done = Signal(str, object, float)           # channel, result, milliseconds
    failed = Signal(str, str)
    _set_model = Signal(object)
    _run = Signal(str, int, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._latest: dict[str, int] = {}
        self._stamps = itertools.count(1)
        self._thread = QThread()
        self._thread.setObjectName("genstudio-render")
        self._worker = _Worker(self._latest)
        self._worker.moveToThread(self._thread)
        self._set_model.connect(self._worker.set_model)
        self._run.connect(self._worker.run)
        self._worker.done.connect(self._deliver)
        self._worker.failed.connect(self._fail)
        self._thread.started.connect(self._worker.started)
        self._thread.start()
        self.model = None

    def set_model(self, model) -> None:
        """Hand a model to the worker; requests submitted after this call use it."""
        self.model = model
        self._set_model.emit(model)

    def submit(self, channel: str, fn: Callable[[Any], Any]) -> int:
        stamp = next(self._stamps)
        self._latest[channel] = stamp
        self._run.emit(channel, stamp, fn)
        return stamp

    def cancel(self, channel: str) -> None:
        self._latest.pop(channel, None)

    @Slot(str, int, object, float)
    def _deliver(self, channel: str, stamp: int, result, ms: float) -> None:
        if self._latest.get(channel) == stamp:
            self.done.emit(channel, result, ms)

    @Slot(str, int, str)
    def _fail(self, channel: str, stamp: int, message: str) -> None:
        if self._latest.get(channel) == stamp:
            self.failed.emit(channel, message)

    def shutdown(self) -> None:
        self._latest.clear()
        self._thread.quit()
        self._thread.wait()
