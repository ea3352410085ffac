"""The flow's architecture fields: multi-scale RealNVP for images, a coupling stack for 2-D points."""

from __future__ import annotations

from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig


@dataclass(frozen=True)
class FlowConfig(ModelConfig):
    # Images: scales of checkerboard (+ channel) couplings with small conv ResNets.
    num_scales: int = field(default=3, metadata={"min": 1, "max": 8})
    couplings_per_scale: int = field(default=3, metadata={"min": 1, "max": 64})
    hidden_channels: int = field(default=32, metadata={"min": 1, "max": 4096})
    num_blocks: int = field(default=1, metadata={"min": 0, "max": 64})
    logit_alpha: float = field(default=0.05, metadata={"min": 1e-6, "max": 0.499})
    # Points: alternating one-coordinate couplings with MLPs.
    num_couplings: int = field(default=8, metadata={"min": 1, "max": 256})
    hidden_features: int = field(default=128, metadata={"min": 1, "max": 16384})
    num_layers: int = field(default=2, metadata={"min": 1, "max": 64})

    def check(self) -> None:
        if self.num_classes:
            raise ConfigError("the flow is unconditional: num_classes must be 0")
        if self.is_points:
            if self.data_shape != (2,):
                raise ConfigError(f"point flows are 2-D, got data_shape {list(self.data_shape)}")
            return
        _, h, w = self.data_shape
        for i in range(self.num_scales - 1):
            if h % 2 or w % 2:
                raise ConfigError(f"{list(self.data_shape)} fits at most {i + 1} scales: {h}x{w} cannot be "
                                  f"squeezed (28x28 allows 3: 28 -> 14 -> 7)")
            h, w = h // 2, w // 2


IMAGE_FIELDS = ("num_scales", "couplings_per_scale", "hidden_channels", "num_blocks", "logit_alpha")
POINT_FIELDS = ("num_couplings", "hidden_features", "num_layers")


def v1_defaults(data_shape: tuple[int, ...]) -> dict:
    """Format-1 flow checkpoints stored every field of their kind (images or points); the other kind's
    fields, unused, are filled with these."""
    return {"num_scales": 3, "couplings_per_scale": 3, "hidden_channels": 32, "num_blocks": 1, "logit_alpha": 0.05,
            "num_couplings": 8, "hidden_features": 128, "num_layers": 2, "num_classes": 0}
