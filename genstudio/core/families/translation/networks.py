"""The networks of CycleGAN and pix2pix, laid out as the public PyTorch code lays them out
(junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py: ResnetGenerator, UnetGenerator,
NLayerDiscriminator), so that a generator state dict saved by that code (`latest_net_G_A.pth`,
`latest_net_G.pth`) loads into these modules key for key: the same `nn.Sequential` named `model`,
the same layer order (which gives the keys' indices) and the same biases (a conv has one exactly
when the norm is InstanceNorm, which has no affine parameters).

Written here, not imported: that code is a training repository, not a package, and what is needed
is its module layout, which these classes reproduce (tests/core/test_translation_networks.py checks
them against a reference written in the test). Images go in and out in [-1, 1].

Shapes: a ResNet generator maps (n, in_c, H, W) -> (n, out_c, H, W) with H, W multiples of 4; a
U-Net with `downs` halvings needs multiples of 2**downs; a PatchGAN maps (n, C, H, W) to one score
per patch, (n, 1, H / 2**layers - 2, W / 2**layers - 2).
"""

from __future__ import annotations

import functools

import torch
from torch import nn


def norm_layer(norm: str):
    """The public code's norm layers: InstanceNorm without affine parameters or running statistics,
    or BatchNorm with both."""
    if norm == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)


