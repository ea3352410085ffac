"""The `genstudio` command: train, info, sample, presets headless; no subcommand opens the app."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import time
import sys
from pathlib import Path

from genstudio.core.errors import GenStudioError

EPILOG = "Run 'genstudio COMMAND --help' for a command's options."


def _grid(text: str) -> tuple[int, int]:
    """'8x8' -> (rows, cols)."""
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"grid must look like 8x8, got '{text}'") from None
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError("grid rows and columns must be at least 1")
    return rows, cols


def _value_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"range must look like -1,1, got '{text}'") from None
    return lo, hi


def build_parser() -> argparse.ArgumentParser:
    from genstudio.core.data.spec import SPEC_HELP
    from genstudio.core.devices import DEVICE_CHOICES

    parser = argparse.ArgumentParser(prog="genstudio", epilog=EPILOG,
                                     description="Train, load and explore GANs, VAEs and normalizing flows. "
                                                 "Without a command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"genstudio {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("--smoke-test", action="store_true",
                        help="build the window, open a demo checkpoint, render an image and exit 0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train a GAN, VAE or flow headless",
                           formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SPEC_HELP)
    train.add_argument("--family", choices=("gan", "vae", "flow"), help="model family (default gan; "
                       "with --resume, the checkpoint's)")
    train.add_argument("--preset", help="architecture/loss preset (see 'genstudio presets')")
    train.add_argument("--data", help="data spec (default: the bundled MNIST test set; with --resume, "
                       "the checkpoint's data)")
    train.add_argument("--download", action="store_true", help="let torchvision data sets download (online)")
    train.add_argument("--steps", type=int, default=1000, help="train until this total step count")
    train.add_argument("--batch-size", type=int, help="default: the preset's")
    train.add_argument("--lr", type=float, help="learning rate (VAE, flow; GAN: both G and D)")
    train.add_argument("--lr-g", type=float, help="GAN generator learning rate")
    train.add_argument("--lr-d", type=float, help="GAN discriminator learning rate")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    train.add_argument("--out", type=Path, help="output folder for checkpoint.safetensors and samples.png")
    train.add_argument("--resume", type=Path, help="continue from this checkpoint (exactly)")
    train.add_argument("--autosave-every", type=int, default=500, help="steps between autosaves (0: end only)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    info = sub.add_parser("info", help="print a checkpoint's description")
    info.add_argument("checkpoint", type=Path)
    info.add_argument("--json", action="store_true", help="print the whole header as JSON")
    info.add_argument("--image", type=Path, action="append", default=[],
                      help="flows: also print the bits/dim of this image file (repeatable)")

    sample = sub.add_parser("sample", help="write an image grid from a checkpoint or foreign generator")
    sample.add_argument("checkpoint", type=Path)
    sample.add_argument("--grid", type=_grid, default=(8, 8), help="rows x cols (default 8x8)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", type=Path, default=Path("grid.png"))
    sample.add_argument("--padding", type=int, default=2)
    sample.add_argument("--scale", type=int, default=1, help="integer upscaling of the grid")
    sample.add_argument("--temperature", type=float, default=1.0, help="latent scale (flows: sampling temperature)")
    sample.add_argument("--latent-dim", type=int, help="foreign generators: latent size")
    sample.add_argument("--output-range", type=_value_range, help="foreign generators: output range, e.g. -1,1")

    diagnose = sub.add_parser("diagnose", help="mode-collapse and quality report for a checkpoint or generator",
                              formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SPEC_HELP)
    diagnose.add_argument("checkpoint", type=Path, help="a genstudio checkpoint or a TorchScript / torch.export generator")
    diagnose.add_argument("--data", help="data set to compare with (default: the checkpoint's)")
    diagnose.add_argument("--samples", type=int, default=10_000, help="generated samples (and as many real ones)")
    diagnose.add_argument("--seed", type=int, default=0)
    diagnose.add_argument("--json", nargs="?", const="-", metavar="PATH",
                          help="write every figure with its settings as JSON (to PATH, or stdout)")
    diagnose.add_argument("--latent-dim", type=int, help="foreign generators: latent size")
    diagnose.add_argument("--output-range", type=_value_range, help="foreign generators: output range")

    sub.add_parser("presets", help="list the model presets")

    bench = sub.add_parser("bench", help="measure the figures of docs/performance.md")
    bench.add_argument("--batch-size", type=int, default=64)
    bench.add_argument("--rounds", type=int, default=5, help="alternating windows per comparison")
    bench.add_argument("--steps", type=int, default=60, help="training steps per window")
    bench.add_argument("--device", default="cpu", choices=DEVICE_CHOICES)
    bench.add_argument("--json", type=Path, help="also write the figures as JSON here")
    bench.add_argument("--only", choices=("train", "ui", "diagnostics"), help="run one group of figures")
    return parser


def _version() -> str:
    from genstudio import __version__
    return __version__


@contextlib.contextmanager
def stop_on_interrupt(trainer):
    """Ctrl-C stops between steps and saves, like the app's Stop button; a second Ctrl-C aborts."""
    def handler(signum, frame):
        signal.signal(signal.SIGINT, previous)
        print("\nstopping after this step (Ctrl-C again to abort)...", file=sys.stderr)
        trainer.stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_train(args) -> int:
    from genstudio.core.checkpoints import read_header
    from genstudio.core.data.spec import load_dataset
    from genstudio.core.engine import TrainConfig, Trainer
    from genstudio.core.export import points_image, save_grid, save_png
    from genstudio.cli_progress import ProgressPrinter

    family = args.family
    data_spec = args.data or "mnist"
    if args.resume:
        header = read_header(args.resume)
        header_family = header["family"]
        data_spec = args.data or header["data"].get("source") or "mnist"
        if family and family != header_family:
            raise GenStudioError(f"{args.resume}: is a {header_family} checkpoint, not a {family}")
        family = header_family
    family = family or "gan"
    hyper = {}
    if args.lr is not None:
        hyper.update({"lr": args.lr, "lr_g": args.lr, "lr_d": args.lr})
    if args.lr_g is not None:
        hyper["lr_g"] = args.lr_g
    if args.lr_d is not None:
        hyper["lr_d"] = args.lr_d
    config = TrainConfig(family=family, preset=args.preset, data=data_spec, steps=args.steps,
                         batch_size=args.batch_size, hyper=hyper, seed=args.seed, device=args.device,
                         out_dir=str(args.out) if args.out else None, autosave_every=args.autosave_every,
                         sample_every_s=0)
    dataset = load_dataset(data_spec, download=args.download)
    trainer = Trainer(config, dataset=dataset, resume=args.resume)
    is_main = trainer.dist is None or trainer.dist.is_main  # under torchrun, rank 0 speaks and writes
    if is_main:
        processes = f", {trainer.dist.world_size} processes" if trainer.dist else ""
        print(f"training {family} preset '{trainer.preset_name}' on {dataset.name} ({len(dataset)} samples, "
              f"shape {dataset.shape}) on {trainer.device}, batch {trainer.batch_size}{processes}, "
              f"steps {trainer.step}->{args.steps}", file=sys.stderr)
    progress = ProgressPrinter(args.steps, trainer.step, enabled=is_main and not args.quiet)
    last = None
    samples = None
    with stop_on_interrupt(trainer):
        for report in trainer.run():
            last = report
            if report.kind == "step":
                progress.update(report)
            elif report.kind == "samples":
                samples = report.samples
            elif report.kind == "diverged":
                progress.close()
                print(f"genstudio: error: {report.message}", file=sys.stderr)
                return 3
    progress.close()
    if args.out and samples is not None and is_main:
        if dataset.is_points:
            save_png(points_image(samples, real=dataset.data[:2000].cpu().numpy()), args.out / "samples.png")
        else:
            save_grid(samples, args.out / "samples.png", cols=8)
    if last is not None and is_main:
        summary = ", ".join(f"{k} {v:.4g}" for k, v in last.scalars.items())
        print(f"{last.message}; {summary}" if summary else last.message, file=sys.stderr)
        if last.path:
            print(f"checkpoint: {last.path}", file=sys.stderr)
    return 0


