"""The autoregressive family's model: a gated PixelCNN over 8-bit pixels with exact likelihood.

p(x) = prod_i p(x_i | x_<i) in raster order (R, G, B inside a pixel), each factor a 256-way
softmax. Training minimises the exact negative log-likelihood, reported in bits per dimension:
NLL_nats / (C H W ln 2). This is the discrete likelihood of the 8-bit values themselves; a flow's
dequantised bits/dim upper-bounds the same quantity, so the two are comparable (lower is better).

The latent is a standard-normal z shaped like the image: sub-pixel i is drawn by inverse CDF at
u_i = Phi(z_i) (sampler.py), so decoding is deterministic and a seed names a sample. Class-
conditional models are trained with labels dropped to "no label" at `label_dropout`, so they also
sample without a class.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from genstudio.core.families.autoregressive import sampler
from genstudio.core.families.autoregressive.config import PixelCNNConfig
from genstudio.core.families.autoregressive.gated_pixelcnn import LEVELS, GatedPixelCNN
from genstudio.core.families.base import GenerativeModel, adam


def to_levels(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] images -> their 8-bit values 0..255 (long), the same shape."""
    return (x.clamp(0, 1) * (LEVELS - 1)).round().long()


class PixelCNN(GenerativeModel):
    family = "autoregressive"
    optimizer_names = ("pixelcnn",)
    smooth_latent = False        # the latent only seeds the per-pixel categorical draws

    def __init__(self, config: PixelCNNConfig):
        super().__init__(config)
        cfg: PixelCNNConfig = self.config
        self.net = GatedPixelCNN(self.data_shape[0], cfg.width, cfg.layers, cfg.kernel, cfg.first_kernel, cfg.head,
                                 cfg.num_classes)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return self.data_shape

    def _labels(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if labels is None or not self.num_classes:
            return None
        return labels.reshape(-1).to(self.device).long().expand(n) if labels.numel() == 1 else labels.to(self.device).long()

    # --- likelihood ---------------------------------------------------------------------------------
    def pixel_nll(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """-log p(x_i | x_<i) in nats per pixel (B, H, W), the channels of a pixel summed: where the
        model is surprised. x in [0, 1] (B, C, H, W), taken as its 8-bit values."""
        x = x.to(self.device, torch.float32)
        levels = to_levels(x)
        quantised = levels.float() / (LEVELS - 1)
        logits = self.net(quantised, self._labels(labels, len(x)))                  # (B, C, 256, H, W)
        nll = F.cross_entropy(logits.transpose(1, 2), levels, reduction="none")   # (B, C, H, W)
        return nll.sum(1)

    def log_prob(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Exact log-probability of the 8-bit image, nats per image (B,): the sum of the per-pixel terms."""
        return -self.pixel_nll(x, labels).flatten(1).sum(1)

    def bits_per_dim(self, x: torch.Tensor, generator: torch.Generator | None = None,
                     labels: torch.Tensor | None = None) -> torch.Tensor:
        """Per-image bits/dim (B,). A discrete likelihood needs no dequantisation noise, so `generator`
        (which a flow uses for it) changes nothing here."""
        return -self.log_prob(x, labels) / (math.prod(self.data_shape) * math.log(2.0))

    # --- sampling -----------------------------------------------------------------------------------
    def _temperature(self, value: float | None) -> float:
        value = self.config.temperature if value is None else float(value)
        if not value > 0:
            raise ValueError(f"softmax temperature must be positive, not {value}")
        return value

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None, softmax_temperature: float | None = None,
               on_row: sampler.RowDone | None = None, should_stop=None) -> torch.Tensor:
        """Latents (n, *data_shape) -> images (n, *data_shape) in [0, 1], drawn pixel by pixel.
        on_row(r, x) sees the image after each row (x (n, C, H, W), rows > r still empty)."""
        temperature = self._temperature(softmax_temperature)
        z = z.reshape(len(z), *self.data_shape).to(self.device, torch.float32)
        return sampler.sample(self.net, z, self._labels(labels, len(z)), temperature, on_row=on_row,
                              should_stop=should_stop)

    @torch.no_grad()
    def draw_rows(self, z: torch.Tensor, x: torch.Tensor, first: int, last: int, labels: torch.Tensor | None = None,
                  softmax_temperature: float | None = None) -> torch.Tensor:
        """Rows first..last-1 of the images that latents z (n, *data_shape) decode to, drawn onto x
        (n, *data_shape; its rows above `first` are the ones already drawn): a live grid fills in a few
        rows at a time, each by the weights of its moment."""
        z = z.reshape(len(z), *self.data_shape).to(self.device, torch.float32)
        return sampler.sample(self.net, z, self._labels(labels, len(z)), self._temperature(softmax_temperature),
                              start=x.to(self.device), rows=range(first, last))

    @torch.no_grad()
    def complete(self, x: torch.Tensor, known: torch.Tensor, n: int, seed: int = 0,
                 labels: torch.Tensor | None = None, softmax_temperature: float | None = None,
                 on_row: sampler.RowDone | None = None, should_stop=None) -> torch.Tensor:
        """n completions (n, *data_shape) of one image x (*data_shape): pixels where known (H, W) is
        true keep x's 8-bit values; the others are drawn in raster order given everything before them."""
        temperature = self._temperature(softmax_temperature)
        start = (to_levels(x.reshape(1, *self.data_shape).to(self.device)).float() / (LEVELS - 1)).expand(n, -1, -1, -1)
        generator = torch.Generator().manual_seed(int(seed))
        z = torch.randn((n, *self.data_shape), generator=generator).to(self.device)
        return sampler.sample(self.net, z, self._labels(labels, n), temperature, start=start, known=known.bool(),
                              on_row=on_row, should_stop=should_stop)

    # --- training -----------------------------------------------------------------------------------
    def _bits(self, x: torch.Tensor, y: torch.Tensor | None, drop_labels: bool) -> torch.Tensor:
        labels = None
        if self.num_classes and y is not None:
            labels = y.long()
            if drop_labels and self.config.label_dropout > 0:
                dropped = torch.rand(len(labels), device=labels.device) < self.config.label_dropout
                labels = torch.where(dropped, torch.full_like(labels, self.num_classes), labels)
        return self.bits_per_dim(x, labels=labels)

    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        return {"pixelcnn": adam(self.net.parameters(), hyper)}

    def train_step(self, x, y, optimizers):
        bits = self._bits(x, y, drop_labels=True).mean()
        opt = optimizers["pixelcnn"]
        opt.zero_grad(set_to_none=True)
        bits.backward()
        opt.step()
        bits = bits.detach()
        return {"loss": bits, "bits_per_dim": bits}

    @torch.no_grad()
    def evaluate(self, x, y=None):
        """Held-out bits/dim (with the labels for a conditional model)."""
        was_training = self.training
        self.eval()
        try:
            return {"bits_per_dim": self._bits(x, y, drop_labels=False).mean()}
        finally:
            self.train(was_training)
