"""The explorer's repeated decodes of one shape run as frozen TorchScript graphs.

A slider drag decodes the same function of one latent (1, D) hundreds of times. On a CPU, the small
demo models spend much of such a decode in Python's dispatch of their 100-950 small ops rather than
in arithmetic: the RealNVP flow is 153 MFLOP a decode, about 2 ms at one core's peak here, and took
11.4 ms. `torch.jit.trace` + `torch.jit.freeze` (part of torch) record the ops once and run them
without Python. Measured on 2 shared CPU cores, one thread, eager and traced alternated in blocks
(medians): flow 11.4 -> 8.6 ms, StyleGAN demo 7.1 -> 5.2 ms, conv GAN 3.0 -> 1.7 ms, VAE 0.35 ->
0.31 ms. Tracing costs once per model and shape: 0.02 s (GAN) to 0.34 s (StyleGAN) on that day.
`torch.compile` would need a C++ compiler at run time and compiles for tens of seconds, so it is not
used. torch 2.14 marks the tracer deprecated (a FutureWarning, silenced here); should a later torch
drop it, the trace fails and every call stays eager, as it was.

Written here rather than taken from a library because what is traced, and when, is the app's own
decision:
- only a model that says its decode is a fixed graph of its inputs (`traceable_decode`), in eval mode,
  with decode settings that are plain numbers;
- only where the caller asks (the explorer, for a held slider's images: the image the hand lets go
  on is decoded eagerly, as every other view decodes it), and once the same call (function, shapes,
  settings, weights) has run eagerly `TRACE_AFTER` times;
- only a call that took under `TRACE_BELOW_MS` eagerly: a large decoder's time is arithmetic, which a
  graph does not shorten, while its trace would take seconds;
- a trace that warns (a Python branch on a tensor's value, which a graph would freeze), fails, or
  differs from the eager result by more than `TOLERANCE` is never used: that call stays eager.

The graphs are of the weights as they were traced: when a parameter or buffer changes in place (a
training step), all are dropped and the calls start eager again. The model's tensors are gathered
once (walking its modules took 0.3 ms a call here, a fifth of a traced GAN decode) and their
versions summed at each call; the explorer replaces a model whole, never a parameter of it.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import Counter
from typing import Callable

import torch
from torch import nn

log = logging.getLogger(__name__)

TRACE_AFTER = 2          # eager calls of one key before it is traced
TRACE_BELOW_MS = 50.0    # an eager call slower than this is left eager
TOLERANCE = 1e-4         # largest |graph - eager|, relative to the eager output's largest magnitude
MAX_GRAPHS = 16          # graphs kept per model (one per shape and settings a person used)
UNTRACEABLE = object()   # the graph of a key that must stay eager
# The tracer's warnings about reading a shape (not a value): harmless when the key holds the shapes.
SHAPE_READS = ("Using len to get tensor shape", "Iterating over a tensor")


class _Call(nn.Module):
    """`fn(*tensors)` as a module that owns `model`, so the trace sees its weights as the module's."""

    def __init__(self, model: nn.Module, fn: Callable):
        super().__init__()
        self.model = model
        self.fn = fn

    def forward(self, *tensors):
        return self.fn(*tensors)


def _plain(options: dict) -> tuple | None:
    """`options` as a hashable key when every value is a plain number, string or flag; else None."""
    if any(not isinstance(v, (bool, int, float, str)) for v in options.values()):
        return None
    return tuple(sorted(options.items()))


def _outputs(result) -> tuple[torch.Tensor, ...]:
    return result if isinstance(result, tuple) else (result,)


def _close(graph_out, eager_out) -> bool:
    graph_out, eager_out = _outputs(graph_out), _outputs(eager_out)
    if len(graph_out) != len(eager_out):
        return False
    for g, e in zip(graph_out, eager_out):
        if not isinstance(g, torch.Tensor) or g.shape != e.shape or g.dtype != e.dtype:
            return False
        scale = 1.0 + float(e.abs().max()) if e.numel() else 1.0
        if e.numel() and float((g - e).abs().max()) > TOLERANCE * scale:
            return False
    return True


