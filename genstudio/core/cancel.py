"""One cancel token for every piece of long work: a task, a training run, live diagnostics, a decode.

A token is a flag that another thread sets (`cancel()`); the work polls it (`cancelled`, or
`should_stop`, the callable the core's long functions take) or calls `check()`, which raises
Cancelled. A token made with a parent is cancelled when the parent is, so one cancel of a job
reaches the work it started (a training run's live diagnostics, a task's wait for its model copy).
"""

from __future__ import annotations

import threading

from genstudio.core.errors import Cancelled


class CancelToken:
    """Set once, never cleared; safe to use from any thread."""

    def __init__(self, parent: CancelToken | None = None):
        self._event = threading.Event()
        self._parent = parent

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.cancelled)

    def should_stop(self) -> bool:
        """`cancelled` as a call: what the core's `should_stop=` parameters take."""
        return self.cancelled

    def check(self, what: str = "") -> None:
        """Raise Cancelled when cancelled (here or in a parent); `what` says what was stopped."""
        if self.cancelled:
            raise Cancelled(f"cancelled{' while ' + what if what else ''}")

    def child(self) -> CancelToken:
        """A token cancelled with this one, and cancellable alone."""
        return CancelToken(parent=self)
