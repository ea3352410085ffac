"""The explorer's last image as a small PNG, shown by the next start before the model engine loads.

The start-up shell (ui/startup_shell.py) paints this picture within a second of the app starting,
while torch is still importing; the real window's first live decode replaces it a few seconds later.
The main window writes it (ui/window_state.py) when the explorer's first full image of a model
lands and when the window closes.

The PNG carries the path of the model it shows (a tEXt chunk, MODEL_KEY). The shell shows it only
when that is the model the window will open (the settings' models/last), so the picture on screen is
never one of another model than the one that replaces it. Qt only (no torch, no numpy): the shell
imports this module before torch has loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSettings, Qt
from PySide6.QtGui import QImage

from genstudio.core.io.atomic import write_bytes_atomic
from genstudio.ui.paths import last_picture_file

log = logging.getLogger(__name__)

MAX_SIDE = 512           # a larger image is scaled down to this many pixels on its longer side
MODEL_KEY = "genstudio-model"


def picture_file(settings: QSettings) -> Path:
    """The app's own settings keep their picture in the cache folder (ui/paths.py); settings in a file
    of their own (IniFormat: a test's, a benchmark's) keep it beside that file, so that such a window
    never replaces the person's picture, and leaves none behind when its folder goes."""
    if settings.format() == QSettings.IniFormat:
        return Path(settings.fileName()).with_suffix(".last-picture.png")
    return last_picture_file()


def png_bytes(image: QImage, model: Path) -> bytes | None:
    """`image` as a PNG of at most MAX_SIDE pixels a side, tagged with `model`; None if Qt cannot encode it."""
    if max(image.width(), image.height()) > MAX_SIDE:
        image = image.scaled(MAX_SIDE, MAX_SIDE, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    else:
        image = image.copy()        # setText below must not touch the explorer's own image
    image.setText(MODEL_KEY, str(model))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    ok = image.save(buffer, "PNG")
    buffer.close()
    return bytes(data) if ok else None


def save_last_picture(settings: QSettings, image: QImage, model: Path) -> Path | None:
    """Write `image` (what the explorer shows) as the settings' last picture, tagged with `model`.
    A write that fails (a full or read-only disk) is logged and skipped: the picture is a nicety."""
    png = png_bytes(image, model)
    if png is None:
        log.warning("last picture: the %dx%d image could not be encoded as PNG", image.width(), image.height())
        return None
    path = picture_file(settings)
    try:
        return write_bytes_atomic(path, png)
    except OSError as exc:
        log.warning("last picture: cannot write %s (%s)", path, exc.strerror or exc)
        return None


def forget_last_picture(settings: QSettings) -> None:
    """No picture for the next start (the window closed showing none: an error in its place)."""
    try:
        picture_file(settings).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("last picture: cannot remove %s (%s)", picture_file(settings), exc.strerror or exc)


def load_last_picture(settings: QSettings) -> QImage | None:
    """The last picture, when there is one of the model the window will open (the settings'
    models/last, which exists); else None (a first start, another model, an unreadable file)."""
    last = settings.value("models/last")
    path = picture_file(settings)
    if not last or not Path(str(last)).exists() or not path.exists():
        return None
    image = QImage(str(path))
    if image.isNull():
        log.warning("last picture: %s is not a readable PNG; not shown", path)
        return None
    if image.text(MODEL_KEY) != str(last):
        return None
    return image
