"""The horizontal stack and head of a GatedPixelCNN for one new pixel of a row, as a few matrix
products on cached column states.

A one-image draw is bound by per-operation overhead, not arithmetic: run as padded convolutions
over the columns a pixel sees, each pixel cost ~16 convolutions and 8 pads (about 2 ms). Each
horizontal layer at column c only needs its input at columns c - k//2 .. c, which earlier pixels of
the row already computed. So the row keeps every layer's input history (zero on the left, as the
convolutions pad) and a pixel runs one linear map per layer, its gate and its output map, then the
head: the same arithmetic as `GatedPixelCNN.horizontal_features` and `head` at that column.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genstudio.core.families.autoregressive.gated_pixelcnn import LEVELS, GatedPixelCNN


class RowCache:
    """One row being drawn. x_row (B, C, W) in [0, 1] (pixels left of the next one drawn), terms:
    the vertical stack's contributions at this row, each (B, ., 1, W).

    Column-major layouts, (B, columns, features), make a column window one contiguous (B, k * F)
    slice, and the weights are laid out to match once per row, so a pixel's work is addmm and
    elementwise ops only (no transposes, reshapes or copies)."""

    def __init__(self, net: GatedPixelCNN, x_row: torch.Tensor, terms: list[torch.Tensor],
                 labels: torch.Tensor | None):
        self.net = net
        batch, channels, width = x_row.shape
        self.first_width = net.h_first.kernel_size[1]
        # The row's scaled pixels with first_width zeros on the left: column c's window is [c, c + kw).
        self.pixels = F.pad(x_row * 2 - 1, (self.first_width, 0)).transpose(1, 2).contiguous()   # (B, kw0 + W, C)
        self.terms = [t[:, :, 0].transpose(1, 2).contiguous() for t in terms]                     # (B, W, .)
        biases = net._biases(labels, batch, x_row.device)
        # (out, in, 1, k) conv weights as (k * in, out) matrices for a (B, k * in) column-major window.
        self.first = (net.h_first.bias, _as_matrix(net.h_first.weight))
        self.layers = []
        for layer, (_, bias_h) in zip(net.stack, biases):
            kw = layer.h_conv.kernel_size[1]
            bias = layer.h_conv.bias if bias_h is None else layer.h_conv.bias + bias_h[:, :, 0, 0]   # (2F,) or (B, 2F)
            self.layers.append((kw, bias, _as_matrix(layer.h_conv.weight), layer.h_out.bias,
                                layer.h_out.weight[:, :, 0, 0].t()))
        self.history = [torch.zeros(batch, kw - 1 + width, net.width, device=x_row.device)
                        for kw, *_ in self.layers]                                    # each layer's input
        head = net.head_in.out_channels // channels
        self.head_in = (net.head_in.bias, net.head_in.weight[:, :, 0, 0].t())
        self.heads = []
        for c in range(channels):
            group, levels = slice(c * head, (c + 1) * head), slice(c * LEVELS, (c + 1) * LEVELS)
            previous = None
            if net.previous_channels is not None:
                previous = (net.previous_channels.weight * net.channel_mask)[group, :, 0, 0].t()      # (C, head)
            self.heads.append((group, previous, net.head_out.bias[levels], net.head_out.weight[levels, :, 0, 0].t()))

    def set_pixel(self, col: int, channel: int, value: torch.Tensor) -> None:
        """The drawn (or given) value (B,) in [0, 1] of a sub-pixel of this row."""
        self.pixels[:, self.first_width + col, channel] = value * 2 - 1

    def features(self, col: int) -> torch.Tensor:
        """The horizontal stack's output at `col` (B, F); every pixel left of it must be set."""
        h = self.terms[0][:, col]
        batch = len(h)
        if col > 0:             # column 0 gets the right shift's zero, bias included
            bias, weight = self.first
            h = h + torch.addmm(bias, self.pixels[:, col:col + self.first_width].reshape(batch, -1), weight)
        for (kw, bias, weight, out_bias, out_weight), history, term in zip(self.layers, self.history, self.terms[1:]):
            history[:, col + kw - 1] = h
            pre = torch.addmm(bias, history[:, col:col + kw].reshape(batch, -1), weight) + term[:, col]
            a, b = pre.chunk(2, dim=1)
            h = h + torch.addmm(out_bias, torch.tanh(a) * torch.sigmoid(b), out_weight)
        return h

    def logits(self, h: torch.Tensor, col: int, channel: int) -> torch.Tensor:
        """Logits (B, 256) of sub-pixel `channel` at `col`, given the features and the pixel's earlier channels."""
        group, previous, bias, weight = self.heads[channel]
        hidden = F.relu(torch.addmm(self.head_in[0], F.relu(h), self.head_in[1]))[:, group]          # (B, head)
        if previous is not None:
            hidden = hidden + self.pixels[:, self.first_width + col] @ previous
        return torch.addmm(bias, F.relu(hidden), weight)


def _as_matrix(weight: torch.Tensor) -> torch.Tensor:
    """A one-row conv weight (out, in, 1, k) as the (k * in, out) matrix of a column-major window."""
    return weight[:, :, 0].permute(2, 1, 0).reshape(-1, weight.shape[0])
