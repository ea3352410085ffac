"""DDIM inversion round trip of real digits under the demo diffusion model.

Each of the first N images of the bundled MNIST test set is inverted to its starting noise x_T
(DDIM run backwards) and decoded again with the same number of steps; prints, per step count, the
mean and worst pixel error (pixels in [0, 1]), the PSNR, and |x_T| / sqrt(D) (1 for the noise the
model was trained to start from).

    .venv/bin/python training/inversion_round_trip.py [--checkpoint FILE] [--images 100] [--steps 10 20 50]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genstudio.core.data.bundled import load_bundled_mnist  # noqa: E402
from genstudio.core.io.open_model import open_model  # noqa: E402
from genstudio.core.runtime.resources import resource_path  # noqa: E402


def round_trip(model, images: torch.Tensor, steps: int) -> dict:
    """images (N, C, H, W) in [0, 1] -> error figures of decode(encode(images)) with `steps` steps."""
    start = time.perf_counter()
    with torch.no_grad():
        latents = model.encode(images, steps=steps)                         # (N, C, H, W)
        back = model.decode(latents, steps=steps)
    error = (back - images).abs()
    mse = (back - images).pow(2).flatten(1).mean(1)                         # (N,)
    psnr = (10 * torch.log10(1 / mse.clamp(min=1e-12)))
    norm = latents.flatten(1).norm(dim=1) / math.sqrt(latents[0].numel())
    return {"steps": steps, "images": len(images), "mean_abs_error": float(error.mean()),
            "worst_image_mean_abs_error": float(error.flatten(1).mean(1).max()),
            "max_abs_error": float(error.max()), "psnr_db_mean": float(psnr.mean()),
            "psnr_db_min": float(psnr.min()), "latent_norm_over_sqrt_d": float(norm.mean()),
            "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=resource_path("checkpoints", "diffusion-mnist.safetensors"))
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 50])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    model = open_model(args.checkpoint).model
    data = load_bundled_mnist()
    images, _ = data.batch(torch.arange(args.images))
    rows = [round_trip(model, images, steps) for steps in args.steps]
    print(f"DDIM inversion round trip, {args.checkpoint.name}, first {args.images} MNIST test digits "
          f"(pixels in [0, 1]):")
    for r in rows:
        print(f"  {r['steps']:>4} steps: mean |error| {r['mean_abs_error']:.4f}, worst image {r['worst_image_mean_abs_error']:.4f}, "
              f"max pixel {r['max_abs_error']:.3f}, PSNR {r['psnr_db_mean']:.1f} dB (min {r['psnr_db_min']:.1f}), "
              f"|x_T|/sqrt(D) {r['latent_norm_over_sqrt_d']:.3f}, {r['seconds']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
