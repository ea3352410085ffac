"""The window a person sees while the model engine loads: their last picture within a second.

Importing torch and the rest of genstudio takes seconds (measured 3-4 s on 2 busy cores), and until
now the screen showed nothing for all of it. The start-up shell is a plain window at the saved window
geometry, titled like the real one, that paints the explorer's last image (ui/last_picture.py) with
one status line while `BackgroundLoad` imports the heavy modules in a thread. ui/app.py then builds
the real window where the shell is, and closes the shell.

This module, and all it imports, must stay free of torch (and numpy): it runs before they load.
tests/ui/test_startup_before_torch.py checks it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRectF, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QMainWindow, QSizePolicy, QWidget

DEFAULT_SIZE = QSize(1280, 820)     # the main window's size when no geometry was saved (main_window.py)
LOADING_TEXT = "loading the model engine\u2026"
STARTING_TEXT = "starting\u2026"
POLL_MS = 20                        # how often the GUI thread looks whether the thread has finished


class Picture(QWidget):
    """One QImage centred, at the largest whole multiple that fits (pixels kept sharp, as the
    explorer draws them), or a grey line of text where there is no picture. `painted` fires once,
    with the time.perf_counter() of the first paint."""

    painted = Signal(float)

    def __init__(self, image: QImage | None, text: str, parent=None):
        super().__init__(parent)
        self.image = image
        self.text = text
        self.painted_at: float | None = None
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def target_rect(self) -> QRectF:
        """Where the picture lands in the widget (empty without a picture)."""
        if self.image is None:
            return QRectF()
        w, h = self.image.width(), self.image.height()
        scale = min(self.width() / w, self.height() / h)
        if scale >= 1:
            scale = int(scale)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self.image is None:
            painter.setPen(QColor(128, 128, 128))
            painter.drawText(self.rect(), Qt.AlignCenter, self.text)
        else:
            painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
            painter.drawImage(self.target_rect(), self.image)
        painter.end()
        if self.painted_at is None:
            self.painted_at = time.perf_counter()
            self.painted.emit(self.painted_at)


class StartupShell(QMainWindow):
    """Where the real window will be (the settings' window/geometry and window/size, as WindowState
    saved them), showing `picture` or, at a first start, STARTING_TEXT."""

    def __init__(self, settings: QSettings, picture: QImage | None):
        super().__init__()
        self.setWindowTitle("genstudio")
        self.picture = Picture(picture, STARTING_TEXT)
        self.setCentralWidget(self.picture)
        self.statusBar().showMessage(LOADING_TEXT)
        self.resize(DEFAULT_SIZE)
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        size = settings.value("window/size")
        if isinstance(size, QSize) and size.isValid() and not self.isMaximized():
            self.resize(size)
        self._fit_to_screen()

    def _fit_to_screen(self) -> None:
        """Not larger than the screen's free area, and on it (as WindowState.fit_to_screen does for
        the real window, which then opens where the shell is)."""
        screen = self.screen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        free = screen.availableGeometry()
        self.resize(min(self.width(), free.width()), min(self.height(), free.height()))
        frame = self.frameGeometry()
        x = min(max(frame.x(), free.left()), max(free.right() - frame.width() + 1, free.left()))
        y = min(max(frame.y(), free.top()), max(free.bottom() - frame.height() + 1, free.top()))
        self.move(x, y)

    def show_failure(self, message: str) -> None:
        self.statusBar().showMessage(message)


class BackgroundLoad(QObject):
    """Runs `load()` in a thread and reports on the GUI thread, which keeps painting meanwhile:
    `loaded(result)`, or `failed(one line)` with the exception kept in `error` (for the log).

    A Python thread, not a QThread, and it touches no Qt object (nor may `load` make one): the Qt
    objects there are (the shell's) belong to the GUI thread. So rather than emit a signal from the
    thread (which would make Qt adopt it), a QTimer on the GUI thread polls it every POLL_MS."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, load: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self._load = load
        self._outcome: tuple[bool, object] | None = None     # (ok, the result or the exception)
        self.error: BaseException | None = None
        # daemon: a person closing the shell mid-import ends the process without waiting for torch
        self._thread = threading.Thread(target=self._run, name="genstudio-startup-import", daemon=True)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._thread.start()
        self._timer.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._outcome = (True, self._load())
        except BaseException as exc:  # noqa: BLE001 - any failure (ImportError, a crash in a module body) is shown
            self._outcome = (False, exc)

    def _poll(self) -> None:
        if self._thread.is_alive() or self._outcome is None:
            return
        self._timer.stop()
        ok, result = self._outcome
        self._outcome = None
        if ok:
            self.loaded.emit(result)
        else:
            self.error = result
            self.failed.emit(f"{type(result).__name__}: {result}")
