"""Self-describing checkpoints: one safetensors file holding weights, resume state and a JSON header.

Layout of the tensors:
    model/<state_dict key>            the model's weights and buffers
    optim/<name>/<param index>/<key>  optimiser state tensors (Adam moments, step)
    rng/torch_cpu, rng/cuda/<i>       torch RNG states (uint8)
The safetensors metadata holds one entry, "genstudio", a JSON header: the model card's fields
(model_card.py: format and version, family, preset, the full model config, data description,
training settings, step, library versions) plus optimiser param groups, Python and NumPy RNG
states, and `content_sha256`, a digest of every tensor's name, dtype, shape and bytes (safetensors
has no checksum of its own, so a flipped byte or a relabelled dtype would otherwise load quietly).
Loading reads the card, checks that the model it describes fits in memory, rebuilds it, verifies
the digest, and refuses weights that are not finite or not of the dtype the architecture uses:
nothing in the file is ever executed (safetensors holds only tensors and strings).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch

from genstudio.core import registry
from genstudio.core.errors import CheckpointError, GenStudioError, first_line
from genstudio.core.families.base import GenerativeModel
from genstudio.core.io.atomic import remove_stale_temps, write_atomic
from genstudio.core.io.file_checks import open_regular_file, read_regular_file
from genstudio.core.io.foreign import FOREIGN_SUFFIXES, is_foreign_name
from genstudio.core.io.model_card import ModelCard
from genstudio.core.runtime.memory_budget import budget_bytes

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
    rng_state: tuple | None = None                     # (Python's, NumPy's) states, checked

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
    """Write atomically. Without `optimizers` the file is weights only (demo checkpoints, exports).

    The tensors stream from memory into a temporary file (safetensors' save_file writes each from
    its own buffer): `safetensors.torch.save` would first build the whole file as one bytes object,
    an allocation the size of the checkpoint that aborted the process when memory was short. Out of
    memory anywhere here is one line (GenStudioError) and the file at `path` is left as it was."""
    path = Path(path)
    try:
        tensors: dict[str, torch.Tensor] = {}
        for key, value in model.state_dict().items():
            tensors[f"model/{key}"] = value.detach().cpu().contiguous()
        header = {**card.to_header(), "optimizers": {}, "rng": None}
        for name, optimizer in (optimizers or {}).items():
            header["optimizers"][name] = _flatten_optimizer(name, optimizer.state_dict(), tensors)
        if optimizers and include_rng:
            header["rng"] = capture_rng_state(tensors)
        header["content_sha256"] = tensor_digest(tensors)
        metadata = {"genstudio": json.dumps(header)}
        return write_atomic(path, lambda tmp: safetensors.torch.save_file(tensors, tmp, metadata=metadata))
    except MemoryError:
        kept = "the previous checkpoint there is kept" if path.exists() else "nothing was written"
        raise GenStudioError(f"{path}: out of memory while saving the checkpoint; {kept}") from None


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over each tensor's name, dtype, shape and raw bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{list(t.shape)}|".encode())
        if t.numel():   # reshape first: a 0-d tensor cannot be viewed as bytes
            digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


# --- loading --------------------------------------------------------------------------------
def _fail(path: Path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path}: {reason}")


def _read_file(path: Path) -> tuple[ModelCard, dict, dict[str, torch.Tensor]]:
    """(card, header, tensors) of a genstudio checkpoint, or CheckpointError naming the file and reason."""
    # A regular file only (a FIFO or /dev/zero would block or never end), and no larger than memory allows.
    raw = read_regular_file(path, "a checkpoint", error=CheckpointError, max_bytes=budget_bytes())
    if zipfile.is_zipfile(io.BytesIO(raw)):
        if is_foreign_name(path):
            raise _fail(path, "is a TorchScript / torch.export generator, not a genstudio checkpoint: open it as "
                              "a foreign generator")
        # The name says data, the content may be a program: refused before any loader sees it.
        raise _fail(path, f"a zip archive named {path.suffix or 'without an extension'}: genstudio checkpoints "
                          f"are safetensors files; a TorchScript or torch.export generator must be named "
                          f"{', '.join(FOREIGN_SUFFIXES)} (a file's name and content must agree)")
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
        reason = first_line(exc)
        if "incomplete" in reason.lower() or "not fully covered" in reason.lower() or "out of bounds" in reason.lower():
            raise _fail(path, f"truncated or damaged ({reason})") from None
        raise _fail(path, f"corrupt tensor data ({reason})") from None
    # Every file this genstudio writes carries the digest; it is checked whenever present, and its
    # absence is only accepted from format 1, which predates it.
    stored = header.get("content_sha256")
    if (stored is not None or card.format_version >= 2) and stored != tensor_digest(tensors):
        raise _fail(path, "damaged: its tensors do not match the digest written with them" if stored else
                          "has no content digest (format 2 files always have one): damaged or edited")
    return card, header, tensors


def read_card(path: str | Path) -> ModelCard:
    """The checkpoint's model card, validated (for `genstudio info` and the open dialog)."""
    return _read_file(Path(path))[0]


