"""Run the benchmark groups of `genstudio bench` (train, dcgan, diagnostics, sampling, stylegan, stop, ui;
and, only when asked for with --only, runs) and print their figures."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

GROUPS = ("train", "dcgan", "diagnostics", "sampling", "stylegan", "stop", "ui")
# Groups left out of a plain `genstudio bench` (which stays under 5 minutes): asked for with --only.
ON_REQUEST = ("runs",)


def run(groups: tuple[str, ...] = GROUPS, batch_size: int = 64, rounds: int = 5, steps: int = 60,
        device: str = "cpu") -> dict:
    figures = {}
    if "train" in groups:
        figures["train"] = bench_training(batch_size, rounds, steps, device)
    if "dcgan" in groups:
        from genstudio.bench.dcgan_throughput import bench_dcgan
        from genstudio.core.runtime.devices import resolve_device

        figures["dcgan"] = {str(size): row for size, row in bench_dcgan(device=str(resolve_device(device))).items()}
    if "diagnostics" in groups:
        figures["diagnostics"] = bench_diagnostics()
    if "sampling" in groups:
        figures["sampling"] = bench_sampling(device)
    if "stylegan" in groups:
        figures["stylegan_decode"] = bench_style_decode(device)
    if "stop" in groups:
        figures["stop_latency_s"] = bench_stop(device)
    if "ui" in groups:
        figures.update(bench_ui())
    if "runs" in groups:
        from genstudio.bench.run_costs import bench_runs
        from genstudio.core.runtime.devices import resolve_device

        figures["runs"] = bench_runs(device=str(resolve_device(device)))
    return figures


def bench_training(batch_size: int, rounds: int, steps: int, device: str) -> dict:
    from genstudio.bench.throughput import compare_gan_throughput
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.runtime.devices import resolve_device

    device = str(resolve_device(device))
    train = compare_gan_throughput(load_bundled_mnist(), batch_size=batch_size, rounds=rounds, steps=steps,
                                   device=device)
    print(f"training throughput, MLP GAN preset, batch {train['batch_size']}, MNIST test set, {device}, "
          f"{train['threads']} threads, median of {train['rounds']} alternating windows of "
          f"{train['steps_per_window']} steps:")
    print(f"  reference loop  {train['reference']:8.0f} images/s")
    print(f"  genstudio       {train['genstudio']:8.0f} images/s")
    print(f"  ratio           {train['ratio']:8.2f}   (bar >= {train['bar']})", flush=True)
    return train


def bench_diagnostics() -> dict:
    """The full mode-collapse report, 10k samples of the demo GAN vs the 10k bundled MNIST images."""
    from genstudio.bench.report_speed import time_full_report
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.io.open_model import open_model
    from genstudio.core.runtime.resources import resource_path

    gan = open_model(resource_path("checkpoints", "gan-mnist.safetensors")).model
    result = time_full_report(gan, load_bundled_mnist())
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result["stages_s"].items())
    print(f"full diagnostics report, demo GAN, {result['samples']} generated vs {result['samples']} real "
          f"({result['features']}): {result['report_s']:.1f} s (bar <= {result['bar_s']:.0f}); stages, s: {stages}; "
          f"feature classifier ready in {result['classifier_ready_s']:.1f} s (trained once, then cached)", flush=True)
    return result


def bench_sampling(device: str) -> dict:
    """Pixel-by-pixel sampling of the autoregressive family: its demo, or else its digits preset
    (the speed depends on the architecture, not on the weights)."""
    from genstudio.bench.sampling import time_sampling
    from genstudio.core import registry
    from genstudio.core.io.open_model import open_model
    from genstudio.core.runtime.devices import resolve_device
    from genstudio.core.runtime.resources import resource_path

    family = registry.get("autoregressive")
    shipped = [path for demo in family.demos if (path := resource_path("checkpoints", f"{demo.name}.safetensors")).exists()]
    device = resolve_device(device)
    if shipped:
        model, what = open_model(shipped[0], device=device).model, shipped[0].name
    else:
        model = family.build({**family.presets["digits"].model, "data_shape": [1, 28, 28]}).to(device)
        what = "the digits preset (no demo shipped)"
    row = time_sampling(model)
    row["model"] = what
    print(f"PixelCNN sampling, {what}, 28 x 28, {device}: one digit on one thread {row['one_digit_s']:.2f} s "
          f"({1 / row['one_digit_s']:.1f} digits/s; the naive whole-network loop {row['naive_one_digit_s']:.1f} s, "
          f"{row['speed_up']:.0f}x slower); a {row['grid']}-digit grid on {row['grid_threads']} threads "
          f"{row['grid_s']:.1f} s ({row['grid_digits_per_s']:.1f} digits/s)", flush=True)
    return row


def bench_style_decode(device: str) -> dict:
    """One image from StyleGAN2 generators of NVIDIA's 256 px and 1024 px configurations."""
    from genstudio.bench.style_decode import time_style_decode
    from genstudio.core.runtime.devices import resolve_device

    device = resolve_device(device)
    rows = {}
    for resolution in (256, 1024):
        row = rows[resolution] = time_style_decode(resolution, device)
        print(f"StyleGAN2 decode, {resolution} px ({row['parameters'] / 1e6:.1f} M parameters, random weights), "
              f"one image, {device}, {row['threads']} threads: median {row['median_ms']:.0f} ms, "
              f"best {row['min_ms']:.0f} ms (of {row['repeats']}); the explorer's preview while a slider "
              f"moves (1/8 resolution) {row['preview_median_ms']:.0f} ms", flush=True)
    return rows


