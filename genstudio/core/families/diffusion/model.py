"""Denoising diffusion (DDPM, Ho et al. 2020) explored through DDIM (Song et al. 2021).

Training: x_0 in [-1, 1] (images) or data coordinates (points); t drawn stratified over the four
quarters of the T timesteps so every batch reports a loss per quarter (q1 = least noise, q4 = most);
x_t = sqrt(a_t) x_0 + sqrt(1 - a_t) eps; loss = mean (eps - eps_theta(x_t, t, y))^2. Labels of
class-conditional models are dropped to "no label" with probability `label_dropout`, so one network
gives both eps(x, c) and eps(x, none) for classifier-free guidance (Ho & Salimans 2022):
eps = (1 + w) eps(x, c) - w eps(x, none). An EMA copy of the weights does all sampling.

Exploring (decode, encode, variations) is DDIMModel's, shared with diffusers' U-Nets.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from genstudio.core.families.base import adam
from genstudio.core.families.diffusion.config import DiffusionConfig
from genstudio.core.families.diffusion.ddim_model import DDIMModel
from genstudio.core.families.diffusion.mlp_denoiser import MLPDenoiser
from genstudio.core.families.diffusion.schedule import NoiseSchedule, make_betas
from genstudio.core.families.diffusion.unet import UNet

QUARTERS = 4
EVAL_SEED = 1234         # held-out loss: the same timesteps and noise at every evaluation


class Diffusion(DDIMModel):
    family = "diffusion"
    optimizer_names = ("denoiser",)

    def __init__(self, config: DiffusionConfig):
        super().__init__(config)
        cfg: DiffusionConfig = self.config
        if cfg.arch == "unet":
            self.net = UNet(self.data_shape[0], cfg.channels, cfg.channel_mults, cfg.res_blocks, cfg.attention,
                            cfg.num_classes, cfg.dropout)
        else:
            self.net = MLPDenoiser(self.data_shape[0], cfg.hidden, cfg.embedding_dim, cfg.num_classes)
        self.ema = copy.deepcopy(self.net).requires_grad_(False) if cfg.ema_decay > 0 else None
        if self.ema is not None:
            self.register_buffer("ema_updates", torch.zeros(()))
        # Images clamp the predicted x_0 to the data range [-1, 1]; points have no such range.
        self.schedule = NoiseSchedule.from_betas(make_betas(cfg.schedule, cfg.timesteps, cfg.beta_start, cfg.beta_end),
                                                 spacing=cfg.spacing, clip=None if self.is_points else 1.0)

    # --- the denoiser -------------------------------------------------------------------------------
    def predictor(self, labels: torch.Tensor | None = None, guidance: float = 0.0):
        """predict(x, t) for the sampler: the EMA network's eps, guided when labels and w > 0 are given."""
        net = self.ema if self.ema is not None else self.net
        if labels is not None:
            labels = labels.to(self.device).long()
        guided = labels is not None and guidance > 0 and self.num_classes > 0

        def predict(x: torch.Tensor, t: int) -> torch.Tensor:
            steps = torch.full((len(x),), t, dtype=torch.long, device=x.device)
            if not guided:
                return net(x, steps, labels)
            # One batch of 2B: (x, c) and (x, none); eps = (1 + w) eps_c - w eps_none.
            none = torch.full_like(labels, self.num_classes)
            eps_c, eps_u = net(torch.cat([x, x]), torch.cat([steps, steps]), torch.cat([labels, none])).chunk(2)
            return eps_c + guidance * (eps_c - eps_u)

        return predict

    # --- training -----------------------------------------------------------------------------------
    def _stratified_timesteps(self, n: int, generator: torch.Generator | None, device) -> torch.Tensor:
        """(n,) timesteps, sample i in quarter i mod 4, uniform inside it: every quarter is measured."""
        T = self.config.timesteps
        quarter = torch.arange(n, device=device) % QUARTERS
        lo = quarter * T // QUARTERS
        hi = (quarter + 1) * T // QUARTERS
        u = torch.rand(n, generator=generator, device=device)
        return (lo + (u * (hi - lo)).long()).clamp(max=T - 1)

    def _losses(self, x: torch.Tensor, y: torch.Tensor | None, generator: torch.Generator | None = None,
                drop_labels: bool = True) -> dict[str, torch.Tensor]:
        x0 = self._to_model(x)
        n = len(x0)
        t = self._stratified_timesteps(n, generator, x0.device)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device)
        x_t = self.schedule.add_noise(x0, t, noise)
        labels = None
        if self.num_classes and y is not None:
            labels = y.long()
            if drop_labels and self.config.label_dropout > 0:
                dropped = torch.rand(n, generator=generator, device=x0.device) < self.config.label_dropout
                labels = torch.where(dropped, torch.full_like(labels, self.num_classes), labels)
        per_sample = F.mse_loss(self.net(x_t, t, labels), noise, reduction="none").flatten(1).mean(1)   # (B,)
        figures = {"loss": per_sample.mean()}
        quarter = (t * QUARTERS) // self.config.timesteps
        for q in range(QUARTERS):
            mask = quarter == q
            # A batch smaller than 4 leaves a quarter empty: it then reports the batch's loss.
            figures[f"loss_q{q + 1}"] = per_sample[mask].mean() if bool(mask.any()) else figures["loss"]
        return figures

    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        return {"denoiser": adam(self.net.parameters(), hyper)}

    def train_step(self, x, y, optimizers):
        figures = self._losses(x, y)
        opt = optimizers["denoiser"]
        opt.zero_grad(set_to_none=True)
        figures["loss"].backward()
        opt.step()
        self._update_ema()
        return {k: v.detach() for k, v in figures.items()}

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.ema is None:
            return
        # Warm-up: the average starts short and lengthens to 1 / (1 - decay) steps, so early samples
        # are not dominated by the random initial weights.
        self.ema_updates += 1
        n = float(self.ema_updates)
        decay = min(self.config.ema_decay, (1 + n) / (10 + n))
        torch._foreach_lerp_(list(self.ema.parameters()), list(self.net.parameters()), 1.0 - decay)

    @torch.no_grad()
    def evaluate(self, x, y=None):
        """Held-out denoising loss, overall and per quarter, with the same t and noise each time."""
        was_training = self.training
        self.eval()
        try:
            generator = torch.Generator(device=x.device).manual_seed(EVAL_SEED)
            return self._losses(x, y, generator, drop_labels=False)
        finally:
            self.train(was_training)
