"""Background work in the app, started, cancelled and retired in one way.

A `Job` owns one QThread, the worker QObject that lives in it (if any) and a cancel token
(core/cancel.py). It runs either one call (`run`: the thread ends when it returns) or, with no
`run`, a resident worker that answers queued signals until the job is cancelled. Whichever it
is, the end is the same: as the thread finishes, the worker moves back to the GUI thread, and there
the job deletes it and the thread and leaves the registry. The worker is not deleted in its own
thread: a QObject made in Python asks for the GIL while it is destroyed, holding one of Qt's shared
connection locks, and a GUI thread deleting widgets meanwhile (holding the GIL) waited for that
lock for ever (a clean-clone CI run hung in test_task_runner; py-spy showed QObject::~QObject in
both threads, one in Shiboken's GilState::acquire). Until then the registry holds the job, so a job its owner
has given up on (a task overtaken by a newer one) winds down in the background without its thread
being destroyed while it runs, and the owner keeps no reference to it.

`shutdown_all(timeout_s)` is what closing the window does: cancel every job and wait for them all,
at most `timeout_s` together.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from genstudio.core.cancel import CancelToken

log = logging.getLogger(__name__)
_running: set[Job] = set()        # started jobs whose thread has not been retired yet


class Job(QObject):
    """One thread of background work; `retired` (in the GUI thread) once it has ended."""

    retired = Signal()

    def __init__(self, name: str, run: Callable[[], None] | None = None, worker: QObject | None = None,
                 token: CancelToken | None = None):
        super().__init__()
        self.token = token if token is not None else CancelToken()
        self.worker = worker
        self._run = run
        self._retired = False
        self.thread = QThread()
        self.thread.setObjectName(f"genstudio-{name}")
        if worker is not None:
            self._home = QThread.currentThread()        # the GUI thread, where the job is made
            worker.moveToThread(self.thread)
            # Called in the worker's thread as it finishes (only there may the worker be moved).
            self.thread.finished.connect(self._worker_home, Qt.DirectConnection)
        if run is not None:
            # Called in the new thread as it starts; the thread's event loop is told to end at once.
            self.thread.started.connect(self._run_then_quit, Qt.DirectConnection)
        self.thread.finished.connect(self._retire)          # queued: in the GUI thread

    def start(self) -> Job:
        _running.add(self)
        self.thread.start()
        return self

    @property
    def running(self) -> bool:
        return not self._retired and self.thread.isRunning()

    def cancel(self) -> None:
        """Ask the work to stop (its token) and the thread to end when the work returns; never waits."""
        self.token.cancel()
        if not self._retired:
            self.thread.quit()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the thread has ended (at most `timeout_s`), then retire it; False on time-out."""
        if self._retired:
            return True
        ended = self.thread.wait() if timeout_s is None else self.thread.wait(max(int(timeout_s * 1000), 0))
        if ended:
            self._retire()
        return ended

    def _run_then_quit(self) -> None:
        try:
            self._run()
        except Exception:  # a worker reports its own failures; anything left must not reach Qt
            log.exception("background job %s failed", self.thread.objectName())
        finally:
            self._run = None            # the call may hold a snapshot's weights or a model copy
            self.thread.quit()

    def _worker_home(self) -> None:
        self.worker.moveToThread(self._home)

    @Slot()
    def _retire(self) -> None:
        if self._retired:
            return
        self._retired = True
        _running.discard(self)
        self.thread.deleteLater()
        if self.worker is not None:
            self.worker.deleteLater()               # in the GUI thread, back from the job's
        self.worker = None
        self.retired.emit()


def running_jobs() -> list[Job]:
    """The jobs started and not yet retired."""
    return list(_running)


def shutdown_all(timeout_s: float) -> bool:
    """Cancel every job and wait for their threads, `timeout_s` at most in all; False if one still runs
    (logged; it stays in the registry, so its thread is never destroyed while it runs)."""
    jobs = list(_running)
    for job in jobs:
        job.cancel()
    deadline = time.monotonic() + timeout_s
    for job in jobs:
        if not job.wait(deadline - time.monotonic()):
            log.warning("background job %s did not end within %.1f s of the cancel", job.thread.objectName(), timeout_s)
    return not _running
