"""The figures of docs/performance.md that need the real window: slider latency, GUI overhead of
training in the app, UI stalls while training, and start-up time to the first image."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer


def _wait(signal, timeout_ms: int = 10_000) -> bool:
    """Run the event loop until `signal` fires (True) or the timeout passes (False)."""
    loop = QEventLoop()
    fired = []

    def on_signal(*args):
        fired.append(True)
        loop.quit()

    signal.connect(on_signal)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(timeout_ms)
    try:
        loop.exec()
    finally:
        timer.stop()
        signal.disconnect(on_signal)
    return bool(fired)


def _percentiles(values: list[float]) -> dict:
    a = np.asarray(values)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max()), "n": len(values)}


def make_window(tmp: Path):
    from genstudio.ui.app import _application
    from genstudio.ui.gui_thread_gc import keep_startup_objects
    from genstudio.ui.main_window import MainWindow

    _application()
    window = MainWindow(QSettings(str(tmp / "bench-settings.ini"), QSettings.IniFormat))
    keep_startup_objects()          # as the app's start-up does once its window is built
    window.show()
    return window


def dispose(window) -> None:
    """Delete the window's Qt objects now, not during interpreter shutdown."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def slider_latency(window, checkpoints: list[Path], moves: int = 200) -> dict:
    """Set one latent slider -> decode in the render thread -> QImage set -> repaint processed."""
    results = {}
    view = window.explore.image_view
    for path in checkpoints:
        window.open_path(path)
        _wait(view.shown, 30_000)
        explore = window.explore
        if explore.slider_mode.currentText().startswith("Principal directions"):
            # raw dimensions: no directions to wait for (after the Z directions, a style-based GAN lists W's)
            explore.slider_mode.setCurrentIndex(explore.slider_mode.findText("Dimensions", Qt.MatchStartsWith))
        slider = explore.sliders.sliders[0]
        timings = []
        slider.setSliderDown(True)                   # a hand sweeping back and forth: one drag
        for i in range(moves):
            value = int(300 * np.sin(i / 7))
            if value == slider.value():
                value += 1
            start = time.perf_counter()
            slider.setValue(value)
            if not _wait(view.shown):
                raise RuntimeError(f"{path.name}: no image after moving the slider")
            timings.append((time.perf_counter() - start) * 1000)
        slider.setSliderDown(False)
        family = window.opened.family
        results[family] = {"checkpoint": path.name, **_percentiles(timings[10:])}   # skip warm-up
    return results


def progressive_latency(window, checkpoint: Path, moves: int = 60) -> dict:
    """A family that previews (diffusion): set one latent slider -> the preview decode on screen, and,
    once the hand rests, the full decode's request -> the full image on screen. Each move waits for
    both, so every preview and every full decode is timed alone."""
    channels: list[str] = []
    window.renderer.done.connect(lambda channel, result, ms: channels.append(channel))
    window.open_path(checkpoint)
    explore = window.explore
    # Opening computes principal directions in the render thread; time the sliders once it is idle.
    while "directions" not in channels and explore.slider_mode.currentText() == "Principal directions":
        if not _wait(window.renderer.done, 120_000):
            raise RuntimeError(f"{checkpoint.name}: no principal directions")
    if explore.slider_mode.currentText() == "Principal directions":
        explore.slider_mode.setCurrentIndex(1)
    slider = explore.sliders.sliders[0]
    requested: dict[str, float] = {}
    explore.imageRequested.connect(lambda kind: requested.__setitem__(kind, time.perf_counter()))
    shown: dict[str, float] = {}
    explore.imageRendered.connect(lambda kind: shown.__setitem__(kind, time.perf_counter()))
    previews, fulls, overtaken = [], [], 0
    for i in range(moves):
        value = int(300 * np.sin(i / 7)) or 1
        if value == slider.value():
            value += 1
        shown.clear()
        start = time.perf_counter()
        slider.setValue(value)
        while "full" not in shown:
            if not _wait(explore.imageRendered, 30_000):
                raise RuntimeError(f"{checkpoint.name}: no full image after the slider rested")
        if "preview" in shown:
            previews.append((shown["preview"] - start) * 1000)
        else:
            overtaken += 1         # the full decode was asked for before the preview was done
        fulls.append((shown["full"] - requested["full"]) * 1000)
    options = window.opened.decode_defaults()
    return {"checkpoint": checkpoint.name, "full_options": options, "preview_options": window.opened.preview_options(),
            "preview_ms": _percentiles(previews[5:]), "full_ms": _percentiles(fulls[5:]), "previews_overtaken": overtaken,
            "bar_preview_p95": 30.0, "bar_full_p95": 250.0}


def latent_map(window, vae_checkpoint: Path, hovers: int = 100) -> dict:
    """Encode the data set with the demo VAE and draw the scatter; then hover decode latency."""
    from PySide6.QtWidgets import QApplication

    window.open_path(vae_checkpoint)
    _wait(window.explore.image_view.shown, 30_000)
    panel = window.map
    window.tabs.setCurrentWidget(panel)
    QApplication.processEvents()
    start = time.perf_counter()
    panel.build_map()
    _wait(panel.tasks.finished, 120_000)
    panel.plot.repaint()                               # the scatter drawn on screen
    build_ms = (time.perf_counter() - start) * 1000
    hover, rng = [], np.random.default_rng(0)
    lo, hi = panel.projection.points.min(0), panel.projection.points.max(0)
    for _ in range(hovers):
        point = (lo + rng.random(2) * (hi - lo)).astype(np.float32)
        begin = time.perf_counter()
        panel.hover_at(point)
        _wait(panel.hover_view.shown)
        hover.append((time.perf_counter() - begin) * 1000)
    # 70k points (the MNIST test set seven times over): time a pan step, repaint included.
    from genstudio.core.data.dataset import InMemoryDataset

    data = panel.dataset
    big = InMemoryDataset("mnist x7", data.data.repeat(7, 1, 1, 1), data.labels.repeat(7), data.label_names)
    panel.build_map(big)
    _wait(panel.tasks.finished, 120_000)
    vb, pans = panel.plot.getViewBox(), []
    for i in range(30):
        begin = time.perf_counter()
        vb.translateBy(x=0.05 * (1 if i % 2 else -1))
        panel.plot.grab()   # renders the view now (an offscreen repaint() may draw nothing)
        pans.append((time.perf_counter() - begin) * 1000)
    return {"encode_and_plot_ms": build_ms, "points": data.data.shape[0], "bar_ms": 1500,
            "hover_ms": _percentiles(hover[5:]), "pan_70k_ms": _percentiles(pans[3:]),
            "points_70k": panel.point_count()}


