"""DDIM sampling, inversion and SDEdit over any noise predictor and `NoiseSchedule`.

`predict(x, t)` takes a batch x (B, ...) at integer timestep t and returns the network's output of
the same shape (eps, v or x_0, as the schedule says). genstudio's own models and diffusers'
`UNet2DModel` both sample through these functions, so one test (diffusers' own DDIMScheduler loop
on the same noise) checks the sampler every family member uses.

Written here rather than calling diffusers' schedulers because diffusers is an optional extra that
genstudio's own models must not need, the loop is a few lines (Song, Meng & Ermon 2021, eq. 12),
and the app needs two things the schedulers do not give: DDIM inversion run from the same timestep
list, and a start part-way down the chain (SDEdit).

One DDIM step from t to the previous timestep p (a_t = alpha-bar_t):
    x0   = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)                (eps prediction; clamped to [-c, c])
    sig  = eta * sqrt((1 - a_p) / (1 - a_t)) * sqrt(1 - a_t / a_p)
    x_p  = sqrt(a_p) x0 + sqrt(1 - a_p - sig^2) eps + sig z,    z ~ N(0, I)
eta = 0 is deterministic, so the starting noise x_T is a latent; eta = 1 is DDPM-like.
"""

from __future__ import annotations

from typing import Callable

import torch

from genstudio.core.errors import Cancelled
from genstudio.core.families.diffusion.schedule import NoiseSchedule

Predict = Callable[[torch.Tensor, int], torch.Tensor]


def _x0_and_eps(schedule: NoiseSchedule, x: torch.Tensor, out: torch.Tensor, a_t: float,
                clip: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The network output at alpha-bar a_t as (predicted x_0, eps), both like x."""
    s, n = a_t ** 0.5, (1 - a_t) ** 0.5
    if schedule.prediction == "epsilon":
        x0, eps = (x - n * out) / s, out
    elif schedule.prediction == "v_prediction":
        x0, eps = s * x - n * out, s * out + n * x
    elif schedule.prediction == "sample":
        x0, eps = out, (x - s * out) / n
    else:
        raise ValueError(f"unknown prediction type '{schedule.prediction}'")
    if clip and schedule.clip is not None:
        x0 = x0.clamp(-schedule.clip, schedule.clip)
        if schedule.recompute_eps:
            eps = (x - s * x0) / n
    return x0, eps


def _check(should_stop) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("sampling was cancelled")


def ddim_sample(predict: Predict, schedule: NoiseSchedule, x: torch.Tensor, steps: int, eta: float = 0.0,
                generator: torch.Generator | None = None, start: int = 0,
                should_stop: Callable[[], bool] | None = None) -> torch.Tensor:
    """Denoise x (B, ...) at the first of `steps` timesteps down to x_0 (same shape).

    `start` skips that many of the timesteps (SDEdit: x is then a noised image at timesteps[start]).
    `generator` draws eta's noise (on x's device), so a seeded generator gives the same image again."""
    timesteps = schedule.sampling_timesteps(steps)
    for i in range(start, len(timesteps)):
        _check(should_stop)
        t = timesteps[i]
        prev = schedule.previous_timestep(timesteps, i)
        a_t, a_p = schedule.alpha_bar(t), schedule.alpha_bar(prev)
        x0, eps = _x0_and_eps(schedule, x, predict(x, t), a_t)
        sigma = eta * ((1 - a_p) / (1 - a_t) * (1 - a_t / a_p)) ** 0.5 if eta > 0 else 0.0
        x = a_p ** 0.5 * x0 + max(1 - a_p - sigma ** 2, 0.0) ** 0.5 * eps
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x


def ddim_invert(predict: Predict, schedule: NoiseSchedule, x0: torch.Tensor, steps: int,
                should_stop: Callable[[], bool] | None = None) -> torch.Tensor:
    """The deterministic DDIM path run backwards: a clean x_0 (B, ...) -> its x_T (same shape).

    Each move from timestep p up to t evaluates the network at the point it leaves with t's
    conditioning (eps(x_p, t) stands in for eps(x_t, t), the usual first-order inversion), so
    decoding the result with the same `steps` returns close to x_0."""
    timesteps = schedule.sampling_timesteps(steps)                 # descending; walked from the end
    x = x0
    for i in reversed(range(len(timesteps))):
        _check(should_stop)
        t = timesteps[i]
        a_p, a_t = schedule.alpha_bar(schedule.previous_timestep(timesteps, i)), schedule.alpha_bar(t)
        x0_hat, eps = _x0_and_eps(schedule, x, predict(x, t), a_p, clip=False)
        x = a_t ** 0.5 * x0_hat + (1 - a_t) ** 0.5 * eps
    return x


def sdedit_start(schedule: NoiseSchedule, steps: int, strength: float) -> int:
    """Index into the `steps` timesteps at which SDEdit starts for a strength in (0, 1]:
    1 starts from pure noise (index 0), small strengths keep most of the image."""
    n = len(schedule.sampling_timesteps(steps))
    kept = max(1, min(n, round(n * float(strength))))
    return n - kept


def sdedit(predict: Predict, schedule: NoiseSchedule, x0: torch.Tensor, steps: int, strength: float,
           generator: torch.Generator | None = None, eta: float = 0.0) -> torch.Tensor:
    """Variations of clean images x0 (B, ...): noise each to the timestep `strength` of the way down
    the chain (Meng et al. 2021), then denoise with DDIM. The noise comes from `generator`."""
    start = sdedit_start(schedule, steps, strength)
    t = schedule.sampling_timesteps(steps)[start]
    noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    x_t = schedule.add_noise(x0, torch.full((len(x0),), t, dtype=torch.long, device=x0.device), noise)
    return ddim_sample(predict, schedule, x_t, steps, eta=eta, generator=generator, start=start)
