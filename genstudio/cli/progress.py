"""The training progress bar of `genstudio train`: steps/s, ETA and the latest losses (tqdm)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class ProgressPrinter:
    def __init__(self, total: int, start: int, enabled: bool = True):
        # On a terminal tqdm redraws one line; in a log (not a tty) it prints a line every 30 s.
        interactive = sys.stderr.isatty()
        self.bar = tqdm(total=total, initial=start, unit="step", disable=not enabled, file=sys.stderr,
                        dynamic_ncols=True, mininterval=0.2 if interactive else 30.0)

    def update(self, report) -> None:
        self.bar.update(report.step - self.bar.n)
        losses = {k: f"{v:.3g}" for k, v in list(report.scalars.items())[:4]}
        self.bar.set_postfix(losses | {"img/s": f"{report.images_per_sec:.0f}"}, refresh=False)

    def close(self) -> None:
        self.bar.close()
