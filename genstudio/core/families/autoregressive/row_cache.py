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
    the vertical stack's contributions at this row, each (B, ., 1, W)."""

    def __init__(self, net: GatedPixelCNN, x_row: torch.Tensor, terms: list[torch.Tensor],
                 labels: torch.Tensor | None):
        self.net = net
        batch, channels, width = x_row.shape
        self.first_width = net.h_first.kernel_size[1]
        # The row's scaled pixels with first_width zeros on the left: column c's window is [c, c + kw).
        self.pixels = F.pad(x_row * 2 - 1, (self.first_width, 0))                    # (B, C, kw0 + W)
        self.terms = [t[:, :, 0] for t in terms]                                      # (B, ., W)
        self.h_bias = [None if h is None else h[:, :, 0, 0] for _, h in net._biases(labels, batch, x_row.device)]
        self.history = [torch.zeros(batch, net.width, layer.h_conv.kernel_size[1] - 1 + width, device=x_row.device)
                        for layer in net.stack]                                       # each layer's input

    def set_pixel(self, col: int, channel: int, value: torch.Tensor) -> None:
        """The drawn (or given) value (B,) in [0, 1] of a sub-pixel of this row."""
        self.pixels[:, channel, self.first_width + col] = value * 2 - 1

    def features(self, col: int) -> torch.Tensor:
        """The horizontal stack's output at `col` (B, F); every pixel left of it must be set."""
        net = self.net
        h = self.terms[0][:, :, col]
        if col > 0:             # column 0 gets the right shift's zero, bias included
            window = self.pixels[:, :, col:col + self.first_width].reshape(len(h), -1)
            h = h + F.linear(window, net.h_first.weight.reshape(net.width, -1), net.h_first.bias)
        for i, (layer, history) in enumerate(zip(net.stack, self.history)):
            kw = layer.h_conv.kernel_size[1]
            history[:, :, col + kw - 1] = h
            window = history[:, :, col:col + kw].reshape(len(h), -1)                 # (B, F * kw)
            pre = F.linear(window, layer.h_conv.weight.reshape(2 * net.width, -1), layer.h_conv.bias)
            pre = pre + self.terms[i + 1][:, :, col]
            if self.h_bias[i] is not None:
                pre = pre + self.h_bias[i]
            a, b = pre.chunk(2, dim=1)
            h = h + F.linear(torch.tanh(a) * torch.sigmoid(b), layer.h_out.weight[:, :, 0, 0], layer.h_out.bias)
        return h

    def logits(self, h: torch.Tensor, col: int, channel: int) -> torch.Tensor:
        """Logits (B, 256) of sub-pixel `channel` at `col`, given the features and the pixel's earlier channels."""
        net = self.net
        hidden = F.relu(F.linear(F.relu(h), net.head_in.weight[:, :, 0, 0], net.head_in.bias))    # (B, C * head)
        head = hidden.shape[1] // net.channels
        group = slice(channel * head, (channel + 1) * head)
        hidden = hidden[:, group]
        if net.previous_channels is not None:
            weight = (net.previous_channels.weight * net.channel_mask)[group, :, 0, 0]
            hidden = hidden + F.linear(self.pixels[:, :, self.first_width + col], weight)
        levels = slice(channel * LEVELS, (channel + 1) * LEVELS)
        return F.linear(F.relu(hidden), net.head_out.weight[levels, :, 0, 0], net.head_out.bias[levels])
