"""pyqtgraph's global options, set once before any plot item exists.

Row-major images match numpy's (H, W) layout; antialiased curves cost several ms a repaint once
runs are long, and the GUI thread must stay light while training."""

import pyqtgraph as pg

from genstudio.ui.theme import grid_pen

# Light colours until theme.apply_theme switches them (it follows the system's scheme).
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="w", foreground="k")


def add_grid(plot) -> pg.GridItem:
    """Faint grid lines (the theme's foreground, mostly transparent) behind a plot's items. The
    axes' own grid (`showGrid`) made every frame of a 70k-point map twice as dear (29 vs 14 ms
    measured); a GridItem behind the points costs little there. `plot.clear()` removes it."""
    grid = pg.GridItem(pen=grid_pen(), textPen=None)
    grid.setZValue(-20)
    plot.addItem(grid)
    return grid
