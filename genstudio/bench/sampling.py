"""Sequential sampling speed: a PixelCNN draws a 28 x 28 digit pixel by pixel (784 steps).

Times one digit (batch 1, the explorer's case) and a 64-digit grid (batch 64, the grid export's),
with genstudio's sampler (the vertical stack once per row on the rows it sees, the horizontal stack
one cached column per pixel: row_cache.py) and, for one digit, the naive loop that runs the whole network on
the whole image for every pixel, which draws the same digit (tests/core/test_autoregressive.py).
"""

from __future__ import annotations

import time

import torch

from genstudio.core.families.autoregressive import sampler


def _naive(net, z: torch.Tensor) -> torch.Tensor:
    u, x = sampler.uniforms(z), torch.zeros_like(z)
    _, channels, height, width = z.shape
    for r in range(height):
        for c in range(width):
            for ch in range(channels):
                logits = net(x)[:, ch, :, r, c]
                x[:, ch, r, c] = sampler.draw(logits, u[:, ch, r, c], 1.0).float() / 255
    return x


@torch.no_grad()
def time_sampling(model, grid: int = 64, repeats: int = 3) -> dict:
    """Seconds for one digit (best of `repeats`) and one naive digit on one thread, as the app's
    render thread decodes (genstudio/ui/torch_threads.py), and for one `grid`-digit batch on every
    core, as an export or a training run draws."""
    model.eval()
    cores = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = []
        for seed in range(repeats):
            z = model.sample_latents(1, torch.Generator().manual_seed(seed))
            start = time.perf_counter()
            model.decode(z)
            one.append(time.perf_counter() - start)
        z = model.sample_latents(1, torch.Generator().manual_seed(0))
        start = time.perf_counter()
        _naive(model.net, z.to(model.device))
        naive_s = time.perf_counter() - start
    finally:
        torch.set_num_threads(cores)
    z = model.sample_latents(grid, torch.Generator().manual_seed(repeats))
    start = time.perf_counter()
    model.decode(z)
    grid_s = time.perf_counter() - start
    return {"one_digit_s": min(one), "grid": grid, "grid_s": grid_s, "grid_digits_per_s": grid / grid_s,
            "naive_one_digit_s": naive_s, "speed_up": naive_s / min(one), "grid_threads": cores}
