"""The fuzz corpus: seeded mutations of real genstudio checkpoints, and malformed data files and folders.

Everything here is deterministic for a given seed (random.Random(seed), fixed lists), so a failure
names a file that the next run rebuilds byte for byte. Each case is a plain dict:

    checkpoints: {"path", "mutation", "base", "must_fail"}
    data:        {"spec", "mutation", "must_fail", "expect", "names"}

`must_fail` marks mutations after which a successful load is wrong whatever it printed: a changed
tensor byte, NaN/Inf weights, a relabelled dtype, a pickle. `expect` is the number of samples a data
case must load when it loads at all (None: any positive count is right). `names` is what the
one-line error must name (a folder or file name).
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import socket
import struct
import zlib
from pathlib import Path

import numpy as np

SEED = 20240611
RAW = "\x00raw:"          # a string value written into the header JSON as raw text (1e999, NaN, deep nesting)


# --- base checkpoints -----------------------------------------------------------------------------

BASES = {
    # name: (family, preset, data, model overrides, batch size)
    "gan-ring8": ("gan", "toy", "ring8", {"g_hidden": [16, 16], "d_hidden": [16, 16]}, 64),
    "gan-mnist-conditional": ("gan", "mlp-conditional", "mnist",
                              {"latent_dim": 8, "g_hidden": [16], "d_hidden": [16], "embed_dim": 4}, 16),
    "vae-mnist": ("vae", "mlp", "mnist", {"latent_dim": 4, "hidden": [16]}, 16),
    "flow-mnist": ("flow", "realnvp", "mnist", {"num_scales": 2, "couplings_per_scale": 1, "hidden_channels": 4,
                                                "num_blocks": 0}, 8),
}


def train_base_checkpoints(folder: Path) -> dict[str, Path]:
    """Small real checkpoints, 2 training steps each, written by the real Trainer (with optimiser and
    RNG state, as `genstudio train` writes them)."""
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.data.toy import load_toy
    from genstudio.core.training.engine import TrainConfig, Trainer

    mnist = load_bundled_mnist()
    paths = {}
    for name, (family, preset, data, model, batch) in BASES.items():
        dataset = load_toy("ring8", n=512) if data == "ring8" else mnist
        config = TrainConfig(family=family, preset=preset, data=data, steps=2, batch_size=batch, model=model,
                             seed=1, device="cpu", out_dir=str(folder / name), autosave_every=0,
                             sample_every_s=0, n_samples=4, eval_batch=32)
        for _ in Trainer(config, dataset=dataset).run():
            pass
        paths[name] = folder / name / "checkpoint.safetensors"
    return paths


# --- safetensors surgery --------------------------------------------------------------------------

def split(raw: bytes) -> tuple[dict, bytes]:
    """(outer safetensors header, tensor data) of a checkpoint's bytes."""
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def join(outer: dict | str, data: bytes) -> bytes:
    """Bytes of a safetensors file: the header (a dict, or raw JSON text) padded to 8 bytes, then data."""
    text = outer if isinstance(outer, str) else json.dumps(outer)
    blob = text.encode("utf-8", "surrogatepass")
    blob += b" " * (-len(blob) % 8)
    return struct.pack("<Q", len(blob)) + blob + data


def dumps_raw(value) -> str:
    """json.dumps, with RAW-marked strings replaced by their raw text (JSON no encoder writes)."""
    raws: dict[str, str] = {}

    def mark(v):
        if isinstance(v, str) and v.startswith(RAW):
            key = f"@@raw{len(raws)}@@"
            raws[key] = v[len(RAW):]
            return key
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v

    text = json.dumps(mark(value))
    for key, raw in raws.items():
        text = text.replace(json.dumps(key), raw)
    return text


def with_header(raw: bytes, change) -> bytes:
    """The checkpoint with its genstudio header edited by `change(header)` (tensors untouched)."""
    outer, data = split(raw)
    header = json.loads(outer["__metadata__"]["genstudio"])
    header = change(header) or header
    outer["__metadata__"]["genstudio"] = dumps_raw(header)
    return join(outer, data)


def with_outer(raw: bytes, change) -> bytes:
    outer, data = split(raw)
    change(outer)
    return join(outer, data)


def tensor_spans(raw: bytes, prefix: str = "") -> list[tuple[str, dict, int, int]]:
    """(name, entry, absolute start, absolute end) of each tensor whose name starts with `prefix`."""
    outer, _ = split(raw)
    base = 8 + struct.unpack("<Q", raw[:8])[0]
    return [(name, e, base + e["data_offsets"][0], base + e["data_offsets"][1])
            for name, e in sorted(outer.items()) if name != "__metadata__" and name.startswith(prefix)]


def deep(n: int) -> str:
    return RAW + "[" * n + "]" * n


# --- checkpoint mutations -------------------------------------------------------------------------

WRONG_VALUES = [None, [], {}, "x", -1, 0, 10**30, RAW + "1e999", RAW + "-1e999", RAW + "NaN", True, 2.5,
                {"a": {"b": [1, {"c": None}]}}, deep(50), "\udcff\ud800"]
TOP_KEYS = ["format", "format_version", "family", "preset", "model_config", "data_shape", "latent_shape",
            "value_range", "label_names", "data", "train", "step", "created", "versions", "optimizers", "rng",
            "content_sha256"]
FIELD_VALUES = [None, "x", -1, 0, 10**9, RAW + "1e999", RAW + "NaN", [20000, 20000], "gelu", True, {}, 1.5]


def _set(path: list, value):
    """A header change that sets header[path...] = value (creating nothing: a missing parent is skipped)."""
    def change(h):
        node = h
        for key in path[:-1]:
            if not isinstance(node, dict) or key not in node:
                return h
            node = node[key]
        if isinstance(node, dict):
            node[path[-1]] = value
        return h
    return change


