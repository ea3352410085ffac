"""The PixelCNN's architecture fields, their defaults and the rules between them."""

from __future__ import annotations

from dataclasses import dataclass, field

from genstudio.core.families.autoregressive.gated_pixelcnn import GatedPixelCNN
from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize


@dataclass(frozen=True)
class PixelCNNConfig(ModelConfig):
    width: int = field(default=64, metadata={"min": 2, "max": 1024})             # feature maps per stack
    layers: int = field(default=8, metadata={"min": 1, "max": 64})               # gated layers
    kernel: int = field(default=3, metadata={"min": 3, "max": 15})               # odd: k x k cone per layer
    first_kernel: int = field(default=7, metadata={"min": 3, "max": 15})         # odd: the first (mask A) layer
    head: int = field(default=128, metadata={"min": 2, "max": 4096})             # hidden units per channel's head
    label_dropout: float = field(default=0.1, metadata={"min": 0.0, "max": 1.0})  # conditional: P(no label)
    temperature: float = field(default=1.0, metadata={"min": 0.05, "max": 5.0})  # softmax temperature to sample at

    def size(self) -> ModelSize:
        params, acts = GatedPixelCNN.size(self.data_shape[0], self.width, self.layers, self.kernel, self.first_kernel,
                                          self.head, self.num_classes, self.data_shape[1])
        return ModelSize(params, acts)

    def check(self) -> None:
        if self.is_points:
            raise ConfigError("the PixelCNN models 8-bit images, not 2-D points")
        if self.data_shape[0] not in (1, 3):
            raise ConfigError(f"the PixelCNN takes grey or RGB images, not {self.data_shape[0]} channels")
        for name in ("kernel", "first_kernel"):
            if getattr(self, name) % 2 == 0:
                raise ConfigError(f"{name} must be odd, not {getattr(self, name)}")
