"""A style-based GAN: StyleGAN2's generator (generator.py) with an EMA copy that every decode uses,
style-mixing regularisation, and one of two discriminators and losses (config `loss`):

- "r1": NVIDIA's residual discriminator (discriminator.py), the non-saturating logistic loss and a
  lazy R1 penalty on real images, as StyleGAN2 was tuned (the rgb-64 preset);
- "hinge-sn": the hinge loss against the spectral-norm conv discriminator of the GAN family's
  hinge presets (the digits presets).

Why the digits presets use hinge + SN (measured on MNIST, 2 CPU cores, batch 32, docs/stylegan.md):
with the R1 discriminator at 32-64 maps, G collapsed every time within 500-1,000 steps (one stroke
or one "0" for every z; coverage under 0.05 of 1,000 samples) at learning rates 2e-3, 6e-4 and 2e-4,
R1 gamma 0.1 or 0.01, with or without style mixing. Against the spectral-norm D (rate 4e-4, its
weights at their natural scale, so nothing fights G's equalized learning rate), G at StyleGAN2's rate
2e-3 drew varied, recognisable digits by step 1,000 and kept widening its coverage.

Latent z (N, z_dim); decode options: truncation psi (pull w towards the tracked mean w), the layer
cut-off it stops at, and the noise inputs (fixed per model, fresh per decode, or off).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core.errors import TrainingError
from genstudio.core.families.base import GenerativeModel, adam
from genstudio.core.families.gan.model import ConvFeatures
from genstudio.core.families.gan.model import Discriminator as SpectralNormDiscriminator
from genstudio.core.families.stylegan.config import StyleGANConfig
from genstudio.core.families.stylegan.discriminator import Discriminator
from genstudio.core.families.stylegan.generator import Generator
from genstudio.core.families.stylegan.style_space import (GROUPS, apply_edit, layer_group, mix, mixing_grid,
                                                          style_directions)
from genstudio.core.latent import SpaceEdit, seeded_latents

NOISE_FIXED, NOISE_RANDOM, NOISE_OFF = 0, 1, 2          # the decode setting's values
NOISE_MODE_OF = {NOISE_FIXED: "const", NOISE_RANDOM: "random", NOISE_OFF: "none"}     # SynthesisLayer's noise_mode
# The decode setting `detail`: the synthesis stops at R / 16, R / 8, R / 4, R / 2 or R (full) and the
# image is enlarged (SynthesisNetwork.forward's max_resolution).
DETAIL_LEVELS = ("1/16", "1/8", "1/4", "1/2", "full")
DETAIL_FULL = len(DETAIL_LEVELS) - 1


class StyleGAN(GenerativeModel):
    family = "stylegan"
    traceable_decode = True
    optimizer_names = ("g", "d")

    def __init__(self, config: StyleGANConfig):
        super().__init__(config)
        channels = self.data_shape[0]
        self.resolution = config.resolution
        generator = Generator(
            config.z_dim, config.num_classes, config.w_dim, self.resolution, channels,
            mapping_kwargs={"num_layers": config.mapping_layers, "lr_multiplier": config.mapping_lr,
                            "w_avg_beta": config.w_avg_beta},
            synthesis_kwargs={"channel_base": config.channel_base, "channel_max": config.channel_max,
                              "architecture": config.architecture, "use_noise": config.use_noise,
                              "conv_clamp": config.conv_clamp or None})
        if config.trainable:
            self.generator = generator
            self.generator_ema = copy.deepcopy(generator).requires_grad_(False)
            self.discriminator = self._make_discriminator(channels)
        else:
            self.generator_ema = generator.requires_grad_(False)   # a converted snapshot's G_ema alone
        self.register_buffer("d_updates", torch.zeros((), dtype=torch.long))
        self._last_r1 = {}

    def _make_discriminator(self, channels: int) -> nn.Module:
        config = self.config
        if config.loss == "hinge-sn":
            canvas = (channels, self.resolution, self.resolution)
            return SpectralNormDiscriminator(ConvFeatures(canvas, config.d_channel_max, norm=False, sn=True),
                                             config.num_classes, sn=True)
        return Discriminator(self.resolution, channels, config.num_classes, config.d_channel_base,
                             config.d_channel_max, config.mbstd_group)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.z_dim,)

    @property
    def num_ws(self) -> int:
        return self.generator_ema.num_ws

    # --- images between the canvas and the data ------------------------------------------------
    def _crop(self, img: torch.Tensor) -> torch.Tensor:
        """(N, C, R, R) canvas -> (N, *data_shape), centre-cropped (28 px data from a 32 px canvas)."""
        h, w = self.data_shape[1:]
        top, left = (self.resolution - h) // 2, (self.resolution - w) // 2
        return img[:, :, top:top + h, left:left + w]

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        """(N, *data_shape) in [-1, 1] -> the canvas, padded with -1 (the background of dark-ground data)."""
        h, w = self.data_shape[1:]
        top, left = (self.resolution - h) // 2, (self.resolution - w) // 2
        pad = [left, self.resolution - w - left, top, self.resolution - h - top]
        return F.pad(x, pad, value=-1.0) if any(pad) else x

    def _one_hot(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        if labels is None:
            return torch.zeros(n, self.num_classes, device=self.device)
        return F.one_hot(labels.reshape(-1).long().expand(n) if labels.numel() == 1 else labels.long(),
                         self.num_classes).float().to(self.device)

    # --- generation ---------------------------------------------------------------------------
    def mapping(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, z_dim) -> ws (N, num_ws, w_dim) of the EMA generator."""
        return self.generator_ema.mapping(z.to(self.device), self._one_hot(labels, len(z)))

    def synthesize(self, ws: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int = 0,
                   noise: int = NOISE_FIXED, generator: torch.Generator | None = None,
                   style_edit: SpaceEdit | None = None, detail: int = DETAIL_FULL) -> torch.Tensor:
        """ws (N, num_ws, w_dim) -> images (N, *data_shape) in [0, 1], truncated towards the mean w on
        the first `truncation_cutoff` layers (0: all), then edited in W (`style_edit`), so an edit's
        strength does not depend on psi; below full `detail` (DETAIL_LEVELS), drawn at a fraction of
        the resolution and enlarged."""
        g = self.generator_ema
        ws = g.truncate(ws, truncation_psi, truncation_cutoff or None)
        if style_edit is not None:
            ws = apply_edit(ws, style_edit)
        steps_down = DETAIL_FULL - min(max(int(detail), 0), DETAIL_FULL)
        top = max(g.img_resolution >> steps_down, 4) if steps_down else 0
        img = g.synthesis(ws, NOISE_MODE_OF[int(noise)], generator, max_resolution=top)
        return self._crop(img).add(1).mul(0.5).clamp(0, 1)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None, truncation_psi: float = 1.0,
               truncation_cutoff: int = 0, noise: int = NOISE_FIXED, mix_layers: int = 0,
               mix_seed: int = 0, style_edit: SpaceEdit | None = None, detail: int = DETAIL_FULL) -> torch.Tensor:
        """`mix_layers` 1, 2, 3: the coarse, middle or fine w's come from seed `mix_seed`'s latent
        (style mixing; 0 mixes nothing); `style_edit`: an edit along principal directions of W;
        `detail`: see synthesize."""
        ws = self.mapping(z.reshape(len(z), -1), labels)
        if mix_layers:
            other = self.mapping(seeded_latents(1, self.latent_shape, int(mix_seed)), labels)
            ws = mix(ws, other, layer_group(GROUPS[int(mix_layers) - 1], self.num_ws))
        return self.synthesize(ws, truncation_psi, truncation_cutoff, noise, style_edit=style_edit, detail=detail)

    def decode_differentiable(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.synthesize(self.mapping(z, labels))

    # --- W (style_space.W_SPACE) --------------------------------------------------------------
    def space_directions(self, k: int, *, label: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit principal directions of W (k, w_dim) and their shares of the variance of w (k,), seeded."""
        return style_directions(self, k, label=label)

    def mixing_grid(self, seeds_a: list[int], seeds_b: list[int], layers: str, *, label: int | None = None,
                    **decode_options) -> torch.Tensor:
        """The style-mixing grid (style_space.mixing_grid) with B's w's on `layers` (a group or 'A-B');
        ValueError names layers outside this generator's w's."""
        return mixing_grid(self, seeds_a, seeds_b, layer_group(layers, self.num_ws), label, **decode_options)

    # --- training -----------------------------------------------------------------------------
    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        """G: Adam at `lr_g` with `betas`. D: at `lr_d` with `d_betas` when given (the spectral-norm D
        keeps its weights at their natural scale and wants the hinge GANs' betas), else `betas`."""
        if not self.config.trainable:
            raise TrainingError("this style-based GAN holds only a converted generator (no discriminator or "
                                "live G), so it can be explored but not trained")
        d_hyper = {**hyper, "betas": hyper.get("d_betas", hyper.get("betas", (0.0, 0.99)))}
        if self.config.loss == "r1":
            # Lazy R1 every k steps: Adam's betas and rate scaled by k / (k + 1) as StyleGAN2 does, so the
            # occasional larger step does not change the effective momentum.
            ratio = self.config.r1_every / (self.config.r1_every + 1)
            d_hyper = {**d_hyper, "lr_d": float(hyper["lr_d"]) * ratio, "betas": [b ** ratio for b in d_hyper["betas"]]}
        return {"g": adam(self.generator.parameters(), hyper, "lr_g"),
                "d": adam(self.discriminator.parameters(), d_hyper, "lr_d")}

    def _fake(self, n: int, labels: torch.Tensor | None) -> torch.Tensor:
        """n images from the live G as D sees them, with style mixing: for a share of batches a
        second z takes over from a random layer on, so no layer can rely on its neighbours' w.
        Cropped to the data's size and padded back like the real images, so the canvas border
        (which no decode shows) is the same for both and D cannot judge by it."""
        g, device = self.generator, self.device
        c = self._one_hot(labels, n)
        ws = g.mapping(torch.randn(n, self.config.z_dim, device=device), c, update_w_avg=self.training)
        if self.config.style_mixing > 0 and torch.rand(()) < self.config.style_mixing:
            cutoff = int(torch.randint(1, self.num_ws, ()))
            other = g.mapping(torch.randn(n, self.config.z_dim, device=device), c)
            ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
        return self._pad(self._crop(g.synthesis(ws, "random")))

    def train_step(self, x, y, optimizers):
        real = self._pad(x * 2 - 1)
        if self.num_classes:
            if y is None:
                raise ValueError("a class-conditional GAN needs a labelled data set")
            y_fake = torch.randint(0, self.num_classes, (len(x),), device=x.device)
        else:
            y, y_fake = None, None
        step = self._hinge_step if self.config.loss == "hinge-sn" else self._r1_step
        figures = step(real, y, y_fake, optimizers)
        self.d_updates += 1
        return figures

    def _generator_step(self, loss_of_scores, n: int, y_fake, opt_g) -> torch.Tensor:
        """One G update on n fresh fakes with D frozen (no gradients for its weights); then the EMA."""
        self.discriminator.requires_grad_(False)
        g_loss = loss_of_scores(self.discriminator(self._fake(n, y_fake), y_fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        self.discriminator.requires_grad_(True)
        self._update_ema()
        return g_loss.detach()

    def _hinge_step(self, real, y, y_fake, optimizers) -> dict:
        """D first (hinge on reals and on a detached fake batch), then G (-D(G(z)))."""
        n = len(real)
        with torch.no_grad():
            fake = self._fake(n, y_fake)
        d_real, d_fake = self.discriminator(real, y), self.discriminator(fake, y_fake)
        d_loss = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        optimizers["d"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["d"].step()
        g_loss = self._generator_step(lambda scores: -scores.mean(), n, y_fake, optimizers["g"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss, "d_real": d_real.detach().mean(),
                "d_fake": d_fake.detach().mean()}

    def _r1_step(self, real, y, y_fake, optimizers) -> dict:
        """G (non-saturating), then D on a fresh fake batch, plus R1 = gamma / 2 * |grad_x D(x)|^2 on
        reals every r1_every steps."""
        n = len(real)
        g_loss = self._generator_step(lambda scores: F.softplus(-scores).mean(), n, y_fake, optimizers["g"])
        with torch.no_grad():
            fake = self._fake(n, y_fake)
        lazy_r1 = int(self.d_updates) % self.config.r1_every == 0 and self.config.r1_gamma > 0
        real_in = real.detach().requires_grad_(lazy_r1)
        # Real and fake batches go through D apart: its minibatch-std feature must compare a sample
        # with others of its own kind, or reals would score by the fakes beside them.
        d_real, d_fake = self.discriminator(real_in, y), self.discriminator(fake, y_fake)
        d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        total = d_loss
        if lazy_r1:
            grad, = torch.autograd.grad(d_real.sum(), real_in, create_graph=True)
            penalty = grad.square().flatten(1).sum(1).mean()
            total = total + penalty * (self.config.r1_gamma / 2 * self.config.r1_every)
            self._last_r1 = {"r1_penalty": penalty.detach()}
        optimizers["d"].zero_grad(set_to_none=True)
        total.backward()
        optimizers["d"].step()
        return {"d_loss": d_loss.detach(), "g_loss": g_loss, "d_real": torch.sigmoid(d_real.detach()).mean(),
                "d_fake": torch.sigmoid(d_fake.detach()).mean(), **self._last_r1}

    def ema_decay_now(self) -> float:
        """The EMA's decay at this step: `ema_decay`, but with a half-life of at most 5 % of the steps
        so far (StyleGAN2's ramp-up), so early samples are not averaged with the random start."""
        half_life = 0.05 * (int(self.d_updates) + 1)
        return min(self.config.ema_decay, 0.5 ** (1.0 / half_life))

    @torch.no_grad()
    def _update_ema(self):
        ema_p, live_p = list(self.generator_ema.parameters()), list(self.generator.parameters())
        torch._foreach_lerp_(ema_p, live_p, 1.0 - self.ema_decay_now())
        for b_ema, b_live in zip(self.generator_ema.buffers(), self.generator.buffers()):
            b_ema.copy_(b_live)          # w_avg and the fixed noise follow the live G

