"""Train the demo checkpoints shipped in resources/checkpoints/ on the bundled MNIST test set.

    python training/make_demo_checkpoints.py [--minutes-scale 1.0] [--out resources/checkpoints]
                                             [--only NAME] [--refine-only | --check-only | --adopt RUN]

The recipes come from the family registry (each family's `demos`): a preset plus small overrides
chosen so that the files stay a few MB in all and train on a 2-core laptop CPU. A recipe may have a
second stage (`refine_steps`): more steps from the first stage's weights with a fresh optimiser and
a lower learning rate. `--refine-only` runs only that stage, from the file already in --out (made
by the first stage), so a demo can be settled further without training it again from scratch.
`--adopt RUN` takes, as the first stage, a checkpoint that `genstudio train` made with the recipe's
preset, data, seed and overrides (a long run that autosaves and resumes, perhaps on a GPU machine);
its card is checked against the recipe, and its step count must be the recipe's.
The files hold weights only (no optimiser state): they are for exploring, not resuming. A sample
grid of each lands beside them in --grids.

Each recipe carries the standard it is trained to (genstudio.core.families.demo_standard): bars on its
diagnostics against the bundled MNIST (a translation demo: its translations A -> B against its pair's
target domain B) and on the slice of data the engine held out of training.
After training, the script measures them and prints PASS / FAIL per bar; `--check-only` measures the
files already in --out without training. Everything lands in --grids/summary.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from genstudio.core import registry
from genstudio.core.data.spec import load_dataset
from genstudio.core.families.demo_standard import check, demo_figures, standard_lines
from genstudio.core.families.family import DemoRecipe
from genstudio.core.io.checkpoints import load_checkpoint, save_checkpoint
from genstudio.core.io.export import save_grid
from genstudio.core.io.open_model import open_model
from genstudio.core.metrics.report import diagnose
from genstudio.core.metrics.summary import summary_lines
from genstudio.core.metrics.translation_report import AtoB, diagnose_translation, domain_specs, is_translation, load_domains
from genstudio.core.training.engine import TrainConfig, Trainer

DIAGNOSE_DATA = "mnist"          # every demo is diagnosed against the whole bundled test set (translations: see diagnosed)
EVAL_BATCH = 1000                # digits the engine holds out of a demo's training, for its held-out figures


def recipes() -> dict[str, tuple[str, DemoRecipe]]:
    """Every registered family's demo recipes, with their family's name, by file stem."""
    return {demo.name: (family.name, demo) for family in registry.families() for demo in family.demos}


def stage_config(family: str, demo: DemoRecipe, steps: int, hyper: dict, eval_batch: int = EVAL_BATCH) -> TrainConfig:
    return TrainConfig(family=family, preset=demo.preset, data=demo.data, steps=steps, seed=demo.seed,
                       model=dict(demo.model), hyper=hyper, sample_every_s=0, report_every=50, eval_batch=eval_batch)


def recorded_eval_batch(card) -> int:
    """How many digits the run that made a checkpoint held out of training, as its card records."""
    return card.train.get("config", {}).get("eval_batch", EVAL_BATCH)


def trainer_holding(family: str, demo: DemoRecipe, saved, dataset) -> Trainer:
    """A Trainer with the weights and step of the loaded checkpoint `saved`, on the held-out slice
    that the run which made it kept out of training (same seed, same data, its eval_batch)."""
    trainer = Trainer(stage_config(family, demo, saved.step, dict(demo.hyper), recorded_eval_batch(saved.card)),
                      dataset=dataset)
    trainer.model.load_state_dict(saved.model.state_dict())
    trainer.step = saved.step
    return trainer


def adopt_run(name: str, family: str, demo: DemoRecipe, run: Path, dataset) -> Trainer:
    """The first stage from a `genstudio train` checkpoint; refused unless it is a run of this recipe."""
    saved = load_checkpoint(run, expect_family=family)
    card = saved.card
    config = card.train.get("config", {})
    expected = {"preset": demo.preset, "data": demo.data, "seed": demo.seed, "model": dict(demo.model),
                "hyper": dict(demo.hyper), "step": demo.steps}
    # A resumed run's config names no preset (it came from the file); the card always does.
    found = {**{key: config.get(key) for key in expected}, "preset": card.preset, "step": card.step}
    wrong = [f"{key} {found[key]!r} (the recipe's: {value!r})" for key, value in expected.items() if found[key] != value]
    if wrong:
        raise SystemExit(f"{run}: not a run of the {name} recipe: " + "; ".join(wrong))
    return trainer_holding(family, demo, saved, dataset)


def run_stage(name: str, trainer: Trainer) -> dict:
    """Train to the config's step count; the last samples and their evaluation."""
    result = {}
    for report in trainer.run():
        if report.kind == "step":
            result["last_train_figures"] = report.scalars
            if report.step % 500 == 0:
                figures = ", ".join(f"{k} {v:.3f}" for k, v in report.scalars.items())
                print(f"  {name} step {report.step}: {figures} ({report.images_per_sec:.0f} img/s)", flush=True)
        elif report.kind == "samples":
            result["samples"], result["evaluation"] = report.samples, report.scalars
        elif report.kind == "diverged":
            raise SystemExit(f"{name}: {report.message}")
    return result


