"""Start the desktop app: `genstudio` (no command) or `python -m genstudio`."""

from __future__ import annotations

import logging
import os
import sys
import time

from genstudio.core.runtime.resources import resource_path

SMOKE_TIMEOUT_MS = 60_000


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


def smoke_test(window, app, started: float) -> int:
    """Wait for the first rendered image; report what was shown and how long it took."""
    from PySide6.QtCore import QEventLoop, QTimer

    # The explorer in front: a window restored on another tab renders the image but never paints it,
    # and the wait below would run to its timeout (measured: 63 s to "first image" from Diagnostics).
    window.tabs.setCurrentWidget(window.explore)
    view = window.explore.image_view
    loop = QEventLoop()
    view.shown.connect(loop.quit)
    QTimer.singleShot(SMOKE_TIMEOUT_MS, loop.quit)
    if view.image() is None:
        loop.exec()
    image = view.image()
    if image is None or window.explore.last_image is None:
        print("smoke test FAILED: no image was rendered", file=sys.stderr)
        return 1
    sample = window.explore.last_image
    print(f"smoke test ok: opened {window.opened.path.name} ({window.opened.family}), rendered a "
          f"{image.width()}x{image.height()} image (value range {sample.min():.2f}..{sample.max():.2f}), "
          f"first image {1000 * (time.perf_counter() - started):.0f} ms after start")
    window.close()
    return 0


def _no_display() -> bool:
    """Linux without X11 or Wayland and no platform chosen: Qt would abort with a core dump."""
    return (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))


def run_app(smoke: bool = False, started: float | None = None) -> int:
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
    from genstudio.ui.theme import follow_system

    follow_system(app)       # light or dark as the system is, and as it changes
    from genstudio.ui.logs import install_excepthook, setup_logging
    from genstudio.ui.main_window import MainWindow

    log_file = setup_logging()
    logging.getLogger("genstudio").info("starting genstudio; log file %s", log_file)
    from genstudio.ui.quit_signals import QuitOnSignals

    window = MainWindow()
    install_excepthook(lambda: window)
    QuitOnSignals(window)
    window.show()
    window.open_default()
    if smoke:
        return smoke_test(window, app, started)
    code = app.exec()
    # The window's closeEvent has stopped training (it saved), joined every thread and finished every
    # export; what is left is the interpreter tearing down torch and Qt objects, 1-2 s in which
    # nothing of the user's happens. Write the settings and the log, then end the process.
    window.settings.sync()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
