"""`genstudio train`: train any registered family headless, on one device or under torchrun."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import time
from pathlib import Path

from genstudio.core.errors import GenStudioError

NAME = "train"
DEFAULT_FAMILY = "gan"
RUNS_FOLDER = "runs"       # a run without --out or --resume saves in runs/FAMILY-PRESET-TIMESTAMP here
SAMPLE_EVERY_S = 30.0    # --sample-every's default: a followed run's grids and eval figures grow at this pace
MAX_SEED = 2**32 - 1      # the engine derives per-epoch seeds as seed * 1_000_003 + epoch: keep it in int64


# --- argument types: a bad value is an argparse error (one line, exit code 2) naming the flag -----
def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {text!r}") from None


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a number, got {text!r}") from None
    # float() takes 'nan', 'inf' and '1e999': none of them is a setting anything can train with.
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{what} must be a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = _integer(text, "the value")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _integer(text, "the value")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def non_negative_number(text: str) -> float:
    value = _number(text, "the value")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def seed(text: str) -> int:
    value = _integer(text, "the seed")
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"the seed must be 0 to {MAX_SEED}, got {value}")
    return value


def learning_rate(text: str) -> float:
    value = _number(text, "a learning rate")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a learning rate must be positive, got {text!r}")
    return value


def model_field(text: str) -> tuple[str, object]:
    """--model KEY=VALUE: the value as JSON (numbers, true/false, [lists]) or else as a string; the
    family's typed config checks it when the model is built."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"takes KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key.strip(), parsed


def hyper_value(field):
    """The argparse type of one hyper-parameter flag: its kind, finite, and within the range the Train
    form allows (learning rates: any positive value, as --lr takes)."""
    if field.learning_rate:
        return learning_rate

    def parse(text: str):
        value = _integer(text, field.label) if field.kind is int else _number(text, field.label)
        if not field.minimum <= value <= field.maximum:
            raise argparse.ArgumentTypeError(f"{field.label} must be {field.minimum:g} to {field.maximum:g}, got {text!r}")
        return field.kind(value)

    parse.__name__ = field.kind.__name__     # argparse names the type in some messages
    return parse


def _hyper_fields():
    """Every registered family's hyper-parameter fields, once per key (first family's wording)."""
    from genstudio.core import registry

    fields = {}
    for family in registry.families():
        for field in family.hyper_fields:
            fields.setdefault(field.key, (field, []))[1].append(family.name)
    return fields


def add_parser(sub) -> None:
    from genstudio.core import registry
    from genstudio.core.data.spec import SPEC_HELP
    from genstudio.core.runtime.devices import DEVICE_CHOICES

    train = sub.add_parser(NAME, help="train a model headless", formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog=SPEC_HELP)
    families = ", ".join(f"{f.name} ({f.label})" for f in registry.families())
    train.add_argument("--family", choices=registry.names(),
                       help=f"model family: {families}; default {DEFAULT_FAMILY}, with --resume the checkpoint's")
    train.add_argument("--preset", help="architecture/loss preset (see 'genstudio presets')")
    train.add_argument("--data", help="data spec (default: the bundled MNIST test set; with --resume, "
                       "the checkpoint's data)")
    train.add_argument("--download", action="store_true", help="let torchvision data sets download (online)")
    train.add_argument("--steps", type=positive_int, default=1000, help="train until this total step count")
    train.add_argument("--batch-size", type=positive_int, help="default: the preset's")
    train.add_argument("--lr", type=learning_rate, help="every learning rate of the family (e.g. a GAN's G and D); "
                       "with --resume, the rates the run goes on with")
    for key, (field, owners) in _hyper_fields().items():
        if field.flag == "--lr":
            continue      # the general --lr above sets it
        train.add_argument(field.flag, dest=f"hyper_{key}", type=hyper_value(field), metavar=field.kind.__name__.upper(),
                           help=f"{field.help or field.label} ({', '.join(owners)})")
    train.add_argument("--model", type=model_field, action="append", default=[], metavar="KEY=VALUE",
                       help="set a field of the preset's model config, e.g. --model latent_dim=32 or "
                            "--model d_augment=translation (an unknown KEY is answered with the family's "
                            "fields); repeatable; not with --resume, which keeps the checkpoint's")
    train.add_argument("--seed", type=seed, help="seed of the weights, the data order and the sample latents "
                       "(default 0; with --resume, the checkpoint's, so that its data order goes on)")
    train.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    train.add_argument("--out", type=Path,
                       help="output folder for checkpoint.safetensors, samples.png and the run's log (run.json, "
                            "metrics.jsonl, samples/; docs/run-folder.md) (default: with --resume, "
                            f"the resumed file's folder; else {RUNS_FOLDER}/FAMILY-PRESET-YYYYMMDD-HHMMSS "
                            "under the current folder)")
    train.add_argument("--resume", type=Path, help="continue from this checkpoint (exactly), saving in its folder "
                       "unless --out names another")
    train.add_argument("--autosave-every", type=non_negative_int, default=500,
                       help="steps between autosaves (0: end only)")
    train.add_argument("--keep", type=positive_int, default=3, metavar="K",
                       help="keep the latest checkpoint and the K-1 autosaves before it (default 3)")
    train.add_argument("--sample-every", type=non_negative_number, default=SAMPLE_EVERY_S, metavar="SECONDS",
                       help=f"seconds between sample grids and held-out figures in the run folder's log "
                            f"(default {SAMPLE_EVERY_S:g}; 0: only the first and last)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")


