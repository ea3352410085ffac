"""GAN inversion ("project image"): the latent whose generated image is closest to a target image."""

from __future__ import annotations

from typing import Callable

import torch


def project_image(model, target: torch.Tensor, steps: int = 200, restarts: int = 8, lr: float = 0.05,
                  seed: int = 0, progress: Callable[[float, float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> tuple[torch.Tensor, dict]:
    """Optimise `restarts` random latents at once with Adam on the pixel MSE to `target` (C, H, W) in
    [0, 1], plus a small pull towards the Gaussian shell (|z|^2 ~ D) so that the latent stays one G
    was trained on. Returns the best latent (D,) and {start_error, final_error, steps}."""
    if model.family != "gan" or model.is_points:
        raise ValueError("image projection is for GANs on images (VAEs and flows have encoders)")
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(restarts, model.latent_dim, generator=g).to(model.device).requires_grad_(True)
    target = target.to(model.device).float().unsqueeze(0)                 # (1, C, H, W)
    optimiser = torch.optim.Adam([z], lr=lr)
    was_training = model.training
    model.eval()
    generator_params = [p for p in model.parameters() if p.requires_grad]
    for p in generator_params:
        p.requires_grad_(False)   # only the latents are optimised
    try:
        def errors(latents):
            out = _differentiable_decode(model, latents)
            return (out - target).pow(2).flatten(1).mean(1)               # (R,)

        with torch.no_grad():
            start = errors(z)
        for step in range(steps):
            if should_stop and should_stop():
                break
            err = errors(z)
            prior = (z.pow(2).mean(1) - 1.0).pow(2)                        # (R,)
            optimiser.zero_grad(set_to_none=True)
            (err.sum() + 1e-3 * prior.sum()).backward()
            optimiser.step()
            if progress and (step % 10 == 0 or step == steps - 1):
                progress((step + 1) / steps, float(err.detach().min()))
        with torch.no_grad():
            final = errors(z)
        best = int(final.argmin())
        return z[best].detach().cpu(), {"start_error": float(start.min()), "final_error": float(final[best]),
                                        "steps": step + 1, "restarts": restarts}
    finally:
        for p in generator_params:
            p.requires_grad_(True)
        model.train(was_training)


def _differentiable_decode(model, z: torch.Tensor) -> torch.Tensor:
    """G's output in [0, 1] with the graph kept (decode() runs under no_grad); the EMA G when present."""
    return model._generate(z, model.default_labels(len(z)), use_ema=True).add(1).mul(0.5)
