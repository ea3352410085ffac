"""VAEs (Kingma & Welling 2014): MLP or conv encoder/decoder, Bernoulli or Gaussian likelihood, beta.

Figures are nats per sample: ELBO = -(reconstruction NLL + KL), KL = sum over latent dimensions of
KL(q(z_i|x) || N(0, 1)); the per-dimension KL shows posterior collapse (dimensions with KL ~ 0).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core.families.base import GenerativeModel, adam
from genstudio.core.families.vae.config import VAEConfig


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) of each unit, in nats; same shape as mu, e.g. (B, D)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """(B, C, S, S) -> (B, 2 * latent): two stride-2 convs to (B, 2c, S/4, S/4), then linear."""

    def __init__(self, data_shape, width: int, latent_dim: int):
        super().__init__()
        channels, size, _ = data_shape
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(), nn.Flatten(),
            nn.Linear(2 * width * (size // 4) ** 2, 256), nn.ReLU(), nn.Linear(256, 2 * latent_dim))

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    """(B, latent) -> (B, C, S, S) logits/means: linear to (B, 2c, S/4, S/4), two transposed convs."""

    def __init__(self, data_shape, width: int, latent_dim: int):
        super().__init__()
        channels, size, _ = data_shape
        self.start = (2 * width, size // 4, size // 4)
        self.project = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(),
                                     nn.Linear(256, math.prod(self.start)), nn.ReLU())
        self.net = nn.Sequential(nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(width, channels, 4, 2, 1))

    def forward(self, z):
        return self.net(self.project(z).view(-1, *self.start))


class VAE(GenerativeModel):
    family = "vae"
    traceable_decode = True
    optimizer_names = ("vae",)

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        cfg: VAEConfig = self.config
        self.z_dim = cfg.latent_dim
        self.beta = cfg.beta
        self.likelihood = cfg.likelihood
        data_dim = math.prod(self.data_shape)
        if cfg.arch == "mlp":
            hidden = list(cfg.hidden)
            self.encoder = _mlp([data_dim, *hidden, 2 * self.z_dim])
            self.decoder = _mlp([self.z_dim, *hidden[::-1], data_dim])
        else:
            self.encoder = ConvEncoder(self.data_shape, cfg.channels, self.z_dim)
            self.decoder = ConvDecoder(self.data_shape, cfg.channels, self.z_dim)
        self.arch = cfg.arch
        # Gaussian likelihood: one learned log-std per channel (or per coordinate for points).
        n_scales = self.data_shape[0]
        self.log_sigma = nn.Parameter(torch.full((n_scales,), -1.0)) if self.likelihood == "gaussian" else None

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.z_dim,)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|x): mean and log-variance, each (B, latent)."""
        h = self.encoder(x.flatten(1) if self.arch == "mlp" else x)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)  # keeps exp() finite early in training

    def _decoder_out(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent) -> (B, *data_shape): Bernoulli logits or Gaussian means."""
        return self.decoder(z).view(-1, *self.data_shape)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def kl_per_dimension(self, x: torch.Tensor) -> torch.Tensor:
        """Mean KL(q(z|x) || N(0, I)) of each latent dimension over the batch x (B, *data_shape):
        (latent,) nats, the training figure `kl_per_dim` without sampling (capabilities.KLPerDimension)."""
        return gaussian_kl(*self.posterior(x)).mean(0)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self._decoder_out(z.reshape(len(z), -1))
        if self.likelihood == "bernoulli":
            return torch.sigmoid(out)
        return out if self.is_points else out.clamp(0, 1)

    def reconstruction_nll(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) in nats per sample (B,)."""
        if self.likelihood == "bernoulli":
            return F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        log_sigma = self.log_sigma.view(shape)
        nll = 0.5 * ((x - out) / log_sigma.exp()).pow(2) + log_sigma + 0.5 * math.log(2 * math.pi)
        return nll.flatten(1).sum(1)

    def _figures(self, x: torch.Tensor, sample: bool) -> dict[str, torch.Tensor]:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
        recon = self.reconstruction_nll(self._decoder_out(z), x)                # (B,)
        kl_dims = gaussian_kl(mu, logvar)                                        # (B, latent)
        kl = kl_dims.sum(1)
        return {"recon": recon.mean(), "kl": kl.mean(), "elbo": -(recon + kl).mean(),
                "loss": (recon + self.beta * kl).mean(), "kl_per_dim": kl_dims.mean(0)}

    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        return {"vae": adam(self.parameters(), hyper)}

    def train_step(self, x, y, optimizers):
        figures = self._figures(x, sample=True)
        opt = optimizers["vae"]
        opt.zero_grad(set_to_none=True)
        figures["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in figures.items()}

    @torch.no_grad()
    def evaluate(self, x, y=None):
        was_training = self.training
        self.eval()
        try:
            return self._figures(x, sample=True)
        finally:
            self.train(was_training)