# Ctrl-C, and what schedulers, containers and `kill` send (SIGTERM; Ctrl-Break on Windows, which has no
# deliverable SIGTERM from outside).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name))


@contextlib.contextmanager
def stop_on_interrupt(trainer):
    """Ctrl-C or SIGTERM stops and saves the last finished step, like the app's Stop button; the same
    signal again aborts (its previous handler is back)."""
    def handler(signum, frame):
        signal.signal(signum, previous[signum])
        print(f"\nstopping ({signal.Signals(signum).name}): saving the last finished step "
              f"(the same signal again aborts)...", file=sys.stderr)
        trainer.stop()

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def output_folder(args, family, preset: str) -> Path:
    """Where the run saves: --out; else the resumed file's folder (its run goes on there); else a new
    runs/FAMILY-PRESET-TIMESTAMP under the current folder, so that no run trains without saving."""
    if args.out:
        return args.out
    if args.resume:
        return args.resume.parent
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path(RUNS_FOLDER) / f"{family.name}-{preset}-{stamp}"
    suffix = 2
    while folder.exists():        # two runs started in the same second
        folder = Path(RUNS_FOLDER) / f"{family.name}-{preset}-{stamp}-{suffix}"
        suffix += 1
    return folder


def hyper_overrides(args, family) -> dict:
    """The hyper-parameters given on the command line that this family takes."""
    hyper = {}
    own = {field.key for field in family.hyper_fields}
    if args.lr is not None:
        hyper.update({field.key: args.lr for field in family.hyper_fields if field.learning_rate})
    for key in _hyper_fields():
        value = getattr(args, f"hyper_{key}", None)  # None also for "lr", which --lr covers
        if value is None:
            continue
        if key not in own:
            raise GenStudioError(f"--{key.replace('_', '-')} is not a {family.label} hyper-parameter "
                                 f"(it takes {', '.join(f.flag for f in family.hyper_fields) or 'none'})")
        hyper[key] = value
    return hyper


def resume_data(path, source: str) -> str:
    """The data a resumed run trains on when --data is not given: the checkpoint's only if it is one
    of the bundled sets. A header is the file's author's word, so a folder or download location it
    names is never read without the person naming it again."""
    from genstudio.core.data.toy import TOY_MIXTURES

    if not source or source == "mnist" or source in TOY_MIXTURES:
        return source or "mnist"
    raise GenStudioError(f"{path}: was trained on '{source}'; name the data again with --data to go on "
                         f"(a checkpoint's own data path is not followed)")


def run_seed(args, card) -> int:
    """--seed, else a resumed checkpoint's seed (the data order is derived from it), else 0."""
    if args.seed is not None:
        return args.seed
    config = card.train.get("config") if card is not None else None
    saved = config.get("seed", 0) if isinstance(config, dict) else 0
    if not isinstance(saved, int) or isinstance(saved, bool) or not 0 <= saved <= MAX_SEED:
        raise GenStudioError(f"{args.resume}: its training settings are damaged (seed {saved!r:.20}); "
                             f"give --seed")
    return saved


