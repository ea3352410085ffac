"""Calling a model's decode (and encode) with the family's decode settings: the one helper every
request, the layer view, the latent map and the command line use, so that a decode anywhere takes
the same options the same way.

Decode settings (a sampler's steps, eta, guidance; Family.decode_settings) are one dict, but the
methods take different subsets: DDIM inversion takes steps and guidance, not eta, and a VAE's
encode(x) takes none. `accepted` keeps what a method names in its signature.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from genstudio.core.errors import check_finite
from genstudio.core.explore.traced_calls import TracedCalls


def accepted(method, options: dict) -> dict:
    """The entries of `options` that `method` takes by name (all of them if it takes **kwargs)."""
    parameters = inspect.signature(method).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {key: value for key, value in options.items() if key in parameters}


def stop_option(model, should_stop) -> dict:
    """{"should_stop": should_stop} when the model's decode takes it (samplers, row-by-row models), else {}."""
    return accepted(model.decode, {"should_stop": should_stop})


@torch.no_grad()
def decode_numpy(model, latents: torch.Tensor, labels: torch.Tensor | None = None,
                 options: dict | None = None, traced: TracedCalls | None = None) -> np.ndarray:
    """(n, D) or (n, *latent_shape) latents -> (n, *data_shape) float32 numpy on the CPU, decoded
    with the family's decode `options` when there are any. NonFiniteOutput when any sample holds NaN
    or Inf: every image the app, `sample` and the exports draw comes through here, and such a sample
    would be drawn black. `traced`: the explorer's repeated decodes, run as a frozen graph once the
    same decode repeats (traced_calls.py)."""
    z = latents.reshape(len(latents), *model.latent_shape).to(model.device)
    options = options or {}
    if labels is not None:
        labels = labels.to(model.device)
    decode = lambda z, labels: model.decode(z, labels, **options)
    images = decode(z, labels) if traced is None else traced.run(model, "decode", options, decode, z, labels)
    images = images.float().cpu().numpy()
    check_finite(images)
    return images
