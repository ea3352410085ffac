"""File dialogs that start where the person last was: one remembered folder per kind of file
(checkpoints, images, exports, latents, data folders), kept in the window's QSettings under
"dialogs/<kind>", so a second export goes beside the first and a second model opens from the
folder of the first, across restarts.

The settings are the window's (`settings` of the nearest parent that has them: tests give the main
window a private file), else the app's own.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

KINDS = ("checkpoints", "images", "exports", "latents", "data")


def _settings(widget: QWidget | None) -> QSettings:
    while widget is not None:
        settings = getattr(widget, "settings", None)
        if isinstance(settings, QSettings):
            return settings
        widget = widget.parentWidget()
    return QSettings("genstudio", "genstudio")


def _check(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind of file {kind!r}: one of {', '.join(KINDS)}")
    return f"dialogs/{kind}"


def start_folder(parent: QWidget | None, kind: str) -> Path:
    """The folder last used for `kind` when it still exists, else the home folder."""
    value = _settings(parent).value(_check(kind))
    folder = Path(str(value)) if value else None
    return folder if folder is not None and folder.is_dir() else Path.home()


def remember(parent: QWidget | None, kind: str, chosen: str | Path) -> None:
    """Remember the folder of a chosen file (or a chosen folder itself) for the next `kind` dialog."""
    chosen = Path(chosen)
    _settings(parent).setValue(_check(kind), str(chosen if chosen.is_dir() else chosen.parent))


def open_file(parent: QWidget | None, kind: str, title: str, file_filter: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start_folder(parent, kind)), file_filter)
    if path:
        remember(parent, kind, path)
    return path or None


def save_file(parent: QWidget | None, kind: str, title: str, suggestion: str, file_filter: str) -> str | None:
    """`suggestion` is a file name, proposed in the remembered folder."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(start_folder(parent, kind) / suggestion), file_filter)
    if path:
        remember(parent, kind, path)
    return path or None


def open_folder(parent: QWidget | None, kind: str, title: str) -> str | None:
    path = QFileDialog.getExistingDirectory(parent, title, str(start_folder(parent, kind)))
    if path:
        remember(parent, kind, path)
    return path or None
