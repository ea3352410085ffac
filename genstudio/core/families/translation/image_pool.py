"""A history of generated images for the discriminators (Shrivastava et al. 2017, as CycleGAN uses it).

D is updated on a mix of the newest fakes and fakes from earlier steps, which keeps it from chasing
only the generator's latest move. Until the pool holds `size` images every fake goes in and comes
back; after that each fake comes back with probability 1/2, or else goes in in place of a stored
one, which comes back instead. Ten lines with the training's own random generator; no library
offers it. The pool lives in memory only: a resumed run starts it empty (as the public code does).
"""

from __future__ import annotations

import torch


class ImagePool:
    def __init__(self, size: int):
        self.size = size
        self.images: list[torch.Tensor] = []      # each (C, H, W), detached

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """(n, C, H, W) newest fakes -> (n, C, H, W) fakes for D: some of them, some from the pool."""
        if self.size == 0:
            return fakes.detach()
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif float(torch.rand(())) < 0.5:
                slot = int(torch.randint(self.size, ()))
                out.append(self.images[slot])
                self.images[slot] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)
