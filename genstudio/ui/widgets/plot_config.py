"""pyqtgraph's global options, set once before any plot item exists.

Row-major images match numpy's (H, W) layout; antialiased curves cost several ms a repaint once
runs are long, and the GUI thread must stay light while training."""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="w", foreground="k")
