"""The renderer: the one owner of the open model. All model work is a plain-data request to it.

Interactive requests (core/render_requests.py: decode, paths, directions, neighbours, encodes,
exports) name a channel ("image", "strip", ...) and get a stamp and a cancel token (core/cancel.py),
which a newer request of the channel, or `cancel(channel)`, cancels. The worker thread runs a
request only if its token is not cancelled when its turn comes: while a slider is dragged,
positions that were overtaken are skipped, never queued (the StyleGAN3 visualizer's scheme), and a
streaming request polls the token as its `should_stop`. Results are delivered only for the
channel's newest stamp.
Long tasks (core/requests/tasks.py) run in a TaskRunner's own thread on a copy of the model that
the worker makes for each task, between two requests (`start_task`): forward hooks, buffers and
any state a forward touches belong to the module, so a task running the explorer's own module
would race with the requests here (a Layer capture's hooks saw the task's forwards). The GUI thread
never calls the model: panels see only its `ModelInfo`.

The worker runs torch on one thread (see genstudio.ui.torch_threads): a single-image decode is
faster that way, and the core left free goes to the GUI thread that paints the result.
"""

from __future__ import annotations

import copy
import itertools
import logging
import time
from concurrent.futures import Future

from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.core.cancel import CancelToken
from genstudio.core.errors import Cancelled, GenStudioError, first_line
from genstudio.core.requests.tasks import TaskState
from genstudio.ui.task_runner import TaskRunner
from genstudio.ui.torch_threads import single_threaded

log = logging.getLogger(__name__)


def task_copy(model):
    """A task's own copy of `model`: deep-copied, in eval mode, its weights frozen where torch allows.
    A deep-copied TorchScript module's parameters are not leaves, so their flags cannot change (and
    need not: tasks on foreign generators run without gradients)."""
    copied = copy.deepcopy(model).eval()
    for parameter in copied.parameters():
        if parameter.is_leaf:
            parameter.requires_grad_(False)
    return copied


class _Worker(QObject):
    done = Signal(str, int, object, float)      # channel, stamp, result, milliseconds
    failed = Signal(str, int, str)              # channel, stamp, one-line message
    partial = Signal(str, int, object)          # channel, stamp, what a streaming request has so far

    def __init__(self):
        super().__init__()
        self.model = None
        self.cache: dict = {}                   # per-model memo of requests (point clouds, indexes)

    @Slot(object)
    def set_model(self, model) -> None:
        self.model = model
        self.cache = {}

    @Slot()
    def started(self) -> None:
        single_threaded()

    @Slot(object)
    def copy_model(self, handover: Future) -> None:
        """A task's own copy of the open model, made here between requests, so no forward is running
        on the module while it is copied; `handover` gets the copy (or the error)."""
        if not handover.set_running_or_notify_cancel():
            return                      # the task was cancelled before its turn came
        try:
            if self.model is None:
                raise GenStudioError("no model is open")
            handover.set_result(task_copy(self.model))
        except Exception as exc:  # handed to the task, which reports it as its failure
            handover.set_exception(exc)

    @Slot(str, int, object, object)
    def run(self, channel: str, stamp: int, request, token: CancelToken) -> None:
        if token.cancelled or self.model is None:
            return  # overtaken by a newer request of the same channel, or cancelled
        start = time.perf_counter()
        try:
            if hasattr(request, "run_streaming"):
                # Drawn in steps (a PixelCNN's rows): each step is shown, and a newer request of the
                # channel stops this one where it is.
                result = request.run_streaming(self.model, self.cache,
                                               lambda part: self.partial.emit(channel, stamp, part),
                                               token.should_stop)
            else:
                result = request.run(self.model, self.cache)
        except Cancelled:
            return  # overtaken while it ran
        except Exception as exc:  # report, never kill the thread: the next request may work
            log.exception("render request %s failed", channel)
            first = first_line(exc)
            self.failed.emit(channel, stamp, first)
            return
        self.done.emit(channel, stamp, result, (time.perf_counter() - start) * 1000)


