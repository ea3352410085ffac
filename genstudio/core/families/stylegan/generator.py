"""The StyleGAN2 generator: mapping network z -> w, then a synthesis network that draws an image from
one w per layer (W+), with NVIDIA's module and parameter names, so a stylegan2-ada-pytorch G_ema's
weights load unchanged (genstudio/core/families/stylegan/nvidia_pickle.py reads them; docs/stylegan.md).

Shapes: z (N, z_dim), w (N, w_dim), ws (N, num_ws, w_dim), image (N, C, R, R) roughly in [-1, 1].
The 'skip' architecture (the default): every block adds its toRGB output to the up-sampled image of
the blocks before it; 'orig' has only the last block's toRGB. A block's toRGB and the next block's
first conv share one w, so num_ws = 2 log2(R) - 2 (8 at 32 px, 18 at 1024 px).
"""

from __future__ import annotations

import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core.families.stylegan.ops import (
    FullyConnectedLayer,
    bias_act,
    fir_filter,
    fused_modulated_layer,
    kept,
    modulated_conv2d,
    normalize_2nd_moment,
    scaled_filter,
    upsample2d,
)


def block_channels(resolution: int, channel_base: int, channel_max: int) -> int:
    return min(channel_base // resolution, channel_max)


def block_resolutions(img_resolution: int) -> list[int]:
    return [2 ** i for i in range(2, int(math.log2(img_resolution)) + 1)]


def num_ws_for(img_resolution: int) -> int:
    return 2 * int(math.log2(img_resolution)) - 2


class MappingNetwork(nn.Module):
    """z (N, z_dim) [+ one-hot class c (N, c_dim)] -> ws (N, num_ws, w_dim), every row the same w.

    `w_avg` (w_dim,) tracks the mean w during training (`update_w_avg`); truncation pulls w towards it."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int, num_layers: int = 8,
                 embed_features: int | None = None, layer_features: int | None = None,
                 lr_multiplier: float = 0.01, w_avg_beta: float = 0.995):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        embed_features = (w_dim if embed_features is None else embed_features) if c_dim else 0
        layer_features = w_dim if layer_features is None else layer_features
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(features[i], features[i + 1], "lrelu", lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, update_w_avg: bool = False) -> torch.Tensor:
        x = normalize_2nd_moment(z.float())
        if self.c_dim:
            x = torch.cat([x, normalize_2nd_moment(self.embed(c.float()))], dim=1)
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
        return x[:, None, :].expand(-1, self.num_ws, -1)


class SynthesisLayer(nn.Module):
    """A modulated 3x3 convolution (2x up-sampling in a block's first layer), per-pixel noise scaled
    by a learned strength, bias, leaky ReLU times sqrt(2), clamp."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False,
                 use_noise: bool = True, conv_clamp: float | None = None):
        super().__init__()
        self.resolution, self.up, self.use_noise, self.conv_clamp = resolution, up, use_noise, conv_clamp
        self.register_buffer("resample_filter", fir_filter())
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        if use_noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random",
                generator: torch.Generator | None = None) -> torch.Tensor:
        styles = self.affine(w)                                                      # (N, in)
        noise = None
        if self.use_noise and noise_mode == "random":
            shape = (len(x), 1, self.resolution, self.resolution)
            noise = torch.randn(shape, generator=generator, device=x.device) * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        if not torch.is_grad_enabled():
            energy = kept(self, "energy", (self.weight,), lambda: self.weight.square().sum((2, 3)))    # (O, I)
            blur = kept(self, "blur", (self.resample_filter,),
                        lambda: scaled_filter(self.resample_filter, 4.0, self.weight.dtype)) if self.up else None
            return fused_modulated_layer(x, self.weight, styles, self.bias, up=self.up, kernel=self.resample_filter,
                                         noise=noise, activation="lrelu", clamp=self.conv_clamp, energy=energy,
                                         blur=blur)
        x = modulated_conv2d(x, self.weight, styles, up=self.up, kernel=self.resample_filter, noise=noise)
        return bias_act(x, self.bias, "lrelu", clamp=self.conv_clamp)


