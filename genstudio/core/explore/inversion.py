"""GAN inversion ("project image"): the latent whose generated image is closest to a target image."""

from __future__ import annotations

from typing import Callable

import torch

from genstudio.core import registry
from genstudio.core.families.family import Capability


def project_image(model, target: torch.Tensor, steps: int = 200, restarts: int = 8, lr: float = 0.05,
                  seed: int = 0, progress: Callable[[float, float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> tuple[torch.Tensor, dict]:
    """Optimise `restarts` random latents at once with Adam on the pixel MSE to `target` (C, H, W) in
    [0, 1], plus a small pull towards the Gaussian shell (|z|^2 ~ D) so that the latent stays one G
    was trained on. Returns the best latent (D,) and {start_error, final_error, steps}."""
    if Capability.IMAGE_PROJECTION not in registry.capabilities_of(model):
        raise ValueError(f"image projection is for image GANs; a {model.family} "
                         f"{'on 2-D points ' if model.is_points else ''}cannot project images")
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(restarts, model.latent_dim, generator=g).to(model.device).requires_grad_(True)
    target = target.to(model.device).float().unsqueeze(0)                 # (1, C, H, W)
    optimiser = torch.optim.Adam([z], lr=lr)

    # Only the latents get gradients (autograd.grad w.r.t. z): the model is read, never changed, so
    # the renderer may decode from it at the same time.
    def errors(latents):
        out = model.decode_differentiable(latents)
        return (out - target).pow(2).flatten(1).mean(1)                   # (R,)

    with torch.no_grad():
        start = errors(z)
    step = -1
    for step in range(steps):
        if should_stop and should_stop():
            break
        err = errors(z)
        prior = (z.pow(2).mean(1) - 1.0).pow(2)                            # (R,)
        grad, = torch.autograd.grad(err.sum() + 1e-3 * prior.sum(), z)
        optimiser.zero_grad(set_to_none=True)
        z.grad = grad
        optimiser.step()
        if progress and (step % 10 == 0 or step == steps - 1):
            progress((step + 1) / steps, float(err.detach().min()))
    with torch.no_grad():
        final = errors(z)
    best = int(final.argmin())
    return z[best].detach().cpu(), {"start_error": float(start.min()), "final_error": float(final[best]),
                                    "steps": step + 1, "restarts": restarts}