def bench_stop(device: str) -> dict:
    """Seconds from Stop to the saved checkpoint, stopped mid-step, mid-preview and mid-evaluation."""
    from genstudio.bench.stop_latency import INTO_S, time_stop
    from genstudio.core.data.bundled import load_bundled_mnist

    rows = time_stop(load_bundled_mnist(), device)
    print(f"stop latency (Trainer.stop() -> checkpoint saved, 'stopped' reported), s, {device}, "
          f"asked {INTO_S} s into the piece, bar <= 1:")
    for name, row in rows.items():
        print(f"  {name:<24} mid-step {row['step']:5.2f}   mid-preview {row['sampling preview']:5.2f}   "
              f"mid-evaluation {row['evaluating']:5.2f}   (a step takes {row['step_s']:.2f} s; "
              f"{row['threads']} threads)", flush=True)
    return rows


def _previews(path: Path) -> bool:
    """Whether a checkpoint's family always decodes with a progressive preview (read from its card
    alone); a preview only above a latency (StyleGAN's resolution) leaves a fast demo timed in full."""
    from genstudio.core import registry
    from genstudio.core.io.checkpoints import read_card

    card = read_card(path)
    family = registry.get(card.family)
    previewed = family.preview_options(card.config.to_dict())
    return any(s.key in previewed and not s.preview_above_ms for s in family.decode_settings)


def _draws_rows(path: Path) -> bool:
    """Whether a checkpoint's family samples pixel by pixel (read from its card alone)."""
    from genstudio.core import registry
    from genstudio.core.families.family import Capability
    from genstudio.core.io.checkpoints import read_card

    return registry.get(read_card(path).family).has(Capability.SEQUENTIAL_DECODE)


