"""The Qt-free core: data, models, checkpoints, the training engine, metrics and export.

Nothing under this package may import PySide6 or pyqtgraph (tests/core/test_core_is_qt_free.py).
"""