def _delete(path: list):
    def change(h):
        node = h
        for key in path[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(path[-1], None)
        return h
    return change


def _header_cases(base: str, raw: bytes, rng: random.Random) -> list[tuple[str, bytes, bool]]:
    """(mutation, bytes, must_fail) for the edits of the JSON header of one base checkpoint."""
    outer, _ = split(raw)
    header = json.loads(outer["__metadata__"]["genstudio"])
    config = header.get("model_config", {})
    cases = []

    def add(name, change, must_fail=False):
        cases.append((name, with_header(raw, change), must_fail))

    # Every top-level key missing, and a seeded fifth of the wrong-typed values for each (the other
    # bases draw other fifths, so together they cover most pairs).
    for key in TOP_KEYS:
        add(f"header: no {key}", _delete([key]))
        for value in rng.sample(WRONG_VALUES, 3):
            add(f"header: {key} = {dumps_raw(value)[:40]}", _set([key], value))
    # Every architecture field missing, and wrong or huge values in a seeded quarter.
    for field in sorted(config):
        add(f"model_config: no {field}", _delete(["model_config", field]))
        for value in rng.sample(FIELD_VALUES, 3):
            add(f"model_config: {field} = {dumps_raw(value)[:40]}", _set(["model_config", field], value))
    # The findings of issue 11, and their neighbours.
    targeted = {
        "latent_dim": [10**9, 65536], "g_hidden": [[20000, 20000], [16384] * 6], "d_hidden": [[20000, 20000]],
        "hidden": [[20000, 20000], [16384] * 8], "num_scales": [10**6, 8], "couplings_per_scale": [10**9, 64],
        "hidden_channels": [10**6, 4096], "num_blocks": [64], "activation": ["gelu", "__import__('os')"],
        "loss": ["mse"], "arch": ["conv", "transformer"], "likelihood": ["poisson"], "num_classes": [-1, 10**9],
        "data_shape": [[10**9, 10**9], [0], [-1, 28, 28], [3, 4096, 4096], [1, 28, 28, 1, 1]],
        "embed_dim": [4096], "d_fourier_features": [4096], "ema_decay": [1.0, -0.5], "dropout": [2.0],
    }
    for field, values in targeted.items():
        if field in config:
            for value in values:
                add(f"model_config: {field} = {json.dumps(value)[:40]}", _set(["model_config", field], value))
    add("header: format_version 99 (future)", _set(["format_version"], 99))
    add("header: format_version 1 (downgrade)", _set(["format_version"], 1))
    add("header: format 'other'", _set(["format"], "other"))
    add("header: family 'foreign'", _set(["family"], "foreign"))
    add("header: family of another family", _set(["family"], {"gan": "vae", "vae": "flow", "flow": "gan"}[header["family"]]))
    add("header: step 2**70", _set(["step"], 2**70))
    add("header: step '12'", _set(["step"], "12"))
    add("header: latent_shape [10**9]", _set(["latent_shape"], [10**9]))
    add("header: value_range [1e999, 1]", _set(["value_range"], [RAW + "1e999", 1]))
    add("data: value_range [NaN, 1]", _set(["data", "value_range"], [RAW + "NaN", 1]))
    add("data: label_names non-UTF-8", _set(["data", "label_names"], [os.fsdecode(b"caf\xe9"), "\ud800", "ok"]))
    add("header: label_names non-UTF-8", _set(["label_names"], ["\udcff\udcfe"] * 3))
    add("data: 100000 label names", _set(["data", "label_names"], ["x"] * 100_000))
    add("data: source folder:/etc?size=99999", _set(["data", "source"], "folder:/etc?size=99999"))
    add("data: size -5", _set(["data", "size"], -5))
    add("train: hyper lr NaN", _set(["train", "hyper", "lr"], RAW + "NaN"))
    add("train: batch_size -5", _set(["train", "batch_size"], -5))
    add("optimizers: first has null param_groups",
        lambda h: ([v.__setitem__("param_groups", None) for v in list(h.get("optimizers", {}).values())[:1]], h)[1])
    add("optimizers: plain_state index 'abc'",
        lambda h: ([v.__setitem__("plain_state", {"abc": {"step": 1}}) for v in h.get("optimizers", {}).values()], h)[1])
    add("rng: python 'x'", _set(["rng", "python"], "x"))
    add("rng: numpy [1]", _set(["rng", "numpy"], [1]))
    add("content_sha256: wrong", _set(["content_sha256"], "0" * 64))
    add("header: deep nesting 100000", _set(["train"], deep(100_000)))
    add("header: 10 MB string", _set(["created"], "x" * 10_000_000))
    add("header: null", lambda h: RAW + "null")
    add("header: a list", lambda h: [h])
    add("header: a number", lambda h: RAW + "1e999")
    return cases


def _genstudio_text(raw: bytes, text: str) -> bytes:
    outer, data = split(raw)
    outer["__metadata__"]["genstudio"] = text
    return join(outer, data)


def _outer_cases(raw: bytes, rng: random.Random) -> list[tuple[str, bytes, bool]]:
    """Edits of the safetensors header itself: dtypes, shapes, offsets, entries, metadata."""
    outer, data = split(raw)
    model = [(n, e) for n, e in sorted(outer.items()) if n.startswith("model/") and e["dtype"] == "F32"]
    name, entry = rng.choice([m for m in model if len(m[1]["shape"]) == 2] or model)
    cases = []

    def add(label, change, must_fail):
        cases.append((label, with_outer(raw, change), must_fail))

    def relabel(dtype):
        return lambda o: o[name].__setitem__("dtype", dtype)

    add(f"dtype {name} F32 -> I32 (same size)", relabel("I32"), True)
    add(f"dtype {name} F32 -> U32 (same size)", relabel("U32"), True)
    add(f"dtype {name} F32 -> F16", relabel("F16"), True)
    add(f"dtype {name} F32 -> BOGUS", relabel("BOGUS"), True)
    if len(entry["shape"]) == 2 and entry["shape"][0] != entry["shape"][1]:
        add(f"shape {name} transposed", lambda o: o[name].__setitem__("shape", entry["shape"][::-1]), True)
    add(f"shape {name} [10**12]", lambda o: o[name].__setitem__("shape", [10**12]), True)
    add(f"shape {name} [-1]", lambda o: o[name].__setitem__("shape", [-1]), True)
    add(f"offsets {name} +4", lambda o: o[name].__setitem__("data_offsets", [v + 4 for v in entry["data_offsets"]]), True)
    add(f"offsets {name} beyond the file", lambda o: o[name].__setitem__("data_offsets", [0, 10**12]), True)
    add(f"entry {name} removed", lambda o: o.pop(name), True)
    add("entry model/extra added", lambda o: o.__setitem__("model/extra", {"dtype": "F32", "shape": [1],
                                                                          "data_offsets": [0, 4]}), True)
    add("no __metadata__", lambda o: o.pop("__metadata__"), False)
    add("__metadata__ genstudio is a number", lambda o: o["__metadata__"].__setitem__("genstudio", 12), False)
    add("__metadata__ is a list", lambda o: o.__setitem__("__metadata__", ["x"]), False)
    cases.append(("genstudio header not JSON", _genstudio_text(raw, "{not json"), False))
    cases.append(("genstudio header empty", _genstudio_text(raw, ""), False))
    cases.append(("outer header not JSON", join("{" + "x" * 20, data), False))
    cases.append(("outer header deep nesting", join("[" * 100_000 + "]" * 100_000, data), False))
    return cases


def _tensor_cases(raw: bytes, rng: random.Random) -> list[tuple[str, bytes, bool]]:
    """Byte-level damage: flips in each region, truncations, NaN/Inf poured into a weight."""
    n = struct.unpack("<Q", raw[:8])[0]
    model = [s for s in tensor_spans(raw, "model/") if s[1]["dtype"] == "F32" and s[3] > s[2]]
    cases = []
    for k in range(8):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(8, 8 + n)] ^= 1 << rng.randrange(8)
        cases.append((f"header byte flip #{k}", bytes(b), False))
    for k in range(8):
        b = bytearray(raw)
        name, _, start, end = rng.choice(tensor_spans(raw))
        at = rng.randrange(start, end)
        b[at] ^= 1 << rng.randrange(8)
        cases.append((f"tensor byte flip #{k} in {name}", bytes(b), True))
    for k, at in enumerate((0, 3, 7)):
        b = bytearray(raw)
        b[at] ^= 0xFF
        cases.append((f"length prefix byte {at} flipped", bytes(b), False))
    for cut in sorted({0, 1, 7, 8, 9, 8 + n // 2, 8 + n, 8 + n + 1, len(raw) // 2 + 3, len(raw) - 1}):
        cases.append((f"truncated to {cut} of {len(raw)} bytes", raw[:cut], True))
    for label, value in (("NaN", np.float32("nan")), ("+Inf", np.float32("inf")), ("1e30", np.float32(1e30))):
        name, _, start, end = rng.choice(model)
        values = np.full((end - start) // 4, value, dtype="<f4").tobytes()
        cases.append((f"raw {label} over {name}", raw[:start] + values + raw[end:], True))
    cases.append(("appended garbage", raw + b"\0garbage" * 100, False))
    # A format-1 label skips nothing a format-2 file carries: its digest must still be checked.
    downgraded = bytearray(with_header(raw, _set(["format_version"], 1)))
    name, _, start, end = rng.choice(tensor_spans(bytes(downgraded), "model/"))
    downgraded[rng.randrange(start, end)] ^= 0x40
    cases.append((f"format_version 1 (downgrade) and a byte flipped in {name}", bytes(downgraded), True))
    return cases


def _consistent_cases(path: Path, folder: Path) -> list[tuple[str, Path, bool]]:
    """Files a careful attacker (or a diverged run) writes, digest and all: NaN, Inf and huge weights,
    and a weight relabelled I32. The digest is recomputed with the loader's own function when the
    checkpoint format has one, so these test the checks on the values, not the checksum."""
    import safetensors.torch
    import torch

    from genstudio.core.io import checkpoints

    digest = getattr(checkpoints, "tensor_digest", None)
    raw = path.read_bytes()
    outer, _ = split(raw)
    header = json.loads(outer["__metadata__"]["genstudio"])
    name = max((n for n, e in outer.items() if n.startswith("model/") and e.get("dtype") == "F32"),
               key=lambda n: (int(np.prod(outer[n]["shape"])), n))          # the largest weight
    out = []
    for label, change in (("NaN", lambda t: torch.full_like(t, float("nan"))),
                          ("Inf", lambda t: torch.full_like(t, float("inf"))),
                          ("1e30", lambda t: torch.full_like(t, 1e30)),
                          ("I32", lambda t: t.view(torch.int32))):
        tensors = safetensors.torch.load(raw)
        tensors[name] = change(tensors[name])
        if digest is not None:
            header["content_sha256"] = digest(tensors)
        target = folder / f"{path.parent.name}-consistent-{label}.safetensors"
        target.write_bytes(safetensors.torch.save(tensors, metadata={"genstudio": json.dumps(header)}))
        # 1e30 is finite: only the generic check (weights and decodes finite) can judge such a file.
        out.append((f"{name} {'stored as' if label == 'I32' else 'filled with'} {label}, digest recomputed", target,
                    label != "1e30"))
    return out


class Payload:
    """Unpickling this creates `marker` (a folder): the proof that code from a file ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.makedirs, (self.marker, 0o755, True)


def _code_cases(folder: Path, markers: Path) -> list[tuple[str, Path, bool]]:
    """Pickles and torch.save archives carrying a payload, under checkpoint and generator names."""
    import torch

    out = []
    for k, (label, suffix, write) in enumerate([
        ("raw pickle", ".safetensors", lambda p, m: p.write_bytes(pickle.dumps({"w": Payload(m)}))),
        ("raw pickle", ".pt", lambda p, m: p.write_bytes(pickle.dumps({"w": Payload(m)}))),
        ("torch.save zip", ".safetensors", lambda p, m: torch.save({"w": Payload(m)}, p)),
        ("torch.save zip", ".pt", lambda p, m: torch.save({"w": Payload(m)}, p)),
        ("legacy torch.save", ".pth", lambda p, m: torch.save({"w": Payload(m)}, p, _use_new_zipfile_serialization=False)),
    ]):
        path = folder / f"payload-{k}{suffix}"
        write(path, str(markers / f"payload-{k}"))
        out.append((f"{label} with a payload, named {suffix}", path, True))
    return out


def _special_cases(folder: Path) -> list[tuple[str, Path, bool]]:
    """Not files at all: a FIFO, devices, a socket, a folder, a broken link, nothing."""
    out = []
    fifo = folder / "fifo.safetensors"
    os.mkfifo(fifo)
    out.append(("a FIFO named .safetensors", fifo, True))
    zero = folder / "zero.safetensors"
    zero.symlink_to("/dev/zero")
    out.append(("a link to /dev/zero", zero, True))
    out.append(("/dev/zero itself", Path("/dev/zero"), True))
    out.append(("/dev/null itself", Path("/dev/null"), True))
    sock = folder / "s.safetensors"
    _make_socket(sock)
    out.append(("a socket named .safetensors", sock, True))
    (folder / "dir.safetensors").mkdir()
    out.append(("a folder named .safetensors", folder / "dir.safetensors", True))
    (folder / "broken.safetensors").symlink_to(folder / "nowhere")
    out.append(("a broken link", folder / "broken.safetensors", True))
    (folder / "empty.safetensors").write_bytes(b"")
    out.append(("an empty file", folder / "empty.safetensors", True))
    out.append(("a missing file", folder / "absent.safetensors", True))
    out.append(_zip_bomb(folder / "bomb.pt2"))
    return out


def _zip_bomb(path: Path, mebibytes: int = 1536) -> tuple[str, Path, bool]:
    """A torch.export-shaped zip of about 1.5 MB whose models/model.json inflates to 1.5 GiB of spaces
    (more than the harness's memory budget): one deflate block of 1 MiB, full-flushed so that it does
    not depend on what came before, repeated. Written by hand: zipfile cannot store a ready stream."""
    spaces, crc = b" " * (1 << 20), 0
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = (packer.compress(spaces) + packer.flush(zlib.Z_FULL_FLUSH)) * mebibytes + b"\x03\x00"  # final block
    for _ in range(mebibytes):
        crc = zlib.crc32(spaces, crc)
    local, central = b"", b""
    for name, data, method, member_crc, size in [("bomb/archive_format", b"pt2", 0, zlib.crc32(b"pt2"), 3),
                                                 ("bomb/models/model.json", stream, 8, crc, mebibytes << 20)]:
        head = struct.pack("<5H3I2H", 20, 0, method, 0, 0, member_crc, len(data), size, len(name), 0)
        central += b"PK\x01\x02" + struct.pack("<H", 20) + head + struct.pack("<3H2I", 0, 0, 0, 0, len(local))
        central += name.encode()
        local += b"PK\x03\x04" + head + name.encode() + data
    path.write_bytes(local + central + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 2, 2, len(central), len(local), 0))
    return f"a zip bomb named .pt2 (models/model.json inflates to {mebibytes} MiB)", path, True


def checkpoint_cases(bases: dict[str, Path], folder: Path, markers: Path, seed: int = SEED) -> list[dict]:
    """The checkpoint corpus: every mutation of every base, written under `folder` (a few hundred files)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    cases = []

    def written(base, mutation, data, must_fail):
        path = folder / f"{len(cases):04d}-{base}.safetensors"
        path.write_bytes(data)
        cases.append({"path": str(path), "mutation": mutation, "base": base, "must_fail": must_fail})

    for base, path in bases.items():
        raw = path.read_bytes()
        cases.append({"path": str(path), "mutation": "none (the base checkpoint)", "base": base, "must_fail": False})
        for mutation, data, must_fail in (_header_cases(base, raw, rng) + _outer_cases(raw, rng)
                                          + _tensor_cases(raw, rng)):
            written(base, mutation, data, must_fail)
        for mutation, target, must_fail in _consistent_cases(path, folder):
            cases.append({"path": str(target), "mutation": mutation, "base": base, "must_fail": must_fail})
    for mutation, target, must_fail in _code_cases(folder, markers) + _special_cases(folder):
        cases.append({"path": str(target), "mutation": mutation, "base": "-", "must_fail": must_fail})
    for mutation, target, _ in pkl_cases(folder / "pkl"):
        cases.append({"path": str(target), "mutation": mutation, "base": "-", "must_fail": True})
    return cases


# --- StyleGAN2-ADA snapshot pickles ---------------------------------------------------------------

def legacy_blob(numel: int, count: int, payload: bytes) -> bytes:
    """One storage in torch's legacy layout (what `torch.storage._load_from_bytes` takes), its record
    declaring `numel` float32 elements and its count field `count`, followed by `payload`."""
    import io

    import torch

    out = io.BytesIO()
    for value in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(value, out, protocol=2)
    storage = object()

    class Record(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", numel) if obj is storage else None

    Record(out, protocol=2).dump(storage)
    pickle.dump(["0"], out, protocol=2)
    return out.getvalue() + struct.pack("<q", count) + payload


class Blob:
    """Pickles as `torch.storage._load_from_bytes(data)`."""

    def __init__(self, data: bytes):
        self.data = data

    def __reduce__(self):
        from torch.storage import _load_from_bytes

        return _load_from_bytes, (self.data,)


class View:
    """Pickles as a tensor over `storage` (a Blob) with the given offset, size and stride."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, {})

    def __reduce__(self):
        from torch._utils import _rebuild_tensor_v2

        return _rebuild_tensor_v2, self.args


class CraftedDtype:
    """numpy's dtype record for float64 whose BUILD state sets every flag, object ones included."""

    def __reduce__(self):
        return np.dtype, ("f8", False, True), (3, "<", None, None, None, -1, -1, 0x3F)


class Scalar:
    """Pickles as numpy's scalar rebuild of `payload` with `dtype`."""

    def __init__(self, dtype, payload: bytes):
        self.dtype, self.payload = dtype, payload

    def __reduce__(self):
        return np.float64(0).__reduce__()[0], (self.dtype, self.payload)


def self_holding_record() -> bytes:
    """A pickle (written opcode by opcode: pickle.dumps cannot) whose G_ema record holds itself as a
    child module: its `_modules` dict is memoised, and filled with the record after it is made."""
    def text(s: str) -> bytes:
        return b"X" + struct.pack("<I", len(s)) + s.encode()

    meta = (b"}(" + text("type") + text("class") + text("version") + b"J" + struct.pack("<i", 6)
            + text("class_name") + text("Generator") + text("module_src") + text("import torch\n")
            + text("state") + b"}(" + text("_modules") + b"}q\x01u" + b"u")
    return (b"\x80\x02}q\x00" + text("G_ema") + b"ctorch_utils.persistence\n_reconstruct_persistent_obj\n" + meta
            + b"\x85Rq\x02" + b"h\x01" + text("child") + b"h\x02s0" + b"s.")


def pkl_cases(folder: Path) -> list[tuple[str, Path, tuple[str, ...]]]:
    """StyleGAN2-ADA snapshots (tests/stylegan_snapshots.py) with a crafted tensor view, storage count,
    numpy dtype, module structure or declared length, each with the words its one-line refusal must hold."""
    from stylegan_snapshots import small_generator, write_snapshot

    four = Blob(legacy_blob(4, 4, bytes(16)))
    mutants = [
        # (mutation, G_ema's extra state, words of the refusal)
        ("view 50000 x 50000, stride 0", {"_buffers": {"x": View(four, 0, (50000, 50000), (0, 0))}},
         ("[50000, 50000]", "storage of 4 elements")),
        ("view 30000 x 30000, stride 0", {"_buffers": {"x": View(four, 0, (30000, 30000), (0, 0))}},
         ("[30000, 30000]", "storage of 4 elements")),
        ("view past its storage", {"_buffers": {"x": View(four, 3, (2,), (1,))}}, ("reaching past",)),
        ("storage count 2^62", {"_buffers": {"x": View(Blob(legacy_blob(1 << 62, 1 << 62, bytes(16))), 0, (4,),
                                                       (1,))}}, ("4,611,686,018,427,387,904 elements",)),
        ("storage count beyond its bytes", {"_buffers": {"x": View(Blob(legacy_blob(1 << 30, 1 << 30, bytes(16))),
                                                                   0, (4,), (1,))}}, ("1,073,741,824 elements",)),
        ("numpy dtype with object flags", {"weight_gain": Scalar(CraftedDtype(), bytes(8))},
         ("numpy dtype", "not numpy's own")),
        ("numpy object dtype", {"weight_gain": Scalar(np.dtype("O"), bytes(8))}, ("numpy dtype", "not plain numbers")),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    generator = small_generator(resolution=8)
    out = []
    for k, (mutation, extra, words) in enumerate(mutants):
        path = folder / f"network-snapshot-mutant-{k}.pkl"
        write_snapshot(path, generator, g_ema_extra=extra)
        out.append((f"StyleGAN pickle: {mutation}", path, words))
    cycle = folder / "network-snapshot-cycle.pkl"
    cycle.write_bytes(self_holding_record())
    out.append(("StyleGAN pickle: a record inside itself", cycle, ("a Record that holds itself",)))
    marked = folder / "network-snapshot-marked.pkl"
    write_snapshot(marked, generator, protocol=3, top_extra={"training_set_kwargs": "DEEP"})
    deep = folder / "network-snapshot-deep.pkl"          # {'x': [[[...]]]}, 100,000 lists deep
    text = b"X" + struct.pack("<I", 1) + b"x"
    deep.write_bytes(marked.read_bytes().replace(b"X" + struct.pack("<I", 4) + b"DEEP",
                                                 b"}" + text + b"]" * 100_000 + b"a" * 99_999 + b"s", 1))
    marked.unlink()
    out.append(("StyleGAN pickle: training settings 100,000 lists deep", deep, ("nested more than",)))
    huge = folder / "network-snapshot-huge-int.pkl"
    write_snapshot(huge, generator, g_ema_extra={"z_dim": 10**5000})
    out.append(("StyleGAN pickle: a 16,610-bit z_dim", huge, ("an integer of 16,610 bits",)))
    declared = folder / "network-snapshot-declared-1tib.pkl"
    declared.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + bytes(16) + b".")   # BINBYTES8, 16 held
    out.append(("StyleGAN pickle: a bytes value declaring 1 TiB", declared, ("1,099,511,627,776 bytes", "17 are left")))
    return out


# --- data files -----------------------------------------------------------------------------------

def idx_bytes(code: int, dims, payload: bytes = b"") -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims) + payload


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _gif_header_only(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b",\0\0\0\0" + struct.pack(
        "<HH", width, height) + b"\x00\x02\x02\x44\x01\x00;"


def _bmp_header_only(width: int, height: int) -> bytes:
    return (b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0,
                                                                          16, 2835, 2835, 0, 0) + b"\0" * 16)


def _image_bytes(fmt: str, size=(24, 20), mode="RGB", color=(200, 40, 40), **save) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new(mode, size, color)
    if mode == "RGB":                                  # some texture, so that compressed data is not trivial
        image.putdata([((x * 7) % 256, (y * 13) % 256, (x * y) % 256) for y in range(size[1]) for x in range(size[0])])
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def _make_socket(path: Path) -> None:
    """A UNIX socket file at `path`, bound from inside its folder (socket paths are limited to ~100 bytes)."""
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(path.name)          # the file stays after close: all the test needs
    finally:
        os.chdir(cwd)


def _make_sparse(path: Path, size: int = 2 << 30) -> None:
    with open(path, "wb") as handle:        # instantly, and without using the disk
        handle.truncate(size)


def data_cases(folder: Path, seed: int = SEED) -> list[dict]:
    """The data corpus: idx folders, image folders and specs, each in its own folder under `folder`."""
    from PIL import Image

    rng = random.Random(seed + 1)
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[dict] = []

    def case(slug: str, spec_for, mutation: str, must_fail: bool, expect: int | None = None,
             make=None, names: str | None = None) -> None:
        where = folder / f"{len(cases):03d}-{slug}"
        where.mkdir()
        if make is not None:
            make(where)
        cases.append({"spec": spec_for(where), "mutation": mutation, "must_fail": must_fail, "expect": expect,
                      "names": names or where.name})

    good_images = idx_bytes(0x08, [5, 28, 28], bytes(range(256)) * 15 + bytes(5 * 784 - 3840))
    good_labels = idx_bytes(0x08, [5], bytes([0, 1, 2, 3, 4]))

    def pair(images=good_images, labels=good_labels, prefix="t10k"):
        def make(where):
            for kind, content in (("images-idx3", images), ("labels-idx1", labels)):
                target = where / f"{prefix}-{kind}-ubyte"
                if callable(content):
                    content(target)
                elif content is not None:
                    target.write_bytes(content)
        return make

    idx_spec = lambda w: f"idx:{w}"                      # noqa: E731
    fifo = lambda p: os.mkfifo(p)                        # noqa: E731
    zero = lambda p: p.symlink_to("/dev/zero")           # noqa: E731

    # idx: well-formed, then broken every way the header and payload can be.
    case("idx-good", idx_spec, "valid idx pair", False, 5, pair())
    case("idx-good-gz", idx_spec, "valid gzip idx pair", False, 5,
         pair(gzip.compress(good_images), gzip.compress(good_labels)))
    case("idx-1x1", idx_spec, "1x1-pixel images", False, 5, pair(idx_bytes(0x08, [5, 1, 1], b"\1" * 5)))
    case("idx-flipped-pixels", idx_spec, "pixel bytes flipped (still valid data)", False, 5,
         pair(good_images[:100] + bytes(b ^ 0x55 for b in good_images[100:200]) + good_images[200:]))
    for slug, images, mutation in [
        ("idx-empty", b"", "empty images file"),
        ("idx-3-bytes", b"\0\0\x08", "3-byte images file"),
        ("idx-png", _image_bytes("PNG"), "a PNG named as idx"),
        ("idx-dtype", idx_bytes(0x07, [5, 28, 28]), "unknown dtype code"),
        ("idx-ndim0", idx_bytes(0x08, []), "0 dimensions"),
        ("idx-ndim255", bytes([0, 0, 8, 255]) + b"\0" * 40, "255 dimensions, header cut short"),
        ("idx-overflow3", idx_bytes(0x08, [2**22, 2**21, 2**21]), "dims overflow int64 to 0 (3 dims)"),
        ("idx-overflow4", idx_bytes(0x08, [2**16] * 4), "dims overflow int64 to 0 (4 dims)"),
        ("idx-max-dims", idx_bytes(0x08, [2**32 - 1] * 3), "dims 2^32-1 each"),
        ("idx-0x0", idx_bytes(0x08, [5, 0, 0]), "0x0 images"),
        ("idx-28x0", idx_bytes(0x08, [5, 28, 0]), "28x0 images"),
        ("idx-trunc1", good_images[:-1], "payload one byte short"),
        ("idx-half", good_images[: len(good_images) // 2], "payload cut in half"),
        ("idx-extra", good_images + b"\0" * 10, "payload 10 bytes long"),
        ("idx-gz-truncated", gzip.compress(good_images)[:60], "gzip stream cut short"),
        ("idx-gz-corrupt", (lambda g: g[:30] + bytes(b ^ 0xFF for b in g[30:60]) + g[60:])(gzip.compress(good_images)),
         "gzip data corrupted"),
        ("idx-gz-garbage", gzip.compress(b"not an idx file at all"), "gzip of garbage"),
        ("idx-gz-bomb", gzip.compress(good_images) + gzip.compress(b"\0" * (16 << 20), 9) * 64,
         "1 GiB of zeros in gzip members after the data"),
        ("idx-gz-huge-header", gzip.compress(idx_bytes(0x08, [2**32 - 1, 2**16, 2**16])), "gzip header declaring 16 EiB"),
        ("idx-int32", idx_bytes(0x0C, [5, 2, 2], b"\0" * 80), "int32 images"),
        ("idx-float", idx_bytes(0x0D, [5, 2, 2], b"\0" * 80), "float32 images"),
        ("idx-4d", idx_bytes(0x08, [5, 2, 2, 1], b"\0" * 20), "4-D images"),
    ]:
        case(slug, idx_spec, mutation, True, None, pair(images))
    case("idx-0-images", idx_spec, "0 images and 0 labels", True, None,
         pair(idx_bytes(0x08, [0, 28, 28]), idx_bytes(0x08, [0])))
    case("idx-labels-count", idx_spec, "6 labels for 5 images", True, None,
         pair(labels=idx_bytes(0x08, [6], bytes(6))))
    case("idx-labels-2d", idx_spec, "2-D labels", True, None, pair(labels=idx_bytes(0x08, [5, 1], bytes(5))))
    case("idx-labels-missing", idx_spec, "images without labels", True, None, pair(labels=None))
    case("idx-labels-empty", idx_spec, "empty labels file", True, None, pair(labels=b""))
    case("idx-images-fifo", idx_spec, "images file is a FIFO", True, None, pair(images=fifo))
    case("idx-labels-fifo", idx_spec, "labels file is a FIFO", True, None, pair(labels=fifo))
    case("idx-images-zero", idx_spec, "images file is a link to /dev/zero", True, None, pair(images=zero))
    case("idx-images-dir", idx_spec, "images 'file' is a folder", True, None, pair(images=lambda p: p.mkdir()))
    case("idx-images-broken-link", idx_spec, "images file is a broken link", True, None,
         pair(images=lambda p: p.symlink_to(p.parent / "nowhere")))
    case("idx-bare-fifo", str, "bare folder path whose idx images file is a FIFO", True, None, pair(images=fifo))
    case("idx-sizes-differ", idx_spec, "train 28x28 and test 14x14", True, None, lambda w: (
        pair()(w), pair(idx_bytes(0x08, [5, 14, 14], bytes(5 * 196)), prefix="train")(w)))
    case("idx-test-broken", idx_spec, "train fine, test truncated", True, None, lambda w: (
        pair(good_images[:-7])(w), pair(prefix="train")(w)))
    for k in range(10):                                 # seeded header damage
        b = bytearray(good_images)
        b[rng.randrange(0, 16)] ^= 1 << rng.randrange(8)
        case(f"idx-header-flip{k}", idx_spec, f"idx header byte flip #{k}", False, 5, pair(bytes(b)))
    for k in range(4):
        cut = rng.randrange(0, len(good_images))
        case(f"idx-cut{k}", idx_spec, f"idx images cut at {cut}", True, None, pair(good_images[:cut]))
    odd = os.fsdecode(b"d\xe9j\xe0")
    case("idx-non-utf8", lambda w: f"idx:{w / odd}", "valid idx pair in a non-UTF-8 folder", False, 5,
         lambda w: (w / odd).mkdir() or pair()(w / odd))
    case("idx-on-file", lambda w: f"idx:{w / 'f'}", "idx: names a file", True, None,
         lambda w: (w / "f").write_bytes(good_images))
    case("idx-on-fifo", lambda w: f"idx:{w / 'p'}", "idx: names a FIFO", True, None, lambda w: os.mkfifo(w / "p"))
    case("idx-on-dev-null", lambda w: "idx:/dev/null", "idx:/dev/null", True, None, names="/dev/null")

    # Image folders.
    png = _image_bytes("PNG")
    jpg = _image_bytes("JPEG", quality=90)
    small = lambda w, q="size=8&channels=1": f"folder:{w}?{q}"   # noqa: E731

    def files(mapping: dict):
        def make(where):
            for name, content in mapping.items():
                target = where / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if callable(content):
                    content(target)
                else:
                    target.write_bytes(content)
        return make

    case("img-good", small, "three valid PNGs", False, 3, files({"a.png": png, "b.png": png, "c.jpg": jpg}))
    case("img-labelled", lambda w: f"folder:{w}?size=8", "two classes of two", False, 4,
         files({"cat/a.png": png, "cat/b.jpg": jpg, "dog/c.png": png, "dog/d/e.png": png}))
    case("img-empty", small, "empty folder", True)
    case("img-hidden-only", small, "only hidden files", True, None, files({".a.png": png, ".x/b.png": png}))
    for slug, content, mutation in [
        ("img-text-png", b"hello, not a picture\n", "text named .png"),
        ("img-random-jpg", bytes(rng.randrange(256) for _ in range(3000)), "random bytes named .jpg"),
        ("img-zero-byte", b"", "zero-byte .png"),
        ("img-trunc-png", png[: len(png) // 2], "truncated PNG"),
        ("img-trunc-jpg", jpg[: len(jpg) // 2], "truncated JPEG"),
        ("img-bomb", _png_header_only(100_000, 100_000), "PNG header claiming 100000x100000"),
        ("img-over-bound", _png_header_only(9_500, 9_500), "PNG header claiming 9500x9500 (over our bound)"),
        ("img-under-bound", _png_header_only(9_000, 9_000), "PNG header claiming 9000x9000, no data"),
        ("img-zero-width", _png_header_only(0, 5), "PNG 0x5"),
        ("img-gif-huge", _gif_header_only(65535, 65535), "GIF claiming 65535x65535"),
        ("img-bmp-huge", _bmp_header_only(50_000, -50_000), "BMP claiming 50000x50000 top-down"),
        ("img-bmp-negative-width", _bmp_header_only(-5, 5), "BMP with negative width"),
        ("img-tiff-trunc", _image_bytes("TIFF")[:150], "truncated TIFF"),
    ]:
        name = "x.jpg" if "jpg" in slug else "x.gif" if "gif" in slug else "x.bmp" if "bmp" in slug else \
            "x.tif" if "tiff" in slug else "x.png"
        case(slug, small, mutation, True, None, files({name: content}))
        case(slug + "-plus-good", small, mutation + ", beside a good image", False, 1,
             files({name: content, "good.png": png}))
    for slug, make, mutation in [
        ("img-fifo", fifo, "FIFO named x.png"),
        ("img-zero", zero, "link to /dev/zero named x.png"),
        ("img-socket", _make_socket, "socket named x.png"),
        ("img-broken-link", lambda p: p.symlink_to(p.parent / "nowhere"), "broken link named x.png"),
        ("img-sparse-2g", _make_sparse, "2 GiB sparse file named x.png"),
    ]:
        case(slug, small, mutation, True, None, files({"x.png": make}))
        case(slug + "-plus-good", small, mutation + ", beside a good image", False, 1,
             files({"x.png": make, "good.png": png}))
    case("img-dir-named-png", small, "empty folder named d.png beside a good image", False, 1,
         files({"d.png/.keep": b"", "good.png": png}))
    case("img-non-utf8-file", small, "valid image with a non-UTF-8 name", False, 1,
         files({os.fsdecode(b"\xff\xfe.png"): png}))
    case("img-non-utf8-labels", lambda w: f"folder:{w}?size=8", "labels from non-UTF-8 folder names", False, 2,
         files({os.fsdecode(b"caf\xe9/a.png"): png, os.fsdecode(b"\xff/b.png"): png}))

    def modes(where):
        for name, mode, color in [("rgba.png", "RGBA", (1, 2, 3, 0)), ("la.png", "LA", (9, 100)),
                                  ("p.png", "P", 3), ("i16.png", "I;16", 40000), ("one.png", "1", 1),
                                  ("cmyk.jpg", "CMYK", (1, 2, 3, 4)), ("f.tif", "F", 3.5), ("i.tif", "I", -7)]:
            image = Image.new(mode, (10, 8), color)
            if mode == "P":
                image.info["transparency"] = 3
            image.save(where / name)
    case("img-modes", small, "RGBA, LA, P+transparency, I;16, 1-bit, CMYK, F and I images", False, 8, modes)

    def animated(where):
        frames = [Image.new("P", (12, 12), k) for k in range(3)]
        frames[0].save(where / "anim.gif", save_all=True, append_images=frames[1:])
    case("img-animated", small, "animated GIF", False, 1, animated)

    def exif(orientation):
        def make(where):
            image = Image.new("RGB", (16, 8), (10, 20, 30))
            data = image.getexif()
            data[0x0112] = orientation
            image.save(where / "e.jpg", exif=data)
        return make
    case("img-exif-rotated", small, "EXIF orientation 6", False, 1, exif(6))
    case("img-exif-bad", small, "EXIF orientation 99", False, 1, exif(99))
    case("img-exif-garbage", small, "JPEG with a garbage EXIF block", False, None,
         files({"e.jpg": jpg[:2] + b"\xff\xe1\x00\x40Exif\x00\x00" + bytes(rng.randrange(256) for _ in range(56))
                + jpg[2:]}))
    case("img-thin", small, "1x10000 image", False, 1, lambda w: Image.new("L", (1, 10000), 7).save(w / "t.png"))
    case("img-300-empty", small, "300 empty .png files", True, None, files({f"{k:03d}.png": b"" for k in range(300)}))
    for k in range(10):                                  # seeded damage of real files: load or skip, never crash
        b = bytearray(png if k < 6 else jpg)
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        case(f"img-flip{k}", small, f"{'PNG' if k < 6 else 'JPEG'} byte flips #{k}", False, None,
             files({"x.png" if k < 6 else "x.jpg": bytes(b)}))

    # Spec options and paths.
    three = files({"a.png": png, "b.png": png, "c.png": png})
    for query, must_fail, expect in [("size=0", True, None), ("size=-3", True, None), ("size=99999", True, None),
                                     ("size=16x0", True, None), ("size=abc", True, None), ("size=", True, None),
                                     ("channels=2", True, None), ("channels=0", True, None),
                                     ("channels=abc", True, None), ("channels=3.5", True, None),
                                     ("colour=1", True, None), ("size=8&size=9", False, 3), ("size=1", False, 3),
                                     ("size=8x1024&channels=1", False, 3), ("size=8?size=9", True, None)]:
        case("spec-" + "".join(c if c.isalnum() else "-" for c in query), lambda w, q=query: f"folder:{w}?{q}",
             f"folder option {query}", must_fail, expect, three)
    case("spec-empty-path", lambda w: "folder:?size=8", "folder: without a path", True, None, names="folder:")
    case("spec-missing", lambda w: f"folder:{w / 'absent'}", "folder: path missing", True)
    case("spec-file", lambda w: f"folder:{w / 'f.png'}", "folder: path is a file", True, None, files({"f.png": png}))
    case("spec-fifo", lambda w: f"folder:{w / 'p'}", "folder: path is a FIFO", True, None, lambda w: os.mkfifo(w / "p"))
    case("spec-dev-null", lambda w: "folder:/dev/null", "folder:/dev/null", True, None, names="/dev/null")
    case("spec-no-user", lambda w: "folder:~no_such_user_genstudio/x", "folder:~unknown-user", True, None,
         names="~no_such_user_genstudio")
    case("spec-nul", lambda w: f"folder:{w}/a\0b", "NUL byte in the path", True)
    case("spec-bare-fifo", lambda w: str(w / "p"), "bare path to a FIFO", True, None, lambda w: os.mkfifo(w / "p"))
    case("spec-bare-non-utf8", lambda w: str(w / os.fsdecode(b"\xff-absent")), "bare non-UTF-8 path, missing",
         True)
    # torchvision: files present but not what torchvision expects.
    def raw_mnist(content):
        def make(where):
            raw = where / "MNIST" / "raw"
            raw.mkdir(parents=True)
            for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                         "t10k-labels-idx1-ubyte"):
                content(raw / name)
        return make
    case("tv-garbage", lambda w: f"torchvision:mnist:{w}", "torchvision MNIST files of garbage", True, None,
         raw_mnist(lambda p: p.write_bytes(b"garbage")))
    case("tv-fifos", lambda w: f"torchvision:mnist:{w}", "torchvision MNIST files are FIFOs", True, None,
         raw_mnist(fifo))
    case("tv-truncated", lambda w: f"torchvision:mnist:{w}:test", "torchvision MNIST files truncated", True, None,
         raw_mnist(lambda p: p.write_bytes(good_images[:100] if "images" in p.name else good_labels[:9])))
    case("tv-cifar-garbage", lambda w: f"torchvision:cifar10:{w}", "CIFAR-10 batches of garbage", True, None,
         lambda w: [(w / "cifar-10-batches-py").mkdir()] + [
             (w / "cifar-10-batches-py" / n).write_bytes(pickle.dumps(["not", "cifar"]))
             for n in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
                       "batches.meta")])
    case("tv-unknown", lambda w: "torchvision:imagenet", "torchvision:imagenet", True, None, names="imagenet")
    return cases
