"""Ctrl+C in the terminal (SIGINT) and SIGTERM close the main window exactly as its close button
does: training stops and saves, worker threads join, then the app quits.

A Python signal handler only runs when the interpreter gets control, and while Qt's event loop
waits in C++ it does not, so on its own the handler would wait for the next mouse move or timer.
`signal.set_wakeup_fd` makes the interpreter write a byte to a socket when a signal arrives; a
QSocketNotifier on the other end of the socket pair wakes the event loop at once, which runs the
pending Python handler. No polling timer is needed.
"""

from __future__ import annotations

import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

QUIT_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


class QuitOnSignals(QObject):
    """Installs the handlers for `window`; keep the object alive as long as the app runs."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.received: list[int] = []
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous = {s: signal.signal(s, self._handle) for s in QUIT_SIGNALS}
        window.destroyed.connect(self.uninstall)

    def _drain(self) -> None:
        """The wake-up byte: reading it is enough, the handler has run by the time Python got here."""
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def _handle(self, signum, frame) -> None:
        self.received.append(signum)
        # Close from the event loop, not inside the handler: closeEvent joins threads and saves.
        QTimer.singleShot(0, self.window.close)

    def uninstall(self) -> None:
        if self._previous is None:
            return
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()
        self._previous = None
