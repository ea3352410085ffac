"""`genstudio bench`: the figures of docs/performance.md (genstudio/bench/)."""

from __future__ import annotations

import json
from pathlib import Path

NAME = "bench"


def add_parser(sub) -> None:
    from genstudio.bench.figures import GROUPS, ON_REQUEST
    from genstudio.core.runtime.devices import DEVICE_CHOICES

    bench = sub.add_parser(NAME, help="measure the figures of docs/performance.md")
    bench.add_argument("--batch-size", type=int, default=64)
    bench.add_argument("--rounds", type=int, default=5, help="alternating windows per comparison")
    bench.add_argument("--steps", type=int, default=60, help="training steps per window")
    bench.add_argument("--device", default="cpu", choices=DEVICE_CHOICES)
    bench.add_argument("--json", type=Path, help="also write the figures as JSON here")
    bench.add_argument("--only", choices=GROUPS + ON_REQUEST,
                       help="run one group of figures (runs: the run folder's cost and DCGAN throughput with 1 "
                            "and 2 processes under torchrun, about 2 minutes, only with --only)")
    bench.add_argument("--curves", nargs="?", type=Path, const=Path("bench-curves"), metavar="DIR",
                       help="instead of the figures, how they grow (batch size, image size, model size, points, "
                            "samples): tables, and a PNG plot of each in DIR (default bench-curves/)")
    bench.add_argument("--compare", nargs="+", type=Path, metavar="JSON",
                       help="OLD.json: run, then print every figure before (OLD) and after (this run); "
                            "OLD.json NEW.json: compare two records without running")


def run(args) -> int:
    from genstudio.bench.compare import compare, format_rows, read_record
    from genstudio.bench.figures import GROUPS
    from genstudio.bench.figures import run as run_figures
    from genstudio.core.errors import GenStudioError
    from genstudio.core.io.atomic import write_bytes_atomic

    if args.compare and len(args.compare) > 2:
        raise GenStudioError("--compare takes OLD.json, or OLD.json NEW.json")
    old = read_record(args.compare[0]) if args.compare else None        # read first: a typo fails fast
    if args.compare and len(args.compare) == 2:
        print(format_rows(compare(old, read_record(args.compare[1])), args.compare[0].name, args.compare[1].name))
        return 0
    if args.curves is not None:
        from genstudio.bench.curves import run_curves

        figures = {"curves": run_curves(args.curves, args.device)}
    else:
        figures = run_figures((args.only,) if args.only else GROUPS, batch_size=args.batch_size, rounds=args.rounds,
                              steps=args.steps, device=args.device)
    if args.json:
        write_bytes_atomic(args.json, json.dumps(figures, indent=2).encode())
        print(f"wrote {args.json}")
    if old is not None:
        print(format_rows(compare(old, figures), args.compare[0].name, "this run"))
    return 0
