"""A walk through key latents: slerp (or lerp) from each key to the next, `frames_per_key` frames a
segment, and, as a loop, from the last key back to the first. Each segment's frames run from its
key up to, not including, the next key, which opens the next segment: no frame is repeated, and in
a loop the step from the last frame to the first is one ordinary step, so the video repeats
without a seam.

Conditional models: each key may have a class of its own (A's and B's for a walk from A to B); a
frame takes the class of the key it leaves up to half way along its segment and the next key's
after, the rule ExploreSession.label_at gives the explorer's A -> B path."""

from __future__ import annotations

import torch

from genstudio.core.latent import lerp, slerp


def walk_latents(keys: torch.Tensor, frames_per_key: int, loop: bool = True, spherical: bool = True) -> torch.Tensor:
    """keys (K, D), K >= 2 -> frames (K * frames_per_key, D) for a loop, ((K - 1) * frames_per_key + 1, D)
    otherwise (the last key closes an open walk)."""
    if keys.ndim != 2 or len(keys) < 2:
        raise ValueError(f"a walk needs at least two key latents, got {len(keys) if keys.ndim == 2 else 0}")
    if frames_per_key < 1:
        raise ValueError(f"a walk needs at least one frame per key, got {frames_per_key}")
    step = slerp if spherical else lerp
    ends = list(range(len(keys))) if loop else list(range(len(keys) - 1))
    frames = [step(keys[i], keys[(i + 1) % len(keys)], f / frames_per_key)
              for i in ends for f in range(frames_per_key)]
    if not loop:
        frames.append(keys[-1])
    return torch.stack(frames)


def walk_labels(key_labels: torch.Tensor, frames_per_key: int, loop: bool = True) -> torch.Tensor:
    """key_labels (K,) class indices -> (frames,) the class of each frame of `walk_latents` with the
    same keys, frames_per_key and loop."""
    count = len(key_labels)
    ends = list(range(count)) if loop else list(range(count - 1))
    labels = [key_labels[i] if f / frames_per_key < 0.5 else key_labels[(i + 1) % count]
              for i in ends for f in range(frames_per_key)]
    if not loop:
        labels.append(key_labels[-1])
    return torch.stack(labels).long()
