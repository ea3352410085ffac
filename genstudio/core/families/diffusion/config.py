"""The diffusion model's architecture and noise-schedule fields, their defaults and the rules between them."""

from __future__ import annotations

from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize
from genstudio.core.families.diffusion.mlp_denoiser import MLPDenoiser
from genstudio.core.families.diffusion.schedule import SPACINGS
from genstudio.core.families.diffusion.unet import UNet


@dataclass(frozen=True)
class DiffusionConfig(ModelConfig):
    arch: str = field(default="unet", metadata={"choices": ("unet", "mlp")})
    # U-Net: base width, width multiplier per resolution level, residual blocks per level,
    # self-attention at the lowest resolution.
    channels: int = field(default=16, metadata={"min": 2, "max": 1024})
    channel_mults: tuple[int, ...] = field(default=(1, 2, 2), metadata={"min": 1, "max": 16, "max_len": 6})
    res_blocks: int = field(default=1, metadata={"min": 1, "max": 8})
    attention: bool = True
    dropout: float = field(default=0.0, metadata={"min": 0.0, "max": 0.9})
    # MLP denoiser (2-D points): hidden widths and the width of the timestep embedding.
    hidden: tuple[int, ...] = field(default=(256, 256, 256), metadata={"min": 1, "max": 8192, "max_len": 16})
    embedding_dim: int = field(default=128, metadata={"min": 2, "max": 4096})
    # Forward process: T steps of a linear or cosine beta schedule.
    schedule: str = field(default="linear", metadata={"choices": ("linear", "cosine")})
    timesteps: int = field(default=1000, metadata={"min": 2, "max": 10_000})
    beta_start: float = field(default=1e-4, metadata={"min": 1e-8, "max": 0.5})
    beta_end: float = field(default=0.02, metadata={"min": 1e-8, "max": 0.999})
    ema_decay: float = field(default=0.999, metadata={"min": 0.0, "max": 0.99999})     # 0: sample with the raw weights
    label_dropout: float = field(default=0.1, metadata={"min": 0.0, "max": 1.0})       # conditional: P(no label)
    # Sampling defaults this model was tuned for (the app's and `genstudio sample`'s starting values).
    sample_steps: int = field(default=20, metadata={"min": 1, "max": 10_000})
    # While a slider moves. 3, not 2: two DDIM steps from x_T (t = 999, 499) leave a speckled blob that
    # does not look like the image it previews; three give the same digit, a little softer (the demo at
    # 28 px: about 21 ms a decode on one core, against 15 ms for two).
    preview_steps: int = field(default=3, metadata={"min": 1, "max": 10_000})
    guidance: float = field(default=0.0, metadata={"min": 0.0, "max": 50.0})
    spacing: str = field(default="trailing", metadata={"choices": SPACINGS})

    def size(self) -> ModelSize:
        if self.arch == "unet":
            params, acts = UNet.size(self.data_shape[0], self.channels, self.channel_mults, self.res_blocks,
                                     self.attention, self.num_classes, self.data_shape[1])
        else:
            params, acts = MLPDenoiser.size(self.data_shape[0], self.hidden, self.embedding_dim, self.num_classes)
        # The EMA network beside the trained one, and its update count (a buffer).
        extra = params + 1 if self.ema_decay > 0 else 0
        return ModelSize(params + extra, acts)

    def check(self) -> None:
        if self.beta_end < self.beta_start:
            raise ConfigError(f"beta_end ({self.beta_end}) must not be below beta_start ({self.beta_start})")
        if self.preview_steps > self.sample_steps:
            raise ConfigError(f"preview_steps ({self.preview_steps}) must not exceed sample_steps ({self.sample_steps})")
        if max(self.sample_steps, self.preview_steps) > self.timesteps:
            raise ConfigError(f"sample_steps must not exceed the {self.timesteps} training timesteps")
        if self.arch == "unet":
            if self.is_points:
                raise ConfigError("the U-Net is for images; use arch 'mlp' for 2-D points")
            if self.data_shape[1] != self.data_shape[2]:
                raise ConfigError(f"the U-Net needs square images, not {self.data_shape[1]} x {self.data_shape[2]}")
        elif not self.is_points:
            raise ConfigError("the MLP denoiser is for 2-D points; use arch 'unet' for images")
