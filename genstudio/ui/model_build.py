"""Models are built off the GUI thread. Opening a file (read, checked, its module built: 1.2 s for
the demo GAN, 0.7 s for a 1024 px StyleGAN2 of 30 M parameters) and rebuilding a training snapshot
every few seconds while the explorer follows a run both ran on the GUI thread, and the window froze
meanwhile.

`ModelBuild` runs one `fn() -> OpenedModel` in a background job (ui/jobs.py) and keeps its result
or the exception it raised. `BuildWait(fn).wait()` waits for one in a local event loop: the window
keeps painting and answering, and the caller gets the result, or the exception, as if it had called
`fn` itself; `cancel()` (a person's Cancel, a newer file to open) leaves that loop at once, `wait()`
raises Cancelled, and the build, which may be mid-way through reading a file, is left to end in its
job (no stage of opening a file polls a cancel token: the reader, the digest and the module's
construction each run to their end, 0.7 s in all for the 1024 px StyleGAN2), and whatever it
returns is dropped in the GUI thread when the job retires. `LatestBuilds` builds the newest of a stream (training snapshots): an ask
that comes while a build runs waits for it, and a newer ask replaces a waiting one.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, Signal, Slot

from genstudio.core.errors import Cancelled, first_line
from genstudio.ui.jobs import Job


class ModelBuild:
    """`fn()` in a job of its own; `result` or `error` once `job.retired` has been emitted."""

    def __init__(self, fn: Callable[[], Any]):
        self.fn = fn
        self.result: Any = None
        self.error: Exception | None = None
        self.job = Job("model-build", run=self._run)

    def _run(self) -> None:
        try:
            self.result = self.fn()
        except Exception as exc:  # kept for the GUI thread, which raises or reports it
            self.error = exc
        finally:
            self.fn = None                   # the closure may hold a snapshot's weights

    def drop(self) -> None:
        """Forget the result (a model nobody will show) or the error."""
        self.result = self.error = None


class BuildWait:
    """`fn()` built in a job while the GUI thread waits in a local event loop that `cancel()` leaves
    at once."""

    def __init__(self, fn: Callable[[], Any]):
        self.build = ModelBuild(fn)
        self._loop = QEventLoop()
        self.cancelled = False

    def wait(self) -> Any:
        """fn's result, or the exception it raised, raised here; Cancelled once `cancel()` was called
        (before or while waiting: then at once, without waiting for the build to end)."""
        build = self.build
        if self.cancelled:
            raise Cancelled("cancelled before it started")
        build.job.retired.connect(self._loop.quit)     # from the queued `finished`: runs inside exec()
        build.job.start()
        self._loop.exec()
        if self.cancelled:
            raise Cancelled("cancelled")
        build.job.wait()
        if build.error is not None:
            raise build.error
        return build.result

    def cancel(self) -> None:
        """Leave the wait now; the build's result, when it comes, is dropped in the GUI thread as its
        job retires (the module is not freed in the build's thread)."""
        if self.cancelled:
            return
        self.cancelled = True
        build = self.build
        build.job.retired.connect(build.drop)
        build.job.cancel()
        self._loop.quit()


class LatestBuilds(QObject):
    """Builds of a stream of which only the newest matters. `built` and `failed` arrive in the GUI
    thread, one per finished build; a build that finishes while a newer ask waits is still shown
    (so a stream faster than its builds still shows something) and the newer one starts."""

    built = Signal(object)               # fn()'s result
    failed = Signal(str)                 # the one-line reason fn() raised

    def __init__(self, parent=None):
        super().__init__(parent)
        self._running: ModelBuild | None = None
        self._next: Callable[[], Any] | None = None

    @property
    def busy(self) -> bool:
        return self._running is not None

    def submit(self, fn: Callable[[], Any]) -> None:
        self._next = fn
        if self._running is None:
            self._start_next()

    def _start_next(self) -> None:
        fn, self._next = self._next, None
        build = self._running = ModelBuild(fn)
        build.job.retired.connect(self._finished)
        build.job.start()

    @Slot()
    def _finished(self) -> None:
        build, self._running = self._running, None
        if self._next is not None:
            self._start_next()
        if build.error is not None:
            self.failed.emit(first_line(build.error))
        else:
            self.built.emit(build.result)

    def shutdown(self) -> None:
        """Drop what waits and forget the build in flight, whose result is never emitted (closing the
        window, which then waits for every job: jobs.shutdown_all)."""
        self._next = None
        build, self._running = self._running, None
        if build is not None:
            build.job.retired.disconnect(self._finished)
            build.job.cancel()