class TracedCalls:
    """Per open model (the renderer's cache): `run(model, name, options, fn, *tensors)` returns
    fn(*tensors), from a frozen graph once the call has repeated (see the module's docstring)."""

    def __init__(self):
        self._graphs: dict = {}
        # A key whose function returns a tuple: which of its outputs are tensors (a graph returns only
        # those; the None outputs, e.g. no round trip, are put back in their places).
        self._outputs: dict = {}
        self._eager_calls: Counter = Counter()
        self._version: int | None = None        # the weights' version the kept graphs and counts are of
        self._weights: tuple[nn.Module, tuple[torch.Tensor, ...]] | None = None   # a model, its parameters and buffers

    def _weights_version(self, model: nn.Module) -> int:
        """Grows whenever a parameter or buffer of `model` is changed in place."""
        if self._weights is None or self._weights[0] is not model:
            self._weights = (model, (*model.parameters(), *model.buffers()))
        return sum(t._version for t in self._weights[1])

    def run(self, model: nn.Module, name: str, options: dict, fn: Callable, *inputs: torch.Tensor | None):
        """fn(*inputs): a pure function of `inputs` (tensors, or None for one left out: no labels, no
        style) and `model`'s weights, named `name`, whose Python does what `options` say; `fn` must
        take no other input that changes between calls. It returns a tensor or a tuple of tensors and
        Nones (an output left out: no round trip)."""
        settings = _plain(options)
        if not getattr(model, "traceable_decode", False) or model.training or settings is None:
            return fn(*inputs)
        given = tuple(t is not None for t in inputs)
        tensors = tuple(t for t in inputs if t is not None)
        version = self._weights_version(model)
        if version != self._version or len(self._graphs) > MAX_GRAPHS:
            # Weights changed in place (a model that trains on) make every graph stale: none is kept.
            self._graphs.clear()
            self._outputs.clear()
            self._eager_calls.clear()
            self._version = version
        key = (name, settings, given, tuple((tuple(t.shape), t.dtype, t.device) for t in tensors))
        graph = self._graphs.get(key)
        if graph is UNTRACEABLE:
            return fn(*inputs)
        if graph is not None:
            with torch.no_grad():
                out = graph(*tensors)
            present = self._outputs.get(key)
            if present is None:
                return out
            outs = iter(_outputs(out))
            return tuple(next(outs) if p else None for p in present)
        start = time.perf_counter()
        result = fn(*inputs)
        ms = (time.perf_counter() - start) * 1000
        self._eager_calls[key] += 1
        if ms >= TRACE_BELOW_MS:
            self._graphs[key] = UNTRACEABLE
        elif self._eager_calls[key] >= TRACE_AFTER:
            present = tuple(t is not None for t in result) if isinstance(result, tuple) else None

            def on_tensors(*traced_tensors):
                """The graph's inputs are the tensors given, in order; its outputs the tensors returned."""
                given_tensors = iter(traced_tensors)
                out = fn(*(next(given_tensors) if p else None for p in given))
                return out if present is None else tuple(t for t in out if t is not None)

            eager = result if present is None else tuple(t for t in result if t is not None)
            self._graphs[key] = self._trace(model, name, on_tensors, tensors, eager)
            if present is not None:
                self._outputs[key] = present
        return result

    def _trace(self, model: nn.Module, name: str, fn: Callable, tensors: tuple, eager_result):
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("error", torch.jit.TracerWarning)
                # Shapes are part of the key, so Python that reads a shape is traced right.
                for shape_read in SHAPE_READS:
                    warnings.filterwarnings("ignore", message=shape_read, category=torch.jit.TracerWarning)
                # torch's own layers check their input's shape (InstanceNorm: size(1) == num_features).
                warnings.filterwarnings("ignore", category=torch.jit.TracerWarning, module=r"torch\.nn\.")
                warnings.simplefilter("ignore", FutureWarning)      # torch 2.14 marks the tracer deprecated
                graph = torch.jit.freeze(torch.jit.trace(_Call(model, fn).eval(), tensors, check_trace=False))
                if _close(graph(*tensors), eager_result):
                    return graph
                log.info("%s: the traced graph differs from the eager decode; left eager", name)
        except Exception as exc:  # any failure to trace leaves the call as it was: eager and right
            log.info("%s: not traced (%s); left eager", name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return UNTRACEABLE


def traced_calls(cache: dict) -> TracedCalls:
    """The open model's traced calls, kept in the renderer's per-model `cache`."""
    return cache.setdefault("traced calls", TracedCalls())
