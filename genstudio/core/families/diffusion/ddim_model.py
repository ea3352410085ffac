"""What every diffusion model offers the explorer, whatever its network: the latent is the starting
noise x_T, shaped like the data. `decode` runs deterministic DDIM (eta = 0) unless told otherwise,
so one latent is always one image; `encode` runs DDIM backwards (inversion); `variations` noises an
image part-way and denoises it (SDEdit).

A subclass gives `predictor(labels, guidance)` (a function (x, t) -> network output), `schedule`
(a NoiseSchedule) and a config with `sample_steps`, `guidance` and `timesteps`. genstudio's own
models (model.py) and diffusers' U-Nets both derive from it.
"""

from __future__ import annotations

import torch

from genstudio.core.families.base import GenerativeModel
from genstudio.core.families.diffusion.sampler import ddim_invert, ddim_sample, sdedit
from genstudio.core.families.diffusion.schedule import NoiseSchedule


class DDIMModel(GenerativeModel):
    family = "diffusion"
    schedule: NoiseSchedule

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return self.data_shape

    # --- the data's scale ---------------------------------------------------------------------------
    def _to_model(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.is_points else x * 2 - 1

    def _from_model(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.is_points else ((x + 1) / 2).clamp(0, 1)

    def predictor(self, labels: torch.Tensor | None = None, guidance: float = 0.0):
        raise NotImplementedError

    def _settings(self, steps, guidance) -> tuple[int, float]:
        steps = self.config.sample_steps if steps is None else int(steps)
        guidance = self.config.guidance if guidance is None else float(guidance)
        if not 1 <= steps <= self.config.timesteps:
            raise ValueError(f"sampling steps must be 1..{self.config.timesteps}, not {steps}")
        return steps, guidance

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None, steps: int | None = None,
               eta: float = 0.0, guidance: float | None = None, seed: int = 0, should_stop=None) -> torch.Tensor:
        """x_T (n, *data_shape) -> samples (n, *data_shape) with `steps` DDIM steps. eta > 0 adds noise
        drawn from `seed`, so every setting still gives one image per latent."""
        steps, guidance = self._settings(steps, guidance)
        if not 0.0 <= float(eta) <= 1.0:
            raise ValueError(f"eta must be between 0 and 1, not {eta}")
        z = z.reshape(len(z), *self.data_shape).to(self.device, torch.float32)
        generator = torch.Generator(device=z.device).manual_seed(int(seed)) if eta > 0 else None
        x = ddim_sample(self.predictor(labels, guidance), self.schedule, z, steps, float(eta), generator,
                        should_stop=should_stop)
        return self._from_model(x)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None, steps: int | None = None,
               guidance: float | None = None, should_stop=None) -> torch.Tensor:
        """Data (n, *data_shape) -> the x_T that DDIM decodes back to it (inversion, `steps` steps).
        Without labels a conditional model inverts with "no label", and decodes back that way."""
        steps, guidance = self._settings(steps, guidance)
        x0 = self._to_model(x.reshape(len(x), *self.data_shape).to(self.device, torch.float32))
        return ddim_invert(self.predictor(labels, guidance), self.schedule, x0, steps, should_stop=should_stop)

    @torch.no_grad()
    def variations(self, x: torch.Tensor, n: int, strength: float, labels: torch.Tensor | None = None,
                   steps: int | None = None, guidance: float | None = None, seed: int = 0) -> torch.Tensor:
        """n SDEdit variations (n, *data_shape) of one sample x (*data_shape): noised `strength` of the
        way (0..1] down the chain from noise drawn with `seed`, then denoised."""
        steps, guidance = self._settings(steps, guidance)
        if not 0.0 < float(strength) <= 1.0:
            raise ValueError(f"strength must be in (0, 1], not {strength}")
        x0 = self._to_model(x.reshape(1, *self.data_shape).to(self.device, torch.float32)).expand(n, *self.data_shape)
        if labels is not None:
            labels = labels.reshape(-1)[:1].expand(n)
        generator = torch.Generator(device=x0.device).manual_seed(int(seed))
        return self._from_model(sdedit(self.predictor(labels, guidance), self.schedule, x0.contiguous(), steps,
                                       strength, generator))
