"""GANs: an MLP (the classic MNIST GAN) and a DCGAN-style conv net, for images or 2-D points.

Losses: non-saturating BCE, hinge, WGAN-GP. Options: spectral norm on D, an EMA copy of G used for
decoding, class-conditional G (label embedding) and D (projection discriminator, Miyato 2018),
random Fourier features of 2-D points in D (`d_fourier_features`, `d_fourier_scale`), and
differentiable augmentation of every image D sees (`d_augment`, d_augment.py).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from genstudio.core.families.base import GenerativeModel, adam
from genstudio.core.families.fast_dropout import FastDropout
from genstudio.core.families.gan.config import GANConfig, conv_plan
from genstudio.core.families.gan.d_augment import augment
from genstudio.core.families.gan.decision_surface import decision_surface
from genstudio.core.latent import truncated_normal


# The conv nets run channels-last inside (N, H, W, C in memory): oneDNN's convolutions and batch norm
# on the CPU are 2-3x faster in it than in N, C, H, W, which they would reorder to and from at
# every layer. Their inputs and outputs stay in the usual layout. MPS is left in the usual layout.
def _conv_layout(x: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if x.device.type in ("cpu", "cuda") else torch.contiguous_format


def _activation(name: str) -> nn.Module:
    return nn.ReLU() if name == "relu" else nn.LeakyReLU(0.2)


class MLPGenerator(nn.Module):
    """(B, latent [+ embed]) -> (B, prod(data_shape)); tanh for images, linear for points."""

    def __init__(self, in_dim: int, hidden: list[int], out_dim: int, activation: str, tanh: bool):
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(in_dim, width), _activation(activation)]
            in_dim = width
        layers.append(nn.Linear(in_dim, out_dim))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class MLPFeatures(nn.Module):
    """D's body: (B, prod(data_shape)) -> (B, hidden[-1]). Dropout after every hidden layer but the last."""

    def __init__(self, in_dim: int, hidden: list[int], activation: str, dropout: float, sn: bool):
        super().__init__()
        layers: list[nn.Module] = []
        for i, width in enumerate(hidden):
            linear = nn.Linear(in_dim, width)
            layers += [spectral_norm(linear) if sn else linear, _activation(activation)]
            if dropout > 0 and i < len(hidden) - 1:
                layers.append(FastDropout(dropout))
            in_dim = width
        self.net = nn.Sequential(*layers)
        self.out_dim = in_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))




class ConvGenerator(nn.Module):
    """(B, latent [+ embed]) -> (B, C, S, S) in [-1, 1]: linear to (B, c0, b, b), then 2x transposed convs."""

    def __init__(self, in_dim: int, data_shape: tuple[int, int, int], width: int):
        super().__init__()
        channels, size, _ = data_shape
        self.base, n_up = conv_plan(size)
        self.c0 = width * 2 ** (n_up - 1)
        self.project = nn.Sequential(nn.Linear(in_dim, self.c0 * self.base ** 2),
                                     nn.BatchNorm1d(self.c0 * self.base ** 2), nn.ReLU())
        layers: list[nn.Module] = []
        c = self.c0
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = self.project(h).view(-1, self.c0, self.base, self.base)            # (B, c0, b, b)
        return self.net(h.contiguous(memory_format=_conv_layout(h))).contiguous()


class ConvFeatures(nn.Module):
    """D's body: (B, C, S, S) -> (B, c * b * b) with strided convs; batch norm only where allowed."""

    def __init__(self, data_shape: tuple[int, int, int], width: int, norm: bool, sn: bool):
        super().__init__()
        channels, size, _ = data_shape
        base, n_down = conv_plan(size)
        wrap = spectral_norm if sn else (lambda m: m)
        layers: list[nn.Module] = [wrap(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2)]
        c = width
        for _ in range(n_down - 1):
            layers.append(wrap(nn.Conv2d(c, c * 2, 4, 2, 1, bias=not norm)))
            if norm:
                layers.append(nn.BatchNorm2d(c * 2))
            layers.append(nn.LeakyReLU(0.2))
            c *= 2
        self.net = nn.Sequential(*layers, nn.Flatten())       # flattens in (c, b, b) order, whatever the layout
        self.out_dim = c * base * base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.contiguous(memory_format=_conv_layout(x)))          # (B, c * b * b)


class FourierFeatures(nn.Module):
    """(B, d) points -> (B, d + 2m) [x, sin 2πxW, cos 2πxW], fixed random frequencies W (d, m) ~ N(0, scale²).

    An MLP on raw 2-D coordinates learns sharp functions slowly (spectral bias; Tancik et al. 2020):
    a plain ReLU D takes thousands of steps to tell grid-25's 0.05-std blobs from blurred ones, and
    while it cannot, G gets no gradient towards them. On Fourier features it does so in a few hundred.
    The raw coordinates stay in, so D keeps a smooth, non-periodic path for G's gradient far from
    the data. W is a buffer, so checkpoints keep it."""

    def __init__(self, in_dim: int, count: int, scale: float):
        super().__init__()
        self.register_buffer("frequencies", torch.randn(in_dim, count) * scale)
        self.out_dim = in_dim + 2 * count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = 2 * math.pi * x @ self.frequencies                       # (B, m)
        return torch.cat([x, h.sin(), h.cos()], dim=1)                # (B, d + 2m)


