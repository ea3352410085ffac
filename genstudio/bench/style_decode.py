"""Decode latency of StyleGAN2 generators at the sizes people explore: 256 px (NVIDIA's paper256
configuration: channel_base 16384, 8 mapping layers) and 1024 px (FFHQ: channel_base 32768), with
random weights, since the time depends on the architecture alone. One image (the explorer's case),
z -> w -> image with fixed noise, after a warm-up decode."""

from __future__ import annotations

import statistics
import time

import torch

from genstudio.core.families.stylegan.config import StyleGANConfig
from genstudio.core.families.stylegan.model import StyleGAN

CONFIGS = {256: 16384, 1024: 32768}


def stylegan2(resolution: int, device: torch.device) -> StyleGAN:
    """A StyleGAN2 of NVIDIA's configuration for `resolution` (256 or 1024), random weights, in eval mode."""
    config = StyleGANConfig.from_dict({"data_shape": [3, resolution, resolution], "z_dim": 512, "w_dim": 512,
                                       "mapping_layers": 8, "channel_base": CONFIGS[resolution], "channel_max": 512,
                                       "conv_clamp": 256.0, "trainable": False}, complete=False)
    return StyleGAN(config).eval().to(device)


@torch.no_grad()
def decode_times_ms(model, z: torch.Tensor, options: dict | None = None) -> list[float]:
    """Milliseconds of each one-image decode of z (n + 1, D) but the first (the warm-up)."""
    times = []
    for i in range(len(z)):
        if z.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.decode(z[i:i + 1], **(options or {}))
        if z.device.type == "cuda":
            torch.cuda.synchronize()
        if i:                                   # the first decode warms up allocators and kernels
            times.append(1000 * (time.perf_counter() - start))
    return times


def time_style_decode(resolution: int, device: torch.device, repeats: int = 5) -> dict:
    """The full decode, and the explorer's preview while a slider moves (detail 1: an eighth of the
    resolution, enlarged; see the family's `detail` decode setting)."""
    model = stylegan2(resolution, device)
    z = torch.randn(repeats + 1, 512, generator=torch.Generator().manual_seed(0)).to(device)
    times = decode_times_ms(model, z)
    preview = decode_times_ms(model, z[:max(repeats // 2, 1) + 1], {"detail": model.config.preview_detail})
    return {"resolution": resolution, "device": str(device), "threads": torch.get_num_threads(),
            "parameters": sum(p.numel() for p in model.parameters()), "median_ms": statistics.median(times),
            "min_ms": min(times), "preview_median_ms": statistics.median(preview), "repeats": repeats}
