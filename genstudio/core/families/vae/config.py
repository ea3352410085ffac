"""The VAE's architecture fields, their defaults and the rules between them."""

from __future__ import annotations

from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig

LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass(frozen=True)
class VAEConfig(ModelConfig):
    arch: str = field(default="mlp", metadata={"choices": ("mlp", "conv")})
    latent_dim: int = field(default=16, metadata={"min": 1, "max": 65536})
    hidden: tuple[int, ...] = field(default=(512, 256), metadata={"min": 1, "max": 16384})   # MLP widths
    channels: int = field(default=32, metadata={"min": 1, "max": 4096})                      # conv width
    likelihood: str = field(default="bernoulli", metadata={"choices": LIKELIHOODS})
    beta: float = field(default=1.0, metadata={"min": 0.0, "max": 1e4})

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
