"""Generators saved by the public CycleGAN / pix2pix code (`latest_net_G_A.pth`, `latest_net_G.pth`,
`*_net_G*.pth`) as a file reader: plain state dicts, read with `torch.load(weights_only=True)` (its
unpickler rebuilds tensors and plain containers only, so nothing in the file runs), bounded and
checked before anything is built, and opened as a one-generator CycleGAN (`directions = 1`: G_AB,
no discriminators) of the translation family, whose architecture cyclegan_state_dict.py infers
from the keys and shapes. Such a file converts into an ordinary genstudio checkpoint.

The file records no image size: the model's data shape is (C, 256, 256), the public code's default
load size (the networks are fully convolutional and `genstudio translate --size` takes others).
"""

from __future__ import annotations

import hashlib
import io
import math
import pickle
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from genstudio.core import registry
from genstudio.core.errors import CheckpointError, first_line
from genstudio.core.families.config import ConfigError
from genstudio.core.io.cyclegan_state_dict import (
    STAT_SUFFIXES,
    Architecture,
    infer_architecture,
    legacy_keys,
)
from genstudio.core.io.file_checks import open_regular_file, read_regular_file
from genstudio.core.io.model_card import DataDescription, ModelCard
from genstudio.core.io.reader import Description, OpenOptions, Reader
from genstudio.core.runtime.memory_budget import GiB, check_memory

SUFFIX = ".pth"
WHAT = "a CycleGAN / pix2pix state dict"
KIND = "CycleGAN / pix2pix generator state dict (the public PyTorch code)"
FAMILY = "translation"
PRESET = "pytorch-CycleGAN-and-pix2pix"
# Bounds on what a file may make genstudio read and allocate. The largest public generator,
# unet_256 with ngf 64, is 54.4 M numbers (218 MB) in about 150 tensors.
MAX_BYTES = 1 * GiB
MAX_TENSORS = 4096
MAX_NUMBERS = 1 << 28            # declared numbers in all tensors together (1 GiB of float32)
LOAD_SIZE = 256                  # the public code's --load_size / --crop_size default
# torch.save's legacy (pre-1.6, not zip) format starts with its magic number, pickled (protocol 2).
ZIP_HEADER = 30                  # bytes of a zip local file header before its name
LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
NOTE_SIZE = (f"the file records no image size: {LOAD_SIZE} x {LOAD_SIZE}, the public code's default load size, is "
             "assumed (the generator is fully convolutional; genstudio translate --size takes others)")
NOTE_EVAL = ("genstudio translates in eval mode (batch norm's running statistics, no dropout); the public test.py "
             "runs norm and dropout in train mode unless given --eval")
NOTE_UNET_DROPOUT = "a U-Net's dropout leaves no trace in its state dict; in eval mode it changes nothing"


