"""Tabs whose panels are built when first needed rather than with the window.

Building every panel with the window held the start-up's first image back: 350 ms of the window's
400 ms build here went to panels behind other tabs (Train 125, Diagnostics 100-137, Inspect 50-65,
Map 47-61 ms; mostly pyqtgraph's plots and their context menus). A deferred tab holds an empty page
until its panel is built, which happens when the tab is chosen, when code asks for the panel
(`get`), or in the event loop's turns after start-up (`build_all_soon`: one panel a turn, so a
slider grabbed meanwhile waits for one panel at most). The panel then takes the page's place, at
the same index, with the same title.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSignalBlocker, QTimer
from PySide6.QtWidgets import QTabWidget, QWidget


class DeferredPanel:
    """A window's attribute for a deferred tab's panel (`window.train`): the panel of the tab named
    as the attribute, built when first asked for. The window keeps its DeferredTabs as `deferred`."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, window, owner=None):
        return self if window is None else window.deferred.get(self.name)


class DeferredTabs:
    def __init__(self, tabs: QTabWidget, built: Callable[[str, QWidget], None]):
        self.tabs = tabs
        self._built = built                     # (name, panel): the window wires it and catches it up
        self._waiting: dict[str, tuple[QWidget, Callable[[], QWidget]]] = {}   # name -> (page, build)
        self.panels: dict[str, QWidget] = {}    # name -> its panel, once built
        tabs.currentChanged.connect(self._chosen)

    def add(self, name: str, title: str, build: Callable[[], QWidget]) -> None:
        page = QWidget()
        page.setObjectName(f"deferred-{name}")
        self.tabs.addTab(page, title)
        self._waiting[name] = (page, build)

    def get(self, name: str) -> QWidget:
        """The panel, built now if it was not."""
        if name not in self.panels:
            self._build(name)
        return self.panels[name]

    def built(self, name: str) -> QWidget | None:
        """The panel if it was built, else None (nothing of it to stop, save or ask)."""
        return self.panels.get(name)

    def build_all_soon(self) -> None:
        if self._waiting:
            QTimer.singleShot(0, self._build_next)

    def _build_next(self) -> None:
        if self._waiting:
            self._build(next(iter(self._waiting)))
            self.build_all_soon()

    def _build(self, name: str) -> None:
        page, build = self._waiting.pop(name)
        panel = build()
        self.panels[name] = panel
        index, current = self.tabs.indexOf(page), self.tabs.currentIndex()
        # The swap moves the current tab for a moment: nobody is told (the tab chosen, if it was
        # this one, was announced already; its listeners after this one see the panel).
        with QSignalBlocker(self.tabs):
            title = self.tabs.tabText(index)
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, panel, title)
            self.tabs.setCurrentIndex(current)
        page.deleteLater()
        self._built(name, panel)

    def _chosen(self, index: int) -> None:
        page = self.tabs.widget(index)
        for name, (waiting, _) in list(self._waiting.items()):
            if waiting is page:
                self._build(name)
                return
