"""The style-based GAN's architecture fields, their defaults and the rules between them.

The generator is StyleGAN2's at any power-of-two resolution; data of another size (MNIST's 28 px)
is drawn at the next power of two and centre-cropped, and the discriminator sees real images padded
to that size with the background value (docs/stylegan.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize
from genstudio.core.families.gan.config import conv_discriminator_size
from genstudio.core.families.stylegan.generator import block_channels, block_resolutions, num_ws_for

CHANNELS = {"min": 1, "max": 1 << 20}


def canvas_size(data_shape: tuple[int, ...]) -> int:
    """The power-of-two side the generator draws at: 32 for 28 px data."""
    return max(4, 2 ** math.ceil(math.log2(max(data_shape[1:]))))


@dataclass(frozen=True)
class StyleGANConfig(ModelConfig):
    z_dim: int = field(default=512, metadata={"min": 1, "max": 4096})
    w_dim: int = field(default=512, metadata={"min": 1, "max": 4096})
    mapping_layers: int = field(default=8, metadata={"min": 1, "max": 16})
    mapping_lr: float = field(default=0.01, metadata={"min": 1e-6, "max": 1.0})     # mapping's learning-rate multiplier
    w_avg_beta: float = field(default=0.995, metadata={"min": 0.0, "max": 1.0})
    channel_base: int = field(default=32768, metadata=CHANNELS)                     # G channels at res r: base // r ...
    channel_max: int = field(default=512, metadata=CHANNELS)                        # ... at most this
    architecture: str = field(default="skip", metadata={"choices": ("skip", "orig")})
    use_noise: bool = True
    conv_clamp: float = field(default=0.0, metadata={"min": 0.0, "max": 1e6})      # 0: no clamp
    d_channel_base: int = field(default=32768, metadata=CHANNELS)
    d_channel_max: int = field(default=512, metadata=CHANNELS)
    mbstd_group: int = field(default=4, metadata={"min": 1, "max": 64})            # minibatch-std group size
    # "r1": NVIDIA's residual D, non-saturating loss, lazy R1; "hinge-sn": the hinge loss against a
    # spectral-norm conv D with d_channel_max maps in its first layer (model.py says when each).
    loss: str = field(default="r1", metadata={"choices": ("r1", "hinge-sn")})
    r1_gamma: float = field(default=0.1, metadata={"min": 0.0, "max": 1e4})
    r1_every: int = field(default=4, metadata={"min": 1, "max": 64})               # lazy R1 interval
    style_mixing: float = field(default=0.9, metadata={"min": 0.0, "max": 1.0})   # P(two w's per training image)
    ema_decay: float = field(default=0.999, metadata={"min": 0.0, "max": 0.999999})
    # False: the EMA generator alone (a converted NVIDIA snapshot), for exploring; no G or D to train.
    trainable: bool = True
    # The explorer's preview while a slider moves, for a generator too slow to follow the hand: the
    # decode setting `detail` (model.DETAIL_LEVELS; 1: an eighth of the resolution; each block of
    # StyleGAN2 costs about the same, channels halving as the side doubles, so this skips the top
    # three blocks: about 3x faster at 256 px).
    preview_detail: int = field(default=1, metadata={"min": 0, "max": 4, "absent": 1})     # absent: files before it

    @property
    def resolution(self) -> int:
        return canvas_size(self.data_shape)

    @property
    def num_ws(self) -> int:
        return num_ws_for(self.resolution)

    def size(self) -> ModelSize:
        res, channels = self.resolution, self.data_shape[0]
        g, acts = self.z_dim * self.w_dim + (self.mapping_layers - 1) * self.w_dim ** 2, 0
        g += self.num_classes * self.w_dim
        previous = 0
        for r in block_resolutions(res):
            c = block_channels(r, self.channel_base, self.channel_max)
            layers = [(c, c)] if not previous else [(previous, c), (c, c)]
            g += sum(i * o * 9 + (self.w_dim + 1) * i + o for i, o in layers)
            g += (self.w_dim + 1) * c + c * channels + channels
            acts += 3 * c * r * r * len(layers)
            previous = c
        return ModelSize(2 * g + self._discriminator_size() if self.trainable else g, acts)

    def _discriminator_size(self) -> int:
        res = self.resolution
        if self.loss == "hinge-sn":
            return conv_discriminator_size(self.data_shape[0], res, self.d_channel_max, self.num_classes,
                                           spectral_norm=True)
        d = 0
        for r in block_resolutions(res)[::-1]:
            c = block_channels(r, self.d_channel_base, self.d_channel_max)
            d += 2 * c * c * 9 + c * c
        return d + 16 * block_channels(4, self.d_channel_base, self.d_channel_max) ** 2

    def check(self) -> None:
        if self.is_points:
            raise ConfigError("the style-based GAN draws images, not 2-D points")
        if self.data_shape[0] not in (1, 3):
            raise ConfigError(f"the style-based GAN draws grey or RGB images, not {self.data_shape[0]} channels")
        if self.data_shape[1] != self.data_shape[2]:
            raise ConfigError(f"the style-based GAN draws square images, not {self.data_shape[1]}x{self.data_shape[2]}")
        if self.resolution > 1024:
            raise ConfigError(f"the style-based GAN draws at most 1024 px, not {self.data_shape[1]}")
        if self.trainable and self.loss == "hinge-sn" and not 16 <= self.resolution <= 64:
            raise ConfigError(f"the hinge-sn discriminator is for 16-64 px images, not {self.data_shape[1]} px: "
                              "train larger ones with loss r1")
