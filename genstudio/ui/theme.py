"""Light and dark appearance, following the operating system's colour scheme (Qt 6.5's
QStyleHints.colorScheme) as it changes: the Qt palette, every pyqtgraph plot's background, axes
and grid, and the colours of banners and error lines, which are set from the current theme
rather than written into each widget.

Widgets with coloured text or backgrounds register a style template with `themed(widget,
template)` (the template's {fields} are the Theme's), plot views with `themed_plot(view)`, plot
items their pens with `on_theme(owner, restyle)`; all are redone whenever the theme changes.
Error lines in rich text take `error_html(text)`.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget


@dataclass(frozen=True)
class Theme:
    name: str
    plot_background: str
    plot_foreground: str
    grid_alpha: int
    banner_background: str
    banner_text: str
    error: str
    warning: str
    ok: str
    muted: str


LIGHT = Theme("light", "#ffffff", "#000000", 35, "#fdecea", "#8a1c13", "#b00020", "#b35900", "#1b7a1b", "#555555")
DARK = Theme("dark", "#1e1e1e", "#dddddd", 60, "#4a1c1c", "#ffb4ab", "#ff6b6b", "#ffb74d", "#81c784", "#aaaaaa")


class _Notifier(QObject):
    changed = Signal(object)        # the new Theme


_state = {"theme": LIGHT}
notifier = _Notifier()


def current() -> Theme:
    return _state["theme"]


def dark_palette() -> QPalette:
    """Fusion's colours for a dark window: dark grey surfaces, light text, a blue highlight."""
    p = QPalette()
    window, base, text = QColor(45, 45, 45), QColor(30, 30, 30), QColor(220, 220, 220)
    for role, colour in ((QPalette.Window, window), (QPalette.WindowText, text), (QPalette.Base, base),
                         (QPalette.AlternateBase, window), (QPalette.ToolTipBase, window), (QPalette.ToolTipText, text),
                         (QPalette.Text, text), (QPalette.Button, window), (QPalette.ButtonText, text),
                         (QPalette.BrightText, QColor(255, 80, 80)), (QPalette.Link, QColor(100, 160, 255)),
                         (QPalette.Highlight, QColor(42, 130, 218)), (QPalette.HighlightedText, QColor(0, 0, 0)),
                         (QPalette.PlaceholderText, QColor(140, 140, 140))):
        p.setColor(role, colour)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(120, 120, 120))
    return p


def _plot_items(view) -> list:
    if isinstance(view, pg.PlotWidget):
        return [view.getPlotItem()]
    layout = getattr(view, "ci", None)
    return [item for item in getattr(layout, "items", {}) if isinstance(item, pg.PlotItem)]


def _style_view(view, theme: Theme) -> None:
    """A PlotWidget or GraphicsLayoutWidget: background, axes, titles, grid."""
    view.setBackground(theme.plot_background)
    for item in _plot_items(view):
        for name in ("left", "bottom", "right", "top"):
            axis = item.getAxis(name)
            axis.setPen(theme.plot_foreground)
            axis.setTextPen(theme.plot_foreground)
        item.titleLabel.setAttr("color", theme.plot_foreground)
        item.titleLabel.setText(item.titleLabel.text)
        for child in item.items:
            if isinstance(child, pg.GridItem):
                child.setPen(grid_pen(theme))


def grid_pen(theme: Theme | None = None):
    theme = theme or current()
    colour = QColor(theme.plot_foreground)
    colour.setAlpha(theme.grid_alpha)
    return pg.mkPen(colour)


def apply_theme(app, dark: bool) -> Theme:
    """Switch the whole app to the dark or light theme, plots included."""
    theme = DARK if dark else LIGHT
    _state["theme"] = theme
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    # Plots made from now on take the colours from pyqtgraph's options; those made before registered
    # with themed_plot. (Walking QApplication.allWidgets() instead crashed PySide6 in a long test run.)
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground)
    notifier.changed.emit(theme)
    return theme


def system_is_dark(app) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def follow_system(app) -> None:
    """Take the system's scheme now and whenever it changes."""
    apply_theme(app, system_is_dark(app))
    app.styleHints().colorSchemeChanged.connect(lambda scheme: apply_theme(app, scheme == Qt.ColorScheme.Dark))


def on_theme(owner, restyle) -> None:
    """Call restyle(theme) now and at each theme change, for as long as `owner` (a QObject) lives."""
    restyle(current())

    def slot(theme: Theme) -> None:     # a plain function: a bound method of a deleted widget cannot be disconnected
        restyle(theme)

    notifier.changed.connect(slot)
    owner.destroyed.connect(lambda *_: _disconnect(slot))


def _disconnect(slot) -> None:
    try:
        notifier.changed.disconnect(slot)
    except (RuntimeError, TypeError):   # already gone with the app
        pass


def themed(widget, template: str) -> None:
    """Style `widget` with `template` (a style sheet with the Theme's {fields}), now and on each change."""
    on_theme(widget, lambda theme: widget.setStyleSheet(template.format(**asdict(theme))))


def themed_plot(view):
    """Restyle `view` (a PlotWidget or GraphicsLayoutWidget) at each theme change; returns it."""
    on_theme(view, lambda theme: _style_view(view, theme))
    return view


def fill_with_plots(owner: QWidget):
    """A themed pyqtgraph GraphicsLayoutWidget filling `owner` edge to edge (the Train panel's curves,
    the Runs tab's overlays); returns it."""
    view = themed_plot(pg.GraphicsLayoutWidget())
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(view)
    return view


def error_html(text: str) -> str:
    """Rich text for an error line in the current theme's error colour (`text` is escaped)."""
    return f"<span style='color:{current().error}'>{html.escape(text)}</span>"
