"""Undo / redo of every latent edit in the explorer (Ctrl+Z, Ctrl+Shift+Z) and the strip of the
last states as thumbnails, a click on one returning to it. Each change of the explorer's latent
(slider, seed, randomise, reset, t, load, pin from the map, a translation model's input) adds a
state; a slider drag, from grab to release, is one state (core/latent_history.py keeps them).

Each state in view gets its thumbnail: the explorer's image when it lands, or, for a state whose
decode a newer latent overtook before it ran (a seed clicked through quickly), a decode of its own,
asked for one at a time. Another model starts the states afresh from the latent it opens on."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QObject, QSize, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from genstudio.core.explore.explore_session import source_of
from genstudio.core.explore.latent_history import HistoryEntry, LatentHistory
from genstudio.core.families.capabilities import Capability
from genstudio.core.requests.render_requests import Decode
from genstudio.core.requests.translation_requests import TranslateImage, TranslationView
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.widgets.image_view import to_qimage
from genstudio.ui.widgets.keep_space import keep_space_when_hidden

SHOWN = 8                 # thumbnails in the strip
THUMB = 40                # px
BUTTON_MARGIN = 6         # px around a thumbnail in its button
THUMBNAIL_CHANNEL = "history-thumbnail"
REST_MS = 120             # the strip follows the states once they rest this long (not every slider move)


class ExploreHistory(QObject):
    changed = Signal()

    def __init__(self, session, explore, scope: ModelScope, parent=None):
        super().__init__(parent)
        self.session, self.explore, self.scope = session, explore, scope
        self.history = LatentHistory()
        self.restoring = False
        self.thumbnail_generation: int | None = None    # the model the thumbnails were made by
        self._drawing: HistoryEntry | None = None        # the state whose own thumbnail decode is out
        self._undrawable: list[HistoryEntry] = []        # states whose thumbnail decode failed
        session.events.latent.connect(self._latent_changed)
        scope.changed.connect(lambda info: self.start_from_current())
        explore.renderer.done.connect(self._thumbnail_drawn)
        explore.renderer.failed.connect(self._thumbnail_failed)
        self.changed.connect(self._draw_missing)
        explore.sliders.dragStarted.connect(self.history.begin_group)
        explore.sliders.dragEnded.connect(self.history.end_group)
        explore.t_slider.sliderPressed.connect(self.history.begin_group)
        explore.t_slider.sliderReleased.connect(self.history.end_group)
        # A drag through a translation model's data images is one state too.
        explore.translation_input.slider.sliderPressed.connect(self.history.begin_group)
        explore.translation_input.slider.sliderReleased.connect(self._input_released)
        self._end_group_when_made = False           # released while the last input was still being read
        explore.imageRendered.connect(self._rendered)

    def start_from_current(self) -> None:
        """The states start afresh at the session's latent (another model; a latent restored at start)."""
        self.history.clear()
        self._drawing, self._undrawable = None, []
        self.thumbnail_generation = None
        self._latent_changed(self.session)
        self.changed.emit()

    def _latent_changed(self, session) -> None:
        info = self.scope.info
        # A translation model's state is whole once the explorer has made its input (the session's source).
        waiting = info is not None and info.has(Capability.TRANSLATION) and session.source is None
        if not self.restoring and session.checkpoint and not waiting and self.history.record(session.to_record()):
            self.changed.emit()
        if self._end_group_when_made and not self.explore.source_pending():
            self._end_group_when_made = False
            self.history.end_group()

    def _input_released(self) -> None:
        """The drag's group ends with the input it let go on: at once, or when that image is made."""
        if self.explore.source_pending():
            self._end_group_when_made = True
        else:
            self.history.end_group()

    def _rendered(self, kind: str) -> None:
        image = self.explore.last_image
        if image is not None and kind == "full":
            self.history.set_thumbnail(np.asarray(image))
            self.thumbnail_generation = self.scope.made_for("image")
            self.changed.emit()

    def first_shown(self) -> int:
        """Index of the state in the strip's first button: the current one stays in view."""
        return max(0, min(len(self.history.entries) - SHOWN, self.history.index - SHOWN // 2))

    def _draw_missing(self) -> None:
        """Decode the first state in view that has no thumbnail (the current one's image is on its
        way), unless one such decode is already out."""
        info, h = self.scope.info, self.history
        if self._drawing is not None or info is None or info.is_points:
            return
        first = self.first_shown()
        for index in range(first, min(first + SHOWN, len(h.entries))):
            entry = h.entries[index]
            if index != h.index and entry.thumbnail is None and not any(e is entry for e in self._undrawable):
                self._drawing = entry
                state = entry.state
                labels = torch.tensor([state["label"]]) if "label" in state and info.num_classes else None
                latent, options = torch.tensor([state["latent"]]), self._options_of(state)
                if "source" in options and info.has(Capability.TRANSLATION):
                    # As the explorer draws it: input | translation | round trip.
                    request = TranslateImage(options["source"], int(options.get("direction", 0)), latent)
                else:
                    request = Decode(latent, labels, options)
                self.scope.submit(THUMBNAIL_CHANNEL, request)
                return

    def _options_of(self, state: dict) -> dict:
        """The state's decode options, its edit in a declared space when the session has that
        space's directions, and its source image (a translation model's input)."""
        source = source_of(state, "the history")
        return {**state.get("decode_options", {}), **self.session.edit_options(state),
                **({} if source is None else {"source": source})}

    def _thumbnail_drawn(self, channel: str, result, ms: float) -> None:
        if channel != THUMBNAIL_CHANNEL or self._drawing is None:
            return
        entry, self._drawing = self._drawing, None
        # (C, H, W); gone with the entry if it was dropped
        entry.thumbnail = np.asarray(result.picture() if isinstance(result, TranslationView) else result[0])
        self.thumbnail_generation = self.scope.made_for(channel)
        self.changed.emit()

    def _thumbnail_failed(self, channel: str, message: str) -> None:
        if channel == THUMBNAIL_CHANNEL and self._drawing is not None:
            self._undrawable.append(self._drawing)
            self._drawing = None

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
            session.apply_record(state)         # its seed too
        finally:
            self.restoring = False
        self.changed.emit()


class HistoryStrip(QWidget):
    """The last SHOWN states as thumbnails, the current one pressed; a click returns to a state."""

    def __init__(self, history: ExploreHistory, parent=None):
        super().__init__(parent)
        self.history = history
        self.buttons: list[QToolButton] = []
        # The icon of each state in view, {id(entry): (entry, the thumbnail it shows, QIcon)}: every
        # slider move adds or replaces a state and shifts the strip, and remaking all 8 icons each
        # time cost about 1 ms of every move.
        self._icons: dict[int, tuple] = {}
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
            keep_space_when_hidden(button)
            button.clicked.connect(lambda checked=False, slot=slot: self.history.jump(self.first_shown() + slot))
            row.addWidget(button)
            self.buttons.append(button)
        row.addStretch(1)
        self.bound = history.scope.bind("history strip", clear=self._clear, content=self.thumbnails_shown)
        # Redrawn when the states rest, not at every change: a slider drag changes the current state
        # and its thumbnail at every move, and redrawing the strip then (its Python, the buttons'
        # repaint) ran beside each move's decode and slowed it. A person looks at the image while
        # dragging; the strip catches up 120 ms after the hand stops.
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(REST_MS)
        self._rest.timeout.connect(self.refresh)
        history.changed.connect(self._rest.start)
        self.refresh()

    def first_shown(self) -> int:
        return self.history.first_shown()

    def _clear(self) -> None:
        self.history.history.clear()
        self.refresh()

    def thumbnails_shown(self) -> int:
        return sum(not button.isHidden() and not button.icon().isNull() for button in self.buttons)

    def refresh(self) -> None:
        h = self.history.history
        first = self.first_shown()
        icons = {}
        for slot, button in enumerate(self.buttons):
            index = first + slot
            if index >= len(h.entries):
                button.hide()
                continue
            entry = h.entries[index]
            if entry.thumbnail is not None and entry.thumbnail.ndim == 3:
                made = self._icons.get(id(entry))
                if made is None or made[0] is not entry or made[1] is not entry.thumbnail:
                    made = (entry, entry.thumbnail, QIcon(QPixmap.fromImage(to_qimage(entry.thumbnail))))
                icons[id(entry)] = made
                button.setIcon(made[2])
                button.setText("")
            else:
                button.setIcon(QIcon())
                button.setText(str(index + 1))
            button.setToolTip(f"state {index + 1} of {len(h.entries)}: seed {entry.state['seed']}")
            button.setChecked(index == h.index)
            button.show()
        self._icons = icons                 # the states out of view let their icons go
        self.bound.show(self.history.thumbnail_generation)
