"""Run long tasks (core/tasks.py) in a QThread with progress, partial results and cancel.

`start(fn)` with fn(state: TaskState) -> result. Starting a new task never waits for the old one:
the old task is asked to stop and left to finish in its own thread, its signals ignored; it is
kept alive (module list) until its thread ends. Only `shutdown()` (closing the window) waits.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.core.errors import Cancelled, first_line
from genstudio.core.requests.tasks import TaskState

log = logging.getLogger(__name__)
_retiring: set["_Job"] = set()        # abandoned jobs whose thread still runs
_ids = itertools.count(1)


class _Job(QObject):
    """One task in its own thread; every signal carries the job's id."""

    progress = Signal(int, float, str)
    partial = Signal(int, object)
    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(self, fn: Callable[[TaskState], Any]):
        super().__init__()
        self.id = next(_ids)
        self.fn = fn
        self.state = TaskState(on_progress=lambda f, m: self.progress.emit(self.id, f, m),
                               on_partial=lambda value: self.partial.emit(self.id, value))
        self.thread = QThread()
        self.thread.setObjectName("genstudio-task")
        self.moveToThread(self.thread)
        self.thread.started.connect(self.run)

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(self.state)
        except Cancelled:             # a task's own check, a map's or the diagnostics' (subclasses)
            self.cancelled.emit(self.id)
        except Exception as exc:  # any failure becomes a message; the app keeps running
            if self.state.is_interruption_requested():
                self.cancelled.emit(self.id)
            else:
                log.exception("background task failed")
                text = first_line(exc)
                self.failed.emit(self.id, text)
        else:
            if self.state.is_interruption_requested():
                self.cancelled.emit(self.id)
            else:
                self.done.emit(self.id, result)
        finally:
            self.thread.quit()


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
        self._job: _Job | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def _current(self, job_id: int) -> bool:
        return self._job is not None and self._job.id == job_id

    def start(self, fn: Callable[[TaskState], Any]) -> None:
        self._abandon()
        job = _Job(fn)
        self._job = job
        job.progress.connect(self._progress)
        job.partial.connect(self._partial)
        job.done.connect(self._done)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        job.thread.finished.connect(self._thread_finished)
        job.thread.start()

    @Slot(int, float, str)
    def _progress(self, job_id: int, fraction: float, message: str) -> None:
        if self._current(job_id):
            self.progress.emit(fraction, message)

    @Slot(int, object)
    def _partial(self, job_id: int, value) -> None:
        if self._current(job_id):
            self.partial.emit(value)

    @Slot(int, object)
    def _done(self, job_id: int, result) -> None:
        if self._current(job_id):
            self._release()
            self.done.emit(result)
            self.finished.emit()

    @Slot(int, str)
    def _failed(self, job_id: int, message: str) -> None:
        if self._current(job_id):
            self._release()
            self.failed.emit(message)
            self.finished.emit()

    @Slot(int)
    def _cancelled(self, job_id: int) -> None:
        if self._current(job_id):
            self._release()
            self.cancelled.emit()
            self.finished.emit()

    @Slot()
    def _thread_finished(self) -> None:
        for job in [j for j in _retiring if j.thread.isFinished()]:
            _retiring.discard(job)
            job.thread.deleteLater()
            job.deleteLater()

    def _release(self) -> None:
        """The current job has reported; its thread is deleted once it has ended."""
        _retiring.add(self._job)
        self._job = None

    def _abandon(self) -> _Job | None:
        """Ask the current task to stop; it winds down in the background and is forgotten."""
        job, self._job = self._job, None
        if job is not None:
            job.state.request_interruption()
            _retiring.add(job)
            if job.thread.isFinished():
                self._thread_finished()
        return job

    def cancel(self) -> None:
        """Stop the current task without waiting for it."""
        if self._abandon() is not None:
            self.cancelled.emit()
            self.finished.emit()

    def shutdown(self) -> None:
        """Stop the current task and wait for its thread (closing the window)."""
        job = self._abandon()
        if job is not None:
            job.thread.wait()


def wait_for_retired() -> None:
    """Wait for every abandoned task's thread (closing the app)."""
    for job in list(_retiring):
        job.thread.wait()
