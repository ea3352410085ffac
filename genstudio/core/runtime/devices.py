"""Choose the compute device: CUDA, then Apple MPS, then CPU, or exactly what the user asked for."""

from __future__ import annotations

import torch

from genstudio.core.errors import DeviceError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def device_availability() -> dict[str, tuple[bool, str]]:
    """For each device choice: (available, reason shown when it is not)."""
    cuda_ok = torch.cuda.is_available()
    if cuda_ok:
        cuda_reason = torch.cuda.get_device_name(0)
    elif torch.version.cuda is None:
        cuda_reason = "this torch build has no CUDA support"
    else:
        cuda_reason = f"torch is built for CUDA {torch.version.cuda} but no CUDA GPU is visible"
    mps_ok = mps_available()
    mps_reason = "Apple GPU" if mps_ok else "Apple MPS is only available on Apple-silicon Macs"
    return {
        "auto": (True, "CUDA, then MPS, then CPU"),
        "cpu": (True, "always available"),
        "cuda": (cuda_ok, cuda_reason),
        "mps": (mps_ok, mps_reason),
    }


def resolve_device(name: str = "auto") -> torch.device:
    """Turn 'auto' | 'cpu' | 'cuda' | 'cuda:N' | 'mps' into a torch.device, or raise DeviceError."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":", 1)[0]
    if kind not in DEVICE_CHOICES:
        raise DeviceError(f"unknown device '{name}': choose one of {', '.join(DEVICE_CHOICES)}")
    available, reason = device_availability()[kind]
    if not available:
        raise DeviceError(f"device '{name}' was requested but is not available: {reason}")
    if kind == "cuda" and ":" in name:
        index = int(name.split(":", 1)[1])
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"device '{name}' was requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """'cpu', 'cuda:0 (NVIDIA H200)', 'mps': what a status line shows."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return device.type


def module_bytes(module) -> int:
    """Bytes held by a module's parameters and buffers (each storage counted once)."""
    seen, total = set(), 0
    tensors = list(module.parameters()) + list(module.buffers()) if hasattr(module, "parameters") else []
    for t in tensors:
        key = (t.device, t.untyped_storage().data_ptr())
        if key not in seen:
            seen.add(key)
            total += t.untyped_storage().nbytes()
    return total
