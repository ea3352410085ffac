"""Widgets that come and go without moving their neighbours."""

from PySide6.QtWidgets import QWidget


def keep_space_when_hidden(widget: QWidget) -> None:
    """A widget whose hiding leaves its space empty, so showing it moves nothing else."""
    policy = widget.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    widget.setSizePolicy(policy)