def sniff(path: Path) -> bool:
    """A .pth file holding what torch.save writes, not a TorchScript program (which foreign_reader.py
    takes): a zip without TorchScript's code/ folder, or torch.save's legacy format. Only the zip's
    directory or the first bytes are read."""
    if path.suffix.lower() != SUFFIX or path.is_dir():
        return False
    try:
        with open_regular_file(path, WHAT, error=CheckpointError) as handle:
            start = handle.read(ZIP_HEADER + 256)
            if start.startswith(LEGACY_MAGIC):
                return True
            handle.seek(0)
            if not zipfile.is_zipfile(handle):
                # No zip directory (a file cut short): torch.save writes data.pkl first, TorchScript
                # its tensors (data/0) first.
                return _first_zip_entry(start).endswith("data.pkl")
            names = zipfile.ZipFile(handle).namelist()
    except (CheckpointError, OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
    return (any(n.endswith("/data.pkl") or n == "data.pkl" for n in names)
            and not any("/code/" in n or n.startswith("code/") for n in names))


def _first_zip_entry(start: bytes) -> str:
    """The name in the zip local file header at the start of `start`, or "" if there is none."""
    if not start.startswith(b"PK\x03\x04") or len(start) < ZIP_HEADER:
        return ""
    length = int.from_bytes(start[26:28], "little")
    return start[ZIP_HEADER:ZIP_HEADER + length].decode("utf-8", "replace")


@dataclass(frozen=True)
class PublicGenerator:
    """A state dict read and checked: its tensors (legacy InstanceNorm statistics dropped), the
    architecture they fit, and the one-generator CycleGAN config that builds it."""

    path: Path
    sha256: str
    tensors: dict[str, torch.Tensor]
    architecture: Architecture
    config_values: dict
    dropped: tuple[str, ...]          # legacy InstanceNorm running statistics
    parameters: int                   # numbers in the generator's parameters


def _fail(path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path}: {reason}")


def _load_reason(exc: BaseException) -> str:
    """What torch.load's refusal means, in a few words (its own messages run to a dozen lines)."""
    text = str(exc)
    found = re.search(r"unsupported global:? (?:GLOBAL )?([\w.]+)", text, re.IGNORECASE)
    if found:
        return (f"it holds a Python object ({found.group(1)}), not only tensors; torch.load(weights_only=True) "
                "refuses to rebuild it, and genstudio runs nothing from a file")
    if isinstance(exc, pickle.UnpicklingError) or "Weights only load failed" in text:
        line = next((ln.strip() for ln in text.splitlines() if "Unsupported" in ln or "unsupported" in ln), "")
        return f"not a plain state dict of tensors: torch.load(weights_only=True) refuses it ({line[:160] or 'unpickling failed'})"
    if isinstance(exc, MemoryError) or "can't allocate memory" in text or "not enough memory" in text:
        return "its storages declare more memory than this process has"
    return f"not readable as a torch.save file ({first_line(exc)[:160]})"


def _plain_tensors(path: Path, loaded) -> dict[str, torch.Tensor]:
    """`loaded` as {name: tensor}, bounded; CheckpointError naming the first thing that is not."""
    if not isinstance(loaded, dict):
        raise _fail(path, f"holds a {type(loaded).__name__}, not a state dict (a mapping of names to tensors)")
    if not loaded:
        raise _fail(path, "the state dict is empty")
    if len(loaded) > MAX_TENSORS:
        raise _fail(path, f"holds {len(loaded):,} entries, more than the {MAX_TENSORS:,} a generator state dict has")
    tensors, total = {}, 0
    for key, value in loaded.items():
        if not isinstance(key, str):
            raise _fail(path, f"a state dict key is a {type(key).__name__} ({key!r:.40}), not a name")
        name = key[:80]
        if isinstance(value, dict):
            raise _fail(path, f"{name} holds a dict, not a tensor: a state dict is one flat mapping of names to "
                              "tensors (the public code saves each network's own)")
        if not isinstance(value, torch.Tensor):
            raise _fail(path, f"{name} is a {type(value).__name__}, not a tensor")
        if value.layout != torch.strided:
            raise _fail(path, f"{name} is a {value.layout} tensor, not a dense one")
        numbers = math.prod(value.shape)
        total += numbers
        if numbers > MAX_NUMBERS or total > MAX_NUMBERS:
            raise _fail(path, f"{name} has shape {list(value.shape)}: {numbers:,} numbers, more than the "
                              f"{MAX_NUMBERS:,} genstudio reads from a generator state dict")
        counter = key.endswith(".num_batches_tracked")
        if not (value.is_floating_point() or counter and value.dtype == torch.int64):
            raise _fail(path, f"{name} is {str(value.dtype).removeprefix('torch.')}, not floating-point weights")
        tensors[key] = value
    return tensors


def read_public_generator(path: str | Path) -> PublicGenerator:
    """Read, bound and check a public generator state dict without building the model: every key
    and shape is compared with what the inferred architecture builds (on the meta device, which
    allocates nothing). CheckpointError, one line naming the file, for anything else."""
    path = Path(path)
    data = read_regular_file(path, WHAT, error=CheckpointError, max_bytes=MAX_BYTES)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- torch.load raises many types; each is the input's fault
        raise _fail(path, _load_reason(exc)) from None
    del data
    tensors = _plain_tensors(path, loaded)
    shapes = {key: tuple(t.shape) for key, t in tensors.items()}
    arch = infer_architecture(shapes, path)
    if arch.in_channels != arch.out_channels:
        raise _fail(path, f"the generator maps {arch.in_channels} channels to {arch.out_channels} (a {arch.name}); "
                          "genstudio's translation models map grey to grey or RGB to RGB")
    side = max(LOAD_SIZE, 2 ** arch.unet_downs) if arch.generator == "unet" else LOAD_SIZE
    values = {**arch.config_values(), "directions": 1, "style_dim": 0, "examples": 1,
              "data_shape": [arch.in_channels, side, side]}
    family = registry.get(FAMILY)
    try:
        config = family.make_config(values)
    except ConfigError as exc:
        raise _fail(path, f"a {arch.name} genstudio does not build: {exc}") from None
    with torch.device("meta"):
        generator = family.build(config).g_ab
    expected = {key: tuple(t.shape) for key, t in generator.state_dict().items()}
    instance_norms = {name for name, m in generator.named_modules() if isinstance(m, nn.InstanceNorm2d)}
    dropped = legacy_keys(shapes, instance_norms)
    for key in dropped:
        del tensors[key], shapes[key]
    _check_layout(path, arch, shapes, expected)
    size = family.size_of(config)
    check_memory(size.bytes(), f"{path}: the {arch.name} generator it holds ({size.parameters:,} numbers)",
                 error=CheckpointError)
    for key, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise _fail(path, f"{key} holds NaN or Inf weights")
    parameters = sum(math.prod(s) for k, s in expected.items() if not k.endswith(STAT_SUFFIXES))
    return PublicGenerator(path, sha256, tensors, arch, values, tuple(dropped), parameters)


def _check_layout(path, arch: Architecture, shapes: dict, expected: dict) -> None:
    """load_state_dict(strict=True)'s check, as one line. A missing BatchNorm `num_batches_tracked`
    is allowed: PyTorch before 0.4.1 did not save it, and it is unused in eval mode."""
    missing = [k for k in expected if k not in shapes and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in shapes if k not in expected]
    built = f"a {arch.summary()}"

    def more(keys):
        return f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""

    if unexpected:
        raise _fail(path, f"unexpected key {unexpected[0][:80]}{more(unexpected)} for {built}")
    if missing:
        raise _fail(path, f"missing key {missing[0]}{more(missing)} of {built}")
    for key, shape in shapes.items():
        if shape != expected[key]:
            raise _fail(path, f"{key} has shape {list(shape)}, where {built} has {list(expected[key])}")


def build_model(generator: PublicGenerator):
    """The one-generator CycleGAN with the file's weights, in eval mode."""
    model = registry.get(FAMILY).build(generator.config_values)
    missing, unexpected = model.g_ab.load_state_dict(generator.tensors, strict=False)
    # _check_layout allowed exactly these: the counters of files older than PyTorch 0.4.1.
    assert not unexpected and all(k.endswith(".num_batches_tracked") for k in missing), (missing, unexpected)
    return model.eval()


def card_of(generator: PublicGenerator, model) -> ModelCard:
    """A genstudio card saying what the file records (its weights, their architecture) and what it
    does not (the data set, the image size, which domains A and B were)."""
    arch = generator.architecture
    c, h, w = model.data_shape
    data = DataDescription(name="unknown (a CycleGAN / pix2pix state dict records no data set; A -> B only)",
                           size=0, shape=(c, h, w), kind="two domains")
    train = {"converted_from": {"file": generator.path.name, "sha256": generator.sha256, "kind": KIND,
                                "generator": arch.name, "architecture": arch.summary(),
                                "legacy_keys_dropped": len(generator.dropped)}}
    card = ModelCard.describe(model, preset=PRESET, data=data, step=0, train=train)
    notes = [NOTE_SIZE, NOTE_EVAL] + ([NOTE_UNET_DROPOUT] if arch.generator == "unet" else [])
    if generator.dropped:
        notes.append(f"{len(generator.dropped)} InstanceNorm running-statistics keys saved by PyTorch before 0.4 "
                     "were dropped, as the public code drops them")
    return replace(card, notes=tuple(notes))


def open_public_generator(path: Path) -> tuple:
    """(model, card): what `genstudio convert` writes as a checkpoint."""
    generator = read_public_generator(path)
    model = build_model(generator)
    return model, card_of(generator, model)


def open_for_translating(path: Path, device, options: OpenOptions):
    model, card = open_public_generator(path)
    return model.to(device), card


def describe(path: Path) -> Description:
    """Read as data and checked key for key against the inferred architecture; nothing runs."""
    generator = read_public_generator(path)
    arch = generator.architecture
    c, side = generator.config_values["data_shape"][0], generator.config_values["data_shape"][1]
    data = {"file": str(path), "kind": KIND, "sha256": generator.sha256, "tensors": len(generator.tensors),
            "parameters": generator.parameters, "architecture": {"netG": arch.name, **arch.config_values(),
                                                                 "input_nc": arch.in_channels,
                                                                 "output_nc": arch.out_channels},
            "family": FAMILY, "model_config": generator.config_values,
            "legacy_keys_dropped": list(generator.dropped)}
    rows = [
        ("file", str(path)),
        ("kind", KIND),
        ("generator", f"{arch.summary()}, {generator.parameters:,} parameters in {len(generator.tensors)} tensors"),
        ("family", f"{FAMILY} (one generator: A -> B only; nothing to train against)"),
        ("sample shape", f"{c} x {side} x {side} (assumed: the file records no size)"),
        ("value range", "0 .. 1 (the generator's -1 .. 1)"),
        ("code", "none runs: read with torch.load(weights_only=True), which rebuilds only tensors"),
        ("sha256", generator.sha256),
        ("translate", f"genstudio translate {path} IMAGE --out OUT.png"),
        ("convert", f"genstudio convert {path} OUT.safetensors"),
    ]
    if generator.dropped:
        rows.append(("note", (f"{len(generator.dropped)} legacy InstanceNorm running-statistics keys ignored "
                              "(saved by PyTorch before 0.4; the public code deletes them too)")))
    return Description(tuple(rows), data, "a CycleGAN / pix2pix generator state dict", FAMILY)


READER = Reader(name="cyclegan-state-dict", label="CycleGAN / pix2pix generators", sniff=sniff,
                open=open_for_translating, describe=describe, suffixes=(SUFFIX,), convert=open_public_generator)