class ToRGBLayer(nn.Module):
    """A modulated 1x1 convolution to the image's channels, without demodulation."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, conv_clamp: float | None = None):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        if not torch.is_grad_enabled():
            return fused_modulated_layer(x, self.weight, styles, self.bias, demodulate=False, clamp=self.conv_clamp)
        x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        return bias_act(x, self.bias, "linear", clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution: the learned 4x4 constant (first block) or an up-sampling layer, a second
    layer, and a toRGB whose output joins the up-sampled image."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, architecture: str = "skip", use_noise: bool = True, conv_clamp: float | None = None):
        super().__init__()
        self.resolution, self.architecture = resolution, architecture
        self.register_buffer("resample_filter", fir_filter())
        self.num_conv = 1 if in_channels == 0 else 2
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True, use_noise=use_noise,
                                        conv_clamp=conv_clamp)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, use_noise=use_noise,
                                    conv_clamp=conv_clamp)
        self.num_torgb = 1 if is_last or architecture == "skip" else 0
        if self.num_torgb:
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)

    def layers(self) -> list[SynthesisLayer]:
        return [self.conv1] if self.num_conv == 1 else [self.conv0, self.conv1]

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor, noise_mode: str = "random",
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """ws (N, num_conv + num_torgb, w_dim)."""
        if self.num_conv == 1:
            x = self.const[None].expand(len(ws), -1, -1, -1)
        for i, layer in enumerate(self.layers()):
            x = layer(x, ws[:, i], noise_mode, generator)
        if img is not None:
            up = None if torch.is_grad_enabled() else kept(
                self, "up", (self.resample_filter,), lambda: scaled_filter(self.resample_filter, 4.0, img.dtype))
            img = upsample2d(img, self.resample_filter, scaled=up)
        if self.num_torgb:
            y = self.torgb(x, ws[:, self.num_conv])
            img = y if img is None else img + y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> image (N, img_channels, R, R): blocks b4, b8, ..., bR."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, architecture: str = "skip", use_noise: bool = True,
                 conv_clamp: float | None = None):
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.architecture = architecture
        self.block_resolutions = block_resolutions(img_resolution)
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = block_channels(res // 2, channel_base, channel_max) if res > 4 else 0
            block = SynthesisBlock(in_channels, block_channels(res, channel_base, channel_max), w_dim, res,
                                   img_channels, is_last=res == img_resolution, architecture=architecture,
                                   use_noise=use_noise, conv_clamp=conv_clamp)
            setattr(self, f"b{res}", block)
            self.num_ws += block.num_conv
        self.num_ws += block.num_torgb

    def blocks(self) -> Iterator[SynthesisBlock]:
        return (getattr(self, f"b{res}") for res in self.block_resolutions)

    def forward(self, ws: torch.Tensor, noise_mode: str = "random",
                generator: torch.Generator | None = None, max_resolution: int = 0) -> torch.Tensor:
        """With `max_resolution` (skip architecture), the blocks above it are left out and the image
        so far (the sum of the toRGB outputs up to there: the generator's own coarser picture) is
        enlarged to full size, bilinearly: a preview at about (max_resolution / R)^2 of the work."""
        x = img = None
        first = 0
        stop = max_resolution if max_resolution and self.architecture == "skip" else 0
        for block in self.blocks():
            if stop and block.resolution > stop and img is not None:
                return F.interpolate(img, size=(self.img_resolution,) * 2, mode="bilinear", align_corners=False)
            # Consecutive blocks share a w: a block's toRGB uses the index of the next block's first layer.
            x, img = block(x, img, ws[:, first:first + block.num_conv + block.num_torgb], noise_mode, generator)
            first += block.num_conv
        return img


class Generator(nn.Module):
    """z -> w (mapping) -> image (synthesis); `synthesis` registered first, as NVIDIA's is."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, img_resolution: int, img_channels: int,
                 mapping_kwargs: dict | None = None, synthesis_kwargs: dict | None = None):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **(synthesis_kwargs or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **(mapping_kwargs or {}))

    def truncate(self, ws: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
        """ws (N, num_ws, w_dim) pulled towards w_avg by psi (0: the mean, 1: unchanged), on the first
        `cutoff` layers only when given."""
        if psi == 1:
            return ws
        end = self.num_ws if cutoff is None else cutoff
        pulled = self.mapping.w_avg.lerp(ws[:, :end], psi)
        return torch.cat([pulled, ws[:, end:]], dim=1)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "random",
                generator: torch.Generator | None = None) -> torch.Tensor:
        ws = self.truncate(self.mapping(z, c), truncation_psi, truncation_cutoff)
        return self.synthesis(ws, noise_mode, generator)
