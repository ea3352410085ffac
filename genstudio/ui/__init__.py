"""The Qt layer (PySide6 + pyqtgraph), thin over genstudio.core."""