def train_recipe(name: str, family: str, demo: DemoRecipe, out: Path, grids: Path, scale: float,
                 refine_only: bool, adopt: Path | None) -> dict:
    path = out / f"{name}.safetensors"
    dataset = load_dataset(demo.data)
    first_steps = max(int(demo.steps * scale), 1)
    refine_steps = int(demo.refine_steps * scale)
    stages = []
    start = time.perf_counter()
    if refine_only:
        if not refine_steps:
            raise SystemExit(f"{name}: its recipe has no refine stage")
        previous = load_checkpoint(path, expect_family=family)
        first_steps = previous.step
        recorded = previous.card.train              # the first stage, as the file records it
        eval_batch = recorded_eval_batch(previous.card)
        stages.append(recorded["stages"][0] if recorded.get("stages") else
                      {"steps": first_steps, "hyper": recorded.get("hyper")})
    elif adopt:
        previous = trainer = adopt_run(name, family, demo, adopt, dataset)
        eval_batch = trainer.config.eval_batch
        result = {"samples": trainer.decode_fixed(), "evaluation": trainer.evaluate()}
        stages.append({"steps": first_steps, "hyper": trainer.hyper, "adopted": adopt.name})
    else:
        eval_batch = EVAL_BATCH
        trainer = Trainer(stage_config(family, demo, first_steps, dict(demo.hyper)), dataset=dataset)
        result = run_stage(name, trainer)
        previous = trainer
        stages.append({"steps": first_steps, "hyper": trainer.hyper})
    if refine_steps:
        trainer = Trainer(stage_config(family, demo, first_steps + refine_steps,
                                       {**demo.hyper, **demo.refine_hyper}, eval_batch), dataset=dataset)
        # The first stage's weights and EMA (load_state_dict copies into the parameters the fresh
        # optimiser already holds), and its step count, so the batches go on where it stopped.
        trainer.model.load_state_dict(previous.model.state_dict())
        trainer.step = first_steps
        result = run_stage(name, trainer)
        stages.append({"steps": refine_steps, "hyper": trainer.hyper, "from_step": first_steps})
    minutes = (time.perf_counter() - start) / 60
    card = trainer.card()
    card = dataclasses.replace(card, train={**card.train, "stages": stages})
    path = save_checkpoint(path, trainer.model, card)
    grid = save_grid(result["samples"], grids / f"{name}.png", cols=8, scale=2)
    summary = {"checkpoint": str(path), "bytes": path.stat().st_size, "steps": trainer.step, "stages": stages,
               "cpu_minutes": round(minutes, 2), "threads": torch.get_num_threads(), "grid": str(grid),
               "last_train_figures": result.get("last_train_figures", {}),
               **measure_standard(name, demo, path, result["evaluation"])}
    print(json.dumps({name: summary}, indent=2), flush=True)
    return summary


def diagnosed(model, demo: DemoRecipe) -> tuple[dict, str]:
    """(report, what it compared with): a demo against the whole bundled MNIST, or a translation demo
    (by its capability) by its translations A -> B of its pair's domain A against the target domain B."""
    if is_translation(model):
        specs = domain_specs(AtoB, demo.data)
        report, _ = diagnose_translation(model, *load_domains(specs), samples=demo.diagnose_samples)
        return report, f"{specs.target} (translations of {specs.source})"
    return diagnose(model, load_dataset(DIAGNOSE_DATA), samples=demo.diagnose_samples), DIAGNOSE_DATA


def measure_standard(name: str, demo: DemoRecipe, path: Path, evaluation: dict[str, float]) -> dict:
    """The demo's figures (its held-out evaluation and the diagnostics of the saved file against the
    bundled MNIST, or a translation's target domain) and its standard's rows, printed as they are measured."""
    opened = open_model(path)
    report, against = diagnosed(opened.model, demo)
    figures = demo_figures(evaluation, report)
    rows = check(demo.standard, figures)
    print(f"{name}: diagnostics against {against}, {report['fake_samples']} samples", flush=True)
    print("\n".join(f"  {line}" for line in summary_lines(report)))
    print(f"{name}: the standard", flush=True)
    print("\n".join(standard_lines(rows)), flush=True)
    return {"figures": figures, "standard": rows, "verdict": report["verdict"]["verdict"]}


def check_recipe(name: str, family: str, demo: DemoRecipe, out: Path) -> dict:
    """Measure the file already in `out` against its standard, without training. The held-out
    slice is the one the engine kept out when it trained the file (same seed, same data)."""
    path = out / f"{name}.safetensors"
    trainer = trainer_holding(family, demo, load_checkpoint(path, expect_family=family), load_dataset(demo.data))
    return {"checkpoint": str(path), "steps": trainer.step, **measure_standard(name, demo, path, trainer.evaluate())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources" / "checkpoints")
    parser.add_argument("--grids", type=Path, default=Path("demo-grids"))
    all_recipes = recipes()
    parser.add_argument("--only", choices=sorted(all_recipes), action="append")
    parser.add_argument("--minutes-scale", type=float, default=1.0, help="scale every recipe's step count")
    stage = parser.add_mutually_exclusive_group()
    stage.add_argument("--refine-only", action="store_true",
                       help="run only the refine stage, from the demo file already in --out")
    stage.add_argument("--check-only", action="store_true",
                       help="measure the demo files already in --out against their standards; train nothing")
    stage.add_argument("--adopt", type=Path, metavar="RUN",
                       help="with one --only: a `genstudio train` checkpoint of that recipe as the first stage")
    args = parser.parse_args()
    args.grids.mkdir(parents=True, exist_ok=True)
    chosen = {name: recipe for name, recipe in all_recipes.items() if not args.only or name in args.only}
    if args.adopt and len(chosen) != 1:
        parser.error("--adopt needs exactly one --only NAME")
    if args.check_only:
        results = {name: check_recipe(name, family, demo, args.out) for name, (family, demo) in chosen.items()}
    else:
        results = {name: train_recipe(name, family, demo, args.out, args.grids, args.minutes_scale, args.refine_only,
                                      args.adopt) for name, (family, demo) in chosen.items()}
    (args.grids / "summary.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
