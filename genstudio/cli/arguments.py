"""Argument types shared by the commands."""

from __future__ import annotations

import argparse


# --direction of a translation model, 0 and 1 (translation_report.DIRECTION_NAMES; here without importing torch).
DIRECTION_NAMES = ("AtoB", "BtoA")


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
    """What a TorchScript / torch.export generator does not say about itself, and consent to run it."""
    parser.add_argument("--latent-dim", type=int, help="foreign generators: latent size")
    parser.add_argument("--output-range", type=value_range, help="foreign generators: output range, e.g. -1,1")
    # Explicit and per command: a foreign generator is a program from its author, and the only
    # consent a command line can give is the person typing this flag for this file.
    parser.add_argument("--trust-code", action="store_true",
                        help="run a TorchScript / torch.export generator: such files are programs from their "
                             "author that run on this computer; give this only for files you trust")


def foreign_consent(args: argparse.Namespace):
    """The consent open_model needs for a foreign generator: given by --trust-code, else none."""
    from genstudio.core.io.foreign import trust_code

    return trust_code if args.trust_code else None
