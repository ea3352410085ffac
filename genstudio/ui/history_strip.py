"""Undo / redo of every latent edit in the explorer (Ctrl+Z, Ctrl+Shift+Z) and the strip of the
last states as thumbnails, a click on one returning to it. Each change of the explorer's latent
(slider, seed, randomise, reset, t, load, pin from the map) adds a state; a slider drag, from
grab to release, is one state (core/latent_history.py keeps them)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from genstudio.core.explore.latent_history import LatentHistory
from genstudio.ui.widgets.image_view import to_qimage

SHOWN = 8                 # thumbnails in the strip
THUMB = 40                # px
BUTTON_MARGIN = 6         # px around a thumbnail in its button


class ExploreHistory(QObject):
    changed = Signal()

    def __init__(self, session, explore, parent=None):
        super().__init__(parent)
        self.session, self.explore = session, explore
        self.history = LatentHistory()
        self.restoring = False
        session.events.latent.connect(self._latent_changed)
        explore.sliders.dragStarted.connect(self.history.begin_group)
        explore.sliders.dragEnded.connect(self.history.end_group)
        explore.t_slider.sliderPressed.connect(self.history.begin_group)
        explore.t_slider.sliderReleased.connect(self.history.end_group)
        explore.imageRendered.connect(self._rendered)

    def clear(self) -> None:
        """A different model: its states start afresh."""
        self.history.clear()
        self.changed.emit()

    def _latent_changed(self, session) -> None:
        if not self.restoring and session.checkpoint and self.history.record(session.to_record()):
            self.changed.emit()

    def _rendered(self, kind: str) -> None:
        image = self.explore.last_image
        if image is not None and kind == "full":
            self.history.set_thumbnail(np.asarray(image))
            self.changed.emit()

    def undo(self) -> None:
        state = self.history.undo()
        if state is not None:
            self._restore(state)

    def redo(self) -> None:
        state = self.history.redo()
        if state is not None:
            self._restore(state)

    def jump(self, index: int) -> None:
        self._restore(self.history.jump(index))

    def _restore(self, state: dict) -> None:
        session = self.session
        self.restoring = True
        try:
            if int(state["seed"]) != session.seed:
                session.seed = int(state["seed"])
                session.events.settings.emit(session)
            session.apply_record(state)
        finally:
            self.restoring = False
        self.changed.emit()


class HistoryStrip(QWidget):
    """The last SHOWN states as thumbnails, the current one pressed; a click returns to a state."""

    def __init__(self, history: ExploreHistory, parent=None):
        super().__init__(parent)
        self.history = history
        self.buttons: list[QToolButton] = []
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("History"))
        for slot in range(SHOWN):
            button = QToolButton()
            button.setCheckable(True)
            button.setIconSize(QSize(THUMB, THUMB))
            button.setAutoRaise(True)
            # A fixed size that a hidden button keeps: a new icon, a number instead of one, or a
            # button shown or hidden then changes no size hint, so the strip never re-lays out the
            # explorer around it (each relayout repainted the large image view: about 10 ms of every
            # slider move at 1440 x 900, in `genstudio bench --only ui`).
            button.setFixedSize(THUMB + BUTTON_MARGIN, THUMB + BUTTON_MARGIN)
            policy = button.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            button.setSizePolicy(policy)
            button.clicked.connect(lambda checked=False, slot=slot: self.history.jump(self.first_shown() + slot))
            row.addWidget(button)
            self.buttons.append(button)
        row.addStretch(1)
        history.changed.connect(self.refresh)
        self.refresh()

    def first_shown(self) -> int:
        """Index of the entry in the first button: the current one stays in view."""
        entries = self.history.history.entries
        return max(0, min(len(entries) - SHOWN, self.history.history.index - SHOWN // 2))

    def refresh(self) -> None:
        h = self.history.history
        first = self.first_shown()
        for slot, button in enumerate(self.buttons):
            index = first + slot
            if index >= len(h.entries):
                button.hide()
                continue
            entry = h.entries[index]
            if entry.thumbnail is not None and entry.thumbnail.ndim == 3:
                button.setIcon(QIcon(QPixmap.fromImage(to_qimage(entry.thumbnail))))
                button.setText("")
            else:
                button.setIcon(QIcon())
                button.setText(str(index + 1))
            button.setToolTip(f"state {index + 1} of {len(h.entries)}: seed {entry.state['seed']}")
            button.setChecked(index == h.index)
            button.show()
