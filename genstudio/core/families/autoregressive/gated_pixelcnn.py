"""The gated PixelCNN network (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN
Decoders"), written so that its causality holds by construction and sampling can reuse work.

Two stacks of gated layers, y = tanh(a) * sigmoid(b):
- the vertical stack sees only the rows above: its first conv's output is shifted down one row,
  and every later conv is "down-shifted" (kernel (k//2 + 1, k), padded at the top), so V at row r
  depends on input rows < r and, layer by layer, on a widening cone of them;
- the horizontal stack sees the current row to the left: its first conv's output is shifted right
  one column, later convs have kernel (1, k//2 + 1) padded at the left, and each layer adds a 1x1
  projection of the vertical stack's pre-activation at the same pixel. Together they cover every
  pixel before (r, c) in raster order: no blind spot.
The horizontal stack has only one-row convs, so given the vertical stack's contributions a row's
outputs depend on that row alone: `vertical_terms` (run once per row when sampling, on a crop of
the rows above it), then `horizontal_features` (run per pixel on one row) and `head` equal `forward`.

Output: 256 logits per sub-pixel. RGB sub-pixels are ordered R, G, B inside a pixel: the head adds
a masked 1x1 projection of the same pixel's earlier channels (G sees R, B sees R and G).
Class conditioning is a learned bias per layer and stack; label index `num_classes` is "no label".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LEVELS = 256          # 8-bit sub-pixel values


def gate(x: torch.Tensor) -> torch.Tensor:
    """(B, 2F, ...) -> (B, F, ...): tanh of the first half times sigmoid of the second."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


def down_shift(x: torch.Tensor) -> torch.Tensor:
    """Row r gets row r - 1 (row 0 gets zeros): (B, C, H, W) -> same."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def right_shift(x: torch.Tensor) -> torch.Tensor:
    """Column c gets column c - 1 (column 0 gets zeros): (B, C, H, W) -> same."""
    return F.pad(x, (1, 0, 0, 0))[..., :-1]


class DownShiftedConv(nn.Conv2d):
    """Output row r sees input rows r - kh + 1 .. r, columns c - kw//2 .. c + kw//2 (same size out)."""

    def __init__(self, c_in: int, c_out: int, kh: int, kw: int):
        super().__init__(c_in, c_out, (kh, kw))
        self.padding_sides = (kw // 2, kw // 2, kh - 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.padding_sides))


class RightShiftedConv(nn.Conv2d):
    """Output column c sees input columns c - kw + 1 .. c of the same row (same size out)."""

    def __init__(self, c_in: int, c_out: int, kw: int):
        super().__init__(c_in, c_out, (1, kw))
        self.padding_sides = (kw - 1, 0, 0, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.padding_sides))


