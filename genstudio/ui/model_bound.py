"""Opening another model is a clean slate: one scope for the open model, its generation, and the
widgets that show something a model computed.

`ModelScope.switch(info)` is the one "model changed" path. It numbers the new model (the
generation), cancels every request the panels made through it (`submit`: the renderer then drops
the old model's late results, queued or running), clears every bound widget to "nothing", and
emits `changed(info)`; each panel's `reset_for_model(info)` observes it and recomputes for the new
model. `refresh(info)` is the other path: newer weights of the same model (a training snapshot, the
same file on another decode device) keep what is shown, and `refreshed(info)` tells the panels.

A bound widget (`bind`) records the generation of what it shows: a panel calls `show(generation)`
where it displays a result, with the generation the result was made for (`made_for(channel)` for a
renderer request, the generation a task started under for a task). `stale()` lists the bound
widgets that show something of another generation: after a switch it must be empty, whatever was in
flight (tests/ui/test_model_switch.py asks it after every switch between the bundled demos).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QLabel

from genstudio.core.events import Event
from genstudio.ui.widgets.image_view import ImageView


def _clear_and_content(view) -> tuple[Callable[[], None], Callable[[], object]]:
    """How to empty a view, and what it shows (compared with what it shows when empty)."""
    if isinstance(view, ImageView):
        return (lambda: view.set_image(None)), (lambda: view.image() is not None)
    if isinstance(view, QLabel):
        empty = view.text()                 # an instruction, or "": what the label says before any result
        return (lambda: view.setText(empty)), view.text
    if isinstance(view, QComboBox):
        return view.clear, view.count
    if isinstance(view, pg.PlotWidget):     # its title
        title = view.getPlotItem().titleLabel
        empty = title.text
        return (lambda: view.getPlotItem().setTitle(empty)), (lambda: title.text)
    if isinstance(view, pg.BarGraphItem):
        return ((lambda: view.setOpts(x=[], height=[])),
                (lambda: 0 if view.opts.get("height") is None else len(view.opts["height"])))
    if isinstance(view, pg.ScatterPlotItem):
        return (lambda: view.setData([], [])), (lambda: len(view.data))
    if isinstance(view, pg.PlotDataItem):
        return (lambda: view.setData([], [])), (lambda: 0 if view.xData is None else len(view.xData))
    if isinstance(view, pg.ImageItem):
        return view.clear, (lambda: view.image is not None)
    if isinstance(view, pg.InfiniteLine):
        return (lambda: view.setVisible(False)), view.isVisible
    raise TypeError(f"model_bound: no way to clear a {type(view).__name__}; bind it with clear= and content=")


@dataclass(eq=False)
class Bound:
    """Widgets that together show one thing a model computed (an image and its caption, a plot and
    its title). `generation`: the model generation of what they show; None while they show nothing."""

    name: str
    _clear: Callable[[], None]
    _content: Callable[[], object]
    generation: int | None = None
    _empty: object = field(default=None, init=False)

    def __post_init__(self):
        self._empty = self._content()        # bound as built: empty

    def clear(self) -> None:
        self._clear()
        self._empty = self._content()
        self.generation = None

    def show(self, generation: int | None) -> None:
        """What the widgets now show was made for model `generation` (None: unknown; never current)."""
        self.generation = generation

    def shows(self) -> bool:
        """Whether the widgets show anything beyond their empty state."""
        return self._content() != self._empty


class ModelScope:
    def __init__(self, renderer=None):
        self.renderer = renderer
        self.generation = 0                    # 0: no model yet; each switch adds one
        self.info = None                       # the ModelInfo of the model on show
        self.changed = Event("changed")        # a different model (info): panels reset
        self.refreshed = Event("refreshed")    # newer weights of the same model (info): panels keep
        self.bound: list[Bound] = []
        self._made_for: dict[str, int] = {}    # renderer channel -> generation of its newest request

    # --- binding --------------------------------------------------------------------------------
    def bind(self, name: str, *views, clear: Callable[[], None] | None = None,
             content: Callable[[], object] | None = None) -> Bound:
        """Bind views that show a model's result: image views, labels, combo boxes, plot titles and
        plot items are cleared and read by their type; anything else gives `clear` and `content`."""
        pairs = [_clear_and_content(view) for view in views]
        if clear is not None:
            pairs.append((clear, content))
        bound = Bound(name, lambda: [c() for c, _ in pairs], lambda: tuple(s() for _, s in pairs))
        self.bound.append(bound)
        return bound

    def stale(self) -> list[Bound]:
        """Bound widgets showing something not made for the model on show."""
        return [b for b in self.bound if b.shows() and b.generation != self.generation]

    # --- requests -------------------------------------------------------------------------------
    def submit(self, channel: str, request) -> int:
        """A renderer request for the model on show; cancelled if the model changes before it lands."""
        self._made_for[channel] = self.generation
        return self.renderer.submit(channel, request)

    def made_for(self, channel: str) -> int | None:
        """The generation the channel's newest request was made for (the renderer delivers only that)."""
        return self._made_for.get(channel)

    def is_current(self, generation: int | None) -> bool:
        return generation == self.generation

    # --- the model changes ----------------------------------------------------------------------
    def switch(self, info) -> None:
        """A different model: old requests cancelled, bound widgets cleared, then `changed(info)`."""
        self.generation += 1
        self.info = info
        for channel in self._made_for:
            self.renderer.cancel(channel)
        self._made_for.clear()
        for bound in self.bound:
            bound.clear()
        self.changed.emit(info)

    def refresh(self, info) -> None:
        """Newer weights of the model on show: what is shown stays; `refreshed(info)`."""
        self.info = info
        self.refreshed.emit(info)
