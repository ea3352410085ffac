"""Data-parallel training under torchrun: each process trains on its own shard of every batch and
the optimisers average gradients across processes before each step.

Averaging in an optimiser step pre-hook (rather than wrapping modules in DistributedDataParallel)
keeps every model family's `train_step` unchanged, GAN's two optimisers and WGAN's extra critic
steps included: whatever optimiser steps, steps on the mean gradient of all processes. Gradients
travel as one flat tensor per optimiser step (two all-reduces per GAN step).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


@dataclass(frozen=True)
class Distributed:
    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_environment() -> Distributed | None:
    """The torchrun context (RANK, WORLD_SIZE, LOCAL_RANK) when there is more than one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return Distributed(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def init_process_group(ctx: Distributed, device: torch.device) -> None:
    """NCCL between GPUs, gloo on the CPU; once per process."""
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def broadcast_module(module: torch.nn.Module) -> None:
    """Every process starts from rank 0's weights and buffers."""
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def average_gradients_before_step(optimizer: torch.optim.Optimizer, world_size: int) -> None:
    def hook(opt, args, kwargs):
        grads = [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = _flatten_dense_tensors(grads)     # (total parameters,)
        dist.all_reduce(flat)
        flat /= world_size
        for grad, mean in zip(grads, _unflatten_dense_tensors(flat, grads)):
            grad.copy_(mean)

    optimizer.register_step_pre_hook(hook)


def any_process(flag: bool, device: torch.device) -> bool:
    """True on every process when `flag` is true on any (one all-reduce of a single number)."""
    value = torch.tensor([float(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
