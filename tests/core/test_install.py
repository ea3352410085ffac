"""Installed as users install it (`pip install .`, a wheel), genstudio carries its resources and runs.

The wheel is built without build isolation (nothing is downloaded) from a copy of the project's
build inputs, so that a stale `build/lib` in the checkout cannot leak removed modules into it. It is
installed into a fresh venv that sees the dependencies of the running interpreter through a `.pth`
file listing its site-packages: plain path lines in a `.pth` are added to sys.path, but `.pth` files
inside those folders are not run, so the editable install of the checkout (a finder started by a
`.pth` in .venv) stays out, and `import genstudio` can only find the installed copy. The app then
runs from a folder outside the repository, with its user folders in the temporary folder. The same
kind of venv checks an editable install (`pip install -e`) and a plain source tree; the frozen app's
branch is checked in process (tests/frozen runs the real bundle).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DEMOS = sorted(p.name for p in (REPO / "resources" / "checkpoints").glob("*.safetensors"))   # the bundled demos
RESOURCES = REPO / "resources"
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "genstudio", "resources")
SKIP_NAMES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""

PROBE = """
import json, sys
import genstudio, genstudio.resources
from genstudio.core.runtime.resources import resource_path, resources_root
print(json.dumps({
    "genstudio": genstudio.__file__,
    "genstudio.resources": genstudio.resources.__file__,
    "resources_root": str(resources_root()),
    "gan": str(resource_path("checkpoints", "gan-mnist.safetensors")),
    "checkpoints": sorted(p.name for p in resource_path("checkpoints").glob("*.safetensors")),
    "editable_finder": sorted(m for m in sys.modules if "__editable__" in m),
}))
"""


def _resource_files() -> list[str]:
    """Every file under resources/ (what build.spec bundles), relative to it."""
    return sorted(p.relative_to(RESOURCES).as_posix() for p in RESOURCES.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _run(args, cwd, env, timeout=300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _venv(path: Path, tmp: Path) -> tuple[Path, dict]:
    """A fresh venv at `path` that sees the running interpreter's packages but not their .pth files
    (so not the checkout's editable install); returns its python and the environment to run it in."""
    _run([sys.executable, "-m", "venv", "--without-pip", path], cwd=tmp, env=os.environ.copy())
    python = path / BIN / f"python{EXE}"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                   cwd=tmp, env=os.environ.copy()).stdout.strip()
    ours = dict.fromkeys(sysconfig.get_path(key) for key in ("purelib", "platlib"))
    (Path(purelib) / "_genstudio_test_deps.pth").write_text("".join(f"{folder}\n" for folder in ours))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONNOUSERSITE="1",
               XDG_DATA_HOME=str(tmp / "home" / "data"), XDG_CACHE_HOME=str(tmp / "home" / "cache"),
               XDG_CONFIG_HOME=str(tmp / "home" / "config"))
    return python, env


@pytest.fixture(scope="module")
def install(tmp_path_factory):
    """Build the wheel, make the venv, install the wheel; returns what the tests look at."""
    tmp = tmp_path_factory.mktemp("install")
    started = time.perf_counter()

    src = tmp / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=SKIP_NAMES)
        else:
            shutil.copy2(path, src / name)
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--quiet", "-w", wheels, src], cwd=tmp, env=os.environ.copy())
    (wheel,) = wheels.glob("genstudio_desktop-*.whl")   # the distribution genstudio-desktop

    venv = tmp / "v"
    python, env = _venv(venv, tmp)
    # pip itself comes from the running interpreter's site-packages, through the .pth.
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet", wheel],
         cwd=tmp, env=env)
    cwd = tmp / "elsewhere"
    cwd.mkdir()
    print(f"wheel built and installed in {time.perf_counter() - started:.1f} s")
    return {"tmp": tmp, "src": src, "wheel": wheel, "venv": venv, "python": python, "env": env, "cwd": cwd,
            "genstudio": venv / BIN / f"genstudio{EXE}"}


