"""Run long tasks (core/requests/tasks.py) in a background job with progress, partial results and cancel.

`start(fn)` with fn(state: TaskState) -> result. Starting a new task never waits for the old one:
the old task's job is cancelled and left to finish in its own thread, its signals ignored; the job
registry (ui/jobs.py) keeps it until its thread ends. Only closing the window waits (jobs.shutdown_all).
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from genstudio.core.cancel import CancelToken
from genstudio.core.errors import Cancelled, first_line
from genstudio.core.requests.tasks import TaskState
from genstudio.ui.jobs import Job

log = logging.getLogger(__name__)
_ids = itertools.count(1)


class _TaskWorker(QObject):
    """One task, run in its job's thread; every signal carries the task's id."""

    progress = Signal(int, float, str)
    partial = Signal(int, object)
    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(self, fn: Callable[[TaskState], Any], token: CancelToken):
        super().__init__()
        self.id = next(_ids)
        self.fn = fn
        self.state = TaskState(on_progress=lambda f, m: self.progress.emit(self.id, f, m),
                               on_partial=lambda value: self.partial.emit(self.id, value), token=token)

    def run(self) -> None:
        try:
            result = self.fn(self.state)
        except Cancelled:             # a task's own check, a map's, the diagnostics', the stop guard's
            self.cancelled.emit(self.id)
        except Exception as exc:  # any failure becomes a message; the app keeps running
            if self.state.is_interruption_requested():
                self.cancelled.emit(self.id)
            else:
                log.exception("background task failed")
                self.failed.emit(self.id, first_line(exc))
        else:
            if self.state.is_interruption_requested():
                self.cancelled.emit(self.id)
            else:
                self.done.emit(self.id, result)
        finally:
            self.fn = None            # the closure holds the task's copy of the model


class TaskRunner(QObject):
    """One current task per runner; `busy` while it runs. Signals arrive in the GUI thread."""

    progress = Signal(float, str)
    partial = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()          # after done / failed / cancelled of the current task

    def __init__(self, parent=None):
        super().__init__(parent)
        self._job: Job | None = None
        self._task_id = 0

    @property
    def busy(self) -> bool:
        return self._job is not None

    def _current(self, task_id: int) -> bool:
        return self._job is not None and self._task_id == task_id

    def start(self, fn: Callable[[TaskState], Any]) -> None:
        self._abandon()
        token = CancelToken()
        worker = _TaskWorker(fn, token)
        worker.progress.connect(self._progress)
        worker.partial.connect(self._partial)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        worker.cancelled.connect(self._cancelled)
        self._task_id = worker.id
        self._job = Job("task", run=worker.run, worker=worker, token=token).start()

    @Slot(int, float, str)
    def _progress(self, task_id: int, fraction: float, message: str) -> None:
        if self._current(task_id):
            self.progress.emit(fraction, message)

    @Slot(int, object)
    def _partial(self, task_id: int, value) -> None:
        if self._current(task_id):
            self.partial.emit(value)

    @Slot(int, object)
    def _done(self, task_id: int, result) -> None:
        if self._current(task_id):
            self._job = None
            self.done.emit(result)
            self.finished.emit()

    @Slot(int, str)
    def _failed(self, task_id: int, message: str) -> None:
        if self._current(task_id):
            self._job = None
            self.failed.emit(message)
            self.finished.emit()

    @Slot(int)
    def _cancelled(self, task_id: int) -> None:
        if self._current(task_id):
            self._job = None
            self.cancelled.emit()
            self.finished.emit()

    def _abandon(self) -> Job | None:
        """Cancel the current task; it winds down in the background (the job registry holds it)."""
        job, self._job = self._job, None
        if job is not None:
            job.cancel()
        return job

    def cancel(self) -> None:
        """Stop the current task without waiting for it."""
        if self._abandon() is not None:
            self.cancelled.emit()
            self.finished.emit()

    def shutdown(self) -> None:
        """Cancel the current task without a word (closing the window, which then waits for every
        job: jobs.shutdown_all)."""
        self._abandon()
