"""Find bundled resources (demo checkpoints, MNIST, icons, .desktop file) wherever genstudio runs.

The files live in the repository's top-level `resources/` folder, and each way of running the app
reaches that folder differently:

- Frozen (PyInstaller): build.spec copies `resources/` to `resources` inside the bundle, which is
  `sys._MEIPASS/resources` at run time.
- Installed (`pip install .`, a wheel) or editable (`pip install -e .`): setup.py maps `resources/`
  to the package `genstudio.resources` (its package data is listed in pyproject.toml), so a wheel
  carries the files inside the package, and an editable install's finder points that package at the
  source folder. Both are found by asking `importlib.resources` for `genstudio.resources`, which
  never guesses from `__file__` where site-packages is (a stray top-level `resources/` folder there
  is not ours).
- A plain source tree (`python -m genstudio` from a checkout, no install, or an editable install made
  before the mapping existed): `genstudio.resources` does not import, and the folder beside the
  package is used.

The top-level folder stays where it is (the frozen build and `make install-desktop` read it there);
the mapping only names it as a package for setuptools.
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

PACKAGE = "genstudio.resources"


def _package_root() -> Path | None:
    """The folder of the `genstudio.resources` package, or None when it does not import."""
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        return None
    if not isinstance(root, Path):  # e.g. a zip import: callers need real files
        raise RuntimeError(f"{PACKAGE} is not a folder on disk ({root!r}); install genstudio unzipped")
    return root


def resources_root() -> Path:
    """The resources folder: inside the bundle when frozen, the `genstudio.resources` package when
    installed (wheel or editable), else `resources/` beside the package in a source tree."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return _package_root() or Path(__file__).resolve().parents[3] / "resources"


def resource_path(*parts: str) -> Path:
    return resources_root().joinpath(*parts)