class Renderer(QObject):
    """GUI-side handle: `submit(channel, request)` runs request.run(model, cache) in the worker; `done`
    carries the result only if no newer request of that channel was submitted meanwhile."""

    done = Signal(str, object, float)           # channel, result, milliseconds
    failed = Signal(str, str)
    partial = Signal(str, object)               # channel, a streaming request's progress so far
    _set_model = Signal(object)
    _run = Signal(str, int, object, object)    # channel, stamp, request, its CancelToken
    _copy_model = Signal(object)                # a Future for a task's copy of the model

    def __init__(self, parent=None):
        super().__init__(parent)
        self._latest: dict[str, int] = {}
        self._tokens: dict[str, CancelToken] = {}   # the channel's newest request's token
        self._stamps = itertools.count(1)
        self._thread = QThread()
        self._thread.setObjectName("genstudio-render")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._set_model.connect(self._worker.set_model)
        self._run.connect(self._worker.run)
        self._copy_model.connect(self._worker.copy_model)
        self._worker.done.connect(self._deliver)
        self._worker.failed.connect(self._fail)
        self._worker.partial.connect(self._progress)
        self._thread.started.connect(self._worker.started)
        self._thread.start()
        self._has_model = False         # the module itself lives in the worker only
        self._shut_down = False

    @property
    def has_model(self) -> bool:
        return self._has_model

    def set_model(self, model) -> None:
        """Hand a model to the worker; requests submitted after this call use it. The caller keeps
        no reference it calls: from here on the render thread is the module's one owner."""
        self._has_model = model is not None
        self._set_model.emit(model)

    def submit(self, channel: str, request) -> int:
        stamp = next(self._stamps)
        self.cancel(channel)
        self._latest[channel] = stamp
        token = self._tokens[channel] = CancelToken()
        self._run.emit(channel, stamp, request, token)
        return stamp

    def cancel(self, channel: str) -> None:
        self._latest.pop(channel, None)
        token = self._tokens.pop(channel, None)
        if token is not None:
            token.cancel()

    def start_task(self, runner: TaskRunner, request) -> None:
        """Run a long task request (core/requests/tasks.py) in `runner`'s thread on its own copy of
        the open model. The copy is asked for now, so it is of the model open now (a later
        `set_model` queues behind it), and the worker makes it when its current request is done."""
        handover: Future = Future()
        self._copy_model.emit(handover)
        runner.start(lambda state: request.run(_receive(handover, state), state))

    @Slot(str, int, object, float)
    def _deliver(self, channel: str, stamp: int, result, ms: float) -> None:
        if self._latest.get(channel) == stamp:
            self.done.emit(channel, result, ms)

    @Slot(str, int, object)
    def _progress(self, channel: str, stamp: int, part) -> None:
        if self._latest.get(channel) == stamp:
            self.partial.emit(channel, part)

    @Slot(str, int, str)
    def _fail(self, channel: str, stamp: int, message: str) -> None:
        if self._latest.get(channel) == stamp:
            self.failed.emit(channel, message)

    def shutdown(self) -> None:
        """Cancel every request, end the render thread and cut the worker's connections (once)."""
        if self._shut_down:
            return
        self._shut_down = True
        for channel in list(self._latest):
            self.cancel(channel)
        self._thread.quit()
        self._thread.wait()
        # Every connection of the worker's signals is cut here, in the GUI thread, while no thread can
        # emit them, rather than whenever Python's garbage collector frees the worker: a connection to a
        # Python callable is torn down under a Qt lock shared with unrelated objects, and the GUI thread
        # doing that in the middle of another render thread's emit is a lock-order hazard.
        for signal in (self._worker.done, self._worker.failed, self._worker.partial):
            signal.disconnect()


def _receive(handover: Future, state: TaskState):
    """The task's copy of the model, waited for in the task's thread; a cancel while waiting ends
    the task (and the copy is not made when the worker has not begun it)."""
    while True:
        try:
            return handover.result(timeout=0.05)
        except TimeoutError:
            if state.is_interruption_requested():
                handover.cancel()
                state.check("waiting for the model")


__all__ = ["Renderer", "TaskState"]
