"""Choices in a drop-down that this machine cannot take: shown, greyed out, with the reason."""

from __future__ import annotations

from PySide6.QtCore import Qt


def mark_available(combo, index: int, available: bool, reason: str) -> None:
    """Enable or grey out item `index` of `combo` (a QComboBox on a QStandardItemModel, its default)
    and say why in its tooltip."""
    combo.model().item(index).setEnabled(available)
    combo.setItemData(index, reason if available else f"unavailable: {reason}", Qt.ToolTipRole)
