"""`genstudio bench`: the figures of docs/performance.md (genstudio/bench/)."""

from __future__ import annotations

import json
from pathlib import Path

NAME = "bench"


def add_parser(sub) -> None:
    from genstudio.bench.figures import GROUPS
    from genstudio.core.runtime.devices import DEVICE_CHOICES

    bench = sub.add_parser(NAME, help="measure the figures of docs/performance.md")
    bench.add_argument("--batch-size", type=int, default=64)
    bench.add_argument("--rounds", type=int, default=5, help="alternating windows per comparison")
    bench.add_argument("--steps", type=int, default=60, help="training steps per window")
    bench.add_argument("--device", default="cpu", choices=DEVICE_CHOICES)
    bench.add_argument("--json", type=Path, help="also write the figures as JSON here")
    bench.add_argument("--only", choices=GROUPS, help="run one group of figures")


def run(args) -> int:
    from genstudio.bench.figures import GROUPS
    from genstudio.bench.figures import run as run_figures
    from genstudio.core.io.atomic import write_bytes_atomic

    figures = run_figures((args.only,) if args.only else GROUPS, batch_size=args.batch_size, rounds=args.rounds,
                          steps=args.steps, device=args.device)
    if args.json:
        write_bytes_atomic(args.json, json.dumps(figures, indent=2).encode())
        print(f"wrote {args.json}")
    return 0