def run(args) -> int:
    from genstudio.cli.progress import ProgressPrinter
    from genstudio.core import registry
    from genstudio.core.data.spec import load_dataset
    from genstudio.core.errors import CheckpointError, NonFiniteOutput, check_finite
    from genstudio.core.io.checkpoints import read_card
    from genstudio.core.io.export import points_image, save_grid, save_png
    from genstudio.core.io.file_checks import check_readable_file
    from genstudio.core.training.engine import TrainConfig, Trainer

    # Paths checked before anything is loaded or trained: a FIFO given as --resume would block,
    # and an --out that is a file would fail only when the first checkpoint is written.
    if args.resume:
        check_readable_file(args.resume, "checkpoint file", error=CheckpointError)
    if args.out and args.out.exists() and not args.out.is_dir():
        raise GenStudioError(f"{args.out}: --out must be a folder, and this is a file")
    family = args.family
    data_spec = args.data or "mnist"
    if args.resume:
        card = read_card(args.resume)
        data_spec = args.data or resume_data(args.resume, card.data_source)
        if family and family != card.family:
            raise GenStudioError(f"{args.resume}: is a {card.family} checkpoint, not a {family}")
        family = card.family
    if args.resume and args.model:
        raise GenStudioError(f"{args.resume}: --model cannot change a checkpoint's architecture; resume without it")
    family = registry.get(family or DEFAULT_FAMILY)
    hyper = hyper_overrides(args, family)
    dataset = load_dataset(data_spec, download=args.download)
    preset = card.preset if args.resume else args.preset or family.default_preset(dataset.is_points)
    out = output_folder(args, family, preset)
    config = TrainConfig(family=family.name, preset=args.preset, data=data_spec, steps=args.steps,
                         batch_size=args.batch_size, hyper=hyper, model=dict(args.model),
                         seed=run_seed(args, card if args.resume else None), device=args.device, out_dir=str(out),
                         autosave_every=args.autosave_every, keep_checkpoints=args.keep, sample_every_s=args.sample_every)
    trainer = Trainer(config, dataset=dataset, resume=args.resume)
    if trainer.step >= args.steps:
        # Said here, before the banner line, with the file named: --steps is the total, not "more".
        raise GenStudioError(f"{args.resume}: already at step {trainer.step}; --steps is the total step count, "
                             f"so ask for more than {trainer.step}")
    is_main = trainer.dist is None or trainer.dist.is_main  # under torchrun, rank 0 speaks and writes
    if is_main:
        processes = f", {trainer.dist.world_size} processes" if trainer.dist else ""
        print(f"training {family.name} preset '{trainer.preset_name}' on {dataset.name} ({len(dataset)} samples, "
              f"shape {dataset.shape}) on {trainer.device}, batch {trainer.batch_size}{processes}, "
              f"steps {trainer.step}->{args.steps}; saving to {trainer.checkpoint_path}", file=sys.stderr)
    progress = ProgressPrinter(args.steps, trainer.step, enabled=is_main and not args.quiet)
    last = None
    samples, samples_step, columns = None, None, None
    with stop_on_interrupt(trainer):
        for report in trainer.run():
            last = report
            if report.kind == "step":
                progress.update(report)
            elif report.kind == "samples" and report.rows_drawn is None:   # a whole grid, not rows so far
                samples, samples_step, columns = report.samples, report.step, report.columns
            elif report.kind == "diverged":
                progress.close()
                print(f"genstudio: error: {report.message}", file=sys.stderr)
                return 3
        if is_main and last is not None and last.kind == "stopped" and samples_step != last.step:
            # A stopped run draws no final grid; samples.png shows the saved weights.
            samples, columns = trainer.preview_samples()
    progress.close()
    if samples is not None and is_main:
        try:
            check_finite(samples, "the final samples")     # a NaN grid is not drawn black
        except NonFiniteOutput as exc:
            print(f"genstudio: {exc}; samples.png not written", file=sys.stderr)
            samples = None
    if samples is not None and is_main:
        if dataset.is_points:
            save_png(points_image(samples, real=dataset.data[:2000].cpu().numpy()), out / "samples.png")
        else:
            save_grid(samples, out / "samples.png", cols=columns or 8)
    if last is not None and is_main:
        summary = ", ".join(f"{k} {v:.4g}" for k, v in last.scalars.items())
        print(f"{last.message}; {summary}" if summary else last.message, file=sys.stderr)
        if last.path:
            print(f"checkpoint: {last.path}", file=sys.stderr)
    return 0
