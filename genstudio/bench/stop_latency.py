"""How long a Stop takes: from `Trainer.stop()` to the "stopped" report, whose checkpoint is on disk.

For the presets whose pieces are long on a CPU (a diffusion 'digits' step at batch 128 takes
seconds, so does its preview of 64 fixed latents; a PixelCNN's evaluation of 256 held-out digits
too), a stop is asked at three moments: in the middle of a train step, of the live preview and of
the held-out evaluation. Each moment is one run on the bundled MNIST, at the preset's batch.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time

import torch

from genstudio.core.training.engine import EVALUATING, SAMPLING, TrainConfig, Trainer

# (family, preset) the figures are for: the two families whose single pieces outlast a second on a CPU.
PRESETS = (("diffusion", "digits"), ("autoregressive", "digits"))
MOMENTS = ("step", SAMPLING, EVALUATING)
INTO_S = 0.3       # how far into the piece the stop comes
N_SAMPLES = 16     # the live preview's latents (the app's 64 make a diffusion preview 4x longer, not its stop)


def _stop_once(dataset, family: str, preset: str, moment: str, device: str) -> dict:
    """One run, stopped INTO_S into the second piece of kind `moment` (the first preview is the
    untimed one before training; the first step warms the allocator)."""
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(family=family, preset=preset, steps=1000, report_every=1, sample_every_s=0.1,
                             n_samples=N_SAMPLES, autosave_every=0, device=device, out_dir=out)
        trainer = Trainer(config, dataset=dataset)
        asked: list[float] = []
        seen = 0
        step_times: list[float] = []
        last = time.perf_counter()
        timer = None

        def stop() -> None:
            asked.append(time.perf_counter())
            trainer.stop()

        for report in trainer.run():
            now = time.perf_counter()
            if report.kind == "step":
                step_times.append(now - last)
            last = now
            started = (report.kind == "step" and moment == "step") or \
                      (report.kind == "phase" and report.message == moment and report.step > 0)
            if started and timer is None:
                seen += 1
                if seen == 2:
                    timer = threading.Timer(INTO_S, stop)
                    timer.start()
            if report.kind in ("stopped", "finished", "diverged"):
                ended = time.perf_counter()
                final = report
        if timer is not None:
            timer.join()
    return {"latency_s": ended - asked[0], "kind": final.kind, "step": final.step,
            "step_s": statistics.median(step_times[1:]) if len(step_times) > 1 else float("nan")}


def time_stop(dataset, device: str = "cpu") -> dict:
    """{family: {moment: latency seconds, ..., "step_s": a train step's median seconds}}."""
    figures = {}
    for family, preset in PRESETS:
        row = figures[f"{family} {preset}"] = {"threads": torch.get_num_threads()}
        for moment in MOMENTS:
            result = _stop_once(dataset, family, preset, moment, device)
            if result["kind"] != "stopped":
                raise RuntimeError(f"{family} {preset}: the run ended '{result['kind']}' instead of stopping")
            row[moment] = result["latency_s"]
            row.setdefault("step_s", result["step_s"])
    return figures
