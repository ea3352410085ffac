"""Reproduce the 2-D mode-collapse tables of docs/diagnostics.md with genstudio's engine.

Trains the vanilla GAN (preset "toy"), genstudio's best GAN point preset ("toy-best") and the
diffusion family's MLP denoiser ("diffusion:toy", sampled with its 100 DDIM steps) on ring-8 and
grid-25, 5 seeds each, with the same step budget, then scores 2,500 samples per run the way the
VEEGAN and PacGAN tables do (genstudio.core.metrics.toy): modes covered (>= 1 high-quality sample;
PacGAN's >= 20 is shown too), % high-quality samples (within 3 std of the nearest mode) and the KL
of the HQ mode histogram against uniform. Prints mean ± std over seeds beside the published rows.

    .venv/bin/python training/toy_mode_benchmark.py                 # the full table
    .venv/bin/python training/toy_mode_benchmark.py --seeds 2 --presets toy-best --json out.json
    .venv/bin/python training/toy_mode_benchmark.py --seeds 3 --presets diffusion:toy

A preset is "name" (a GAN preset) or "family:name".

Runs go to `--jobs` worker processes with one torch thread each (small MLPs use one core better
than two threads). The full table (20 runs of 12,000 steps) took 1,015 s on 2 CPU cores with 2
workers: about 50 s per "toy" run and 155 s per "toy-best" run (WGAN-GP's gradient penalty and
twice the batch). Measured then: toy-best 8.0 ± 0 / 97.1 ± 0.6 % HQ on ring-8 and
25.0 ± 0 / 97.4 ± 0.5 % HQ on grid-25; toy 6.8 ± 1.8 / 93.6 ± 2.8 % and 16.4 ± 3.3 / 79.7 ± 14.7 %.
diffusion:toy (3 seeds, 12,000 steps, 100 DDIM steps; 2,272 s for the 6 runs with 2 workers on a busy
machine): 8.0 ± 0 / 92.0 ± 2.6 % HQ on ring-8 and 25.0 ± 0 / 91.7 ± 1.4 % HQ on grid-25.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genstudio.core.data.toy import TOY_MIXTURES, load_toy  # noqa: E402
from genstudio.core.metrics.toy import TOY_SAMPLES, toy_metrics  # noqa: E402
from genstudio.core.training.engine import TrainConfig, Trainer  # noqa: E402

STEPS = 12_000
PRESETS = ("toy", "toy-best", "diffusion:toy")
MIXTURES = ("ring8", "grid25")

# (model, source, ring-8 (modes, %HQ), grid-25 (modes, %HQ)) from docs/diagnostics.md.
PUBLISHED = [
    ("GAN", "VEEGAN, Table 1", (1, 99.3), (3.3, 0.5)),
    ("Unrolled GAN", "VEEGAN, Table 1", (7.6, 35.6), (23.6, 16)),
    ("VEEGAN", "VEEGAN, Table 1", (8, 52.9), (24.6, 40)),
    ("GAN (their tuning)", "PacGAN, Tables 1-2", (6.3, 98.2), (17.3, 94.8)),
    ("PacGAN2", "PacGAN, Tables 1-2", (7.9, 95.6), (23.8, 91.3)),
    ("PacGAN4", "PacGAN, Tables 1-2", (7.8, 95.9), (24.8, 93.6)),
]


def family_and_preset(preset: str) -> tuple[str, str]:
    family, _, name = preset.rpartition(":")
    return family or "gan", name


def run_one(preset: str, mixture: str, seed: int, steps: int) -> dict:
    """Train one model with the engine and score 2,500 samples; runs in a worker process."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    family, name = family_and_preset(preset)
    config = TrainConfig(family=family, preset=name, data=mixture, steps=steps, seed=seed, device="cpu",
                         sample_every_s=0, report_every=steps, autosave_every=0, n_samples=4)
    trainer = Trainer(config, dataset=load_toy(mixture))
    last = {}
    for report in trainer.run():
        if report.kind == "step":
            last = report.scalars
        elif report.kind == "diverged":
            raise RuntimeError(f"{preset} on {mixture}, seed {seed}: {report.message}")
    trainer.model.eval()
    samples = trainer.model.sample(TOY_SAMPLES, torch.Generator().manual_seed(10_000 + seed))
    figures = toy_metrics(samples, TOY_MIXTURES[mixture])
    return {"preset": preset, "mixture": mixture, "seed": seed, "steps": steps,
            "seconds": time.perf_counter() - start, "d_real": last.get("d_real"), "d_fake": last.get("d_fake"),
            **{k: figures[k] for k in ("modes_covered", "modes_covered_min20", "hq_percent", "kl_modes_uniform")}}


def _mean_std(values: list[float], digits: int = 1) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {std:.{digits}f}"


def table(results: list[dict], presets, mixtures) -> str:
    lines = [f"{'model':<28}" + "".join(f"{m + ': modes / %HQ / KL':>44}" for m in mixtures) + "   source"]
    for name, source, ring, grid in PUBLISHED:
        cells = {"ring8": ring, "grid25": grid}
        lines.append(f"{name:<28}" + "".join(f"{f'{cells[m][0]:g} / {cells[m][1]:g}':>44}" for m in mixtures)
                     + f"   {source}")
    for preset in presets:
        row = f"{'genstudio ' + preset:<28}"
        for mixture in mixtures:
            runs = [r for r in results if r["preset"] == preset and r["mixture"] == mixture]
            cell = (f"{_mean_std([r['modes_covered'] for r in runs])} / {_mean_std([r['hq_percent'] for r in runs])}"
                    f" / {_mean_std([r['kl_modes_uniform'] for r in runs], 3)}")
            row += f"{cell:>44}"
        lines.append(row + f"   this run, {len({r['seed'] for r in results})} seeds")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps per run (the same for every preset)")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--mixtures", nargs="+", default=list(MIXTURES), choices=list(TOY_MIXTURES))
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (one torch thread each)")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    jobs = [(p, m, s, args.steps) for p in args.presets for m in args.mixtures for s in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, *job) for job in jobs]
        results = []
        for future in futures:
            r = future.result()
            results.append(r)
            print(f"{r['preset']:>13} {r['mixture']:>6} seed {r['seed']}: modes {r['modes_covered']:>2} "
                  f"(>= 20: {r['modes_covered_min20']:>2})  HQ {r['hq_percent']:5.1f} %  "
                  f"KL {r['kl_modes_uniform'] if r['kl_modes_uniform'] is None else round(r['kl_modes_uniform'], 3)}  "
                  f"{r['seconds']:.0f} s", flush=True)
    print()
    print(f"Modes covered / % high-quality / KL(modes || uniform) on {TOY_SAMPLES} samples, mean ± std over seeds; "
          f"{args.steps} steps per run")
    print(table(results, args.presets, args.mixtures))
    print(f"\ntotal {time.perf_counter() - start:.0f} s with {args.jobs} worker processes")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