def cmd_info(args) -> int:
    from genstudio.core.checkpoints import read_header
    from genstudio.core.foreign import WARNING
    import zipfile

    if args.checkpoint.is_file() and zipfile.is_zipfile(args.checkpoint):
        print(f"{args.checkpoint}: a TorchScript / torch.export archive (foreign generator). {WARNING}.")
        return 0
    header = read_header(args.checkpoint)
    if args.json:
        print(json.dumps(header, indent=2))
        return 0
    data = header.get("data", {})
    train = header.get("train", {})
    rows = [
        ("file", str(args.checkpoint)),
        ("family", header["family"]),
        ("preset", header.get("preset", "")),
        ("architecture", json.dumps({k: v for k, v in header["model_config"].items() if k != "data_shape"})),
        ("data", f"{data.get('name', '?')} ({data.get('size', '?')} samples, {data.get('source', '')})"),
        ("sample shape", " x ".join(map(str, header["data_shape"]))),
        ("latent shape", " x ".join(map(str, header["latent_shape"]))),
        ("value range", f"{header['value_range'][0]:g} .. {header['value_range'][1]:g}"),
        ("labels", ", ".join(header.get("label_names", [])) or "none"),
        ("step", str(header.get("step", 0))),
        ("hyper-parameters", json.dumps(train.get("hyper", {}))),
        ("resumable", "yes" if header.get("optimizers") else "no (weights only)"),
        ("created", header.get("created", "")),
        ("format", f"{header['format']} v{header['format_version']}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in header.get("versions", {}).items())),
    ]
    if args.image:
        from genstudio.core.checkpoints import load_checkpoint
        from genstudio.core.likelihood import image_bits_per_dim

        if header["family"] != "flow":
            raise GenStudioError(f"{args.checkpoint}: --image needs a flow (exact likelihood); this is a {header['family']}")
        model = load_checkpoint(args.checkpoint).model.eval()
        rows += [(f"bits/dim {path.name}", f"{image_bits_per_dim(model, path):.6f}") for path in args.image]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def cmd_sample(args) -> int:
    import torch

    from genstudio.core.export import points_image, save_grid, save_png
    from genstudio.core.open_model import open_model

    opened = open_model(args.checkpoint, latent_dim=args.latent_dim, output_range=args.output_range)
    rows, cols = args.grid
    model = opened.model
    generator = torch.Generator().manual_seed(args.seed)
    z = torch.randn((rows * cols, *model.latent_shape), generator=generator) * args.temperature
    images = model.decode(z.to(model.device)).cpu().numpy()
    if model.is_points:
        save_png(points_image(images), args.out)
    else:
        save_grid(images, args.out, cols=cols, padding=args.padding, scale=args.scale)
    print(f"wrote {args.out} ({rows}x{cols} samples, seed {args.seed})")
    return 0


def cmd_diagnose(args) -> int:
    from genstudio.core.atomic import write_bytes_atomic
    from genstudio.core.data.spec import load_dataset
    from genstudio.core.metrics.report import diagnose
    from genstudio.core.open_model import open_model
    from genstudio.diagnostics_text import summary_lines

    opened = open_model(args.checkpoint, latent_dim=args.latent_dim, output_range=args.output_range)
    spec = args.data or (opened.header.get("data") or {}).get("source")
    if not spec:
        raise GenStudioError(f"{args.checkpoint}: say which data set to compare with (--data)")
    dataset = load_dataset(spec)
    to_stdout = args.json == "-"
    progress = None if to_stdout else (lambda f, message: print(f"\r{100 * f:5.1f}% {message:<60}", end="",
                                                                file=sys.stderr, flush=True))
    try:
        report = diagnose(opened.model, dataset, samples=args.samples, seed=args.seed, progress=progress)
    except ValueError as exc:
        raise GenStudioError(f"{args.checkpoint}: {exc}") from None
    if progress:
        print(file=sys.stderr)
    text = json.dumps(report, indent=1)
    if to_stdout:
        print(text)
        return 0
    print(f"{args.checkpoint} ({opened.family})")
    for line in summary_lines(report):
        print(f"  {line}")
    if args.json:
        write_bytes_atomic(args.json, text.encode())
        print(f"wrote {args.json}")
    return 0


def cmd_presets(args) -> int:
    from genstudio.core.models import PRESETS

    for family, presets in PRESETS.items():
        print(family)
        for name, preset in presets.items():
            print(f"  {name:<16} [{preset['data']}] {preset['description']}")
    return 0


def cmd_bench(args) -> int:
    from genstudio.core.atomic import write_bytes_atomic
    from genstudio.core.bench.throughput import compare_gan_throughput
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.devices import resolve_device

    figures = {}
    if args.only in (None, "train"):
        device = str(resolve_device(args.device))
        train = compare_gan_throughput(load_bundled_mnist(), batch_size=args.batch_size, rounds=args.rounds,
                                       steps=args.steps, device=device)
        figures["train"] = train
        print(f"training throughput, MLP GAN preset, batch {train['batch_size']}, MNIST test set, {device}, "
              f"{train['threads']} threads, median of {train['rounds']} alternating windows of "
              f"{train['steps_per_window']} steps:")
        print(f"  reference loop  {train['reference']:8.0f} images/s")
        print(f"  genstudio       {train['genstudio']:8.0f} images/s")
        print(f"  ratio           {train['ratio']:8.2f}   (bar >= {train['bar']})", flush=True)
    if args.only in (None, "diagnostics"):
        figures["diagnostics"] = _bench_diagnostics()
    if args.only in (None, "ui"):
        figures.update(_bench_ui())
    if args.json:
        write_bytes_atomic(args.json, json.dumps(figures, indent=2).encode())
        print(f"wrote {args.json}")
    return 0


def _bench_diagnostics() -> dict:
    """The full mode-collapse report, 10k samples of the demo GAN vs the 10k bundled MNIST images."""
    from genstudio.core.bench.report_speed import time_full_report
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.open_model import open_model
    from genstudio.core.resources import resource_path

    gan = open_model(resource_path("checkpoints", "gan-mnist.safetensors")).model
    result = time_full_report(gan, load_bundled_mnist())
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result["stages_s"].items())
    print(f"full diagnostics report, demo GAN, {result['samples']} generated vs {result['samples']} real "
          f"({result['features']}): {result['report_s']:.1f} s (bar <= {result['bar_s']:.0f}); stages, s: {stages}; "
          f"feature classifier ready in {result['classifier_ready_s']:.1f} s (trained once, then cached)", flush=True)
    return result


