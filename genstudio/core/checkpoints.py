"""Self-describing checkpoints: one safetensors file holding weights, resume state and a JSON header.

Layout of the tensors:
    model/<state_dict key>            the model's weights and buffers
    optim/<name>/<param index>/<key>  optimiser state tensors (Adam moments, step)
    rng/torch_cpu, rng/cuda/<i>       torch RNG states (uint8)
The safetensors metadata holds one entry, "genstudio", a JSON header: the model card's fields
(model_card.py: format and version, family, preset, the full model config, data description,
training settings, step, library versions) plus optimiser param groups and Python and NumPy RNG
states. Loading reads the card, rebuilds the model from it, then loads the weights: nothing in
the file is ever executed (safetensors holds only tensors and strings).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch

from genstudio.core import registry
from genstudio.core.atomic import write_bytes_atomic
from genstudio.core.errors import CheckpointError
from genstudio.core.model_card import ModelCard
from genstudio.core.models.base import GenerativeModel

SUFFIX = ".safetensors"


@dataclass
class Checkpoint:
    """A loaded checkpoint: its card, the rebuilt model, and whatever resume state the file carries."""

    path: Path
    card: ModelCard
    model: GenerativeModel
    header: dict = field(default_factory=dict)        # the raw header (RNG states for resume)
    optimizer_states: dict[str, dict] = field(default_factory=dict)
    torch_rng: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return self.card.family

    @property
    def step(self) -> int:
        return self.card.step

    @property
    def has_resume_state(self) -> bool:
        return bool(self.optimizer_states)


# --- saving ---------------------------------------------------------------------------------
def _flatten_optimizer(name: str, state_dict: dict, tensors: dict) -> dict:
    """Move an optimiser's state tensors into `tensors`; return the JSON-able rest."""
    plain_state: dict[str, dict] = {}
    for index, entries in state_dict["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim/{name}/{index}/{key}"] = value.detach().cpu().contiguous()
            else:
                plain_state.setdefault(str(index), {})[key] = value
    return {"param_groups": state_dict["param_groups"], "plain_state": plain_state}


