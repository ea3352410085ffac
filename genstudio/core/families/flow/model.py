"""RealNVP-style normalizing flow (Dinh, Sohl-Dickstein & Bengio 2017) for images and 2-D points.

A flow is an invertible map f: data -> z with a tractable Jacobian, trained by exact maximum
likelihood: log p(x) = log N(f(x); 0, I) + log|det df/dx|.

Images (data_shape (C, H, W)):
- Training data is 8-bit, so its density is dequantised: x <- (255 x + u) / 256, u ~ U(0, 1)^D,
  giving a density on [0, 1]^D whose bits/dim upper-bounds the discrete model's (docs/diagnostics.md).
- Pre-processing y = logit(a + (1 - 2a) x), a = 0.05, maps [0, 1] onto the real line without
  infinities at pure black/white; its log-det is part of the density on [0, 1]^D.
- Multi-scale architecture: every scale but the last runs affine couplings with checkerboard masks,
  squeezes (space-to-depth, (C, H, W) -> (4C, H/2, W/2)), runs couplings with channel masks, and
  factors out half the channels as latents. The last scale runs checkerboard couplings only.
  28x28 fits three scales: 28 -> 14 -> 7, and 7 is odd, so the last scale works at 7x7.
- Coupling nets are small pre-activation ResNets without BatchNorm/ActNorm, so train and eval modes
  compute the same function and a sample never depends on the rest of its batch. The last conv is
  zero-initialised so every coupling starts as the identity (finite, data-independent loss at init),
  and log-scales are s = scale * tanh(raw), bounded for stability.

Points (data_shape (2,)): a stack of affine couplings with alternating one-coordinate masks and MLP
nets, no dequantisation or logit; the toy mixtures are continuous.

The latent has the data's shape: the factored-out parts are reassembled by undoing the squeezes,
so `encode` returns (n, *data_shape) and `decode` takes that back. Everything log-det related is
summed in float32 (float64 for a float64 model).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from genstudio.core.families.base import GenerativeModel, adam
from genstudio.core.families.flow.config import FlowConfig
from genstudio.core.latent import apply_temperature

LOG_2PI = math.log(2.0 * math.pi)


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """Space-to-depth: (B, C, H, W) -> (B, 4C, H/2, W/2); channel c*4 + 2i + j holds pixel (2h+i, 2w+j)."""
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // 2, 2, w // 2, 2)
    return x.permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """Depth-to-space, the inverse of `squeeze`: (B, 4C, H, W) -> (B, C, 2H, 2W)."""
    b, c4, h, w = x.shape
    x = x.reshape(b, c4 // 4, 2, 2, h, w)
    return x.permute(0, 1, 4, 2, 5, 3).reshape(b, c4 // 4, 2 * h, 2 * w)


def sum_logdet(s: torch.Tensor) -> torch.Tensor:
    """Per-sample sum (B,) of elementwise log-scales, accumulated in at least float32."""
    return s.flatten(1).sum(1, dtype=acc_dtype(s))


def acc_dtype(t: torch.Tensor) -> torch.dtype:
    """float32, or float64 for a float64 model: never accumulate log-dets in half precision."""
    return torch.promote_types(t.dtype, torch.float32)


def checkerboard(h: int, w: int, parity: int) -> torch.Tensor:
    """(1, 1, H, W) float mask, 1 where (row + col) % 2 == parity: the pixels a coupling keeps."""
    rows = torch.arange(h).view(h, 1)
    cols = torch.arange(w).view(1, w)
    return ((rows + cols) % 2 == parity).float().view(1, 1, h, w)


class ResBlock(nn.Module):
    """Pre-activation residual block: h + conv(relu(conv(relu(h)))), shape-preserving (B, K, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.conv2(F.relu(self.conv1(F.relu(h))))


class ConvNet(nn.Module):
    """(B, in, H, W) -> (B, 2*out, H, W): log-scale and shift for an image coupling."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, num_blocks: int):
        super().__init__()
        self.inp = nn.Conv2d(in_channels, hidden, 3, padding=1)
        self.blocks = nn.Sequential(*(ResBlock(hidden) for _ in range(num_blocks)))
        self.out = nn.Conv2d(hidden, 2 * out_channels, 3, padding=1)
        # Zero output: s = t = 0, so the coupling is the identity at init (no NaN, stable start).
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.blocks(self.inp(x))))


class MLPNet(nn.Module):
    """(B, 2) -> (B, 4): log-scale and shift for a point coupling."""

    def __init__(self, dim: int, hidden: int, num_layers: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = dim
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(width, 2 * dim)
        nn.init.zeros_(self.out.weight)   # identity coupling at init, as for images
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


class MaskedCoupling(nn.Module):
    """Affine coupling with a fixed binary mask b (1 = kept): y = b*x + (1-b)*(x*exp(s) + t).

    s and t come from the net applied to b*x (plus, for images, the mask itself as an extra
    channel so the net knows which pixels it sees), and are zeroed where b = 1, so the Jacobian is
    triangular with diagonal exp(s): log-det sum(s). Used for checkerboard image masks and for points.
    """

    def __init__(self, mask: torch.Tensor, net: nn.Module, feed_mask: bool, scale_shape: tuple[int, ...]):
        super().__init__()
        self.register_buffer("mask", mask, persistent=False)   # (1, 1, H, W) or (1, D)
        self.net = net
        self.feed_mask = feed_mask
        # Learned magnitude of the tanh-bounded log-scale (RealNVP's "scale * tanh"):
        # (1, C, 1, 1) per channel for images, (1, D) for points.
        self.scale = nn.Parameter(torch.ones(scale_shape))

    def _scale_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inp = kept
        if self.feed_mask:
            inp = torch.cat([kept, self.mask.expand(kept.shape[0], 1, *kept.shape[2:])], dim=1)
        raw_s, t = self.net(inp).chunk(2, dim=1)             # each like x
        free = 1.0 - self.mask
        return self.scale * torch.tanh(raw_s) * free, t * free

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self._scale_shift(x * self.mask)
        return x * torch.exp(s) + t, sum_logdet(s)   # (B, ...), (B,)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        # y*b == x*b, so the net sees exactly what it saw in the forward pass.
        s, t = self._scale_shift(y * self.mask)
        return (y - t) * torch.exp(-s)


class ChannelCoupling(nn.Module):
    """Affine coupling on squeezed images: one half of the channels conditions the other.

    x (B, C, H, W) splits into halves (B, C/2, H, W); `parity` picks which half is kept.
    """

    def __init__(self, channels: int, hidden: int, num_blocks: int, parity: int):
        super().__init__()
        half = channels // 2
        self.parity = parity
        self.net = ConvNet(half, half, hidden, num_blocks)
        self.scale = nn.Parameter(torch.ones(1, half, 1, 1))

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x.chunk(2, dim=1)
        return (a, b) if self.parity == 0 else (b, a)        # (kept, changed)

    def _join(self, kept: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
        return torch.cat([kept, changed] if self.parity == 0 else [changed, kept], dim=1)

    def _scale_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(kept).chunk(2, dim=1)            # (B, C/2, H, W) each
        return self.scale * torch.tanh(raw_s), t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        kept, changed = self._split(x)
        s, t = self._scale_shift(kept)
        return self._join(kept, changed * torch.exp(s) + t), sum_logdet(s)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        kept, changed = self._split(y)
        s, t = self._scale_shift(kept)
        return self._join(kept, (changed - t) * torch.exp(-s))


class Scale(nn.Module):
    """One level of the multi-scale flow on (B, C, H, W).

    Non-final: checkerboard couplings at (C, H, W), squeeze, channel couplings at (4C, H/2, W/2);
    the caller then factors out half the channels. Final: checkerboard couplings only.
    """

    def __init__(self, channels: int, height: int, width: int, num_couplings: int, hidden: int,
                 num_blocks: int, final: bool):
        super().__init__()
        self.checker = nn.ModuleList(
            MaskedCoupling(checkerboard(height, width, i % 2),
                           ConvNet(channels + 1, channels, hidden, num_blocks), feed_mask=True,
                           scale_shape=(1, channels, 1, 1))
            for i in range(num_couplings))
        self.channel = nn.ModuleList(() if final else (
            ChannelCoupling(4 * channels, hidden, num_blocks, i % 2) for i in range(num_couplings)))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = h.new_zeros(h.shape[0], dtype=acc_dtype(h))
        for layer in self.checker:
            h, ld = layer(h)
            logdet = logdet + ld
        if len(self.channel):
            h = squeeze(h)                                   # (B, 4C, H/2, W/2)
            for layer in self.channel:
                h, ld = layer(h)
                logdet = logdet + ld
        return h, logdet

    def inverse(self, h: torch.Tensor) -> torch.Tensor:
        if len(self.channel):
            for layer in reversed(self.channel):
                h = layer.inverse(h)
            h = unsqueeze(h)                                 # (B, C, 2H, 2W)
        for layer in reversed(self.checker):
            h = layer.inverse(h)
        return h


class Flow(GenerativeModel):
    """RealNVP: exact encode/decode and exact log-likelihood. See the module docstring."""

    family = "flow"
    traceable_decode = True
    optimizer_names = ("flow",)

    def __init__(self, config: FlowConfig):
        super().__init__(config)
        self.grad_clip = 100.0   # replaced by make_optimizers from the preset's hyper-parameters
        if self.is_points:
            self._build_points()
        else:
            self._build_images()

    def _build_points(self) -> None:
        cfg: FlowConfig = self.config
        dim = self.data_shape[0]
        masks = [torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])]   # (1, 2), alternating
        self.couplings = nn.ModuleList(
            MaskedCoupling(masks[i % 2], MLPNet(dim, cfg.hidden_features, cfg.num_layers),
                           feed_mask=False, scale_shape=(1, dim))
            for i in range(cfg.num_couplings))

    def _build_images(self) -> None:
        cfg: FlowConfig = self.config
        c, h, w = self.data_shape
        self.alpha = cfg.logit_alpha
        scales = []
        for i in range(cfg.num_scales):
            final = i == cfg.num_scales - 1
            scales.append(Scale(c, h, w, cfg.couplings_per_scale, cfg.hidden_channels, cfg.num_blocks, final))
            c, h, w = 2 * c, h // 2, w // 2       # squeeze gives 4C, factoring out keeps half
        self.scales = nn.ModuleList(scales)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return self.data_shape

    # --- the bijection --------------------------------------------------------------------
    def _preprocess(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x in [0, 1]^D -> y = logit(a + (1 - 2a) x) and log|dy/dx| per sample (B,)."""
        p = self.alpha + (1.0 - 2.0 * self.alpha) * x
        y = torch.log(p) - torch.log1p(-p)
        # dy/dx = (1 - 2a) / (p (1 - p)); p is in [a, 1 - a], so the logs stay finite.
        return y, sum_logdet(math.log(1.0 - 2.0 * self.alpha) - torch.log(p) - torch.log1p(-p))

    def _postprocess(self, y: torch.Tensor) -> torch.Tensor:
        """Inverse of `_preprocess`, unclamped."""
        return (torch.sigmoid(y) - self.alpha) / (1.0 - 2.0 * self.alpha)

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """data (B, *data_shape) -> z (B, *data_shape) and log|det dz/dx| (B,) in >= float32."""
        if self.is_points:
            logdet = x.new_zeros(x.shape[0], dtype=acc_dtype(x))
            for layer in self.couplings:
                x, ld = layer(x)
                logdet = logdet + ld
            return x, logdet
        h, logdet = self._preprocess(x)                      # (B, C, H, W)
        factored = []
        for scale in self.scales[:-1]:
            h, ld = scale(h)                                 # (B, 4C, H/2, W/2)
            logdet = logdet + ld
            z_out, h = h.chunk(2, dim=1)                     # factor out (B, 2C, H/2, W/2)
            factored.append(z_out)
        h, ld = self.scales[-1](h)
        logdet = logdet + ld
        # Reassemble to the data's shape by undoing the squeezes (a permutation: no log-det).
        for z_out in reversed(factored):
            h = unsqueeze(torch.cat([z_out, h], dim=1))
        return h, logdet

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, *data_shape) -> data, unclamped; the exact inverse of `_forward`."""
        if self.is_points:
            for layer in reversed(self.couplings):
                z = layer.inverse(z)
            return z
        factored = []
        h = z
        for _ in self.scales[:-1]:
            z_out, h = squeeze(h).chunk(2, dim=1)            # (B, 2C, H/2, W/2) each
            factored.append(z_out)
        h = self.scales[-1].inverse(h)
        for scale, z_out in zip(reversed(self.scales[:-1]), reversed(factored)):
            h = scale.inverse(torch.cat([z_out, h], dim=1))
        return self._postprocess(h)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Exact forward transform of x as given (no dequantisation noise): (n, *data_shape)."""
        return self._forward(x)[0]

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Exact inverse: images clamped to [0, 1], or points. `labels` is ignored (unconditional)."""
        x = self._inverse(z)
        return x if self.is_points else x.clamp(0.0, 1.0)

    def sample_latents(self, n: int, generator: torch.Generator | None = None,
                       temperature: float = 1.0) -> torch.Tensor:
        """Standard-normal latents times `temperature` (< 1 trades diversity for cleaner samples)."""
        return apply_temperature(super().sample_latents(n, generator), temperature)

    # --- likelihood -----------------------------------------------------------------------
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density at x as given, nats per sample (B,); for images the density on [0, 1]^D."""
        z, logdet = self._forward(x)
        z = z.flatten(1).to(acc_dtype(z))
        return -0.5 * (z.pow(2).sum(1) + z.shape[1] * LOG_2PI) + logdet

    def dequantize(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """8-bit uniform dequantisation (255 x + u) / 256, u ~ U(0, 1): [0, 1] images -> [0, 1)."""
        device = generator.device if generator is not None else x.device
        u = torch.rand(x.shape, generator=generator, device=device).to(x.device, x.dtype)
        return (x * 255.0 + u) / 256.0

    def bits_per_dim(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-sample bits/dim (B,) of 8-bit images x in [0, 1]: dequantise (noise from `generator`),
        then NLL_nats / (D ln 2) + 8, the discrete 8-bit likelihood's bound (docs/diagnostics.md)."""
        if self.is_points:
            raise ValueError("bits/dim is for 8-bit images; use nats_per_dim for points")
        dims = math.prod(self.data_shape)
        return -self.log_prob(self.dequantize(x, generator)) / (dims * math.log(2.0)) + 8.0

    def nats_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample negative log-density in nats per dimension (B,), for points."""
        return -self.log_prob(x) / math.prod(self.data_shape)

    def _invertibility_error(self, x: torch.Tensor) -> torch.Tensor:
        return (self._inverse(self._forward(x)[0]) - x).abs().max()

    @torch.no_grad()
    def invertibility_error(self, x: torch.Tensor) -> float:
        """max |f^-1(f(x)) - x| over the batch (unclamped); should be near float precision."""
        return float(self._invertibility_error(x))

    # --- training -------------------------------------------------------------------------
    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        self.grad_clip = float(hyper.get("grad_clip", 100.0))
        return {"flow": adam(self.parameters(), hyper)}

    def train_step(self, x: torch.Tensor, y: torch.Tensor | None,
                   optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        self.train()
        opt = optimizers["flow"]
        if self.is_points:
            nll = self.nats_per_dim(x).mean()
            name = "nll"
        else:
            nll = self.bits_per_dim(x).mean()
            name = "bits_per_dim"
        opt.zero_grad(set_to_none=True)
        nll.backward()
        grad_norm = nn.utils.clip_grad_norm_(self.parameters(), self.grad_clip, foreach=True)
        opt.step()
        # The objective is the reported per-dimension NLL itself (scale-free across image sizes).
        nll = nll.detach()
        return {"loss": nll, name: nll, "grad_norm": grad_norm.detach()}

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Mean bits/dim (images; dequantisation noise from a fixed seed, so repeatable) or mean
        nats/dim as "nll" (points), and the batch's invertibility error."""
        was_training = self.training
        self.eval()
        try:
            if self.is_points:
                out = {"nll": self.nats_per_dim(x).mean()}
            else:
                gen = torch.Generator(device=x.device).manual_seed(0)
                out = {"bits_per_dim": self.bits_per_dim(x, gen).mean()}
            out["invertibility_error"] = self._invertibility_error(x)
        finally:
            self.train(was_training)
        return out
