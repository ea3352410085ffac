"""The style-based GAN's discriminator: StyleGAN2's residual design (Karras et al. 2020, section 4)
with equalized learning rate, FIR-filtered down-sampling, a minibatch standard-deviation feature
and, for class-conditional models, a projection of the class embedding (Miyato and Koyama 2018).

Shapes: image (N, C, R, R) in [-1, 1] -> fromrgb (N, C(R), R, R) -> one residual block per
resolution down to 4x4 -> minibatch std (+1 channel) -> 3x3 conv -> fc -> score (N,).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core.families.stylegan.generator import block_channels, block_resolutions
from genstudio.core.families.stylegan.ops import FullyConnectedLayer, bias_act, fir_blur, fir_filter


class Conv2dLayer(nn.Module):
    """An equalized-lr convolution (weight x 1/sqrt(fan_in)); `down` blurs with the FIR filter, then strides 2."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, activation: str = "lrelu",
                 down: bool = False, bias: bool = True):
        super().__init__()
        self.activation, self.down, self.kernel = activation, down, kernel
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel * kernel)
        if down:
            self.register_buffer("resample_filter", fir_filter())

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        weight = self.weight * self.weight_gain
        if self.down:
            # 3x3: pad 2 and blur (H + 1), then a valid stride-2 conv (H / 2); 1x1: pad 1, blur at stride 2.
            if self.kernel == 1:
                x = F.conv2d(fir_blur(x, self.resample_filter, pad=1, gain=1.0, stride=2), weight)
            else:
                x = F.conv2d(fir_blur(x, self.resample_filter, pad=2, gain=1.0), weight, stride=2)
        else:
            x = F.conv2d(x, weight, padding=self.kernel // 2)
        act_gain = (math.sqrt(2) if self.activation == "lrelu" else 1.0) * gain
        return bias_act(x, self.bias, self.activation, gain=act_gain)


class DiscriminatorBlock(nn.Module):
    """(N, C(r), r, r) -> (N, C(r/2), r/2, r/2): two convs beside a 1x1 skip, summed times sqrt(1/2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = Conv2dLayer(in_channels, in_channels, 3)
        self.conv1 = Conv2dLayer(in_channels, out_channels, 3, down=True)
        self.skip = Conv2dLayer(in_channels, out_channels, 1, activation="linear", down=True, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = math.sqrt(0.5)
        return self.skip(x, gain=half) + self.conv1(self.conv0(x), gain=half)


class Discriminator(nn.Module):
    def __init__(self, resolution: int, img_channels: int, num_classes: int = 0, channel_base: int = 32768,
                 channel_max: int = 512, mbstd_group: int = 4):
        super().__init__()
        channels = lambda r: block_channels(r, channel_base, channel_max)      # noqa: E731
        self.resolutions = block_resolutions(resolution)[::-1][:-1]               # R, R/2, ..., 8
        self.fromrgb = Conv2dLayer(img_channels, channels(resolution), 1)
        self.blocks = nn.ModuleList(DiscriminatorBlock(channels(r), channels(r // 2)) for r in self.resolutions)
        c4 = channels(4)
        self.mbstd_group = mbstd_group
        self.conv = Conv2dLayer(c4 + 1, c4, 3)
        self.fc = FullyConnectedLayer(c4 * 16, c4, "lrelu")
        self.out = FullyConnectedLayer(c4, 1)
        self.embed = nn.Embedding(num_classes, c4) if num_classes else None

    def minibatch_std(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, 4, 4) -> (N, C + 1, 4, 4): the std over groups of samples, averaged, as one more
        channel, so D can see a batch with too little variety."""
        n, c, h, w = x.shape
        group = min(self.mbstd_group, n)
        while n % group:
            group -= 1
        y = x.view(group, -1, c, h, w)
        y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean((1, 2, 3))        # (N / group,)
        y = y.view(-1, 1, 1, 1).repeat(group, 1, h, w)
        return torch.cat([x, y], dim=1)

    def forward(self, img: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.fromrgb(img)
        for block in self.blocks:
            x = block(x)
        x = self.conv(self.minibatch_std(x))
        features = self.fc(x.flatten(1))                                                # (N, C4)
        score = self.out(features)[:, 0]
        if self.embed is not None and labels is not None:
            score = score + (self.embed(labels) * features).sum(1) / math.sqrt(features.shape[1])
        return score
