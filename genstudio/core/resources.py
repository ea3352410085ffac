"""Find bundled resources (demo checkpoints, MNIST, icons) from a source tree and a frozen app alike."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_root() -> Path:
    """`resources/` beside the package in a source tree; inside the bundle when frozen by PyInstaller."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    return resources_root().joinpath(*parts)
