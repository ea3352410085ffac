"""Plot titles that never clip: a pyqtgraph plot's title is elided ("...") to the width its plot
gives it, re-elided whenever that width changes, with the whole title in its tooltip.

pyqtgraph's own title (a LabelItem) sets its minimum width to its text's, so a long title ("Loss by
noise level: q1 least noise (t < T/4) .. q4 most") in a narrow window widens its plot past the view
and is cut at the edge, taking the plot's right side with it. `fit_title(plot)` swaps in a
FittedTitle, which asks for no width of its own; `plot.setTitle(text)` then works as before, and
`titleLabel.text` stays the whole title (what model_bound compares and restores).

Titles are plain text, escaped before pyqtgraph renders them as HTML: its own title read the
"< T/4" of the diffusion family's title as the start of a tag and showed nothing after it.
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF


class FittedTitle(pg.LabelItem):
    """A plot title (plain text) drawn elided to the label's width, whole in the tooltip."""

    text_whole = ""                     # the whole title (pyqtgraph's `text` is kept equal to it)
    _fitted_to: float | None = None     # the width the shown text was elided for

    def __init__(self, plot: pg.PlotItem, size: str = "11pt"):
        super().__init__("", parent=plot, size=size)

    def font(self) -> QFont:
        """The font the title is drawn in: the text item's, at the label's size option ("11pt", "12px")."""
        font = QFont(self.item.font())
        size = str(self.opts.get("size", ""))
        if size.endswith("pt"):
            font.setPointSizeF(float(size[:-2]))
        elif size.endswith("px"):
            font.setPixelSize(round(float(size[:-2])))
        return font

    def text_room(self) -> float:
        """The width the text may take: the label's, less the text item's margins on both sides."""
        return max(0.0, self.width() - 2 * self.item.document().documentMargin())

    def shown_text(self) -> str:
        """The (possibly elided) text drawn."""
        return self.item.toPlainText()

    def setText(self, text, **args):
        self.text_whole = text
        self._render(**args)

    def _render(self, **args) -> None:
        whole = self.text_whole
        room = self.text_room()
        shown = QFontMetricsF(self.font()).elidedText(whole, Qt.ElideRight, room) if room > 0 else whole
        self._fitted_to = room
        super().setText(html.escape(shown), **args)
        self.text = whole                         # what the title says, whatever fits of it
        self.setToolTip(whole if shown != whole else "")

    def updateMin(self):
        """As a LabelItem, but asking for no width: the title is elided to what the plot gives it."""
        super().updateMin()
        height = self.itemRect().height()
        self.setMinimumWidth(0)
        self._sizeHint[Qt.SizeHint.MinimumSize] = (0, height)
        self._sizeHint[Qt.SizeHint.PreferredSize] = (0, height)
        self.updateGeometry()

    def resizeEvent(self, ev):
        # LabelItem.setText calls resizeEvent(None) itself: only a real resize re-elides.
        if ev is not None and self.text_room() != self._fitted_to:
            self._render()
        super().resizeEvent(ev)


def fit_title(view: pg.PlotWidget | pg.PlotItem) -> pg.PlotItem:
    """Give a plot (or a PlotWidget's plot) a FittedTitle in place of its own, keeping its text."""
    plot = view.getPlotItem() if isinstance(view, pg.PlotWidget) else view
    old = plot.titleLabel
    if isinstance(old, FittedTitle):
        return plot
    visible, text = old.isVisible(), old.text
    plot.layout.removeItem(old)
    if old.scene() is not None:
        old.scene().removeItem(old)
    plot.titleLabel = FittedTitle(plot, size=old.opts.get("size", "11pt"))
    plot.layout.addItem(plot.titleLabel, 0, 1)
    plot.setTitle(text if visible else None)
    return plot
