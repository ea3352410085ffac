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


@torch.no_grad()
def time_style_decode(resolution: int, device: torch.device, repeats: int = 5) -> dict:
    config = StyleGANConfig.from_dict({"data_shape": [3, resolution, resolution], "z_dim": 512, "w_dim": 512,
                                       "mapping_layers": 8, "channel_base": CONFIGS[resolution], "channel_max": 512,
                                       "conv_clamp": 256.0, "trainable": False}, complete=False)
    model = StyleGAN(config).eval().to(device)
    z = torch.randn(repeats + 1, 512, generator=torch.Generator().manual_seed(0)).to(device)
    times = []
    for i in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.decode(z[i:i + 1])
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:                                   # the first decode warms up allocators and kernels
            times.append(time.perf_counter() - start)
    return {"resolution": resolution, "device": str(device), "threads": torch.get_num_threads(),
            "parameters": sum(p.numel() for p in model.parameters()), "median_ms": 1000 * statistics.median(times),
            "min_ms": 1000 * min(times), "repeats": repeats}