class Discriminator(nn.Module):
    """features -> one logit per sample; conditional models add <embed(y), features> (projection D).

    `fourier` (2-D points only) maps each sample to Fourier features before the MLP.
    """

    def __init__(self, features: nn.Module, num_classes: int, sn: bool, fourier: FourierFeatures | None = None):
        super().__init__()
        self.fourier = fourier
        self.features = features
        linear = nn.Linear(features.out_dim, 1)
        self.head = spectral_norm(linear) if sn else linear
        self.embed = nn.Embedding(num_classes, features.out_dim) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.fourier is not None:
            x = self.fourier(x.flatten(1))          # (B, 2 + 2m)
        h = self.features(x)                      # (B, F)
        logit = self.head(h).squeeze(1)           # (B,)
        if self.embed is not None:
            logit = logit + (self.embed(y) * h).sum(1)
        return logit


class GAN(GenerativeModel):
    family = "gan"
    traceable_decode = True
    optimizer_names = ("g", "d")

    def __init__(self, config: GANConfig):
        super().__init__(config)
        cfg: GANConfig = self.config
        self.loss_name = cfg.loss
        self.z_dim = cfg.latent_dim
        self.arch = cfg.arch
        n_classes = self.num_classes
        sn = cfg.spectral_norm
        # Conditional G sees [z, embed(y)]: (B, latent_dim + embed_dim).
        embed_dim = cfg.embed_dim if n_classes else 0
        self.label_embed = nn.Embedding(n_classes, embed_dim) if n_classes else None
        g_in = self.z_dim + embed_dim
        out_dim = math.prod(self.data_shape)
        fourier = FourierFeatures(out_dim, cfg.d_fourier_features, cfg.d_fourier_scale) if cfg.d_fourier_features else None
        d_in = fourier.out_dim if fourier else out_dim
        if self.arch == "mlp":
            self.generator = MLPGenerator(g_in, list(cfg.g_hidden), out_dim, cfg.activation, tanh=not self.is_points)
            features = MLPFeatures(d_in, list(cfg.d_hidden), cfg.activation, cfg.dropout, sn)
        else:
            self.generator = ConvGenerator(g_in, self.data_shape, cfg.g_channels)
            # Batch norm in D breaks the per-sample gradient penalty and fights spectral norm.
            norm = self.loss_name != "wgan-gp" and not sn
            features = ConvFeatures(self.data_shape, cfg.d_channels, norm, sn)
            self.apply(_dcgan_init)
        self.discriminator = Discriminator(features, n_classes, sn, fourier)
        self.d_has_batch_norm = any(isinstance(m, nn.BatchNorm2d) for m in self.discriminator.modules())
        self.ema_decay = cfg.ema_decay
        # The EMA copy of G (and of the label embedding) is what decode uses when enabled.
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False) if self.ema_decay else None
        self.label_embed_ema = (copy.deepcopy(self.label_embed).requires_grad_(False)
                                if self.ema_decay and self.label_embed is not None else None)
        self.d_steps = cfg.d_steps
        self.gp_weight = cfg.gp_weight
        self.d_augment = cfg.d_augment
        # Counts D updates so that G steps every `d_steps` calls; a buffer, so resume is exact.
        self.register_buffer("d_updates", torch.zeros((), dtype=torch.long))
        self._last_g: dict[str, torch.Tensor] = {}

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.z_dim,)

    # --- generation -----------------------------------------------------------------------
    def _generate(self, z: torch.Tensor, y: torch.Tensor | None, use_ema: bool) -> torch.Tensor:
        """(B, latent) -> (B, *data_shape) in G's own range ([-1, 1] images, raw points)."""
        generator = self.generator_ema if use_ema and self.generator_ema is not None else self.generator
        if self.label_embed is not None:
            embed = self.label_embed_ema if use_ema and self.label_embed_ema is not None else self.label_embed
            z = torch.cat([z, embed(y)], dim=1)
        return generator(z).view(-1, *self.data_shape)

    def default_labels(self, n: int) -> torch.Tensor | None:
        """Conditional models decode with labels 0, 1, 2, ... when none are given (a readable grid)."""
        return torch.arange(n, device=self.device) % self.num_classes if self.num_classes else None

    def decode_differentiable(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(B, latent) -> images in [0, 1] with the graph kept, for image projection; the EMA G
        when present, batch norm on its running statistics (as decode)."""
        if self.num_classes and labels is None:
            labels = self.default_labels(len(z))
        was_training = self.training
        self.eval()     # a no-op for the renderer's models, which are always in eval mode
        try:
            return self._generate(z, labels, use_ema=True).add(1).mul(0.5)
        finally:
            self.train(was_training)

    def decision_surface(self, bounds: tuple[float, float, float, float], resolution: int = 64):
        """D over the plane (resolution, resolution) for 2-D point GANs (see decision_surface.py)."""
        return decision_surface(self, bounds, resolution)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None, truncation: float = 0.0) -> torch.Tensor:
        """`truncation` > 0: BigGAN's truncation trick, z restricted to [-truncation, truncation]."""
        z = truncated_normal(z, truncation)
        if self.num_classes and labels is None:
            labels = self.default_labels(len(z))
        was_training = self.training
        self.eval()  # batch norm uses running statistics: a sample does not depend on its batch
        try:
            out = self._generate(z.reshape(len(z), -1), labels, use_ema=True)
        finally:
            self.train(was_training)
        return out if self.is_points else out.add(1).mul_(0.5).clamp_(0, 1)

    # --- training -------------------------------------------------------------------------
    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        g_params = list(self.generator.parameters())
        if self.label_embed is not None:
            g_params += list(self.label_embed.parameters())
        return {"g": adam(g_params, hyper, "lr_g"), "d": adam(self.discriminator.parameters(), hyper, "lr_d")}

    def _d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Per-batch D loss from logits real (B,), fake (B,)."""
        if self.loss_name == "bce":
            # softplus(-l) = -log sigmoid(l): BCE on logits without a Sigmoid layer, same model.
            return F.softplus(-real).mean() + F.softplus(fake).mean()
        if self.loss_name == "hinge":
            return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        return fake.mean() - real.mean()

    def _g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        if self.loss_name == "bce":
            return F.softplus(-fake).mean()  # non-saturating: maximise log D(G(z))
        return -fake.mean()

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """WGAN-GP: (||grad_x D(x_hat)|| - 1)^2 on random interpolates x_hat (B, *data_shape), augmented
        as D's other inputs are, so the penalty holds where D is trained."""
        alpha = torch.rand((len(real),) + (1,) * (real.ndim - 1), device=real.device)
        x_hat = augment(alpha * real + (1 - alpha) * fake, self.d_augment).requires_grad_(True)
        grad, = torch.autograd.grad(self.discriminator(x_hat, y).sum(), x_hat, create_graph=True)
        return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()

    def train_step(self, x, y, optimizers):
        opt_g, opt_d = optimizers["g"], optimizers["d"]
        real = x if self.is_points else x * 2 - 1     # (B, *data_shape) in G's range
        if self.num_classes:
            if y is None:
                raise ValueError("a class-conditional GAN needs a labelled data set")
            y_fake = torch.randint(0, self.num_classes, (len(x),), device=x.device)
        else:
            y, y_fake = None, None
        z = torch.randn(len(x), self.z_dim, device=x.device)
        fake = self._generate(z, y_fake, use_ema=False)

        # D step on the detached fake batch: no gradient flows into G. Without batch norm in D, real
        # and fake go through D as one (2B, ...) batch: one large matmul per layer beats two small ones.
        if self.d_has_batch_norm:
            d_real = self.discriminator(augment(real, self.d_augment), y)
            d_fake = self.discriminator(augment(fake.detach(), self.d_augment), y_fake)
        else:
            both = self.discriminator(augment(torch.cat([real, fake.detach()]), self.d_augment),
                                      None if y is None else torch.cat([y, y_fake]))
            d_real, d_fake = both[:len(x)], both[len(x):]
        d_loss = self._d_loss(d_real, d_fake)
        out = {}
        if self.loss_name == "wgan-gp":
            gp = self._gradient_penalty(real, fake.detach(), y)
            out["gradient_penalty"] = gp.detach()
            d_loss = d_loss + self.gp_weight * gp
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        self.d_updates += 1

        # G step every d_steps D steps, reusing this fake batch. D's weights get no gradient here
        # (requires_grad off), which saves a third of D's backward pass.
        if int(self.d_updates) % self.d_steps == 0:
            self.discriminator.requires_grad_(False)
            g_loss = self._g_loss(self.discriminator(augment(fake, self.d_augment), y_fake))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            self.discriminator.requires_grad_(True)
            self._update_ema()
            self._last_g = {"g_loss": g_loss.detach()}

        d_real, d_fake = d_real.detach(), d_fake.detach()
        if self.loss_name == "bce":  # report probabilities D(x), D(G(z)) as people know them
            d_real, d_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
        out.update({"d_loss": d_loss.detach(), "d_real": d_real.mean(), "d_fake": d_fake.mean()})
        out.update(self._last_g)
        return out

    @torch.no_grad()
    def _update_ema(self):
        if self.generator_ema is None:
            return
        pairs = [(self.generator_ema, self.generator)]
        if self.label_embed is not None:
            pairs.append((self.label_embed_ema, self.label_embed))
        for ema, live in pairs:
            ema_p, live_p = list(ema.parameters()), list(live.parameters())
            torch._foreach_lerp_(ema_p, live_p, 1.0 - self.ema_decay)
            for b_ema, b_live in zip(ema.buffers(), live.buffers()):
                b_ema.copy_(b_live)  # batch-norm statistics follow the live G


def _dcgan_init(module: nn.Module):
    """DCGAN's N(0, 0.02) conv weights and N(1, 0.02) batch-norm scales."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
