"""A stand-in training run for the Runs tab's tests: writes a run folder through RunLog
(docs/run-folder.md) as a real run would, paced by the test.

    python tests/run_writer.py FOLDER --steps N [--family gan] [--gate FILE] [--interval S]
                               [--grid-at STEP] [--end finished|stopped|diverged|none]

run.json, a `start` record, then one `step` record (scalars "loss" and "other") per step; at
--grid-at a `samples` record with a 4-image grid and an eval/ figure, and a `saved` checkpoint; last
an `end` record (none: the process stops writing without one, as a killed run does). With --gate,
each step waits until the gate file holds a number at least that step (the test releases steps);
else steps follow --interval seconds apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from genstudio.core.training.run_folder import RunLog


def wait_for(gate: Path, step: int) -> None:
    while True:
        try:
            if int(gate.read_text() or "0") >= step:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--family", default="gan")
    parser.add_argument("--gate", type=Path)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--grid-at", type=int, default=0)
    parser.add_argument("--end", default="finished")
    args = parser.parse_args()
    log = RunLog(args.folder, grid_every_s=0)
    log.describe({"command": [sys.executable, "-m", "genstudio", "train", "--family", args.family, "--steps",
                              str(args.steps)],
                  "family": args.family, "preset": "digits", "data": {"name": "mnist", "size": 60000,
                                                                      "shape": [1, 28, 28], "kind": "images"},
                  "devices": ["cpu"], "world_size": 1})
    log.start(0, total_steps=args.steps, world_size=1, batch_size=8)
    for step in range(1, args.steps + 1):
        if args.gate is not None:
            wait_for(args.gate, step)
        else:
            time.sleep(args.interval)
        log.step(step, {"loss": 1.0 / step, "other": 0.5}, images_per_sec=100.0, elapsed=step * 0.1)
        if step == args.grid_at:
            # (4, 3, 8, 8) images in [0, 1]: a 2 x 2 grid.
            samples = np.linspace(0, 1, 4 * 3 * 8 * 8, dtype=np.float32).reshape(4, 3, 8, 8)
            log.samples(step, samples, {"eval/fid": 10.0 / step})
            checkpoint = args.folder / "checkpoint.safetensors"
            checkpoint.write_bytes(b"not a real checkpoint")
            log.saved(step, checkpoint)
    if args.end != "none":
        log.end(args.steps, args.end, message=f"{args.end} by the test writer")
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
