"""The VAE's architecture fields, their defaults and the rules between them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize, linear_size

LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass(frozen=True)
class VAEConfig(ModelConfig):
    arch: str = field(default="mlp", metadata={"choices": ("mlp", "conv")})
    latent_dim: int = field(default=16, metadata={"min": 1, "max": 65536})
    hidden: tuple[int, ...] = field(default=(512, 256), metadata={"min": 1, "max": 16384, "max_len": 32})   # MLP widths
    channels: int = field(default=32, metadata={"min": 1, "max": 4096})                      # conv width
    likelihood: str = field(default="bernoulli", metadata={"choices": LIKELIHOODS})
    beta: float = field(default=1.0, metadata={"min": 0.0, "max": 1e4})

    def size(self) -> ModelSize:
        data = math.prod(self.data_shape)
        z = self.latent_dim
        if self.arch == "mlp":
            hidden = list(self.hidden)
            params = linear_size([data, *hidden, 2 * z]) + linear_size([z, *hidden[::-1], data])
            acts = sum(hidden) + data
        else:
            channels, side = self.data_shape[0], self.data_shape[1]
            w, quarter = self.channels, (self.data_shape[1] // 4) ** 2
            params = (channels * w * 16 + w + w * 2 * w * 16 + 2 * w + linear_size([2 * w * quarter, 256, 2 * z])
                      + linear_size([z, 256, 2 * w * quarter]) + 2 * w * w * 16 + w + w * channels * 16 + channels)
            acts = 256 + 2 * w * quarter + w * 4 * quarter + channels * side * side
        return ModelSize(params + (self.data_shape[0] if self.likelihood == "gaussian" else 0), acts)

    def check(self) -> None:
        if self.num_classes:
            raise ConfigError("the VAE is unconditional: num_classes must be 0")
        if self.likelihood == "bernoulli" and self.is_points:
            raise ConfigError("a Bernoulli likelihood needs images in [0, 1]; use gaussian for points")
        if self.arch == "conv":
            if self.is_points:
                raise ConfigError("the conv VAE is for images; use arch 'mlp' for 2-D points")
            if self.data_shape[1] % 4:
                raise ConfigError(f"conv VAE needs a size divisible by 4 (got {self.data_shape[1]})")


def v1_defaults(data_shape: tuple[int, ...]) -> dict:
    """What format-1 checkpoints rebuilt for fields they did not store (the code's defaults then)."""
    return {"arch": "mlp", "hidden": [512, 256], "channels": 32, "beta": 1.0, "num_classes": 0,
            "likelihood": "gaussian" if len(data_shape) == 1 else "bernoulli"}
