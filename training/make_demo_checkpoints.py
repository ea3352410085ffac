"""Train the demo checkpoints shipped in resources/checkpoints/ on the bundled MNIST test set.

    python training/make_demo_checkpoints.py [--minutes-scale 1.0] [--out resources/checkpoints]

The recipes come from the family registry (each family's `demos`): a preset plus small overrides
chosen so that the files stay a few MB in all and train on a 2-core laptop CPU in minutes. The files hold weights only (no optimiser state):
they are for exploring, not resuming. A sample grid of each lands beside them in --grids.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from genstudio.core import registry
from genstudio.core.checkpoints import save_checkpoint
from genstudio.core.data.spec import load_dataset
from genstudio.core.engine import TrainConfig, Trainer
from genstudio.core.export import save_grid


def recipes() -> dict[str, TrainConfig]:
    """Every registered family's demo recipes as training configs, by file stem."""
    return {demo.name: TrainConfig(family=family.name, preset=demo.preset, data=demo.data, steps=demo.steps,
                                   seed=demo.seed, model=dict(demo.model), hyper=dict(demo.hyper))
            for family in registry.families() for demo in family.demos}


def train_recipe(name: str, config: TrainConfig, out: Path, grids: Path, scale: float) -> dict:
    config.steps = max(int(config.steps * scale), 1)
    config.sample_every_s = 0
    config.report_every = 50
    config.eval_batch = 1000
    dataset = load_dataset(config.data)
    trainer = Trainer(config, dataset=dataset)
    start = time.perf_counter()
    last_step = None
    for report in trainer.run():
        if report.kind == "step":
            last_step = report
            if report.step % 500 == 0:
                figures = ", ".join(f"{k} {v:.3f}" for k, v in report.scalars.items())
                print(f"  {name} step {report.step}: {figures} ({report.images_per_sec:.0f} img/s)", flush=True)
        elif report.kind == "samples":
            samples, evaluation = report.samples, report.scalars
        elif report.kind == "diverged":
            raise SystemExit(f"{name}: {report.message}")
    minutes = (time.perf_counter() - start) / 60
    path = save_checkpoint(out / f"{name}.safetensors", trainer.model, trainer.card())
    grid = save_grid(samples, grids / f"{name}.png", cols=8, scale=2)
    summary = {"checkpoint": str(path), "bytes": path.stat().st_size, "steps": trainer.step,
               "cpu_minutes": round(minutes, 2), "threads": torch.get_num_threads(), "grid": str(grid),
               "last_train_figures": last_step.scalars if last_step else {}, "evaluation": evaluation}
    print(json.dumps({name: summary}, indent=2), flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources" / "checkpoints")
    parser.add_argument("--grids", type=Path, default=Path("demo-grids"))
    all_recipes = recipes()
    parser.add_argument("--only", choices=sorted(all_recipes), action="append")
    parser.add_argument("--minutes-scale", type=float, default=1.0, help="scale every recipe's step count")
    args = parser.parse_args()
    args.grids.mkdir(parents=True, exist_ok=True)
    results = {name: train_recipe(name, config, args.out, args.grids, args.minutes_scale)
               for name, config in all_recipes.items() if not args.only or name in args.only}
    (args.grids / "summary.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
