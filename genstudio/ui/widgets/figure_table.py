"""A diagnostics report's figures as a table for a person: the plain name, the generated samples'
value, the real data's own value at the same sample count, a coloured gauge (good / fair / poor) and
the technical name; each row's tooltip holds the definition and how its gauge is read. The rows are
report["figures"] (core/metrics/gauges.py `figure_rows`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSizePolicy, QTableWidget, QTableWidgetItem

from genstudio.ui import theme

COLUMNS = ("Figure", "Generated", "Real data's own", "Gauge", "Technical name")
GAUGE_COLOUR = {"good": "ok", "fair": "warning", "poor": "error"}     # Theme fields
NO_GAUGE = "\u2013"


def row_tooltip(row: dict) -> str:
    band = row["band"] or "no gauge: read the value beside the real data's own"
    return f"{row['definition']}\nTechnical name: {row['technical']}\nGauge: {band}"


class FigureTable(QTableWidget):
    """`set_figures(rows)` fills one row per figure; the table is as tall as its rows (it sits in a
    scroll area, which scrolls it), and the gauges are recoloured with the theme."""

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.NoSelection)
        self.setFocusPolicy(Qt.NoFocus)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.ElideRight)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        header = self.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.Stretch)
        self.figures: list[dict] = []
        self._fit_height()
        theme.on_theme(self, self._colour_gauges)

    def set_figures(self, rows: list[dict]) -> None:
        self.figures = list(rows)
        self.setRowCount(len(rows))
        for i, row in enumerate(rows):
            cells = (row["name"], row["text"], row["real_text"], row["gauge"] or NO_GAUGE, row["technical"])
            tip = row_tooltip(row)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if column in (1, 2):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                elif column == 3:
                    item.setTextAlignment(Qt.AlignCenter)
                self.setItem(i, column, item)
        self._colour_gauges(theme.current())
        self._fit_height()

    def clear_figures(self) -> None:
        self.figures = []
        self.setRowCount(0)
        self._fit_height()

    def gauge(self, row: int) -> QTableWidgetItem:
        return self.item(row, 3)

    def _colour_gauges(self, colours: theme.Theme) -> None:
        bold, plain, grey = QFont(self.font()), QFont(self.font()), QColor(colours.muted)
        bold.setBold(True)
        for i, row in enumerate(self.figures):
            gauge = row["gauge"]
            self.gauge(i).setForeground(QColor(getattr(colours, GAUGE_COLOUR[gauge])) if gauge else grey)
            self.gauge(i).setFont(bold if gauge else plain)
            self.item(i, len(COLUMNS) - 1).setForeground(grey)           # the technical name: secondary

    def _fit_height(self) -> None:
        """As tall as the header and every row: no scroll bar of its own."""
        self.resizeRowsToContents()
        self.setFixedHeight(self.horizontalHeader().sizeHint().height() + self.verticalHeader().length()
                            + 2 * self.frameWidth())
