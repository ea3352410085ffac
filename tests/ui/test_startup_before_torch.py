"""Start-up shows the person's last picture before torch has loaded (ui/startup_shell.py, ui/app.py):
the shell paints the cached PNG while the engine's import is still under way, then the real window
takes its place; the start-up modules import no torch; and the real start-up, with torch's import
slowed down, paints first and still renders in the smoke test."""

import gc
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from genstudio.core.io.atomic import write_bytes_atomic
from genstudio.ui.app import Startup, load_main_window
from genstudio.ui.last_picture import load_last_picture, png_bytes, save_last_picture
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.paths import last_picture_file

ROOT = Path(__file__).resolve().parents[2]
TORCH_DELAY_S = 2.0


def gan_demo() -> Path:
    return next(p for p in demo_checkpoints() if p.stem == "gan-mnist")


def a_picture(width: int = 40, height: int = 30) -> QImage:
    """Every pixel different from its neighbours, so that a shifted or smoothed copy does not match."""
    image = QImage(width, height, QImage.Format_RGB32)
    for y in range(height):
        for x in range(width):
            image.setPixelColor(x, y, QColor((x * 37 + y * 11) % 256, (x * 5 + y * 53) % 256, (x * y) % 256))
    return image


def test_the_shell_paints_the_last_picture_while_the_engine_loads(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("models/last", str(gan_demo()))
    settings.setValue("window/size", (size := QApplication.primaryScreen().availableGeometry().size() / 2))
    picture = a_picture()
    save_last_picture(settings, picture, gan_demo())
    release = threading.Event()
    imports_done = []

    def slow_engine():
        """Stands for a slow torch import: nothing loads until the test lets it."""
        if not release.wait(60):
            raise TimeoutError("the test never released the engine's import")
        imports_done.append(time.perf_counter())
        return load_main_window()

    startup = Startup(QApplication.instance(), time.perf_counter(), settings=settings, load=slow_engine)
    shell = startup.shell
    startup.start()
    try:
        qtbot.waitUntil(lambda: startup.first_pixels_at is not None and startup.loader.running(), timeout=10_000)
        assert shell.isVisible() and shell.windowTitle() == "genstudio" and shell.size() == size
        assert shell.statusBar().currentMessage() == "loading the model engine\u2026"
        # The picture as painted: at a whole multiple of its size, each pixel a block of its colour.
        painted = shell.picture.grab().toImage().convertToFormat(QImage.Format_RGB32)
        where = shell.picture.target_rect().toRect()
        scale = where.width() // picture.width()
        assert scale >= 2 and where.height() == scale * picture.height()
        expected = picture.scaled(where.size(), Qt.IgnoreAspectRatio, Qt.FastTransformation)
        assert painted.copy(where) == expected.convertToFormat(QImage.Format_RGB32)
        assert not imports_done and startup.window is None          # all of it while the import waited

        shell_pos = shell.pos()
        release.set()
        qtbot.waitUntil(lambda: startup.window is not None and startup.window.isVisible(), timeout=30_000)
        window = startup.window
        qtbot.addWidget(window)
        # Where the shell was: no jump (but no smaller than the window can be: the offscreen screen is
        # 800 px wide, the window's minimum wider; a size saved by the real window is never smaller).
        assert (window.size(), window.pos()) == (size.expandedTo(window.minimumSize()), shell_pos)
        qtbot.waitUntil(lambda: not shiboken6.isValid(shell), timeout=5_000)   # closed and deleted
        qtbot.waitUntil(lambda: startup.interactive_at is not None, timeout=30_000)
        assert window.opened.path == gan_demo() and window.explore.image_view.image() is not None
        # Interactive: the live image and the sliders of its principal directions, computed after it.
        assert len(window.explore.sliders.sliders) == window.explore.k_spin.value()
        moments = [startup.first_pixels_at, imports_done[0], startup.loaded_at, startup.shown_at,
                   startup.live_image_at, startup.interactive_at]
        assert moments == sorted(moments)
        # The other tabs' panels, left out of the window's build, follow once the explorer works.
        qtbot.waitUntil(lambda: all(window.deferred.built(name) is not None
                                    for name in ("map", "inspect", "diagnostics", "train")), timeout=10_000)
        # What the start-up left alive (torch, Qt, the window: 250k objects) is out of the collections'
        # walk, so the GUI thread's full collections take a fraction of a millisecond, not a quarter second.
        assert gc.get_freeze_count() > 100_000
        # The window wrote the picture of its first full image for the next start.
        kept = load_last_picture(settings)
        assert kept is not None and kept.size() == window.explore.image_view.image().size()
        window.close()
    finally:
        release.set()
        if startup.quit_signals is not None:
            startup.quit_signals.uninstall()


def test_a_model_drawn_row_by_row_is_interactive_once_its_image_is_whole(qtbot, tmp_path):
    """The last model a PixelCNN: its rows on screen are progress, not its first image (the smoke
    test failed on the image's rows, with no image decoded yet)."""
    pixelcnn = next(p for p in demo_checkpoints() if p.stem == "pixelcnn-mnist")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("models/last", str(pixelcnn))
    startup = Startup(QApplication.instance(), time.perf_counter(), settings=settings, explore_in_front=True)
    qtbot.addWidget(startup.shell)
    startup.start()
    try:
        qtbot.waitUntil(lambda: startup.window is not None, timeout=30_000)
        window = startup.window
        qtbot.addWidget(window)
        rows_shown = []
        window.explore.image_view.shown.connect(lambda: rows_shown.append(window.explore.last_image is None))
        qtbot.waitUntil(lambda: startup.interactive_at is not None, timeout=60_000)
        assert window.opened.path == pixelcnn and window.explore.last_image is not None
        assert any(rows_shown)                                   # rows were on screen before
        assert startup.live_image_at <= startup.interactive_at
        window.close()
    finally:
        if startup.quit_signals is not None:
            startup.quit_signals.uninstall()


def test_an_engine_that_does_not_load_is_said_in_the_shell(qtbot, tmp_path):
    """A broken install (torch missing): the shell stays, says why in its status line, and no window opens."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)

    def broken_engine():
        raise ImportError("No module named 'torch'")

    startup = Startup(QApplication.instance(), time.perf_counter(), settings=settings, load=broken_engine)
    qtbot.addWidget(startup.shell)
    try:
        with qtbot.waitSignal(startup.failed, timeout=10_000):
            startup.start()
        assert not startup.showed_picture and startup.shell.picture.text == "starting\u2026"
        assert startup.window is None and startup.shell.isVisible()
        assert startup.shell.statusBar().currentMessage() == \
            "cannot load the model engine: ImportError: No module named 'torch'"
    finally:
        startup.quit_signals.uninstall()


def test_no_picture_of_another_model_is_shown(qtbot, tmp_path):
    """A picture is shown only for the model the window will open: a first start shows a line of text."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    demos = demo_checkpoints()
    save_last_picture(settings, a_picture(), demos[0])
    assert load_last_picture(settings) is None                   # models/last not set yet
    settings.setValue("models/last", str(demos[1]))
    assert load_last_picture(settings) is None                   # the picture is of another model
    settings.setValue("models/last", str(demos[0]))
    assert load_last_picture(settings) is not None
    (tmp_path / "settings.last-picture.png").write_bytes(b"not a png")
    assert load_last_picture(settings) is None


def test_a_big_image_is_kept_small(tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("models/last", str(gan_demo()))
    big = QImage(1500, 600, QImage.Format_RGB32)
    big.fill(QColor(200, 30, 90))
    save_last_picture(settings, big, gan_demo())
    kept = load_last_picture(settings)
    assert (kept.width(), kept.height()) == (512, 204) and kept.pixelColor(100, 100) == QColor(200, 30, 90)


def test_the_start_up_modules_import_no_torch():
    code = ("import sys, genstudio.cli, genstudio.ui.app, genstudio.ui.startup_shell; "
            "assert 'torch' not in sys.modules, 'torch is imported before the start-up shell shows'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


SLOW_TORCH = f"""
import importlib.machinery, sys, time
started = time.perf_counter()

class SlowTorch:
    '''Holds `import torch` back {TORCH_DELAY_S} s, then says when it finished.'''
    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        time.sleep({TORCH_DELAY_S})
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            print(f"torch imported {{1000 * (time.perf_counter() - started):.0f}} ms", flush=True)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, SlowTorch())
from genstudio.ui.app import run_app
raise SystemExit(run_app(smoke=True, started=started))
"""


@pytest.mark.long     # ~13 s on 2 busy cores: torch held back 2 s, then imported, a model opened and decoded
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the settings folder is moved with XDG_CONFIG_HOME")
def test_the_real_start_up_paints_before_torch_has_imported(tmp_path, monkeypatch):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    # The person's last picture, of the model the window will open, where a start-up finds it: the
    # app's settings (models/last) in the folder Qt reads on Linux, the picture in the cache folder.
    settings = QSettings(str(tmp_path / "config" / "genstudio" / "genstudio.conf"), QSettings.IniFormat)
    settings.setValue("models/last", str(gan_demo()))
    settings.sync()
    with monkeypatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
        picture = last_picture_file()
        write_bytes_atomic(picture, png_bytes(a_picture(28, 28), gan_demo()))
    result = subprocess.run([sys.executable, "-c", SLOW_TORCH], capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "smoke test ok: opened gan-mnist.safetensors" in out and "28x28 image" in out, out
    first_pixels = float(re.search(r"first pixels (\d+) ms \(the last picture\)", out).group(1))
    torch_imported = float(re.search(r"torch imported (\d+) ms", out).group(1))
    interactive = float(re.search(r"interactive (\d+) ms", out).group(1))
    assert first_pixels < 1000 * TORCH_DELAY_S < torch_imported < interactive, out
