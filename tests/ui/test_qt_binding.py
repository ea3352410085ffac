"""The installed Qt binding keeps Python's reference counts: a binding that drops a reference to
None (PySide6 6.12.0 on Python 3.11 does, on every call returning void) aborts the app after
a few thousand paints with "Fatal Python error: none_dealloc"."""

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 (PEP 683)")
def test_void_qt_calls_keep_none_and_bools_alive(qtbot):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter, QPen
    from PySide6.QtWidgets import QLabel

    image = QImage(32, 32, QImage.Format_ARGB32)
    painter = QPainter(image)
    pen, label = QPen(QColor(0, 0, 0)), QLabel()
    qtbot.addWidget(label)
    none_before, false_before = sys.getrefcount(None), sys.getrefcount(False)
    for _ in range(500):
        painter.setPen(pen)
        painter.drawRect(QRectF(0, 0, 4, 4))
        label.setText("x")
        label.isVisible()                                   # returns a bool
    painter.end()
    # Some drift is normal (objects created meanwhile hold None); a broken binding loses >= 1500.
    assert sys.getrefcount(None) > none_before - 100
    assert sys.getrefcount(False) > false_before - 100
