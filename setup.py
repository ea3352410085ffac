"""Which packages the distribution holds; everything else is in pyproject.toml.

The top-level `resources/` folder (demo checkpoints, MNIST, icons, .desktop file) ships inside the
package as `genstudio.resources`, so installed and editable copies find it with `importlib.resources`
(see genstudio/core/runtime/resources.py). pyproject.toml cannot say this alone: its `packages.find` only
discovers folders where they lie, and remapping one sub-package with `package-dir` would need the
whole package list written out by hand, which drops any new sub-package silently.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["genstudio", "genstudio.*"]) + ["genstudio.resources"],
    package_dir={"genstudio.resources": "resources"},
)
