"""The latents of an exported image grid (rows x cols, filled row by row):
- "seeds": seeds seed, seed + 1, ... as `genstudio sample --seed` draws them (the grid as before);
- "directions": the current latent walked along the explorer's principal directions, a row per
  direction, the columns from -spread to +spread around where the latent is now (GANSpace's grids);
- "variations": the current latent first, then the current latent plus `strength` times fresh
  Gaussian noise from the seed (small steps around what is shown).
The last two start from the latent on screen, so the slider edits are in the grid.
"""

from __future__ import annotations

import torch

from genstudio.core.latent import seeded_latents

GRID_KINDS = ("seeds", "directions", "variations")
SPREAD = 3.0
STRENGTH = 0.3


def grid_latents(kind: str, rows: int, cols: int, seed: int, temperature: float, current: torch.Tensor,
                 directions: torch.Tensor | None = None, spread: float = SPREAD,
                 strength: float = STRENGTH) -> torch.Tensor:
    """(rows * cols, D) latents; `current` (D,), `directions` (k, D) unit vectors."""
    dim = current.numel()
    if kind == "seeds":
        return seeded_latents(rows * cols, (dim,), seed, temperature)
    if kind == "directions":
        if directions is None or len(directions) == 0:
            raise ValueError("a grid along principal directions needs them: choose Sliders: Principal directions first")
        rows = min(rows, len(directions))
        offsets = torch.linspace(-spread, spread, cols)                               # (cols,)
        steps = offsets[None, :, None] * directions[:rows, None, :].float()           # (rows, cols, D)
        return (current.reshape(1, 1, dim).float() + steps).reshape(rows * cols, dim)
    if kind == "variations":
        noise = seeded_latents(rows * cols, (dim,), seed, temperature)                # (n, D)
        out = current.reshape(1, dim).float() + strength * noise
        out[0] = current.reshape(dim)
        return out
    raise ValueError(f"unknown grid kind {kind!r}: choose one of {', '.join(GRID_KINDS)}")