def test_wheel_carries_the_resources_and_every_module(install):
    with zipfile.ZipFile(install["wheel"]) as wheel:
        names = set(wheel.namelist())
    resources = sorted(n.removeprefix("genstudio/resources/") for n in names if n.startswith("genstudio/resources/"))
    assert resources == _resource_files()
    for needed in ("checkpoints/gan-mnist.safetensors", "checkpoints/vae-mnist.safetensors",
                   "checkpoints/flow-mnist.safetensors", "checkpoints/diffusion-mnist.safetensors",
                   "checkpoints/pixelcnn-mnist.safetensors", "data/mnist/README.md", "icons/genstudio.png",
                   "genstudio.desktop"):
        assert needed in resources
    modules = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "genstudio").rglob("*.py")
                     if "__pycache__" not in p.parts)
    assert [m for m in modules if m not in names] == []
    assert not [n for n in names if n.startswith(("resources/", "tests/", "training/"))]  # nothing top-level


def test_installed_package_resolves_to_the_venv(install):
    venv = install["venv"].resolve()
    found = json.loads(_run([install["python"], "-c", PROBE], cwd=install["cwd"], env=install["env"]).stdout)
    for key in ("genstudio", "genstudio.resources", "resources_root", "gan"):
        path = Path(found[key]).resolve()
        assert path.is_relative_to(venv), f"{key}: {path} is not under {venv}"
        assert not path.is_relative_to(REPO), f"{key}: {path} is in the source tree"
    assert Path(found["gan"]).is_file()
    assert found["checkpoints"] == DEMOS
    assert found["editable_finder"] == []


def test_source_tree_finds_its_resources_folder(install):
    """From a checkout with no install (the venv's interpreter, run in the repository), resources/
    beside the package is the one found."""
    probe = PROBE.replace("import genstudio, genstudio.resources", "import genstudio")
    probe = probe.replace('"genstudio.resources": genstudio.resources.__file__,', "")
    found = json.loads(_run([install["python"], "-c", probe], cwd=REPO, env=install["env"]).stdout)
    assert Path(found["genstudio"]).resolve() == REPO / "genstudio" / "__init__.py"
    assert Path(found["resources_root"]).resolve() == RESOURCES


def test_installed_app_smoke_test_and_sample(install):
    started = time.perf_counter()
    smoke = _run([install["genstudio"], "--smoke-test"], cwd=install["cwd"], env=install["env"])
    assert "smoke test ok" in smoke.stdout
    found = json.loads(_run([install["python"], "-c", PROBE], cwd=install["cwd"], env=install["env"]).stdout)
    grid = install["tmp"] / "grid.png"
    _run([install["genstudio"], "sample", found["gan"], "--grid", "4x6", "--out", grid],
         cwd=install["cwd"], env=install["env"])
    with Image.open(grid) as image:
        assert image.size == (6 * (28 + 2) + 2, 4 * (28 + 2) + 2)   # 28x28 digits, 2 px padding
        assert image.convert("L").getextrema()[0] < image.convert("L").getextrema()[1]  # not blank
    assert (install["tmp"] / "home" / "data" / "genstudio" / "logs" / "genstudio.log").is_file()  # platformdirs
    print(f"installed app: smoke test and sample in {time.perf_counter() - started:.1f} s")


def test_editable_install_finds_the_source_folder(install):
    """`pip install -e` of the (copied) project: the package and its resources are the source folders."""
    src = install["src"]
    python, env = _venv(install["tmp"] / "e", install["tmp"])
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "--ignore-installed",
          "--quiet", "-e", src], cwd=install["tmp"], env=env)
    found = json.loads(_run([python, "-c", PROBE], cwd=install["cwd"], env=env).stdout)
    assert Path(found["genstudio"]).resolve() == src / "genstudio" / "__init__.py"
    assert Path(found["genstudio.resources"]).resolve() == src / "resources" / "__init__.py"
    assert Path(found["resources_root"]).resolve() == src / "resources"
    assert Path(found["gan"]).is_file() and found["checkpoints"] == DEMOS
    assert found["editable_finder"]   # through setuptools' editable finder, not a copy


def test_frozen_root_is_the_bundles_resources(monkeypatch):
    """Frozen by PyInstaller: `resources` inside the bundle, where build.spec puts the folder."""
    from genstudio.core.runtime.resources import resource_path

    monkeypatch.setattr(sys, "_MEIPASS", str(Path("/bundle")), raising=False)
    assert resource_path("icons", "genstudio.png") == Path("/bundle", "resources", "icons", "genstudio.png")
