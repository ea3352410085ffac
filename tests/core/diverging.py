"""A trainer whose model reports NaN for one figure from a given step on, as a blown-up loss would
(tests/core is on sys.path: no package)."""

import torch


def report_nan_after(trainer, step: int, key: str) -> None:
    """From the step after `step` on, `trainer`'s train steps report `key` as NaN (their update stands)."""
    real_step = trainer.model.train_step

    def poisoned(x, y, optimizers):
        out = real_step(x, y, optimizers)
        if trainer.step >= step:
            out[key] = torch.tensor(float("nan"))
        return out

    trainer.model.train_step = poisoned
