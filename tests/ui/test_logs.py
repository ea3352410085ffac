"""A double-clicked app has no console: errors go to a log file and an uncaught one shows a dialog naming it."""

import logging
import sys

from PySide6.QtWidgets import QApplication, QMessageBox


def test_uncaught_exception_is_logged_and_shown(qtbot, monkeypatch, tmp_path):
    from genstudio.ui.logs import install_excepthook, log_path, setup_logging

    # Write under tmp_path, not the user's data folder.
    monkeypatch.setattr("genstudio.ui.paths.user_data_dir", lambda: tmp_path / "genstudio")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)   # restored after the test
    path = setup_logging()
    assert path == log_path() == tmp_path / "genstudio" / "logs" / "genstudio.log"
    install_excepthook(lambda: None)
    try:
        raise RuntimeError("the flux capacitor melted")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "the flux capacitor melted" in path.read_text()
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes and str(path) in boxes[-1].text() and "RuntimeError" in boxes[-1].text()
    for box in boxes:
        box.close()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]:
        root.removeHandler(handler)
        handler.close()
