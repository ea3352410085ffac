"""Stop a model's work between its layers: what lets a Stop end training within a second even when a
single train step, a preview decode or an evaluation takes several seconds.

Measured on 2 CPU cores (MNIST, the presets' batches): one diffusion 'digits' step (batch 128) takes
about 3 s, one PixelCNN 'digits' step (batch 32) about 2 s, the PixelCNN's evaluation of 256 held-out
digits about 6 s and a diffusion preview of 64 fixed latents tens of seconds. None of them is a loop
the engine could check a flag in, so `ModelWorkGuard` checks it inside them: while armed, a forward
pre-hook on every module and a gradient hook on every parameter raise `Interrupted` once
`should_stop()` says so. The work is abandoned within one layer's time.

A train step is abandoned only before its first optimiser step (each optimiser's step pre-hook
disarms the guard): parameters and optimiser states are then untouched. `StepUndo` puts back what
the forward and backward passes may have changed besides (buffers such as batch-norm statistics and
update counters, gradients, requires_grad flags, the RNG), so the model is exactly that of the last
finished step and a resume from its checkpoint is still exact.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

from genstudio.core.errors import Cancelled


class Interrupted(Cancelled):
    """`should_stop()` said so inside model work: that work was abandoned."""


class ModelWorkGuard:
    """Hooks on `model` that raise Interrupted while armed and `should_stop()` is true."""

    def __init__(self, model: torch.nn.Module, optimizers: dict[str, torch.optim.Optimizer],
                 should_stop: Callable[[], bool]):
        self.model = model
        self.should_stop = should_stop
        self._armed = False
        self._handles: list = []
        # An optimiser about to step ends the abandonable part of a train step (a GAN's D step,
        # then its G step: never half of one). One call per optimiser step, so always on.
        for optimizer in optimizers.values():
            optimizer.register_step_pre_hook(self._disarm)

    def _disarm(self, *args) -> None:
        self._armed = False

    def _check(self, *args) -> None:
        if self._armed and self.should_stop():
            raise Interrupted("stopped inside model work")

    @property
    def installed(self) -> bool:
        return bool(self._handles)

    def install(self) -> None:
        """Hook every module and parameter (a Python call per module forward and per gradient: a few
        microseconds each, so it is for work that takes tenths of a second or more)."""
        if self._handles:
            return
        for module in self.model.modules():
            self._handles.append(module.register_forward_pre_hook(self._check))
        for parameter in self.model.parameters():
            if parameter.requires_grad:
                self._handles.append(parameter.register_hook(self._check))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @contextlib.contextmanager
    def armed(self, keep_hooks: bool = False) -> Iterator[None]:
        """Within the block a stop request raises Interrupted at the next layer. Hooks not yet in
        place are installed for the block, and left in place with `keep_hooks` (repeated work)."""
        fresh = not self._handles
        self.install()
        self._armed = True
        try:
            self._check()           # already asked: nothing starts
            yield
        finally:
            self._armed = False
            if fresh and not keep_hooks:
                self.remove()


class StepUndo:
    """What a train step may change before its first optimiser step, taken at the step's start:
    `restore()` puts it back after the step was abandoned."""

    def __init__(self, model: torch.nn.Module, device: torch.device):
        self.model = model
        self.buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
        self.requires_grad = [(p, p.requires_grad) for p in model.parameters()]
        self.cpu_rng = torch.get_rng_state()
        self.cuda_rng = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        self.device = device

    @torch.no_grad()
    def restore(self) -> None:
        for name, buffer in self.model.named_buffers():
            if name in self.buffers:
                buffer.copy_(self.buffers[name])
        for parameter, flag in self.requires_grad:
            parameter.requires_grad_(flag)
            parameter.grad = None
        torch.set_rng_state(self.cpu_rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state(self.cuda_rng, self.device)