def gui_overhead_and_stall(window, out_dir: Path, steps: int = 400) -> dict:
    """MLP GAN on MNIST: images/s headless vs in the app (live plot and samples on), and the longest
    gaps of a 10 ms QTimer on the GUI thread while the app trains."""
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.training.engine import TrainConfig, Trainer
    from genstudio.ui.torch_threads import all_cores

    dataset = load_bundled_mnist()

    def config(name):
        return TrainConfig(family="gan", preset="mlp", steps=steps, device="cpu", report_every=10,
                           sample_every_s=2.0, out_dir=str(out_dir / name), autosave_every=0)

    def headless() -> float:
        # The engine alone in a thread of its own, on every core, as the app's training thread
        # runs it; the thread (and its OpenMP pool) ends before the in-app run (torch_threads).
        rates = []

        def train():
            all_cores()
            reports = [r for r in Trainer(config("headless"), dataset=dataset).run() if r.kind == "step"]
            rates.extend(r.images_per_sec for r in reports[len(reports) // 4:])

        thread = threading.Thread(target=train, name="bench-headless")
        thread.start()
        thread.join()
        return statistics.median(rates)

    def in_app() -> tuple[float, list[float]]:
        panel = window.train
        gaps, timer, clock = [], QTimer(), QElapsedTimer()
        timer.setInterval(10)
        clock.start()
        last = [clock.elapsed()]

        def tick():
            now = clock.elapsed()
            gaps.append(now - last[0])
            last[0] = now

        timer.timeout.connect(tick)
        rates = []
        window.tabs.setCurrentWidget(panel)
        panel.diagnostics_every.setValue(0)   # the figure is the plot and samples' cost, not the metrics'
        panel.start(config("app"), dataset=dataset)
        panel.worker.progress.connect(lambda reports: rates.extend(r.images_per_sec for r in reports))
        timer.start()
        _wait(panel.trainingFinished, 600_000)
        timer.stop()
        return statistics.median(rates[len(rates) // 4:]), gaps

    head_runs, app_runs, all_gaps = [], [], []
    for _ in range(2):  # alternate, so that machine noise hits both
        head_runs.append(headless())
        rate, gaps = in_app()
        app_runs.append(rate)
        all_gaps += gaps
    head, app = statistics.median(head_runs), statistics.median(app_runs)
    return {"gui_overhead": {"headless": head, "in_app": app, "ratio": app / head, "bar": 0.90,
                             "steps": steps, "runs": 2},
            "ui_stall_ms": {**_percentiles(all_gaps), "bar_p99": 50.0, "timer_interval_ms": 10}}


def startup(repeats: int = 2) -> dict:
    """Process start -> the start-up shell's first pixels (the last picture), -> the main window's
    first live image, and -> interactive: that image and its sliders (`genstudio --smoke-test`), warm:
    the minimum of `repeats` runs after one cold run (which also keeps the demo's principal
    directions, as a person's first start does).

    The smoke test times each step from main(); what comes before main() (the interpreter starting,
    `import genstudio.cli`) is timed on its own, as `python -c "import genstudio.cli"`, and added to
    give first_pixels_ms and interactive_ms from the process's start (bars 1000 and 2000 ms)."""
    def after_main(text: str, label: str) -> float:
        return float(text.split(f"{label} ")[1].split(" ms")[0])

    walls, inside, pixels, live, interactive, to_main = [], [], [], [], [], []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "genstudio", "--smoke-test"], capture_output=True,
                             text=True, timeout=300)
        walls.append((time.perf_counter() - start) * 1000)
        if out.returncode != 0:
            raise RuntimeError(f"smoke test failed: {out.stderr.strip().splitlines()[-1:]}")
        inside.append(after_main(out.stdout, "first image"))
        pixels.append(after_main(out.stdout, "first pixels"))
        live.append(after_main(out.stdout, "live image"))
        interactive.append(after_main(out.stdout, "interactive"))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import genstudio.cli"], check=True, timeout=60)
        to_main.append((time.perf_counter() - start) * 1000)
    before_main = min(to_main[1:])
    return {"process_wall_ms": min(walls[1:]), "first_image_after_main_ms": min(inside[1:]),
            "cold_wall_ms": walls[0], "bar_ms": 3000, "repeats": repeats,
            "process_to_main_ms": before_main,
            "first_pixels_after_main_ms": min(pixels[1:]), "interactive_after_main_ms": min(interactive[1:]),
            "first_pixels_ms": before_main + min(pixels[1:]), "first_pixels_bar_ms": 1000,
            "live_image_ms": before_main + min(live[1:]),
            "interactive_ms": before_main + min(interactive[1:]), "interactive_bar_ms": 2000}
