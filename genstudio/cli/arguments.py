"""Argument types shared by the commands."""

from __future__ import annotations

import argparse


def grid(text: str) -> tuple[int, int]:
    """'8x8' -> (rows, cols)."""
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"grid must look like 8x8, got '{text}'") from None
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError("grid rows and columns must be at least 1")
    return rows, cols


def value_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"range must look like -1,1, got '{text}'") from None
    return lo, hi


def add_foreign_options(parser: argparse.ArgumentParser) -> None:
    """What a TorchScript / torch.export generator does not say about itself."""
    parser.add_argument("--latent-dim", type=int, help="foreign generators: latent size")
    parser.add_argument("--output-range", type=value_range, help="foreign generators: output range, e.g. -1,1")
