"""Logging for the desktop app: a file in the user's data folder as well as the console, and a dialog
naming that file when an uncaught exception reaches the event loop (a double-clicked app has no
console to read)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback

from genstudio.ui.paths import data_folder

LOG_NAME = "genstudio.log"
_open_dialogs: list = []


def log_path():
    return data_folder() / "logs" / LOG_NAME


def setup_logging(verbose: bool = False):
    """Rotating file log (1 MB x 3) plus stderr when there is one; returns the file's path."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:  # the console keeps to warnings unless asked for more
        if type(handler) is logging.StreamHandler and not verbose:
            handler.setLevel(logging.WARNING)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return path


def install_excepthook(parent_getter) -> None:
    """Log uncaught exceptions and show them in a dialog with the log's path; the app keeps running."""
    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        logging.getLogger("genstudio").error("uncaught exception\n%s", "".join(traceback.format_exception(kind, value, tb)))
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Critical, "genstudio: unexpected error",
                          f"{kind.__name__}: {value}\n\nThe details are in the log:\n{log_path()}",
                          QMessageBox.Ok, parent_getter())
        box.setAttribute(Qt.WA_DeleteOnClose)
        # Keep a Python reference while it is open: a parentless box would be collected at once.
        _open_dialogs.append(box)
        box.finished.connect(lambda _result, box=box: _open_dialogs.remove(box))
        box.open()

    sys.excepthook = hook
