"""Noise schedules: how much signal survives at each of the T training timesteps.

A schedule is alpha-bar_t = prod_{s<=t} (1 - beta_s), t = 0..T-1 (float64, (T,)): x_t =
sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps. The betas follow DDPM (Ho et al. 2020: linear
1e-4 .. 0.02 over T = 1000), Improved DDPM (Nichol & Dhariwal 2021: cosine, better at low
resolution) and diffusers' "scaled_linear" (linear in sqrt(beta)), so folders saved by diffusers
rebuild the schedule they were trained with from their scheduler config alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

BETA_SCHEDULES = ("linear", "cosine", "scaled_linear")
SPACINGS = ("trailing", "leading", "linspace")
PREVIOUS = ("listed", "stride")


def make_betas(kind: str, timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """(T,) float64 betas of a named schedule."""
    if kind == "linear":
        return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)
    if kind == "scaled_linear":
        return torch.linspace(beta_start ** 0.5, beta_end ** 0.5, timesteps, dtype=torch.float64) ** 2
    if kind == "cosine":
        # alpha-bar(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2), s = 0.008; betas capped at 0.999
        # so the last steps stay invertible (Nichol & Dhariwal 2021, eq. 17).
        s = 0.008
        steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
        alpha_bar = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)
    raise ValueError(f"unknown beta schedule '{kind}': choose one of {', '.join(BETA_SCHEDULES)}")


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """alpha-bar over the training timesteps, and how DDIM picks its steps from them."""

    alphas_cumprod: torch.Tensor          # (T,) float64
    final_alpha_cumprod: float = 1.0      # alpha-bar after the last step (1: the clean image)
    spacing: str = "trailing"             # how `steps` timesteps are chosen out of T (as diffusers names them)
    steps_offset: int = 0                 # added to "leading" timesteps (diffusers' steps_offset)
    prediction: str = "epsilon"           # what the network predicts: epsilon, v_prediction or sample
    clip: float | None = 1.0              # clamp the predicted x_0 to [-clip, clip]; None: do not
    recompute_eps: bool = True            # after clamping x_0, make eps agree with it (diffusers' default: no)
    previous: str = "listed"              # where a step from t lands: see previous_timestep

    @classmethod
    def from_betas(cls, betas: torch.Tensor, **kwargs) -> "NoiseSchedule":
        return cls(torch.cumprod(1 - betas.double(), 0), **kwargs)

    @property
    def timesteps(self) -> int:
        return len(self.alphas_cumprod)

    def alpha_bar(self, t: int) -> float:
        """alpha-bar at timestep t; t < 0 is the clean end of the chain."""
        return float(self.alphas_cumprod[t]) if t >= 0 else self.final_alpha_cumprod

    def sampling_timesteps(self, steps: int) -> list[int]:
        """`steps` timesteps, descending, as diffusers' DDIMScheduler.set_timesteps picks them.
        "trailing" starts at T - 1 (pure noise) and suits few steps; "leading" is diffusers' default."""
        T = self.timesteps
        steps = max(1, min(int(steps), T))
        if self.spacing == "linspace":
            chosen = torch.linspace(0, T - 1, steps, dtype=torch.float64).round()
        elif self.spacing == "leading":
            chosen = (torch.arange(steps, dtype=torch.float64) * (T // steps)).round() + self.steps_offset
        elif self.spacing == "trailing":
            chosen = (torch.arange(T, 0, -T / steps, dtype=torch.float64).round() - 1).flip(0)
        else:
            raise ValueError(f"unknown timestep spacing '{self.spacing}': choose one of {', '.join(SPACINGS)}")
        return [int(t) for t in chosen.clamp(0, T - 1).flip(0).tolist()]

    def previous_timestep(self, timesteps: list[int], i: int) -> int:
        """The timestep a DDIM step from timesteps[i] (of the descending list) lands on; -1: the clean end.
        "listed": the next timestep in the list. "stride": t - T // steps, as diffusers' DDIMScheduler.step
        computes it for the folders it saved: the same for "leading" spacing, and for "trailing" when the
        steps divide T; otherwise (and mostly for "linspace") it lands between listed timesteps."""
        if self.previous == "stride":
            return max(timesteps[i] - self.timesteps // len(timesteps), -1)
        if self.previous != "listed":
            raise ValueError(f"unknown previous-timestep rule '{self.previous}': choose one of {', '.join(PREVIOUS)}")
        return timesteps[i + 1] if i + 1 < len(timesteps) else -1

    def add_noise(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t for a batch: x0 and noise (B, ...), t (B,) integer timesteps."""
        ab = self.alphas_cumprod.to(x0.device)[t].to(x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise
