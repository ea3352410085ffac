"""`genstudio diagnose`: the mode-collapse and quality report of a checkpoint or foreign generator; for
a translation model, of its translations against the target domain (core/metrics/translation_report.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genstudio.cli.arguments import DIRECTION_NAMES, add_foreign_options, foreign_consent
from genstudio.core.errors import GenStudioError

NAME = "diagnose"


def add_parser(sub) -> None:
    from genstudio.core.data.spec import SPEC_HELP

    diagnose = sub.add_parser(NAME, help="mode-collapse and quality report for a checkpoint or generator",
                              formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SPEC_HELP)
    diagnose.add_argument("checkpoint", type=Path, help="a genstudio checkpoint, a TorchScript / torch.export generator or a "
                               "diffusers folder")
    diagnose.add_argument("--data", help="data set to compare with (default: the checkpoint's training data, or for "
                                         "a slice of a set, such as mnist[:9000], the whole set); a translation "
                                         "model: the pair A=SPEC,B=SPEC, or the target domain alone (default: "
                                         "the pair it was trained on)")
    diagnose.add_argument("--direction", choices=DIRECTION_NAMES,
                          help="translation models: translate A into B (AtoB, the default) or B into A, and compare "
                               "with the target domain")
    diagnose.add_argument("--samples", type=int, default=5000,
                          help="generated samples, as many real ones, and as many again for the real data's own values")
    diagnose.add_argument("--seed", type=int, default=0)
    diagnose.add_argument("--json", nargs="?", const="-", metavar="PATH",
                          help="write every figure with its settings as JSON (to PATH, or stdout)")
    add_foreign_options(diagnose)


def run(args) -> int:
    from genstudio.core.data.spec import diagnosis_spec, load_dataset
    from genstudio.core.io.atomic import write_bytes_atomic
    from genstudio.core.io.open_model import open_model
    from genstudio.core.metrics.report import diagnose
    from genstudio.core.metrics.summary import summary_lines
    from genstudio.core.metrics.translation_report import is_translation

    opened = open_model(args.checkpoint, latent_dim=args.latent_dim, output_range=args.output_range,
                        consent=foreign_consent(args))
    trained_on = opened.card.data_source
    to_stdout = args.json == "-"
    said = sys.stderr if to_stdout else sys.stdout
    translation = is_translation(opened.model)
    if args.direction and not translation:
        raise GenStudioError(f"{args.checkpoint}: --direction is for translation models, and this is a "
                             f"{opened.family} model")
    if translation:
        run_report = _translation_run(args, opened.model, trained_on, said)
    else:
        spec = args.data or diagnosis_spec(trained_on)
        if not spec:
            raise GenStudioError(f"{args.checkpoint}: say which data set to compare with (--data)")
        dataset = load_dataset(spec)
        # Said before the long run, on stderr when stdout carries the JSON (whose "dataset" records it too).
        why = "" if args.data or spec == trained_on else f", the whole set its training data {trained_on} was cut from"
        print(f"comparing with {dataset.source or spec} ({len(dataset)} samples{why})", file=said, flush=True)

        def run_report(progress):
            return diagnose(opened.model, dataset, samples=args.samples, seed=args.seed, progress=progress)
    progress = None if to_stdout else (lambda f, message: print(f"\r{100 * f:5.1f}% {message:<60}", end="",
                                                                file=sys.stderr, flush=True))
    try:
        report = run_report(progress)
    except ValueError as exc:            # counts too small, a shape that differs, NaN or Inf samples
        raise GenStudioError(f"{args.checkpoint}: {exc}") from None
    finally:
        if progress:
            print(file=sys.stderr)       # ends the progress line, before the error line if any
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


def _translation_run(args, model, trained_on: str | None, said):
    """The report of a translation model: its translations of the source domain against the target's
    data (the pair it was trained on unless --data names the pair or the target), as run(progress)."""
    from genstudio.core.families.translation.model import DIRECTIONS
    from genstudio.core.metrics.translation_report import (
        diagnose_translation,
        domain_specs,
        load_domains,
        parse_direction,
    )

    specs = domain_specs(parse_direction(args.direction or "AtoB"), args.data, trained_on)
    source, target = load_domains(specs)
    n = min(args.samples, len(source))
    print(f"translating {n} images of {source.source or specs.source} ({DIRECTIONS[specs.direction]}), "
          f"comparing with {target.source or specs.target} ({len(target)} samples)", file=said, flush=True)
    return lambda progress: diagnose_translation(model, source, target, samples=args.samples, seed=args.seed,
                                                 direction=specs.direction, progress=progress)[0]