def offscreen_without_display() -> None:
    """Qt offscreen when Linux has no display (a server, CI): the window and the plots still draw."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def bench_ui() -> dict:
    """Figures that need the window; offscreen when there is no display."""
    offscreen_without_display()
    from genstudio.bench import ui
    from genstudio.ui.model_list import demo_checkpoints

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        window = ui.make_window(Path(tmp))
        demos = demo_checkpoints()
        previewing = [p for p in demos if _previews(p)]
        drawn = [p for p in demos if _draws_rows(p)]        # seconds per image: the sampling group times them
        latency = ui.slider_latency(window, [p for p in demos if p not in previewing and p not in drawn])
        figures["slider_latency_ms"] = latency
        print("slider latency (set slider -> decode -> image repainted), ms, bar p95 <= 8:")
        for family, row in latency.items():
            print(f"  {family:<5} {row['checkpoint']:<24} p50 {row['p50']:6.2f}   p95 {row['p95']:6.2f}   "
                  f"max {row['max']:6.1f}   (n={row['n']})", flush=True)
        for path in previewing:
            row = ui.progressive_latency(window, path)
            figures.setdefault("progressive_latency_ms", {})[path.stem] = row
            steps = ", ".join(f"{k} {v:g}" for k, v in row["full_options"].items())
            print(f"progressive preview ({path.name}; set slider -> preview on screen, rest -> full decode on "
                  f"screen), ms: preview ({', '.join(f'{k} {v:g}' for k, v in row['preview_options'].items())}) "
                  f"p50 {row['preview_ms']['p50']:.1f} p95 {row['preview_ms']['p95']:.1f} (bar <= 30); "
                  f"full ({steps}) p50 {row['full_ms']['p50']:.1f} p95 {row['full_ms']['p95']:.1f} (bar <= 250)",
                  flush=True)
        vae = [p for p in demos if p.stem == "vae-mnist"]
        if vae:
            mapped = ui.latent_map(window, vae[0])
            figures["latent_map"] = mapped
            print(f"latent map: encode {mapped['points']} MNIST images with the demo VAE and draw them: "
                  f"{mapped['encode_and_plot_ms']:.0f} ms (bar <= 1500); hover decode p50 "
                  f"{mapped['hover_ms']['p50']:.2f} ms, p95 {mapped['hover_ms']['p95']:.2f} ms; pan with "
                  f"{mapped['points_70k']} points: p50 {mapped['pan_70k_ms']['p50']:.0f} ms, "
                  f"p95 {mapped['pan_70k_ms']['p95']:.0f} ms per repaint", flush=True)
        gui = ui.gui_overhead_and_stall(window, Path(tmp))
        figures.update(gui)
        over, stall = gui["gui_overhead"], gui["ui_stall_ms"]
        print(f"GUI overhead (MLP GAN in the app with live plot and samples / headless): "
              f"{over['in_app']:.0f} / {over['headless']:.0f} images/s = {over['ratio']:.2f} (bar >= 0.90)")
        print(f"UI stall (gaps of a 10 ms timer while training): p99 {stall['p99']:.1f} ms, "
              f"max {stall['max']:.1f} ms (bar p99 <= 50)", flush=True)
        from genstudio.bench.open_stall import open_stall

        opening = figures["open_large_model"] = open_stall(window)
        stall = opening["ui_stall_ms"]
        print(f"opening a {opening['resolution']} px StyleGAN2 ({opening['checkpoint_mb']:.0f} MB, random weights): "
              f"open_path {opening['open_ms']:.0f} ms, first image {opening['first_image_ms']:.0f} ms; UI stall "
              f"meanwhile p99 {stall['p99']:.1f} ms, max {stall['max']:.0f} ms, {stall['over_50']} gaps over 50 ms "
              f"(bar p99 <= 50)", flush=True)
        window.close()
        ui.dispose(window)
    start = ui.startup()
    figures["startup"] = start
    print(f"start-up (warm): first pixels {start['first_pixels_ms']:.0f} ms (bar <= {start['first_pixels_bar_ms']}), "
          f"live image {start['live_image_ms']:.0f} ms, "
          f"interactive {start['interactive_ms']:.0f} ms (bar <= {start['interactive_bar_ms']}) from the process's "
          f"start; first image {start['process_wall_ms']:.0f} ms process wall time, "
          f"{start['first_image_after_main_ms']:.0f} ms after main() (bar <= 3000; cold {start['cold_wall_ms']:.0f} ms)")
    return figures
