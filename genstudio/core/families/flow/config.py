"""The flow's architecture fields: multi-scale RealNVP for images, a coupling stack for 2-D points."""

from __future__ import annotations

from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize, linear_size


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

    def size(self) -> ModelSize:
        if self.is_points:
            net = linear_size([2] + [self.hidden_features] * self.num_layers + [4]) + 2
            return ModelSize(self.num_couplings * net, self.num_couplings * self.num_layers * self.hidden_features)
        hidden, blocks = self.hidden_channels, self.num_blocks

        def conv_net(inp: int, out: int) -> int:     # 3x3 convs in -> hidden, blocks x 2 hidden, hidden -> 2 out
            return inp * hidden * 9 + hidden + blocks * 2 * (hidden * hidden * 9 + hidden) + hidden * 2 * out * 9 + 2 * out

        c, h, w = self.data_shape
        params = acts = 0
        for i in range(self.num_scales):
            final = i == self.num_scales - 1
            params += self.couplings_per_scale * (conv_net(c + 1, c) + c)
            acts += self.couplings_per_scale * (2 * blocks + 2) * hidden * h * w
            if not final:
                params += self.couplings_per_scale * (conv_net(2 * c, 2 * c) + 2 * c)
                acts += self.couplings_per_scale * (2 * blocks + 2) * hidden * (h // 2) * (w // 2)
            c, h, w = 2 * c, h // 2, w // 2
        return ModelSize(params, acts)

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
