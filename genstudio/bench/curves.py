"""`genstudio bench --curves`: how each figure grows with what it depends on, as a table printed
and a plot saved beside it (a person would rather look at a curve than at a point):

- training throughput of the MLP GAN preset and the reference loop at batch 32, 64, 128, 256;
- DCGAN training throughput, ours and the PyTorch examples' loop, at 28, 32 and 64 px;
- one-image decode time by model size: each demo, a 64 px DCGAN, StyleGAN2 at 256 and 1024 px
  (random weights where no demo exists: the time depends on the architecture), on one thread as
  the explorer's render thread decodes (ui/torch_threads.py), and the 256 / 1024 px previews;
- the latent map (encode with the demo VAE, project, draw) of 10k, 70k and 200k points;
- the full diagnostics report for 2k, 10k and 50k generated samples against the 10k real ones;
- PixelCNN sampling: one digit, a 16-digit and a 64-digit grid.

The plots are drawn with pyqtgraph (already the app's plotting library) and written as PNG with
its exporter, offscreen when there is no display. Each curve's figures also go in the JSON record
(`--json`), under "curves".
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import torch

TRAIN_BATCHES = (32, 64, 128, 256)
DCGAN_SIZES = (28, 32, 64)
MAP_POINTS = (10_000, 70_000, 200_000)
REPORT_SAMPLES = (2_000, 10_000, 50_000)
PIXELCNN_GRIDS = (1, 16, 64)


def run_curves(out_dir: Path, device: str = "cpu") -> dict:
    """Every curve above: printed, plotted into `out_dir`, and returned as {name: rows}."""
    from genstudio.bench.figures import offscreen_without_display
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.runtime.devices import resolve_device

    offscreen_without_display()
    out_dir.mkdir(parents=True, exist_ok=True)
    device = str(resolve_device(device))
    mnist = load_bundled_mnist()
    curves = {"training_by_batch": training_by_batch(mnist, device),
              "dcgan_by_image_size": dcgan_by_size(mnist, device),
              "decode_by_model_size": decode_by_model_size(device),
              "map_by_points": map_by_points(),
              "diagnostics_by_samples": diagnostics_by_samples(mnist),
              "pixelcnn_by_grid": pixelcnn_by_grid()}
    _plot_all(curves, out_dir)
    return curves


def _table(title: str, header: list[str], rows: list[list]) -> None:
    print(title)
    widths = [max(len(str(h)), *(len(_cell(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  " + "  ".join(f"{h:>{w}}" for h, w in zip(header, widths)))
    for row in rows:
        print("  " + "  ".join(f"{_cell(v):>{w}}" for v, w in zip(row, widths)))
    print(flush=True)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


# --- training -------------------------------------------------------------------------------------
def training_by_batch(mnist, device: str) -> list[dict]:
    from genstudio.bench.throughput import compare_gan_throughput

    rows = []
    for batch in TRAIN_BATCHES:
        # About 3,000 images a window whatever the batch, so each size costs the same few seconds.
        row = compare_gan_throughput(mnist, batch_size=batch, rounds=3, steps=max(8, 3000 // batch), device=device)
        rows.append({"batch_size": batch, "reference": row["reference"], "genstudio": row["genstudio"],
                     "ratio": row["ratio"]})
    _table("training throughput by batch size, MLP GAN preset vs the reference loop, images/s (median of 3 "
           "alternating windows):", ["batch", "reference", "genstudio", "ratio"],
           [[r["batch_size"], r["reference"], r["genstudio"], r["ratio"]] for r in rows])
    return rows


def dcgan_by_size(mnist, device: str) -> list[dict]:
    from genstudio.bench.dcgan_throughput import compare_dcgan_throughput

    rows = []
    for size in DCGAN_SIZES:
        row = compare_dcgan_throughput(mnist, image_size=size, batch_size=64, rounds=3, device=device)
        rows.append({"image_size": size, "reference": row["reference"], "genstudio": row["genstudio"],
                     "ratio": row["ratio"]})
    _table("DCGAN training throughput by image size, dcgan preset vs the PyTorch examples' loop, batch 64, "
           "images/s:", ["px", "reference", "genstudio", "ratio"],
           [[r["image_size"], r["reference"], r["genstudio"], r["ratio"]] for r in rows])
    return rows


# --- decoding ------------------------------------------------------------------------------------
def _decode_ms(model, repeats: int, options: dict | None = None) -> float:
    """Median ms of one-image decodes after a warm-up one, on one thread (the render thread's way)."""
    from genstudio.bench.style_decode import decode_times_ms

    cores = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        z = model.sample_latents(repeats + 1, torch.Generator().manual_seed(0)).to(model.device)
        return statistics.median(decode_times_ms(model, z, options))
    finally:
        torch.set_num_threads(cores)


def decode_by_model_size(device: str) -> list[dict]:
    from genstudio.bench.style_decode import stylegan2
    from genstudio.core import registry
    from genstudio.core.families.family import Capability
    from genstudio.core.io.open_model import open_model
    from genstudio.ui.model_list import demo_checkpoints

    rows = []

    def measure(name: str, model, repeats: int, options: dict | None = None) -> None:
        model.eval()
        rows.append({"model": name, "parameters": sum(p.numel() for p in model.parameters()),
                     "decode_ms": _decode_ms(model, repeats, options)})

    for path in demo_checkpoints():
        opened = open_model(path, device=device)
        # A model drawn pixel by pixel takes a quarter second an image: fewer repeats.
        measure(path.stem, opened.model, 3 if opened.info.has(Capability.SEQUENTIAL_DECODE) else 20,
                opened.info.decode_defaults())
    gan = registry.get("gan")
    measure("dcgan 64 px (random weights)", gan.build({**gan.presets["dcgan"].model, "data_shape": [3, 64, 64]})
            .to(device), 20)
    for resolution in (256, 1024):
        model = stylegan2(resolution, torch.device(device))
        measure(f"StyleGAN2 {resolution} px (random weights)", model, 3)
        measure(f"StyleGAN2 {resolution} px, preview (1/8)", model, 3, {"detail": model.config.preview_detail})
    rows.sort(key=lambda r: r["parameters"])
    _table("one-image decode by model size, one thread (the explorer's render thread), ms:",
           ["model", "parameters", "decode ms"], [[r["model"], r["parameters"], r["decode_ms"]] for r in rows])
    return rows


# --- the latent map ------------------------------------------------------------------------------
def map_by_points() -> list[dict]:
    """Encode + project + draw in the Latent map tab of a shown window, the MNIST test set repeated."""
    from genstudio.bench import ui
    from genstudio.core.data.dataset import InMemoryDataset
    from genstudio.core.runtime.resources import resource_path

    import tempfile

    rows = []
    cores = torch.get_num_threads()         # the window runs torch on one thread in this (its GUI) thread
    with tempfile.TemporaryDirectory() as tmp:
        window = ui.make_window(Path(tmp))
        window.open_path(resource_path("checkpoints", "vae-mnist.safetensors"))
        ui._wait(window.explore.image_view.shown, 30_000)
        panel = window.map
        window.tabs.setCurrentWidget(panel)
        panel.build_map()
        ui._wait(panel.tasks.finished, 120_000)
        data = panel.dataset
        for points in MAP_POINTS:
            times = -(-points // len(data))
            big = InMemoryDataset(f"mnist x{times}", data.data.repeat(times, 1, 1, 1)[:points],
                                  data.labels.repeat(times)[:points], data.label_names)
            start = time.perf_counter()
            panel.build_map(big)
            ui._wait(panel.tasks.finished, 300_000)
            panel.plot.repaint()
            rows.append({"points": points, "map_ms": (time.perf_counter() - start) * 1000})
        window.close()
        ui.dispose(window)
    torch.set_num_threads(cores)
    _table("latent map (encode with the demo VAE, project, draw), ms:", ["points", "ms"],
           [[r["points"], r["map_ms"]] for r in rows])
    return rows


# --- diagnostics ---------------------------------------------------------------------------------
def diagnostics_by_samples(mnist) -> list[dict]:
    from genstudio.bench.report_speed import time_full_report
    from genstudio.core.io.open_model import open_model
    from genstudio.core.runtime.resources import resource_path

    gan = open_model(resource_path("checkpoints", "gan-mnist.safetensors")).model
    rows = []
    for samples in REPORT_SAMPLES:
        result = time_full_report(gan, mnist, samples=samples)
        rows.append({"samples": samples, "report_s": result["report_s"], **result["stages_s"]})
    stages = [k for k in rows[0] if k not in ("samples", "report_s")]
    _table(f"full diagnostics report, demo GAN, generated vs the {len(mnist)} real images, s:",
           ["samples", "total", *stages], [[r["samples"], r["report_s"], *(r[k] for k in stages)] for r in rows])
    return rows


# --- PixelCNN ------------------------------------------------------------------------------------
def pixelcnn_by_grid() -> list[dict]:
    from genstudio.core.io.open_model import open_model
    from genstudio.core.runtime.resources import resource_path

    model = open_model(resource_path("checkpoints", "pixelcnn-mnist.safetensors")).model.eval()
    rows = []
    for grid in PIXELCNN_GRIDS:
        z = model.sample_latents(grid, torch.Generator().manual_seed(grid))
        start = time.perf_counter()
        model.decode(z)
        seconds = time.perf_counter() - start
        rows.append({"digits": grid, "seconds": seconds, "digits_per_s": grid / seconds})
    _table(f"PixelCNN sampling, the demo, {torch.get_num_threads()} threads:", ["digits", "s", "digits/s"],
           [[r["digits"], r["seconds"], r["digits_per_s"]] for r in rows])
    return rows


# --- plots ---------------------------------------------------------------------------------------
PLOTS = {   # curve: (title, x key, x label, [(y key, label)], y label, log x)
    "training_by_batch": ("Training throughput, MLP GAN", "batch_size", "batch size",
                          [("genstudio", "genstudio"), ("reference", "reference loop")], "images/s", True),
    "dcgan_by_image_size": ("Training throughput, DCGAN", "image_size", "image side, px",
                            [("genstudio", "genstudio"), ("reference", "PyTorch examples' loop")], "images/s", False),
    "decode_by_model_size": ("One-image decode, one thread", "parameters", "parameters (log)",
                             [("decode_ms", "decode")], "ms (log)", True),
    "map_by_points": ("Latent map: encode, project, draw", "points", "points (log)", [("map_ms", "map")], "ms", True),
    "diagnostics_by_samples": ("Full diagnostics report", "samples", "generated samples (log)",
                               [("report_s", "report")], "s", True),
    "pixelcnn_by_grid": ("PixelCNN sampling", "digits", "digits in the grid (log)", [("seconds", "grid")], "s", True),
}


def _plot_all(curves: dict, out_dir: Path) -> None:
    for name, rows in curves.items():
        path = plot_curve(out_dir / f"{name}.png", rows, *PLOTS[name])
        print(f"wrote {path}")


def plot_curve(path: Path, rows: list[dict], title: str, x_key: str, x_label: str, series: list[tuple[str, str]],
               y_label: str, log_x: bool) -> Path:
    """One curve per series, points marked, as a 900 x 500 PNG."""
    import pyqtgraph as pg
    import pyqtgraph.exporters

    from genstudio.ui.app import _application

    _application()
    log_y = y_label.endswith("(log)")
    # Thousands on a linear axis: exported before its first paint, the axis dropped 4-digit labels.
    scale = 1000.0 if not log_y and max(float(r[key]) for r in rows for key, _ in series) >= 1000 else 1.0
    plot = pg.PlotWidget(title=title, background="w")
    plot.addLegend()
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", f"{y_label}, thousands" if scale > 1 else y_label)
    plot.showGrid(x=True, y=True, alpha=0.3)
    plot.setLogMode(x=log_x, y=log_y)
    colours = ("#1f77b4", "#d62728", "#2ca02c")
    for (key, label), colour in zip(series, colours):
        xs = [float(r[x_key]) for r in rows]
        ys = [float(r[key]) / scale for r in rows]
        # Models of different families are points, not a line through them; each is named.
        pen = None if "model" in rows[0] else pg.mkPen(colour, width=2)
        plot.plot(xs, ys, pen=pen, symbol="o", symbolBrush=colour, name=label)
        for row, x, y in zip(rows, xs, ys):
            if "model" in row:
                text = pg.TextItem(row["model"], color="#333", anchor=(0, 1))
                text.setPos(math.log10(x) if log_x else x, math.log10(y) if log_y else y)
                plot.addItem(text)
    for side in ("left", "bottom"):          # dark on the white page; the left axis sized before the
        axis = plot.getAxis(side)           # export (otherwise sized at the first paint: no labels)
        axis.setTextPen("k")
        axis.setPen("k")
    plot.getAxis("left").setWidth(60)
    plot.resize(900, 500)
    exporter = pyqtgraph.exporters.ImageExporter(plot.plotItem)
    exporter.parameters()["width"] = 900
    exporter.export(str(path))
    plot.close()
    return path
