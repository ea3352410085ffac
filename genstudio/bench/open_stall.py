"""How responsive the window stays while a big model opens: a StyleGAN2 of NVIDIA's 1024 px FFHQ
configuration (30 M parameters, a 133 MB checkpoint; random weights, since reading, checking and
building depend on the architecture alone) is written to a temporary folder and opened in the shown
window while a 10 ms QTimer ticks on the GUI thread. The gaps between ticks, from the call to
`open_path` to the new model's first image painted, are the stalls a person would feel.

The explorer computes a slow model's principal directions in the render thread after its first
image (about 32 preview decodes at 1024 px, pooled to 64 px: half a minute). They come after what is
timed here, so while this runs they are made from 8 decodes, to leave the window free for what is
measured next.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
from PySide6.QtCore import QElapsedTimer, QTimer

from genstudio.bench.style_decode import CONFIGS
from genstudio.bench.ui import _percentiles, _wait

TIMER_INTERVAL_MS = 10
FIRST_IMAGE_TIMEOUT_MS = 120_000


def random_stylegan2_checkpoint(folder: Path, resolution: int = 1024, seed: int = 0) -> Path:
    """A genstudio checkpoint of NVIDIA's StyleGAN2 configuration at `resolution` (256 or 1024 px),
    generator only, with seeded random weights; written into `folder`."""
    from genstudio.core.families.stylegan.config import StyleGANConfig
    from genstudio.core.families.stylegan.model import StyleGAN
    from genstudio.core.io.checkpoints import save_checkpoint
    from genstudio.core.io.model_card import DataDescription, ModelCard

    shape = (3, resolution, resolution)
    config = StyleGANConfig.from_dict({"data_shape": list(shape), "z_dim": 512, "w_dim": 512, "mapping_layers": 8,
                                       "channel_base": CONFIGS[resolution], "channel_max": 512,
                                       "conv_clamp": 256.0, "trainable": False}, complete=False)
    with torch.random.fork_rng(devices=[]):         # the caller's random stream is left as it was
        torch.manual_seed(seed)
        model = StyleGAN(config)
    card = ModelCard.describe(model, preset=f"nvidia-{resolution}",
                              data=DataDescription(name="random weights", shape=shape, value_range=(-1.0, 1.0)),
                              step=0)
    return save_checkpoint(Path(folder) / f"stylegan2-{resolution}px.safetensors", model, card)


def open_stall(window, resolution: int = 1024) -> dict:
    """Open a `resolution` px StyleGAN2 checkpoint in `window` (a shown MainWindow) and time the GUI
    thread meanwhile: the 10 ms timer's gaps (ms) from the call until the model's first image is on
    screen (and how many exceed 50 ms), how long `open_path` took (reading and building it), and the
    first image's time."""
    from genstudio.ui.panels import explore_panel

    window.tabs.setCurrentWidget(window.explore)        # the image is "shown" when it is painted
    samples, explore_panel.DIRECTION_SAMPLES_PREVIEW = explore_panel.DIRECTION_SAMPLES_PREVIEW, 8
    try:
        return _open_and_time(window, resolution)
    finally:
        explore_panel.DIRECTION_SAMPLES_PREVIEW = samples


def _open_and_time(window, resolution: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="genstudio-open-stall-") as folder:
        path = random_stylegan2_checkpoint(Path(folder), resolution)
        size_mb = path.stat().st_size / 1e6
        clock = QElapsedTimer()
        gaps: list[float] = []
        last = [0.0]

        def tick():
            now = clock.nsecsElapsed() / 1e6
            gaps.append(now - last[0])
            last[0] = now

        shown: list[float] = []

        def painted():
            if window.opened is not None and window.opened.path == path:
                shown.append(clock.nsecsElapsed() / 1e6)

        timer = QTimer()
        timer.setInterval(TIMER_INTERVAL_MS)
        timer.timeout.connect(tick)
        view = window.explore.image_view
        view.shown.connect(painted)
        try:
            clock.start()
            timer.start()
            opened = window.open_path(path)
            open_ms = clock.nsecsElapsed() / 1e6
            deadline = time.monotonic() + FIRST_IMAGE_TIMEOUT_MS / 1000
            while opened and not shown and time.monotonic() < deadline:
                _wait(view.shown, FIRST_IMAGE_TIMEOUT_MS)
        finally:
            timer.stop()
            view.shown.disconnect(painted)
        if not opened or not shown:
            raise RuntimeError(f"{path.name}: {'no image after opening it' if opened else 'it did not open'} "
                               f"({window.statusBar().currentMessage()})")
    return {"resolution": resolution, "checkpoint_mb": size_mb, "open_ms": open_ms, "first_image_ms": shown[0],
            "ui_stall_ms": {**_percentiles(gaps), "over_50": sum(gap > 50.0 for gap in gaps), "bar_p99": 50.0,
                            "timer_interval_ms": TIMER_INTERVAL_MS}}
