"""The core must run on a server without Qt: importing every module under genstudio.core loads
neither PySide6 nor pyqtgraph. Runs in a fresh interpreter so that other tests' imports don't count."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import genstudio.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, 'genstudio.core.')]
for name in names:
    importlib.import_module(name)
import genstudio.cli  # the headless command line too
leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'PyQt5', 'PyQt6', 'shiboken6'))
print(len(names), 'modules;', 'leaked:', leaked)
assert len(names) > 10, names
assert not leaked, leaked
"""


def test_core_imports_no_qt():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaked: []" in result.stdout
