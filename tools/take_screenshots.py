"""Screenshots of the real window for the README and for closing notes, taken with QWidget.grab().

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/take_screenshots.py docs/screenshots

Writes explore.png (demo GAN), latent-map.png (demo VAE, built map, one hover and a two-click
path), diagnostics.png (full report on the demo GAN), train-live-diagnostics.png (an MNIST GAN
training with live mode-collapse curves) and train-toy.png (ring-8 with the decision surface).
It also writes explore-light.png and explore-dark.png (the explorer in each theme, with its history
strip) and train-dark.png; --only-themes writes only those.
It also writes explore-1280x680-light.png, explore-1280x680-dark.png, explore-1920x1080-light.png and
explore-1920x1080-dark.png (the smallest window the app allows, and full HD); --only-sizes writes only
those. --tour DIR photographs every demo's every tab at both sizes into DIR, to look through.
With --stylegan CKPT (a style-based GAN checkpoint or an NVIDIA .pkl) also stylegan-truncation.png
(the explorer at psi 0.7 with its slider), stylegan-layer-view.png (Inspect -> Layer on a middle
synthesis layer) and stylegan-mixing-grid.png (the exported coarse-layer mixing grid);
--only-stylegan skips the others. With --translation CKPT (a translation model) also, at 1280 x 680,
translation-explore.png (input | translation | round trip, with an A <-> B strip of style codes) and
translation-cycle-error.png (Inspect -> Cycle error over the data set, its worst image shown);
--only-translation skips the others. --diagnostics MODEL... writes only the Diagnostics tab after a
full report on each model, at both sizes, and the whole scrolled report.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication  # noqa: E402

from genstudio.bench.ui import _wait, dispose, make_window  # noqa: E402
from genstudio.ui import theme  # noqa: E402
from genstudio.ui.model_list import demo_checkpoints  # noqa: E402


def _until(condition, timeout_s: float) -> None:
    """Process events until `condition()` holds; raises after `timeout_s`."""
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window never reached the state to photograph")
        QApplication.processEvents()
        time.sleep(0.02)


def _save(window, out: Path, name: str) -> None:
    QApplication.processEvents()
    path = out / name
    window.grab().save(str(path))
    print(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--metric-points", type=int, default=6,
                        help="live diagnostics points to wait for in train-live-diagnostics.png")
    parser.add_argument("--stylegan", type=Path, help="a style-based GAN to photograph as well")
    parser.add_argument("--only-stylegan", action="store_true", help="photograph only the --stylegan model")
    parser.add_argument("--translation", type=Path, help="a translation model to photograph as well")
    parser.add_argument("--only-translation", action="store_true", help="photograph only the --translation model")
    parser.add_argument("--only-themes", action="store_true", help="photograph only the light and dark pair")
    parser.add_argument("--only-sizes", action="store_true", help="photograph only the explorer at both sizes")
    parser.add_argument("--tour", type=Path, help="also photograph every demo's every tab at both sizes here")
    parser.add_argument("--diagnostics", type=Path, nargs="+", metavar="MODEL",
                        help="only the Diagnostics tab after a full report on each MODEL, at both sizes")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="genstudio-shots-"))
    window = make_window(tmp)
    window.resize(1440, 900)
    if args.diagnostics:
        diagnostics_shots(window, args.out, args.diagnostics)
        window.close()
        return 0
    if args.stylegan:
        stylegan_shots(window, args.stylegan, args.out)
    if args.translation:
        translation_shots(window, args.translation, args.out)
        if args.only_translation:
            window.close()
            dispose(window)
            return 0
    if args.tour:
        tour_shots(window, args.tour)
    if not (args.only_stylegan or args.only_themes):
        size_shots(window, args.out)
    if not (args.only_stylegan or args.only_sizes):
        theme_shots(window, args.out)
    if not (args.only_stylegan or args.only_themes or args.only_sizes):
        demo_shots(window, args, tmp)
    window.close()
    dispose(window)
    return 0


def stylegan_shots(window, path: Path, out: Path) -> None:
    window.open_path(path)
    _wait(window.explore.image_view.shown, 30_000)
    explore = window.explore
    explore.slider_mode.setCurrentIndex(explore.slider_mode.findText("Principal directions in W (all layers)"))
    _until(lambda: explore.session.edit_directions is not None, 120)
    explore.option_boxes["truncation_psi"].setValue(0.7)
    explore.randomise_endpoints()
    _wait(explore.strip_view.shown, 30_000)
    _save(window, out, "stylegan-truncation.png")

    inspect = window.inspect
    window.tabs.setCurrentWidget(inspect)
    layer = inspect.tool(None)
    inspect.pages.setCurrentWidget(layer)
    _wait(layer.tiles_view.shown, 30_000)
    middle = layer.layers.findData("generator_ema.synthesis.b16.conv0")
    if middle >= 0 and layer.layers.currentIndex() != middle:
        layer.layers.setCurrentIndex(middle)
        layer.layers.activated.emit(middle)              # as a person's choice in the list does
        _until(lambda: layer.caption.text().startswith("generator_ema.synthesis.b16.conv0"), 60)
    _save(window, out, "stylegan-layer-view.png")

    grid = out / "stylegan-mixing-grid.png"
    window.exports.export_style_mixing(grid, {"seeds_a": "1,2,3,4", "seeds_b": "5,6,7,8,9,10", "layers": "coarse",
                                      "scale": 3})
    _until(grid.exists, 60)
    print(grid)
    window.tabs.setCurrentWidget(window.explore)


def translation_shots(window, path: Path, out: Path, index: int = 7) -> None:
    """A translation model at 1280 x 680: the explorer on data image `index` with an A <-> B strip,
    then the cycle-error histogram over the data set with its worst image."""
    window.resize(1280, 680)
    window.tabs.setCurrentWidget(window.explore)
    window.open_path(path)
    explore = window.explore
    _until(lambda: explore.last_translation is not None, 60)
    explore.translation_input.index.setValue(index)
    _until(lambda: explore.last_translation.name.endswith(f"#{index}"), 30)
    explore.randomise_endpoints()
    _wait(explore.strip_view.shown, 30_000)
    _until(lambda: window.history.history.entries[-1].thumbnail is not None, 30)
    _save(window, out, "translation-explore.png")

    from genstudio.ui.inspect_tools.cycle_error_tool import CycleErrorTool

    inspect = window.inspect
    window.tabs.setCurrentWidget(inspect)
    tool = inspect.tool_of(CycleErrorTool)
    inspect.pages.setCurrentWidget(tool)
    tool.measure()
    _wait(inspect.tasks.finished, 1_800_000)
    _until(lambda: tool.picked is not None, 60)
    _save(window, out, "translation-cycle-error.png")
    window.tabs.setCurrentWidget(explore)
    window.resize(1440, 900)


def theme_shots(window, out: Path) -> None:
    """The explorer in the light and the dark theme (a few randomised seeds in its history strip),
    and the Train tab in the dark one, at 1280 x 820."""
    app = QApplication.instance()
    window.resize(1280, 820)
    window.open_path(next(p for p in demo_checkpoints() if p.stem == "gan-mnist"))
    _wait(window.explore.image_view.shown, 30_000)
    for _ in range(3):
        window.explore.randomise()
        _wait(window.explore.imageRendered, 30_000)
    window.explore.randomise_endpoints()
    _wait(window.explore.strip_view.shown, 30_000)
    _until(lambda: window.history.history.entries[-1].thumbnail is not None, 30)
    for dark, name in ((False, "explore-light.png"), (True, "explore-dark.png")):
        theme.apply_theme(app, dark)
        _save(window, out, name)
    window.tabs.setCurrentWidget(window.train)
    _save(window, out, "train-dark.png")
    theme.apply_theme(app, False)
    window.tabs.setCurrentWidget(window.explore)
    window.resize(1440, 900)


SIZES = ((1280, 680), (1920, 1080))     # the smallest window the app allows (a 1366 x 768 laptop), full HD


def _open_demo(window, name: str) -> None:
    window.tabs.setCurrentWidget(window.explore)
    window.open_path(next(p for p in demo_checkpoints() if p.stem == name))
    _wait(window.explore.image_view.shown, 60_000)


def size_shots(window, out: Path) -> None:
    """The explorer on the demo GAN with an A <-> B strip, at each size, light and dark."""
    app = QApplication.instance()
    _open_demo(window, "gan-mnist")
    window.explore.randomise_endpoints()
    _wait(window.explore.strip_view.shown, 30_000)
    for width, height in SIZES:
        window.resize(width, height)
        for dark in (False, True):
            theme.apply_theme(app, dark)
            _save(window, out, f"explore-{width}x{height}-{'dark' if dark else 'light'}.png")
    theme.apply_theme(app, False)


def tour_shots(window, out: Path) -> None:
    """Every demo opened in turn, every tab shown, at each size: tour-<demo>-<tab>-<W>x<H>.png."""
    out.mkdir(parents=True, exist_ok=True)
    for path in demo_checkpoints():
        _open_demo(window, path.stem)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            tab = window.tabs.tabText(index).replace("&", "").replace(" ", "-").lower()
            for width, height in SIZES:
                window.resize(width, height)
                _save(window, out, f"tour-{path.stem}-{tab}-{width}x{height}.png")
    window.tabs.setCurrentWidget(window.explore)


def diagnostics_shots(window, out: Path, models: list[Path]) -> None:
    """The Diagnostics tab after a full report on each model, at each size, the window and the whole
    scrolled report: diagnostics-<model>-<W>x<H>.png and diagnostics-<model>-report.png."""
    out.mkdir(parents=True, exist_ok=True)
    panel = window.diagnostics
    for path in models:
        window.open_path(path)
        _until(lambda: window.diagnostics.info is not None and window.diagnostics.info.path == path, 120)
        window.tabs.setCurrentWidget(panel)
        panel.run_button.click()
        _wait(panel.tasks.finished, 1_800_000)
        for width, height in SIZES:
            window.resize(width, height)
            _save(window, out, f"diagnostics-{path.stem}-{width}x{height}.png")
        QApplication.processEvents()
        panel.scroll.widget().grab().save(str(out / f"diagnostics-{path.stem}-report.png"))
        print(out / f"diagnostics-{path.stem}-report.png")


def demo_shots(window, args, tmp: Path) -> None:
    demos = {p.stem: p for p in demo_checkpoints()}

    window.open_path(demos["gan-mnist"])
    _wait(window.explore.image_view.shown, 30_000)
    window.explore.randomise_endpoints()
    _wait(window.explore.strip_view.shown, 30_000)
    _save(window, args.out, "explore.png")

    window.open_path(demos["vae-mnist"])
    _wait(window.explore.image_view.shown, 30_000)
    panel = window.map
    window.tabs.setCurrentWidget(panel)
    panel.build_map()
    _wait(panel.tasks.finished, 120_000)
    lo, hi = panel.projection.points.min(0), panel.projection.points.max(0)
    panel.click_at(lo + 0.3 * (hi - lo))
    panel.click_at(lo + 0.7 * (hi - lo))
    panel.hover_at((lo + 0.5 * (hi - lo)).astype("float32"))
    _wait(panel.hover_view.shown)
    _until(lambda: panel.strip_view.image() is not None and panel.recon_view.image() is not None, 30)
    _save(window, args.out, "latent-map.png")

    window.open_path(demos["gan-mnist"])
    _wait(window.explore.image_view.shown, 30_000)
    diagnostics = window.diagnostics
    window.tabs.setCurrentWidget(diagnostics)
    diagnostics.run_button.click()
    _wait(diagnostics.tasks.finished, 600_000)
    _save(window, args.out, "diagnostics.png")

    train = window.train
    window.tabs.setCurrentWidget(train)
    train.family.setCurrentIndex(train.family.findData("gan"))
    train.data.setEditText("mnist")
    train.preset.setCurrentIndex(train.preset.findText("mlp"))
    train.steps.setValue(100_000)
    train.device.setCurrentText("cpu")
    train.out_dir.setText(str(tmp / "gan-run"))
    train.diagnostics_every.setValue(100)
    train.start()
    _until(lambda: len(train.plot.metric_points.get("coverage", ([], []))[0]) >= args.metric_points, 1800)
    _save(window, args.out, "train-live-diagnostics.png")
    train.stop(wait=True)

    train.diagnostics_every.setValue(0)
    train.data.setEditText("ring8")
    train.preset.setCurrentIndex(train.preset.findText("toy-best"))
    train.steps.setValue(3000)
    train.out_dir.setText(str(tmp / "toy-run"))
    train.start()
    _until(lambda: train.last_report is not None and train.last_report.step >= 2500 and train.sample_updates, 1800)
    _save(window, args.out, "train-toy.png")
    train.stop(wait=True)


if __name__ == "__main__":
    raise SystemExit(main())
