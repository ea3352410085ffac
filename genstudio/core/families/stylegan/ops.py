"""StyleGAN2's numerical building blocks in plain PyTorch (Karras et al. 2020, "Analyzing and
Improving the Image Quality of StyleGAN"), written from the paper and the documented behaviour of
NVIDIA's stylegan2-ada-pytorch so that a generator saved by that code decodes the same images here.

Written here rather than imported: NVIDIA's implementation reaches a user only as source code
inside its pickles (which genstudio never runs) and leans on custom CUDA kernels; what those
kernels compute is a handful of standard convolutions, written out below (docs/stylegan.md).

- Equalized learning rate: weights are stored at unit scale and multiplied by 1/sqrt(fan_in) (times
  a layer's learning-rate multiplier) when used, so Adam's step is the same size for every layer.
- `bias_act`: add the bias, apply the activation, multiply by its gain (sqrt(2) after leaky ReLU, so
  activations keep unit variance), then clamp (`conv_clamp`) when one is set.
- Up-sampling is 2x zero insertion followed by the [1, 3, 3, 1] FIR low-pass filter (outer product,
  normalised to sum 1, times 4 to keep the gain); as a stride-2 transposed convolution it is one op.
- Modulated convolution: each sample's style scales the weight's input channels; demodulation
  rescales each output channel of the modulated weight to unit norm. Computed "non-fused" (scale
  the input, one shared convolution, scale the output), which equals the per-sample grouped
  convolution and keeps one ordinary convolution for the whole batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)
FIR_TAPS = (1.0, 3.0, 3.0, 1.0)


def fir_filter() -> torch.Tensor:
    """The 2-D resampling filter (4, 4): outer([1, 3, 3, 1]) / 64, summing to 1."""
    taps = torch.tensor(FIR_TAPS)
    kernel = torch.outer(taps, taps)
    return kernel / kernel.sum()


def bias_act(x: torch.Tensor, bias: torch.Tensor | None, activation: str = "linear", gain: float | None = None,
             clamp: float | None = None) -> torch.Tensor:
    """x (N, C, ...) + bias (C,), then the activation times its gain (default: sqrt(2) for lrelu,
    1 for linear), then clamped to +-clamp."""
    if bias is not None:
        x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
    if activation == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
        gain = LRELU_GAIN if gain is None else gain
    if gain is not None and gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def kept(module: nn.Module, name: str, sources: tuple[torch.Tensor, ...], make):
    """`make()`, computed once and kept on `module` while every tensor of `sources` is the same
    storage at the same version: what a decode derives from the weights alone (scaled weights, a
    filter in the decode's dtype). An optimiser step or load_state_dict bumps a version, .to() or
    .half() moves the storage; either recomputes. For inference only: the result carries no graph.

    Written out rather than traced (TorchScript freezing took the demo's decode from 4.5 to 3.1 ms
    but bakes the decode options in): a one-image decode at 28-32 px is some 400 small ops, and a
    third of them only rescaled weights."""
    key = tuple((id(t), t.data_ptr(), t._version) for t in sources)
    store = module.__dict__.setdefault("_kept", {})
    held = store.get(name)
    if held is None or held[0] != key:
        held = store[name] = (key, make())
    return held[1]


def scaled_filter(kernel: torch.Tensor, gain: float, dtype: torch.dtype) -> torch.Tensor:
    """The filter `kernel` (4, 4) times `gain` in `dtype`, (1, 1, 4, 4): one channel of a depthwise weight."""
    return (kernel * gain).to(dtype)[None, None]


def _depthwise(kernel: torch.Tensor, gain: float, x: torch.Tensor, scaled: torch.Tensor | None = None) -> torch.Tensor:
    """The filter times `gain` (or `scaled`, that already made by `scaled_filter`) as a depthwise weight
    (C, 1, 4, 4) for x (N, C, H, W)."""
    scaled = scaled_filter(kernel, gain, x.dtype) if scaled is None else scaled
    return scaled.expand(x.shape[1], 1, *kernel.shape)


def upsample2d(x: torch.Tensor, kernel: torch.Tensor, scaled: torch.Tensor | None = None) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, 2H, 2W): zero insertion, then the FIR filter `kernel` (4, 4) times 4
    (`scaled`: that filter times 4 from `scaled_filter`, kept between decodes, see `kept`).

    Zero insertion, padding 2 before and 1 after, and a valid 4x4 convolution equal a stride-2
    transposed convolution with padding 1 when the kernel is symmetric, as [1, 3, 3, 1] is."""
    return F.conv_transpose2d(x, _depthwise(kernel, 4.0, x, scaled), stride=2, padding=1, groups=x.shape[1])


def fir_blur(x: torch.Tensor, kernel: torch.Tensor, pad: int, gain: float = 4.0, stride: int = 1,
             scaled: torch.Tensor | None = None) -> torch.Tensor:
    """Depthwise valid convolution of x (N, C, H, W), zero-padded by `pad`, with `kernel` (4, 4) x gain
    (4 after zero insertion, 1 before a stride-2 down-sampling; `scaled`: as in upsample2d)."""
    return F.conv2d(F.pad(x, [pad] * 4), _depthwise(kernel, gain, x, scaled), groups=x.shape[1], stride=stride)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool = True,
                     up: bool = False, kernel: torch.Tensor | None = None,
                     noise: torch.Tensor | None = None) -> torch.Tensor:
    """x (N, I, H, W), weight (O, I, k, k), styles (N, I) -> (N, O, H', W'), H' = 2H when `up`.

    Demodulation divides each sample's output channel o by sqrt(sum_{i,kh,kw} (w[o,i] s[i])^2 + 1e-8).
    `noise` ((N or 1, 1, H', W') or (H', W')) is added after demodulation. With `up`, the stride-2
    transposed convolution (weight unflipped, padding 0: 2H + 1 rows) is followed by padding 1 and
    the FIR filter, as StyleGAN2's resampling convolution does."""
    x = x * styles[:, :, None, None]
    if up:
        x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)                  # (N, O, 2H+1, 2W+1)
        x = fir_blur(x, kernel, pad=1)                                                # (N, O, 2H, 2W)
    else:
        x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
    if demodulate:
        # sum over (i, kh, kw) of (w s)^2 = s^2 @ (sum over kh, kw of w^2)^T: (N, O) without a (N, O, I, k, k) tensor
        scale = (styles.square() @ weight.square().sum((2, 3)).t() + 1e-8).rsqrt()
        x = x * scale[:, :, None, None]
    if noise is not None:
        x = x + noise
    return x


