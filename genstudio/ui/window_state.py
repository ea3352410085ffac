"""What the app remembers between runs (QSettings): window geometry, the docks and splitters, the
open tab, the last model and the explorer's latent on it, the Train tab's settings and the latent
map's projection; the explorer's last image as a small PNG (ui/last_picture.py, which the next start
shows before torch has loaded); and View -> Reset layout, which puts the window back as it first opened.

Saved when the window closes, restored when it opens; each value is read defensively (settings
files are edited by hand, or written by another version): anything unreadable is skipped. A panel
built after the window (ui/deferred_tabs.py) gets its part when it is built (`restore_panel`), and
keeps what was saved until then.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QSplitter

from genstudio.ui.last_picture import forget_last_picture, save_last_picture

log = logging.getLogger(__name__)

LAYOUT_KEYS = ("window/geometry", "window/size", "window/state", "window/splitters")
DOCK_WIDTH = 230         # a dock's width when a restored layout had crushed it (the Models dock's default)


class WindowState:
    def __init__(self, window):
        self.window = window
        self.settings = window.settings
        # The layout as built, for Reset layout. The size rather than saveGeometry(): a geometry saved
        # before the window is first shown restores smaller by the frame the platform adds later.
        self.default_size = window.size()
        self.default_state = window.saveState()
        self.default_splitters = {s.objectName(): s.saveState() for s in self._splitters()}
        # The first full image of each model opened is kept for the next start (and the one shown
        # when the window closes, in save()).
        self._picture_due = False
        window.modelOpened.connect(self._model_opened)
        window.explore.imageRendered.connect(self._image_rendered)

    def _splitters(self) -> list[QSplitter]:
        return [s for s in self.window.findChildren(QSplitter) if s.objectName()]

    def _json(self, key: str):
        text = self.settings.value(key)
        if not text:
            return None
        try:
            return json.loads(str(text))
        except ValueError:
            log.warning("settings: %s is not readable JSON; ignored", key)
            return None

    # --- saving ---------------------------------------------------------------------------------
    def save(self) -> None:
        w, s = self.window, self.settings
        s.setValue("window/geometry", w.saveGeometry())
        s.setValue("window/size", w.size())
        s.setValue("window/state", w.saveState())
        splitters = self._saved_splitters()      # with those of panels not built this time
        splitters.update({sp.objectName(): sp.saveState() for sp in self._splitters()})
        s.setValue("window/splitters", splitters)
        s.setValue("window/tab", w.tabs.currentIndex())
        if (latent_map := w.deferred.built("map")) is not None:
            s.setValue("map/projection", latent_map.method.currentData())
        if (train := w.deferred.built("train")) is not None:
            s.setValue("train/settings", json.dumps(train.settings_record()))
        opened = w.opened
        if opened is not None and not w.following_live and Path(opened.path).exists():
            s.setValue("models/last", str(opened.path))
            s.setValue("explore/latent", json.dumps(w.session.to_record()))
            self._save_picture()
        s.sync()

    def _model_opened(self, info) -> None:
        self._picture_due = True

    def _image_rendered(self, kind: str) -> None:
        if kind == "full" and self._picture_due:
            self._picture_due = False
            self._save_picture()

    def _save_picture(self) -> None:
        """The explorer's image as shown, for the next start; none when it shows no image (a failed
        decode's message) or the model of a training run (which the next start does not open)."""
        w = self.window
        if w.opened is None or w.following_live:
            return
        image = w.explore.image_view.image()
        if image is None:
            forget_last_picture(self.settings)
        else:
            save_last_picture(self.settings, image, Path(w.opened.path))

    # --- restoring ------------------------------------------------------------------------------
    def restore_layout(self) -> None:
        w, s = self.window, self.settings
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if geometry is not None:
            w.restoreGeometry(geometry)
        size = s.value("window/size")
        # The size again: a geometry restored before the window is first shown can come back smaller
        # by the frame some platforms add later (measured offscreen: 66 px narrower).
        if size is not None and not w.isMaximized():
            w.resize(size)
        if state is not None:
            w.restoreState(state)
        self._restore_splitters(self._splitters())
        tab = s.value("window/tab")
        if tab is not None and 0 <= int(tab) < w.tabs.count():
            w.tabs.setCurrentIndex(int(tab))     # a deferred tab's panel is built, and restored, now
        self.fit_to_screen()

    def restore_panel(self, name: str, panel) -> None:
        """A panel's part of the saved state: its splitters (whose built layout Reset layout goes
        back to), and the latent map's projection or the Train tab's settings."""
        splitters = [sp for sp in panel.findChildren(QSplitter) if sp.objectName()]
        for splitter in splitters:
            self.default_splitters.setdefault(splitter.objectName(), splitter.saveState())
        self._restore_splitters(splitters)
        if name == "map":
            index = panel.method.findData(self.settings.value("map/projection"))
            if index >= 0:
                panel.method.setCurrentIndex(index)
        elif name == "train":
            train = self._json("train/settings")
            if isinstance(train, dict):
                panel.apply_settings_record(train)

    def _saved_splitters(self) -> dict:
        saved = self.settings.value("window/splitters")
        return dict(saved) if isinstance(saved, dict) else {}

    def _restore_splitters(self, splitters: list[QSplitter]) -> None:
        saved = self._saved_splitters()
        for splitter in splitters:
            if splitter.objectName() in saved:
                splitter.restoreState(saved[splitter.objectName()])

    def fit_to_screen(self) -> None:
        """A restored (or default) layout that does not fit where it opens is repaired: a window
        larger than the screen's free area shrinks to it (not below its minimum size), one placed
        off the screen moves back onto it, and a dock squeezed below its widget's minimum width (a
        layout saved by another version, or on a wider screen) gets its default width back."""
        w = self.window
        screen = w.screen().availableGeometry() if w.screen() is not None else None
        if screen is not None and not w.isMaximized() and not w.isFullScreen():
            minimum = w.minimumSizeHint().expandedTo(w.minimumSize())
            width = max(min(w.width(), screen.width()), minimum.width())
            height = max(min(w.height(), screen.height()), minimum.height())
            if (width, height) != (w.width(), w.height()):
                w.resize(width, height)
            frame = w.frameGeometry()
            x = min(max(frame.x(), screen.left()), max(screen.right() - frame.width() + 1, screen.left()))
            y = min(max(frame.y(), screen.top()), max(screen.bottom() - frame.height() + 1, screen.top()))
            if (x, y) != (frame.x(), frame.y()):
                w.move(x, y)
        for dock in w.findChildren(QDockWidget):
            inner = dock.widget()
            need = inner.minimumWidth() if inner is not None else 0
            if dock.isVisible() and not dock.isFloating() and dock.width() < need:
                w.resizeDocks([dock], [max(need, DOCK_WIDTH)], Qt.Horizontal)

    def last_model(self) -> Path | None:
        path = self.settings.value("models/last")
        return Path(str(path)) if path and Path(str(path)).exists() else None

    def restore_latent(self) -> None:
        """The explorer's last latent (with its seed, A/B path and class), when the model open now is
        the one it was saved on."""
        record = self._json("explore/latent")
        if not isinstance(record, dict) or record.get("checkpoint") != self.window.session.checkpoint:
            return
        try:
            self.window.session.apply_record(record)
        except Exception as exc:  # an old or hand-edited record: start from the seed instead
            log.warning("settings: the saved latent does not fit %s (%s); ignored", self.window.session.checkpoint, exc)
            return
        # The restored state is where the history starts: the seed's latent the model opened on was
        # never shown (its decode was overtaken), so as a state of its own it would never render.
        self.window.history.start_from_current()

    def reset_layout(self) -> None:
        """Geometry, docks and splitters as the window first opened; the saved layout is forgotten."""
        w = self.window
        w.showNormal()
        w.resize(self.default_size)
        w.restoreState(self.default_state)
        for splitter in self._splitters():
            if splitter.objectName() in self.default_splitters:
                splitter.restoreState(self.default_splitters[splitter.objectName()])
        for key in LAYOUT_KEYS:
            self.settings.remove(key)
