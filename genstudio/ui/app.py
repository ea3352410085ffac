"""Start the desktop app: `genstudio` (no command) or `python -m genstudio`.

Start-up in two steps, so that a person sees their picture within a second although the model
engine (torch and the rest of genstudio) takes seconds to import:

1. With Qt alone, the start-up shell (ui/startup_shell.py) opens where the window was, showing the
   explorer's last image (ui/last_picture.py); meanwhile a thread imports genstudio.ui.main_window.
2. On the GUI thread, the main window is built, shown where the shell is (the shell then closes
   behind it), and opens the last model as before; its first live image replaces the picture. The
   panels of the other tabs are built once the explorer is interactive (ui/deferred_tabs.py).

Python's garbage collector is handed to the GUI thread's timer (ui/gui_thread_gc.py) before the
import thread starts: a collection that the thread's many allocations would otherwise trigger there
could free Qt objects (the shell's) off the GUI thread, the deadlock gui_thread_gc.py describes.
Once the window is built, what is alive then is kept out of later collections (gui_thread_gc.py:
a full collection went from about 230 ms to 0.2 ms).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal

from genstudio.core.runtime.resources import resource_path
from genstudio.ui.gui_thread_gc import keep_startup_objects
from genstudio.ui.last_picture import load_last_picture
from genstudio.ui.startup_shell import BackgroundLoad, StartupShell

log = logging.getLogger(__name__)

SMOKE_TIMEOUT_MS = 60_000
LOAD_ANYWAY_MS = 500        # the import starts this long after the shell was shown if it has not painted by then


def load_main_window():
    """The heavy part of start-up, run in the shell's import thread: torch, every panel, the window's
    class. By name, so that nothing imports it before the shell is up (build.spec lists the module in
    PyInstaller's hiddenimports, which would not see it otherwise). Makes no Qt object: every module it
    runs that makes one at import (ui/theme.py's notifier) is imported on the GUI thread first."""
    return importlib.import_module("genstudio.ui.main_window").MainWindow


def _ms(since: float, at: float | None) -> str:
    return "-" if at is None else f"{1000 * (at - since):.0f}"


class Startup(QObject):
    """The shell now, the main window once `load()` has returned its class (see the module docstring).
    The moments of each step, as time.perf_counter() values: first_pixels_at (the shell painted),
    loaded_at (the import finished), shown_at (the window replaced the shell), live_image_at (the
    window's first live image painted), interactive_at (that image on screen and the explorer's
    sliders there: a model whose sliders are its principal directions has them once they are
    computed, or read back from the cache)."""

    windowShown = Signal(object)       # the MainWindow, now where the shell was
    interactive = Signal()             # its first live image is on screen, and its sliders
    failed = Signal(str)               # the engine did not load, or the window was not built: one line

    def __init__(self, app, started: float, settings: QSettings | None = None, load=load_main_window,
                 explore_in_front: bool = False, follow=()):
        super().__init__()
        self.follow = list(follow)          # run folders to follow in the Runs tab (`genstudio follow`)
        self.app = app
        self.started = started
        self.settings = settings or QSettings("genstudio", "genstudio")
        self.explore_in_front = explore_in_front      # the smoke test waits for the explorer's image
        self.window = None
        self.first_pixels_at = self.loaded_at = self.shown_at = self.live_image_at = self.interactive_at = None
        self.failure: str | None = None               # why the engine did not load, if it did not
        picture = load_last_picture(self.settings)
        self.showed_picture = picture is not None      # else the shell says "starting…" (a first start)
        self.shell = StartupShell(self.settings, picture)
        self.shell.picture.painted.connect(self._painted)
        self.loader = BackgroundLoad(load, self)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self._theme_ready = False
        self._loading = False               # the import thread was started (a thread starts once)
        self.quit_signals = None

    def start(self) -> None:
        from genstudio.ui.quit_signals import QuitOnSignals

        if self.app.styleHints().colorScheme() == Qt.ColorScheme.Dark:
            self._follow_theme()            # a dark shell from its first paint (costs pyqtgraph's import first)
        else:
            # The light theme's palette, which ui/theme.py sets once it is imported: nothing changes then.
            self.app.setPalette(self.app.style().standardPalette())
        self.quit_signals = QuitOnSignals(self.shell)     # Ctrl+C while loading closes the shell, and so quits
        self.shell.show()
        QTimer.singleShot(LOAD_ANYWAY_MS, self._begin_loading)

    def _follow_theme(self) -> None:
        """ui/theme.py makes a Qt object when imported, so it is imported here, on the GUI thread,
        before the import thread could reach it; it imports pyqtgraph, which gui_thread_gc then uses."""
        if self._theme_ready:
            return
        from genstudio.ui.gui_thread_gc import collect_in_gui_thread
        from genstudio.ui.theme import follow_system

        follow_system(self.app)
        collect_in_gui_thread()
        self._theme_ready = True

    def _painted(self, at: float) -> None:
        self.first_pixels_at = at
        log.info("start-up: first pixels %s ms after start", _ms(self.started, at))
        # After this paint has reached the screen (the next turn of the event loop), not inside it.
        QTimer.singleShot(0, self._begin_loading)

    def _begin_loading(self) -> None:
        if self._loading:
            return
        self._loading = True
        self._follow_theme()
        self.loader.start()

    def _loaded(self, window_class) -> None:
        self.loaded_at = time.perf_counter()
        if not self.shell.isVisible():
            return                          # the person closed the shell while it loaded: the app is quitting
        from genstudio.ui.quit_signals import QuitOnSignals

        try:
            window = window_class(self.settings)
        except Exception as exc:  # noqa: BLE001 - said in the shell and logged, as a failed import is
            self._fail(exc, f"the main window could not be built: {type(exc).__name__}: {exc}")
            return
        self.window = window
        keep_startup_objects()      # before a model opens: collections stop walking torch and the window
        if self.explore_in_front:
            # A window restored on another tab renders the image but never paints it, and the smoke
            # test's wait would run to its timeout (measured: 63 s to "first image" from Diagnostics).
            window.tabs.setCurrentWidget(window.explore)
        window.explore.image_view.shown.connect(self._first_image)
        window.explore.sliders.rebuilt.connect(self._maybe_interactive)
        # Where the shell is now (the saved geometry, or where the person moved it meanwhile), then
        # shown before the shell closes, so that the screen never shows neither.
        if self.shell.isMaximized():
            window.showMaximized()
        else:
            window.resize(self.shell.size())
            window.move(self.shell.pos())
            window.show()
        self.quit_signals.uninstall()
        self.quit_signals = QuitOnSignals(window)
        self.shell.close()
        self.shell.deleteLater()
        self.shown_at = time.perf_counter()
        log.info("start-up: engine loaded %s ms, window shown %s ms after start",
                 _ms(self.started, self.loaded_at), _ms(self.started, self.shown_at))
        self.windowShown.emit(window)
        if self.follow:
            window.follow_folders(self.follow)
        window.open_default()

    def _first_image(self) -> None:
        if not self.window.explore.last_image_kind:
            return                  # no decode has landed: the rows drawn so far of a PixelCNN's image
        self.window.explore.image_view.shown.disconnect(self._first_image)
        self.live_image_at = time.perf_counter()
        log.info("start-up: first live image %s ms after start", _ms(self.started, self.live_image_at))
        self._maybe_interactive()

    def _maybe_interactive(self, _sliders: int = 0) -> None:
        """Once the live image is on screen and the slider bank is built (its `rebuilt` calls this)."""
        explore = self.window.explore
        if self.interactive_at is not None or self.live_image_at is None or not explore.sliders.sliders:
            return
        explore.sliders.rebuilt.disconnect(self._maybe_interactive)
        self.interactive_at = time.perf_counter()
        log.info("start-up: interactive (the live image and its sliders) %s ms after start",
                 _ms(self.started, self.interactive_at))
        self.window.build_deferred_panels()        # the other tabs' panels, now that the explorer works
        self.interactive.emit()

    def _failed(self, message: str) -> None:
        self._fail(self.loader.error, f"cannot load the model engine: {message}")

    def _fail(self, error: BaseException, message: str) -> None:
        log.error("start-up: %s", message, exc_info=(type(error), error, error.__traceback__))
        self.failure = message
        self.shell.show_failure(message)
        self.failed.emit(message)


def _application():
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("genstudio")
    app.setOrganizationName("genstudio")
    icon = resource_path("icons", "genstudio.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def smoke_test(startup: Startup, started: float) -> int:
    """Wait for the main window's first rendered image and its sliders; report what was shown and
    how long each step of start-up took."""
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    startup.interactive.connect(loop.quit)
    startup.failed.connect(loop.quit)
    QTimer.singleShot(SMOKE_TIMEOUT_MS, loop.quit)
    if startup.interactive_at is None:
        loop.exec()
    window = startup.window
    if window is None:
        print(f"smoke test FAILED: {startup.failure or 'the main window was not built'}", file=sys.stderr)
        return 1
    image = window.explore.image_view.image()
    if startup.interactive_at is None or image is None:
        print("smoke test FAILED: no image was rendered", file=sys.stderr)
        return 1
    sample = window.explore.last_image          # None for a 2-D model: its view is a scatter of points
    shown = (f"{image.width()}x{image.height()} image (value range {sample.min():.2f}..{sample.max():.2f})"
             if sample is not None else f"{image.width()}x{image.height()} view of its points")
    print(f"smoke test ok: opened {window.opened.path.name} ({window.opened.family}), rendered a {shown}, "
          f"first image {1000 * (time.perf_counter() - started):.0f} ms after start")
    picture = "the last picture" if startup.showed_picture else "no picture yet"
    print(f"start-up: first pixels {_ms(started, startup.first_pixels_at)} ms ({picture}), "
          f"engine loaded {_ms(started, startup.loaded_at)} ms, window shown {_ms(started, startup.shown_at)} ms, "
          f"live image {_ms(started, startup.live_image_at)} ms, "
          f"interactive {_ms(started, startup.interactive_at)} ms after start")
    window.close()
    return 0


def _no_display() -> bool:
    """Linux without X11 or Wayland and no platform chosen: Qt would abort with a core dump."""
    return (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))


def run_app(smoke: bool = False, started: float | None = None, follow=()) -> int:
    """The app; `follow`: run folders (or folders of runs) to follow in its Runs tab, shown in front."""
    started = started or time.perf_counter()
    if _no_display():
        if not smoke:
            print("genstudio: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot "
                  "open; run it in a desktop session, or use the headless commands (genstudio train, "
                  "sample, diagnose; see genstudio --help)", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"     # a smoke test on a server needs no screen
    app = _application()
    app.setStyle("Fusion")   # the same look on Linux, macOS and Windows
    from genstudio.ui.logs import install_excepthook, setup_logging

    log_file = setup_logging()
    logging.getLogger("genstudio").info("starting genstudio; log file %s", log_file)
    # Light or dark as the system is, and as it changes: Startup applies ui/theme.py (follow_system).
    startup = Startup(app, started, explore_in_front=smoke, follow=follow)
    install_excepthook(lambda: startup.window or startup.shell)
    startup.start()
    if smoke:
        return smoke_test(startup, started)
    code = app.exec()
    # The window's closeEvent has stopped training (it saved), joined every thread and finished every
    # export; what is left is the interpreter tearing down torch and Qt objects, 1-2 s in which
    # nothing of the user's happens. Write the settings and the log, then end the process (a person
    # who closed the start-up shell also ends the import thread, mid-import, here).
    startup.settings.sync()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