class GatedLayer(nn.Module):
    """One gated layer of both stacks: (v, h) (B, F, H, W) each -> (v', h'), h' residual."""

    def __init__(self, width: int, kernel: int):
        super().__init__()
        self.v_conv = DownShiftedConv(width, 2 * width, kernel // 2 + 1, kernel)
        self.v_to_h = nn.Conv2d(2 * width, 2 * width, 1)
        self.h_conv = RightShiftedConv(width, 2 * width, kernel // 2 + 1)
        self.h_out = nn.Conv2d(width, width, 1)

    def vertical(self, v: torch.Tensor, bias: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The next vertical state (B, F, H, W) and what this layer hands the horizontal stack (B, 2F, H, W)."""
        pre = self.v_conv(v)
        if bias is not None:
            pre = pre + bias
        return gate(pre), self.v_to_h(pre)

    def horizontal(self, h: torch.Tensor, from_v: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        pre = self.h_conv(h) + from_v
        if bias is not None:
            pre = pre + bias
        return h + self.h_out(gate(pre))

    @staticmethod
    def size(width: int, kernel: int) -> int:
        kh = kw = kernel // 2 + 1
        return (2 * width * width * kh * kernel + 2 * width          # v_conv
                + 4 * width * width + 2 * width                      # v_to_h
                + 2 * width * width * kw + 2 * width                 # h_conv
                + width * width + width)                             # h_out


class GatedPixelCNN(nn.Module):
    """x in [0, 1] (B, C, H, W) (8-bit values), labels (B,) or None -> logits (B, C, 256, H, W),
    where the logits at sub-pixel (c, r, col) depend only on sub-pixels before it."""

    def __init__(self, channels: int, width: int, layers: int, kernel: int, first_kernel: int,
                 head: int, num_classes: int = 0):
        super().__init__()
        self.channels, self.width, self.layers = channels, width, layers
        self.v_first = DownShiftedConv(channels, width, first_kernel // 2, first_kernel)
        self.h_first = RightShiftedConv(channels, width, first_kernel // 2)
        self.v_first_to_h = nn.Conv2d(width, width, 1)
        self.stack = nn.ModuleList(GatedLayer(width, kernel) for _ in range(layers))
        # Per layer: 2F for the vertical pre-activation and 2F for the horizontal one.
        self.label_bias = nn.Embedding(num_classes + 1, layers * 4 * width) if num_classes else None
        self.num_classes = num_classes
        self.head_in = nn.Conv2d(width, channels * head, 1)
        self.head_out = nn.Conv2d(channels * head, channels * LEVELS, 1, groups=channels)
        if channels > 1:
            # The same pixel's earlier sub-pixels into each later channel's head group (R -> G, R G -> B).
            self.previous_channels = nn.Conv2d(channels, channels * head, 1, bias=False)
            mask = torch.zeros(channels * head, channels, 1, 1)
            for c in range(channels):
                mask[c * head:(c + 1) * head, :c] = 1
            self.register_buffer("channel_mask", mask, persistent=False)
        else:
            self.previous_channels = None
        # Rows above row r that the vertical stack at row r can see (the sampler crops to these).
        self.rows_seen = first_kernel // 2 + layers * (kernel // 2)

    def _biases(self, labels: torch.Tensor | None, batch: int, device) -> list[tuple]:
        """Per layer (vertical bias, horizontal bias), each (B, 2F, 1, 1), or None for unconditional models."""
        if self.label_bias is None:
            return [(None, None)] * self.layers
        if labels is None:
            labels = torch.full((batch,), self.num_classes, dtype=torch.long, device=device)
        table = self.label_bias(labels.long()).view(-1, self.layers, 2, 2 * self.width, 1, 1)
        return [(table[:, i, 0], table[:, i, 1]) for i in range(self.layers)]

    @staticmethod
    def _scaled(x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1

    def vertical_terms(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> list[torch.Tensor]:
        """What the vertical stack hands the horizontal one: [first (B, F, H, W)] + one (B, 2F, H, W)
        per layer. Row r of each depends only on rows < r of x."""
        biases = self._biases(labels, len(x), x.device)
        v = down_shift(self.v_first(self._scaled(x)))
        terms = [self.v_first_to_h(v)]
        for layer, (bias_v, _) in zip(self.stack, biases):
            v, to_h = layer.vertical(v, bias_v)
            terms.append(to_h)
        return terms

    def horizontal_features(self, x: torch.Tensor, terms: list[torch.Tensor],
                            labels: torch.Tensor | None = None) -> torch.Tensor:
        """The horizontal stack's output (B, F, H', W) from x (B, C, H', W) and the matching rows of
        `terms`: every conv here spans one row, so rows are independent (H' = 1 when sampling)."""
        biases = self._biases(labels, len(x), x.device)
        h = right_shift(self.h_first(self._scaled(x))) + terms[0]
        for layer, term, (_, bias_h) in zip(self.stack, terms[1:], biases):
            h = layer.horizontal(h, term, bias_h)
        return h

    def head(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, C, 256, H', W) from the horizontal features and x (for the channel order)."""
        hidden = F.relu(self.head_in(F.relu(h)))
        if self.previous_channels is not None:
            hidden = hidden + F.conv2d(self._scaled(x), self.previous_channels.weight * self.channel_mask)
        logits = self.head_out(F.relu(hidden))                               # (B, C * 256, H', W)
        b, _, height, width = logits.shape
        return logits.view(b, self.channels, LEVELS, height, width)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.horizontal_features(x, self.vertical_terms(x, labels), labels), x)

    @staticmethod
    def size(channels: int, width: int, layers: int, kernel: int, first_kernel: int, head: int,
             num_classes: int, side: int) -> tuple[int, int]:
        """(parameters, activations per sample) in closed form."""
        first = first_kernel // 2
        params = (channels * width * first * first_kernel + width          # v_first
                  + channels * width * first + width                       # h_first
                  + width * width + width                                  # v_first_to_h
                  + layers * GatedLayer.size(width, kernel)
                  + ((num_classes + 1) * layers * 4 * width if num_classes else 0)
                  + width * channels * head + channels * head              # head_in
                  + head * LEVELS * channels + channels * LEVELS           # head_out (grouped)
                  + (channels * head * channels if channels > 1 else 0))   # previous_channels
        acts = side * side * (3 * width + layers * 10 * width + 2 * channels * head + channels * LEVELS)
        return params, acts
