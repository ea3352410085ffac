"""The in-memory data set every loader returns and the engine trains from.

Everything genstudio trains on fits in memory (MNIST is 7.8 MB as uint8), so a data set is one
tensor preloaded on the training device: a batch is an index into it, with no per-sample PIL work
or DataLoader workers in the hot loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from genstudio.core.data.pixels import to_unit_float


@dataclass
class InMemoryDataset:
    """Images (N, C, H, W) as uint8 0..255, or 2-D points (N, 2) as float32.

    `batch(idx)` hands models floats: images in [0, 1], points unchanged (see models/base.py).
    """

    name: str
    data: torch.Tensor
    labels: torch.Tensor | None = None          # (N,) int64, or None when unlabelled
    label_names: list[str] = field(default_factory=list)
    source: str = ""                              # where it came from (path or spec), for messages
    # The whole set a slice's rows were taken from (rows() sets it; a slice of a slice keeps the
    # uncut set), so a slice is diagnosed in its whole set's feature space (metrics/classifier.py);
    # to() leaves it where it is, as feature spaces are computed on the CPU.
    cut_from: InMemoryDataset | None = field(default=None, repr=False, compare=False)
    # Two image domains for translation models (data/domains.py): labels are the domain, 0: A, 1: B.
    two_domains: bool = False

    def __post_init__(self):
        if self.data.ndim not in (2, 4):
            raise ValueError(f"data must be (N, C, H, W) images or (N, 2) points, got {tuple(self.data.shape)}")
        if self.is_points and self.data.dtype != torch.float32:
            self.data = self.data.float()
        if not self.is_points and self.data.dtype != torch.uint8:
            raise ValueError("image data must be uint8 0..255")
        if self.labels is not None:
            self.labels = self.labels.long()
            if len(self.labels) != len(self.data):
                raise ValueError(f"{len(self.labels)} labels for {len(self.data)} samples")

    def __len__(self) -> int:
        return int(self.data.shape[0])

    @property
    def is_points(self) -> bool:
        return self.data.ndim == 2

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample: (C, H, W) or (2,)."""
        return tuple(self.data.shape[1:])

    @property
    def value_range(self) -> tuple[float, float]:
        """Range of what `batch` returns: (0, 1) for images; the bounding box's extremes for points."""
        if self.is_points:
            return float(self.data.min()), float(self.data.max())
        return 0.0, 1.0

    @property
    def num_classes(self) -> int:
        return len(self.label_names) if self.labels is not None else 0

    @property
    def device(self) -> torch.device:
        return self.data.device

    def to(self, device: torch.device | str) -> "InMemoryDataset":
        """Move the whole set to `device` once (the engine does this before training)."""
        device = torch.device(device)
        if self.data.device == device:
            return self
        labels = None if self.labels is None else self.labels.to(device)
        return InMemoryDataset(self.name, self.data.to(device), labels, list(self.label_names), self.source,
                               self.cut_from, self.two_domains)

    def rows(self, start: int, stop: int, step: int = 1) -> "InMemoryDataset":
        """Samples start, start + step, ... before stop as a data set of their own (a view: no copy of
        the pixels), cut from this set or the one this set was itself cut from."""
        labels = None if self.labels is None else self.labels[start:stop:step]
        return InMemoryDataset(self.name, self.data[start:stop:step], labels, list(self.label_names), self.source,
                               self if self.cut_from is None else self.cut_from, self.two_domains)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Float batch (B, *shape) and its labels (B,) or None, for indices on the data's device."""
        x = self.data[index]
        if not self.is_points:
            x = to_unit_float(x)
        y = None if self.labels is None else self.labels[index]
        return x, y

    def describe(self) -> dict:
        """Plain-JSON summary stored in checkpoints and printed by `genstudio info`."""
        return {
            "name": self.name,
            "source": self.source,
            "size": len(self),
            "shape": list(self.shape),
            "value_range": list(self.value_range),
            "label_names": list(self.label_names),
            "kind": "points" if self.is_points else "two domains" if self.two_domains else "images",
        }
