"""With the `tensorboard` extra installed, a run's folder also holds TensorBoard event files that
TensorBoard's own reader understands: the run's scalars and its sample grids. Without it, nothing."""

import json
import sys

import pytest

from genstudio.core.data.toy import load_toy
from genstudio.core.training import tensorboard_log
from genstudio.core.training.engine import TrainConfig, Trainer


def short_run(folder) -> Trainer:
    # A VAE: its samples come with held-out figures (eval/elbo...), a GAN's on points with none.
    config = TrainConfig(family="vae", data="ring8", steps=6, batch_size=64, report_every=2, sample_every_s=0,
                         n_samples=16, out_dir=str(folder), device="cpu")
    trainer = Trainer(config, dataset=load_toy("ring8", n=3000))
    for report in trainer.run():
        if report.kind == "step" and report.step == 4:
            trainer.run_log.diagnostics(report.step, {"modes_covered": 7.0})   # as the app's Train panel does
    return trainer


def test_tensorboard_reads_the_scalars_and_grids(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    short_run(tmp_path)
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 1
    events = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    tags = events.Tags()
    log = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in log if r["kind"] == "step"]
    for name in steps[0]["scalars"]:
        assert [(e.step, round(e.value, 4)) for e in events.Scalars(f"train/{name}")] == \
            [(r["step"], round(r["scalars"][name], 4)) for r in steps]
    throughput = events.Scalars("perf/images_per_sec")
    assert [e.step for e in throughput] == [2, 4, 6] and all(e.value > 0 for e in throughput)
    assert [(e.step, e.value) for e in events.Scalars("diagnostics/modes_covered")] == [(4, 7.0)]
    evaluated = {name for r in log if r["kind"] == "samples" for name in r["scalars"]}
    assert evaluated and evaluated <= set(tags["scalars"])          # the held-out 'eval/' figures
    # The run folder's grids (its first and last), as images of the same size.
    grids = events.Images("samples")
    assert [e.step for e in grids] == [r["step"] for r in log if r.get("image")] == [0, 6]
    assert (grids[0].width, grids[0].height) == (512, 512)


def test_without_tensorboard_nothing_changes(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)     # import fails as if not installed
    monkeypatch.setattr(tensorboard_log, "_said_unavailable", False)
    with caplog.at_level("INFO", logger=tensorboard_log.__name__):
        short_run(tmp_path / "one")
        short_run(tmp_path / "two")
    assert not list(tmp_path.rglob("events.out.tfevents.*"))
    assert (tmp_path / "two" / "metrics.jsonl").is_file()
    assert [r.levelname for r in caplog.records] == ["INFO"]              # said once, quietly