def _bench_ui() -> dict:
    """Figures that need the window; offscreen when there is no display."""
    import os
    import tempfile

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from genstudio.ui import bench_ui
    from genstudio.ui.model_list import demo_checkpoints

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        window = bench_ui.make_window(Path(tmp))
        latency = bench_ui.slider_latency(window, demo_checkpoints())
        figures["slider_latency_ms"] = latency
        print("slider latency (set slider -> decode -> image repainted), ms, bar p95 <= 8:")
        for family, row in latency.items():
            print(f"  {family:<5} {row['checkpoint']:<24} p50 {row['p50']:6.2f}   p95 {row['p95']:6.2f}   "
                  f"max {row['max']:6.1f}   (n={row['n']})", flush=True)
        vae = [p for p in demo_checkpoints() if p.stem == "vae-mnist"]
        if vae:
            mapped = bench_ui.latent_map(window, vae[0])
            figures["latent_map"] = mapped
            print(f"latent map: encode {mapped['points']} MNIST images with the demo VAE and draw them: "
                  f"{mapped['encode_and_plot_ms']:.0f} ms (bar <= 1500); hover decode p50 "
                  f"{mapped['hover_ms']['p50']:.2f} ms, p95 {mapped['hover_ms']['p95']:.2f} ms; pan with "
                  f"{mapped['points_70k']} points: p50 {mapped['pan_70k_ms']['p50']:.0f} ms, "
                  f"p95 {mapped['pan_70k_ms']['p95']:.0f} ms per repaint", flush=True)
        gui = bench_ui.gui_overhead_and_stall(window, Path(tmp))
        figures.update(gui)
        over, stall = gui["gui_overhead"], gui["ui_stall_ms"]
        print(f"GUI overhead (MLP GAN in the app with live plot and samples / headless): "
              f"{over['in_app']:.0f} / {over['headless']:.0f} images/s = {over['ratio']:.2f} (bar >= 0.90)")
        print(f"UI stall (gaps of a 10 ms timer while training): p99 {stall['p99']:.1f} ms, "
              f"max {stall['max']:.1f} ms (bar p99 <= 50)", flush=True)
        window.close()
        bench_ui.dispose(window)
    start = bench_ui.startup()
    figures["startup"] = start
    print(f"start-up to first image (warm): {start['process_wall_ms']:.0f} ms process wall time, "
          f"{start['first_image_after_main_ms']:.0f} ms after main() (bar <= 3000; cold {start['cold_wall_ms']:.0f} ms)")
    return figures


COMMANDS = {"train": cmd_train, "info": cmd_info, "sample": cmd_sample, "diagnose": cmd_diagnose,
            "presets": cmd_presets,
            "bench": cmd_bench}


def _ensure_stdio() -> None:
    """A windowed (frozen) app on Windows or macOS starts with sys.stdout/sys.stderr = None."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    _ensure_stdio()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        from genstudio.ui.app import run_app  # Qt is imported only for the app

        return run_app(smoke=args.smoke_test, started=started)
    try:
        return COMMANDS[args.command](args)
    except GenStudioError as exc:
        print(f"genstudio: error: {exc}", file=sys.stderr)
        return 1
