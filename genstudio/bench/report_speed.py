"""How long the full mode-collapse report takes: `samples` generated vs as many real images.

The feature classifier is trained once per data set and cached; its first training is timed on its
own (`classifier_ready_s`, about 10 s on 2 CPU cores, a few ms once cached), so that the report's
figure is what a user waits for each time (bar: 10 s for 10k vs 10k on 2 cores).
"""

from __future__ import annotations

import time

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.metrics.classifier import feature_space
from genstudio.core.metrics.report import diagnose

BAR_S = 10.0


def time_full_report(generator, dataset: InMemoryDataset, samples: int = 10_000, seed: int = 0,
                     cache_dir=None) -> dict:
    start = time.perf_counter()
    space = feature_space(dataset, cache_dir=cache_dir)
    ready = time.perf_counter() - start
    report = diagnose(generator, dataset, samples=samples, seed=seed, space=space)
    return {"samples": samples, "data": dataset.name, "features": report["features"]["description"],
            "classifier_ready_s": ready, "report_s": report["timings"]["total"],
            "stages_s": {k: v for k, v in report["timings"].items() if k != "total"}, "bar_s": BAR_S}
