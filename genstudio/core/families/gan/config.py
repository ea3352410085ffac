"""The GAN's architecture fields, their defaults and the rules between them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize, linear_size
from genstudio.core.families.gan.d_augment import POLICIES as AUGMENT_POLICIES

LOSSES = ("bce", "hinge", "wgan-gp")
ACTIVATIONS = ("leaky_relu", "relu")
WIDTH = {"min": 1, "max": 16384, "max_len": 32}


def conv_plan(size: int) -> tuple[int, int]:
    """(base resolution, number of 2x up/down-samplings) for 28, 32 and 64 px images."""
    base = 7 if size % 7 == 0 else 4
    n = int(round(math.log2(size / base))) if size >= base else 0
    if base * 2 ** n != size or n < 2:
        raise ConfigError(f"conv GAN supports 28, 32 and 64 px images (got {size})")
    return base, n


def conv_discriminator_size(channels: int, size: int, width: int, num_classes: int, spectral_norm: bool) -> int:
    """Parameters and buffers of the conv D (model.py: ConvFeatures and the Discriminator head) for
    (channels, size, size) images: 4x4 stride-2 convs from `width` maps, doubling, to the base
    resolution, a linear head, a class embedding for projection, and spectral norm's u, v vectors."""
    base, n = conv_plan(size)
    c = width
    d = channels * c * 16 + c
    for _ in range(n - 1):
        d += c * 2 * c * 16 + 6 * c          # + bias, or batch norm (2 params, 2 stats)
        c *= 2
    features = c * base * base
    d += linear_size([features, 1]) + num_classes * features
    if spectral_norm:                        # power-iteration vectors u, v of each normalised weight
        d += 2 * features
    return d


@dataclass(frozen=True)
class GANConfig(ModelConfig):
    arch: str = field(default="mlp", metadata={"choices": ("mlp", "conv")})
    latent_dim: int = field(default=100, metadata={"min": 1, "max": 65536})
    g_hidden: tuple[int, ...] = field(default=(256, 512, 1024), metadata=WIDTH)     # MLP G widths
    d_hidden: tuple[int, ...] = field(default=(1024, 512, 256), metadata=WIDTH)     # MLP D widths
    g_channels: int = field(default=64, metadata=WIDTH)                             # conv G width
    d_channels: int = field(default=64, metadata=WIDTH)                             # conv D width
    dropout: float = field(default=0.0, metadata={"min": 0.0, "max": 0.95})
    loss: str = field(default="bce", metadata={"choices": LOSSES})
    activation: str = field(default="leaky_relu", metadata={"choices": ACTIVATIONS})
    spectral_norm: bool = False
    ema_decay: float = field(default=0.0, metadata={"min": 0.0, "max": 0.999999})  # 0: no EMA G
    gp_weight: float = field(default=10.0, metadata={"min": 0.0, "max": 1e6})       # WGAN-GP lambda
    d_steps: int = field(default=1, metadata={"min": 1, "max": 100})                # D steps per G step
    d_fourier_features: int = field(default=0, metadata={"min": 0, "max": 4096})    # 2-D points only
    d_fourier_scale: float = field(default=1.0, metadata={"min": 0.0, "max": 1e4})
    embed_dim: int = field(default=32, metadata={"min": 1, "max": 4096})            # conditional G
    # Images only (d_augment.py); files written before the field trained without it.
    d_augment: str = field(default="none", metadata={"choices": AUGMENT_POLICIES, "absent": "none"})

    def size(self) -> ModelSize:
        out = math.prod(self.data_shape)
        embed = self.embed_dim if self.num_classes else 0
        g_in = self.latent_dim + embed
        if self.arch == "mlp":
            g = linear_size([g_in, *self.g_hidden, out])
            g_acts = sum(self.g_hidden) + out
            d_in = out + 2 * self.d_fourier_features
            d = linear_size([d_in, *self.d_hidden]) + 2 * d_in * self.d_fourier_features // max(d_in, 1)
            features = self.d_hidden[-1]
            d += linear_size([features, 1]) + self.num_classes * features
            if self.spectral_norm:      # power-iteration vectors u, v of each normalised weight
                d += 2 * (features + sum(self.d_hidden))
        else:
            channels, side = self.data_shape[0], self.data_shape[1]
            base, n = conv_plan(side)
            c = self.g_channels * 2 ** (n - 1)
            g = linear_size([g_in, c * base * base]) + 4 * c * base * base      # + batch norm (2 params, 2 stats)
            g_acts, res = 2 * c * base * base, base
            for _ in range(n - 1):
                g += c * (c // 2) * 16 + 4 * (c // 2)
                c, res = c // 2, res * 2
                g_acts += c * res * res
            g += c * channels * 16 + channels
            g_acts += channels * side * side
            d = conv_discriminator_size(channels, side, self.d_channels, self.num_classes, self.spectral_norm)
        g += self.num_classes * embed
        copies = 2 if self.ema_decay else 1
        return ModelSize(copies * g + d, g_acts)

    def check(self) -> None:
        if not self.d_hidden or not self.g_hidden:
            raise ConfigError("g_hidden and d_hidden need at least one layer")
        if self.d_fourier_features and not self.is_points:
            raise ConfigError("Fourier features in D (d_fourier_features) are for 2-D points only")
        if self.d_augment != "none" and self.is_points:
            raise ConfigError("d_augment moves and cuts images; 2-D points have nothing to augment")
        if self.arch == "conv":
            if self.is_points:
                raise ConfigError("the conv GAN is for images; use arch 'mlp' for 2-D points")
            conv_plan(self.data_shape[1])


def v1_defaults(data_shape: tuple[int, ...]) -> dict:
    """What format-1 checkpoints rebuilt for fields they did not store (the code's defaults then)."""
    return {"arch": "mlp", "g_hidden": [256, 512, 1024], "d_hidden": [1024, 512, 256], "g_channels": 64,
            "d_channels": 64, "dropout": 0.0, "loss": "bce", "activation": "leaky_relu", "spectral_norm": False,
            "ema_decay": 0.0, "gp_weight": 10.0, "d_steps": 1, "d_fourier_features": 0, "d_fourier_scale": 1.0,
            "embed_dim": 32, "num_classes": 0}