def fused_modulated_layer(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, bias: torch.Tensor, *,
                          demodulate: bool = True, up: bool = False, kernel: torch.Tensor | None = None,
                          noise: torch.Tensor | None = None, activation: str = "linear",
                          clamp: float | None = None, energy: torch.Tensor | None = None,
                          blur: torch.Tensor | None = None) -> torch.Tensor:
    """`modulated_conv2d` then `bias_act`, computed for inference as one grouped convolution with a
    weight per sample (N, O, I, k, k): the style, demodulation and the activation's gain (leaky ReLU
    is positively homogeneous, so lrelu(g y) = g lrelu(y)) are one (N, O, I) factor applied to the
    weight in one pass, the bias goes into the convolution, and the activation and clamp run in
    place. It spares four passes over the activations per layer, which dominate a one-image decode
    at 256 px and up; the same numbers as the unfused form up to rounding (tested).

    `energy` (O, I): the weight's squares summed over the kernel, and `blur`: the up-sampling filter
    times 4 (`scaled_filter`), when the caller keeps them between decodes (`kept`)."""
    n, channels_in, height, width = x.shape
    out, k = weight.shape[0], weight.shape[-1]
    gain = LRELU_GAIN if activation == "lrelu" else 1.0
    factor = styles[:, None, :]                                                        # (N, 1, I)
    if demodulate:
        # sum over (i, kh, kw) of (w s)^2 = s^2 @ energy^T, energy[o, i] = sum over kh, kw of w^2
        energy = weight.square().sum((2, 3)) if energy is None else energy
        scale = (styles.square() @ energy.t() + 1e-8).rsqrt()                          # (N, O)
        factor = factor * (scale * gain)[:, :, None]                                   # (N, O, I)
    elif gain != 1:
        factor = factor * gain
    w = weight[None] * factor[..., None, None]                                         # (N, O, I, k, k)
    b = bias * gain if gain != 1 else bias
    if len(x) > 1:      # len, not n: a trace (core/explore/traced_calls.py) reads shapes so without a warning
        b = b.repeat(n)                                                                # (N * O,)
    x = x.reshape(1, n * channels_in, height, width)
    if up:
        x = F.conv_transpose2d(x, w.transpose(1, 2).reshape(n * channels_in, out, k, k), stride=2, groups=n)
        x = fir_blur(x, kernel, pad=1, scaled=blur).add_(b[None, :, None, None])
    else:
        x = F.conv2d(x, w.reshape(n * out, channels_in, k, k), b, padding=k // 2, groups=n)
    x = x.reshape(n, out, *x.shape[2:])
    if noise is not None:
        x = x.add_(noise * gain)
    if activation == "lrelu":
        x = F.leaky_relu_(x, LRELU_SLOPE)
    return x.clamp_(-clamp, clamp) if clamp is not None else x


class FullyConnectedLayer(nn.Module):
    """y = act(x W^T g + b m) with g = lr_multiplier / sqrt(in_features), m = lr_multiplier.

    Parameters `weight` (out, in) and `bias` (out,): NVIDIA's names and scales."""

    def __init__(self, in_features: int, out_features: int, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            weight_t, bias = kept(self, "scaled", (self.weight, self.bias), self._scaled)
            if self.activation == "linear":
                return torch.addmm(bias, x, weight_t)
            return F.leaky_relu_(torch.addmm(bias, x, weight_t), LRELU_SLOPE)
        weight = self.weight * self.weight_gain
        bias = self.bias * self.bias_gain if self.bias_gain != 1 else self.bias
        if self.activation == "linear":
            return torch.addmm(bias, x, weight.t())
        return bias_act(x @ weight.t(), bias, self.activation)

    def _scaled(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The weight (in, out) and bias (out,) with their gains, and for leaky ReLU its sqrt(2)
        folded in (lrelu(g y) = g lrelu(y) for g > 0), for inference."""
        gain = LRELU_GAIN if self.activation == "lrelu" else 1.0
        return ((self.weight * (self.weight_gain * gain)).t().contiguous().detach(),
                (self.bias * (self.bias_gain * gain)).detach())


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """x (N, D) scaled so that each row's mean square is 1."""
    return x * (x.square().mean(1, keepdim=True) + eps).rsqrt()