MAX_HEADER_BYTES = 100_000_000     # safetensors' own bound on the JSON in front of the tensors


def peek_card(path: str | Path) -> ModelCard:
    """The card from the file's first 8 bytes and JSON header alone: no tensor read, no digest checked.
    For naming a file (the Models list names each recent checkpoint at every refresh, in the GUI
    thread: read_card read and hashed a 1024 px StyleGAN's 130 MB there, half a second per file)."""
    path = Path(path)
    try:
        with open_regular_file(path, "a checkpoint", error=CheckpointError) as handle:
            length = int.from_bytes(handle.read(8), "little")
            text = handle.read(length) if 0 < length <= MAX_HEADER_BYTES else b""
    except OSError as exc:
        raise _fail(path, f"cannot read a checkpoint: {exc.strerror or type(exc).__name__}") from None
    try:
        header = json.loads(json.loads(text)["__metadata__"]["genstudio"])
    except (ValueError, UnicodeDecodeError, RecursionError, KeyError, TypeError):
        raise _fail(path, "not a genstudio checkpoint (no genstudio header)") from None
    return ModelCard.from_header(header, path)


def read_header(path: str | Path) -> dict:
    """The raw JSON header, after the card in it was validated (`genstudio info --json`)."""
    return _read_file(Path(path))[1]


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    expect_family: str | None = None) -> Checkpoint:
    """Rebuild the model from the card and load its weights; keep any resume state for the engine."""
    path = Path(path)
    remove_stale_temps(path)
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
        if value.dtype != expected[key].dtype:   # load_state_dict would convert it quietly
            raise _fail(path, f"weight {key} is {str(value.dtype).removeprefix('torch.')}, the model needs "
                              f"{str(expected[key].dtype).removeprefix('torch.')}")
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise _fail(path, f"weight {key} holds NaN or infinite values: the model was saved after training diverged")
    model.load_state_dict(weights)
    model.to(device)
    optimizer_states = _optimizer_states(path, header, tensors, model.optimizer_names)
    torch_rng = {k[len("rng/"):]: v for k, v in tensors.items() if k.startswith("rng/")}
    return Checkpoint(path, card, model, header, optimizer_states, torch_rng, _rng_state(path, header.get("rng")))


def _damaged(path: Path, what: str) -> CheckpointError:
    return _fail(path, f"its resume state is damaged ({what})")