def capture_rng_state(tensors: dict) -> dict:
    """Store torch RNG states as tensors; return Python's and NumPy's as JSON-able values."""
    tensors["rng/torch_cpu"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = state
    np_state = np.random.get_state()
    return {"python": _to_json(random.getstate()),
            "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])]}


def _to_json(value):
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    return value


def save_checkpoint(path: str | Path, model: GenerativeModel, card: ModelCard,
                    optimizers: dict[str, torch.optim.Optimizer] | None = None, include_rng: bool = True) -> Path:
    """Write atomically. Without `optimizers` the file is weights only (demo checkpoints, exports)."""
    tensors: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        tensors[f"model/{key}"] = value.detach().cpu().contiguous()
    header = {**card.to_header(), "optimizers": {}, "rng": None}
    for name, optimizer in (optimizers or {}).items():
        header["optimizers"][name] = _flatten_optimizer(name, optimizer.state_dict(), tensors)
    if optimizers and include_rng:
        header["rng"] = capture_rng_state(tensors)
    payload = safetensors.torch.save(tensors, metadata={"genstudio": json.dumps(header)})
    return write_bytes_atomic(path, payload)


# --- loading --------------------------------------------------------------------------------
def _fail(path: Path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path}: {reason}")


def _read_file(path: Path) -> tuple[ModelCard, dict, dict[str, torch.Tensor]]:
    """(card, header, tensors) of a genstudio checkpoint, or CheckpointError naming the file and reason."""
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a folder, not a checkpoint file")
    raw = path.read_bytes()
    if len(raw) < 8:
        raise _fail(path, f"not a genstudio checkpoint (only {len(raw)} bytes)")
    header_len = int.from_bytes(raw[:8], "little")
    if raw[8:9] != b"{" or header_len > len(raw) - 8:
        if raw[:2] == b"PK":
            raise _fail(path, "is a zip archive (a TorchScript or torch.export file?), not a genstudio "
                              "checkpoint: open it as a foreign generator")
        if 0 < header_len < 100_000_000 and raw[8:9] == b"{":
            raise _fail(path, f"truncated: header needs {header_len} bytes, file has {len(raw) - 8}")
        raise _fail(path, "not a genstudio checkpoint (not a safetensors file)")
    try:
        outer = json.loads(raw[8:8 + header_len])
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _fail(path, "corrupt safetensors header") from None
    meta = (outer.get("__metadata__") if isinstance(outer, dict) else None) or {}
    if not isinstance(meta, dict) or not isinstance(meta.get("genstudio"), str):
        raise _fail(path, "a safetensors file without genstudio metadata (weights from another program?)")
    try:
        header = json.loads(meta["genstudio"])
    except (ValueError, RecursionError):
        raise _fail(path, "corrupt genstudio header (invalid JSON)") from None
    card = ModelCard.from_header(header, path)
    try:
        tensors = safetensors.torch.load(raw)
    except (safetensors.SafetensorError, ValueError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "incomplete" in reason.lower() or "not fully covered" in reason.lower() or "out of bounds" in reason.lower():
            raise _fail(path, f"truncated or damaged ({reason})") from None
        raise _fail(path, f"corrupt tensor data ({reason})") from None
    return card, header, tensors


def read_card(path: str | Path) -> ModelCard:
    """The checkpoint's model card, validated (for `genstudio info` and the open dialog)."""
    return _read_file(Path(path))[0]


def read_header(path: str | Path) -> dict:
    """The raw JSON header, after the card in it was validated (`genstudio info --json`)."""
    return _read_file(Path(path))[1]


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    expect_family: str | None = None) -> Checkpoint:
    """Rebuild the model from the card and load its weights; keep any resume state for the engine."""
    path = Path(path)
    card, header, tensors = _read_file(path)
    family = card.family
    if expect_family and family != expect_family:
        raise _fail(path, f"is a {family} checkpoint, expected a {expect_family}")
    try:
        model = registry.build_model(family, card.config)
    except (KeyError, ValueError, TypeError) as exc:
        raise _fail(path, f"cannot rebuild the {family} from its description ({exc})") from None
    if card.latent_shape and tuple(model.latent_shape) != card.latent_shape:
        raise _fail(path, f"the header says latents of shape {list(card.latent_shape)}, the model it describes "
                          f"takes {list(model.latent_shape)}")
    weights = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing weights {', '.join(missing[:3])}" + (f" (+{len(missing) - 3} more)" if len(missing) > 3 else ""))
        if unexpected:
            parts.append(f"unexpected weights {', '.join(unexpected[:3])}" + (f" (+{len(unexpected) - 3} more)" if len(unexpected) > 3 else ""))
        raise _fail(path, "; ".join(parts))
    for key, value in weights.items():
        if value.shape != expected[key].shape:
            raise _fail(path, f"weight {key} has shape {tuple(value.shape)}, the model needs {tuple(expected[key].shape)}")
    model.load_state_dict(weights)
    model.to(device)
    optimizer_states = {}
    for name, info in (header.get("optimizers") or {}).items():
        state: dict[int, dict] = {}
        prefix = f"optim/{name}/"
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, entry = key[len(prefix):].split("/", 1)
                state.setdefault(int(index), {})[entry] = value
        for index, entries in info.get("plain_state", {}).items():
            state.setdefault(int(index), {}).update(entries)
        optimizer_states[name] = {"state": state, "param_groups": info["param_groups"]}
    torch_rng = {k[len("rng/"):]: v for k, v in tensors.items() if k.startswith("rng/")}
    return Checkpoint(path, card, model, header, optimizer_states, torch_rng)


def restore_rng_state(checkpoint: Checkpoint) -> None:
    """Put the RNGs back where they were when the checkpoint was written (exact resume)."""
    rng = checkpoint.header.get("rng")
    if "torch_cpu" in checkpoint.torch_rng:
        torch.set_rng_state(checkpoint.torch_rng["torch_cpu"])
    cuda_states = [v for k, v in sorted(checkpoint.torch_rng.items()) if k.startswith("cuda/")]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[:torch.cuda.device_count()])
    if rng:
        python_state = rng["python"]
        random.setstate((python_state[0], tuple(python_state[1]), python_state[2]))
        kind, keys, pos, has_gauss, cached = rng["numpy"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