class ResnetBlock(nn.Module):
    """x + conv_block(x): reflect pad, 3x3 conv, norm, ReLU, [dropout 0.5], reflect pad, 3x3 conv, norm.
    The conv_block's indices are the public ones: convs at 1 and 5 (6 with dropout)."""

    def __init__(self, dim: int, norm, dropout: bool, bias: bool):
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm(dim), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """Reflect-padded 7x7 conv, two stride-2 3x3 convs, `n_blocks` residual blocks at a quarter of
    the resolution, two stride-2 transposed convs, reflect-padded 7x7 conv, tanh (Johnson et al.
    2016, as CycleGAN uses it). model.{1, 4, 7} are the convs down, model.{10 + n_blocks, 13 + n_blocks}
    the transposed convs up and model.{17 + n_blocks} the last conv."""

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, norm: str = "instance",
                 dropout: bool = False, n_blocks: int = 9):
        super().__init__()
        make_norm = norm_layer(norm)
        bias = norm == "instance"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias),
                                   make_norm(ngf), nn.ReLU(True)]
        for i in range(2):
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1, bias=bias), make_norm(c * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, make_norm, dropout, bias) for _ in range(n_blocks)]
        for i in range(2):
            c = ngf * 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                       make_norm(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: down (LeakyReLU, 4x4 stride-2 conv, norm), the inner levels, up (ReLU,
    4x4 stride-2 transposed conv, norm), its input concatenated to its output but at the outermost
    level. The public indices: outermost [down conv, inner, ReLU, up conv, tanh], innermost [LReLU,
    down conv, ReLU, up conv, norm], the others [LReLU, down conv, norm, inner, ReLU, up conv, norm
    (, dropout)]."""

    def __init__(self, outer: int, inner: int, in_channels: int | None = None, submodule: nn.Module | None = None,
                 outermost: bool = False, innermost: bool = False, norm: str = "batch", dropout: bool = False):
        super().__init__()
        self.outermost = outermost
        make_norm = norm_layer(norm)
        bias = norm == "instance"
        in_channels = outer if in_channels is None else in_channels
        down_conv = nn.Conv2d(in_channels, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            layers = [down_conv, submodule, nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1),
                      nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True),
                      nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias), make_norm(outer)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down_conv, make_norm(inner), submodule, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=bias), make_norm(outer)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """The pix2pix U-Net with `downs` halvings (unet_256: 8, unet_128: 7): ngf * 8 maps at the
    `downs - 4` innermost levels (dropout in all but the innermost when asked), then 8, 4, 2, 1 times
    ngf outwards."""

    def __init__(self, in_channels: int, out_channels: int, downs: int = 8, ngf: int = 64, norm: str = "batch",
                 dropout: bool = False):
        super().__init__()
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, dropout=dropout)
        for mult in (4, 2, 1):
            block = UnetSkipConnectionBlock(ngf * mult, ngf * mult * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(out_channels, ngf, in_channels=in_channels, submodule=block,
                                             outermost=True, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """PatchGAN (Isola et al. 2017): `layers` 4x4 stride-2 convs from ndf maps, doubling to at most
    8 ndf, a 4x4 stride-1 conv and a 4x4 conv to one score per patch (LSGAN: no sigmoid)."""

    def __init__(self, in_channels: int, ndf: int = 64, layers: int = 3, norm: str = "instance"):
        super().__init__()
        make_norm = norm_layer(norm)
        bias = norm == "instance"
        seq: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, layers + 1):
            previous, mult = mult, min(2 ** n, 8)
            stride = 2 if n < layers else 1
            seq += [nn.Conv2d(ndf * previous, ndf * mult, 4, stride=stride, padding=1, bias=bias), make_norm(ndf * mult),
                    nn.LeakyReLU(0.2, True)]
        seq.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class AdaptiveInstanceNorm(nn.Module):
    """Instance norm whose scale and shift come from a style code (AdaIN, Huang & Belongie 2017, as
    MUNIT's decoder uses it): `set_style(gamma, beta)`, each (n, channels), before each forward."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.gamma: torch.Tensor | None = None
        self.beta: torch.Tensor | None = None

    def set_style(self, gamma: torch.Tensor, beta: torch.Tensor) -> None:
        self.gamma, self.beta = gamma, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normed = nn.functional.instance_norm(x)
        return normed * (1 + self.gamma[:, :, None, None]) + self.beta[:, :, None, None]


class StyledResnetGenerator(ResnetGenerator):
    """The ResNet generator with a style code (n, style_dim): the residual blocks' norms are AdaIN,
    whose scales and shifts an MLP makes from the code. A code tiled over the input channels would
    not do: the first conv's instance norm subtracts any constant channel's contribution."""

    def __init__(self, channels: int, style_dim: int, ngf: int, dropout: bool, n_blocks: int):
        super().__init__(channels, channels, ngf, "instance", dropout, n_blocks)
        for block in self.model:
            if isinstance(block, ResnetBlock):
                for i, layer in enumerate(block.conv_block):
                    if isinstance(layer, nn.InstanceNorm2d):
                        block.conv_block[i] = AdaptiveInstanceNorm(layer.num_features)
        self.adaptive = [m for m in self.modules() if isinstance(m, AdaptiveInstanceNorm)]
        wanted = 2 * sum(m.channels for m in self.adaptive)
        self.style_mlp = nn.Sequential(nn.Linear(style_dim, 128), nn.ReLU(True), nn.Linear(128, wanted))

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        if style is None:
            style = x.new_zeros(len(x), self.style_mlp[0].in_features)
        params = self.style_mlp(style)                      # (n, 2 * sum of AdaIN channels)
        for norm in self.adaptive:
            gamma, beta, params = params[:, :norm.channels], params[:, norm.channels:2 * norm.channels], \
                params[:, 2 * norm.channels:]
            norm.set_style(gamma, beta)
        return self.model(x)


class StyleEncoder(nn.Module):
    """An image's style code: (n, C, H, W) in [-1, 1] -> (n, style_dim). Two 4x4 stride-2 convs,
    global average pooling and a linear layer (BicycleGAN's encoder, much smaller)."""

    def __init__(self, in_channels: int, style_dim: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True),
                                 nn.Conv2d(width, width * 2, 4, 2, 1), nn.LeakyReLU(0.2, True),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width * 2, style_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_generator(kind: str, in_channels: int, out_channels: int, *, ngf: int, norm: str, dropout: bool,
                    n_blocks: int, unet_downs: int, style_dim: int = 0) -> nn.Module:
    if style_dim:
        return StyledResnetGenerator(in_channels, style_dim, ngf, dropout, n_blocks)
    if kind == "unet":
        return UnetGenerator(in_channels, out_channels, unet_downs, ngf, norm, dropout)
    return ResnetGenerator(in_channels, out_channels, ngf, norm, dropout, n_blocks)