def _optimizer_states(path: Path, header: dict, tensors: dict, names: tuple[str, ...]) -> dict[str, dict]:
    """The optimisers' state dicts from header entries and `optim/<name>/<index>/<key>` tensors, checked."""
    infos = header.get("optimizers") or {}
    if not isinstance(infos, dict):
        raise _damaged(path, "'optimizers' is not an object")
    states = {}
    for name, info in infos.items():
        if name not in names:
            raise _damaged(path, f"an optimiser {name!r:.30} this model does not have")
        groups = info.get("param_groups") if isinstance(info, dict) else None
        plain = info.get("plain_state", {}) if isinstance(info, dict) else None
        if (not isinstance(groups, list) or not groups or not isinstance(plain, dict)
                or not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups)):
            raise _damaged(path, f"optimiser {name}'s parameter groups")
        for number, group in enumerate(groups):
            _check_group(path, f"optimiser {name}'s group {number}", group)
        state: dict[int, dict] = {}
        prefix = f"optim/{name}/"
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, _, entry = key[len(prefix):].partition("/")
                if not index.isdigit() or not entry:
                    raise _damaged(path, f"tensor {key!r:.40}")
                # Adam's moments with an Inf or NaN would turn the first step's update into NaN.
                if value.is_floating_point() and not torch.isfinite(value).all():
                    raise _damaged(path, f"optimiser {name}'s state {index}/{entry:.30} holds NaN or infinite values")
                state.setdefault(int(index), {})[entry] = value
        for index, entries in plain.items():
            if not str(index).isdigit() or not isinstance(entries, dict):
                raise _damaged(path, f"optimiser {name}'s entry {index!r:.20}")
            for entry, value in entries.items():
                if isinstance(value, float) and not math.isfinite(value):
                    raise _damaged(path, f"optimiser {name}'s state {index}/{entry:.30} is {value}")
            state.setdefault(int(index), {}).update(entries)
        states[name] = {"state": state, "param_groups": groups}
    return states


def _is_number(value) -> bool:
    """A finite int or float that fits a float (JSON allows 10**400, which float() overflows on)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_group(path: Path, where: str, group: dict) -> None:
    """An optimiser's parameter group from a header: a learning rate that is a positive number, and
    every other setting a finite number, a flag (amsgrad), None (foreach) or a list of numbers
    (Adam's betas). A string or NaN there would otherwise surface as a TypeError or a NaN inside
    the optimiser's first step. Which of those kinds each setting must be is the engine's to check
    against the optimiser it builds."""
    lr = group.get("lr")
    if not _is_number(lr) or lr <= 0:
        raise _damaged(path, f"{where}: lr is {lr!r:.30}, not a positive number")
    for key, value in group.items():
        if key == "params" or value is None or isinstance(value, bool) or _is_number(value):
            continue
        if not (isinstance(value, list) and value and all(_is_number(v) for v in value)):
            raise _damaged(path, f"{where}: {key!r:.30} is {value!r:.30}, not a finite number")


def _rng_state(path: Path, rng) -> tuple | None:
    """(Python's, NumPy's) RNG states from the header, tried on throwaway generators first."""
    if rng is None:
        return None
    try:
        version, internal, gauss = rng["python"]
        python_state = (version, tuple(internal), gauss)
        random.Random().setstate(python_state)
        kind, keys, pos, has_gauss, cached = rng["numpy"]
        numpy_state = (kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached)
        np.random.RandomState().set_state(numpy_state)
    except (TypeError, ValueError, KeyError, IndexError, OverflowError):
        raise _damaged(path, "the random number generators' state") from None
    return python_state, numpy_state


def restore_rng_state(checkpoint: Checkpoint) -> None:
    """Put the RNGs back where they were when the checkpoint was written (exact resume)."""
    try:
        if "torch_cpu" in checkpoint.torch_rng:
            torch.set_rng_state(checkpoint.torch_rng["torch_cpu"])
        cuda_states = [v for k, v in sorted(checkpoint.torch_rng.items()) if k.startswith("cuda/")]
        if cuda_states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(cuda_states[:torch.cuda.device_count()])
    except (RuntimeError, TypeError, ValueError):
        raise _damaged(checkpoint.path, "torch's random number generator state") from None
    if checkpoint.rng_state:
        python_state, numpy_state = checkpoint.rng_state
        random.setstate(python_state)
        np.random.set_state(numpy_state)
