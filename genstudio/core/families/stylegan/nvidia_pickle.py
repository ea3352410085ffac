"""Parse NVIDIA stylegan2-ada-pytorch snapshots (`network-snapshot-*.pkl`) as data: nothing in the file
is imported or run. The file itself is read by core/io/stylegan_reader.py (this module parses its bytes).

Such a file is a plain pickle of {'G', 'D', 'G_ema', 'augment_pipe', 'training_set_kwargs'}. Every
network module in it is a "persistence record": a call of
`torch_utils.persistence._reconstruct_persistent_obj(meta)`, where meta holds the full source of the
Python module that defines the class (NVIDIA's loader executes it), the class name, and the module's
`__dict__` (its parameters, buffers and child records). Each tensor's storage is itself a nested
blob, `torch.storage._load_from_bytes(bytes)`, normally torch's legacy serialisation.

This reader's unpickler resolves only the handful of names such a file legitimately refers to, each
to a function here that builds plain data: a record becomes a `Record` (the source text is kept as
a string and never executed), a storage blob is parsed by hand into a flat tensor, a tensor is rebuilt from it with its offset and strides
checked. Any other name (a `__reduce__` payload such as `os.system`, a class to instantiate) stops
the read with one line naming what was found. The generator's weights are then matched by name to
genstudio's own implementation of the architecture (families/stylegan/generator.py), which checks
every name and shape before anything is loaded. Format notes: docs/stylegan.md.

Written here rather than with a library: the only reader of these files is NVIDIA's own, which
executes the embedded source by design.
"""

from __future__ import annotations

import ast
import hashlib
import io
import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genstudio.core.errors import CheckpointError

PERSISTENCE_VERSIONS = (4, 5, 6)
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
                  "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
                  "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
                  "BoolStorage": torch.bool}
STYLEGAN3_MARK = "Alias-Free Generative Adversarial Networks"


class UnsupportedPickle(CheckpointError):
    """The pickle is not a StyleGAN2-ADA snapshot this reader can take, or refers to code."""


@dataclass
class Record:
    """One persistence record: a module of class `class_name` with its `__dict__` as `state`."""

    class_name: str
    state: dict
    module_src: str = field(repr=False, default="")

    def child(self, name: str) -> "Record | None":
        value = self.state.get("_modules", {}).get(name)
        return value if isinstance(value, Record) else None

    def tensors(self, prefix: str = "") -> "OrderedDict[str, torch.Tensor]":
        """The state_dict this record's module would have: own parameters, own persistent buffers,
        then the children's, named as `Module.state_dict` names them."""
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        skipped = self.state.get("_non_persistent_buffers_set") or set()
        for group in ("_parameters", "_buffers"):
            for name, value in (self.state.get(group) or {}).items():
                if value is not None and not (group == "_buffers" and name in skipped):
                    if not isinstance(value, torch.Tensor):
                        raise UnsupportedPickle(f"{prefix}{name} is a {type(value).__name__}, not a tensor")
                    out[prefix + name] = value
        for name, value in (self.state.get("_modules") or {}).items():
            if isinstance(value, Record):
                out.update(value.tensors(f"{prefix}{name}."))
            elif value is not None:
                raise UnsupportedPickle(f"{prefix}{name} is a {type(value).__name__}, not a network module")
        return out

    def walk(self):
        yield self
        for value in (self.state.get("_modules") or {}).values():
            if isinstance(value, Record):
                yield from value.walk()


class EasyDict(dict):
    """Stands in for dnnlib.util.EasyDict (a dict with attribute access) in configuration values;
    a subclass, not dict itself, because pickle may BUILD it with an (empty) instance dict."""


class _Stop(Exception):
    """What the unpickler found that it will not resolve; becomes UnsupportedPickle with the path."""


def _record(meta) -> Record:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise _Stop("a persistence record that is not a class record")
    if meta.get("version") not in PERSISTENCE_VERSIONS:
        raise _Stop(f"a persistence record of version {meta.get('version')!r} (this reader knows "
                    f"{', '.join(map(str, PERSISTENCE_VERSIONS))})")
    name, state, source = meta.get("class_name"), meta.get("state"), meta.get("module_src")
    if not isinstance(name, str) or not isinstance(state, dict) or not isinstance(source, str):
        raise _Stop("a persistence record without a class name, state or source")
    return Record(name, state, source)


@dataclass(frozen=True)
class _Storage:
    """A flat tensor (numel,) from one storage blob."""

    data: torch.Tensor


def _legacy_storage(blob: bytes) -> _Storage:
    """torch's legacy (pre-zip) serialisation of one storage: five small pickles (magic number,
    protocol, system info, the storage as a persistent id, its key list), then for each key an
    8-byte little-endian element count and the raw little-endian elements."""
    stream = io.BytesIO(blob)
    found: list[tuple] = []

    class Header(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch" and name in STORAGE_DTYPES:
                return name
            raise _Stop(f"{module}.{name} inside a tensor blob")

        def persistent_load(self, pid):
            found.append(pid)
            return pid

    def load():
        return Header(stream).load()

    if load() != LEGACY_MAGIC or load() != LEGACY_PROTOCOL:
        raise _Stop("a tensor blob that is not torch's legacy storage format")
    info = load()
    if not isinstance(info, dict) or not info.get("little_endian", False):
        raise _Stop("a tensor blob written on a big-endian machine")
    load()
    keys = load()
    if len(found) != 1 or not isinstance(keys, list) or len(keys) != 1:
        raise _Stop("a tensor blob that holds something other than one storage")
    pid = found[0]
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and pid[1] in STORAGE_DTYPES
            and isinstance(pid[4], int) and pid[4] >= 0):
        raise _Stop("a tensor blob with an unexpected storage record")
    dtype, numel = STORAGE_DTYPES[pid[1]], pid[4]
    (count,) = struct.unpack("<q", stream.read(8).ljust(8, b"\0"))
    size = torch.empty((), dtype=dtype).element_size()
    raw = stream.read(count * size) if count == numel else b""
    if count != numel or len(raw) != numel * size:
        raise _Stop(f"a tensor blob cut short ({len(raw)} of {numel * size} bytes)")
    return _Storage(torch.frombuffer(bytearray(raw), dtype=dtype) if numel else torch.empty(0, dtype=dtype))


def _load_from_bytes(blob) -> _Storage:
    if not isinstance(blob, (bytes, bytearray)):
        raise _Stop("a tensor blob that is not bytes")
    if bytes(blob[:4]) == b"PK\x03\x04":
        raise _Stop("a tensor blob in torch's zip format, which StyleGAN2-ADA snapshots never hold")
    return _legacy_storage(bytes(blob))


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None) -> torch.Tensor:
    if not isinstance(storage, _Storage):
        raise _Stop("a tensor without a storage blob")
    ints = lambda v: isinstance(v, tuple) and all(isinstance(i, int) and not isinstance(i, bool) for i in v)  # noqa: E731
    if not (isinstance(offset, int) and ints(size) and ints(stride) and len(size) == len(stride)):
        raise _Stop("a tensor with a malformed shape")
    if offset < 0 or any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise _Stop("a tensor with a negative size, stride or offset")
    flat = storage.data
    if all(size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= len(flat):
            raise _Stop(f"a tensor of shape {list(size)} reaching past its storage of {len(flat)} elements")
    return torch.as_strided(flat, size, stride, offset).clone() if all(size) else torch.empty(size, dtype=flat.dtype)


def _rebuild_parameter(data, requires_grad=False, hooks=None, state=None) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise _Stop("a parameter that is not a tensor")
    return data


def _numpy_scalar(dtype, payload=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(payload, (bytes, bytearray)):
        raise _Stop("a numpy scalar that is not plain numbers")
    return np.frombuffer(payload, dtype=dtype, count=1)[0].item()


def _numpy_dtype(*args):
    if not args or not isinstance(args[0], str):
        raise _Stop("a numpy dtype that is not named")
    dtype = np.dtype(args[0], align=False, copy=True)       # a copy: BUILD then sets its state, not numpy's own
    if dtype.hasobject:
        raise _Stop("a numpy dtype of Python objects")
    return dtype


def _numpy_array(*args):
    """numpy's array rebuild (StyleGAN3 records keep small arrays); BUILD fills it from bytes."""
    return np.ndarray.__new__(np.ndarray, (0,), np.float64)


ALLOWED = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _record,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_array,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_array,
    ("numpy", "ndarray"): np.ndarray,
}


class SnapshotUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module.startswith("dnnlib.tflib") or module == "tfutil":
            raise UnsupportedPickle("a TensorFlow StyleGAN pickle (dnnlib.tflib Network objects): convert it to "
                                    "PyTorch with NVIDIA's stylegan2-ada-pytorch legacy.py first; genstudio does "
                                    "not run TensorFlow pickles")
        raise _Stop(f"it refers to {module}.{name}, which a StyleGAN2-ADA snapshot never does")

    def persistent_load(self, pid):
        raise _Stop("a persistent reference, which plain snapshot pickles never hold")


@dataclass
class Snapshot:
    """What a snapshot holds, as data: its networks' records by key and the training set's settings."""

    path: Path
    networks: dict[str, Record]
    training_set: dict
    sha256: str


def parse_snapshot(data: bytes, path: str | Path) -> Snapshot:
    """The contents of the snapshot file `path` holding `data`, without running anything from it;
    UnsupportedPickle (one line naming the file) for anything it will not read."""
    path = Path(path)
    digest = hashlib.sha256(data).hexdigest()
    try:
        top = SnapshotUnpickler(io.BytesIO(data)).load()
    except UnsupportedPickle as exc:
        raise UnsupportedPickle(f"{path}: {exc}; nothing from the file was run") from None
    except _Stop as exc:
        raise UnsupportedPickle(f"{path}: refused: {exc}; nothing from the file was run") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            MemoryError, RecursionError, struct.error) as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise UnsupportedPickle(f"{path}: not a readable pickle ({reason}); nothing from the file was run") from None
    if not isinstance(top, dict) or not any(isinstance(top.get(k), Record) for k in ("G_ema", "G")):
        raise UnsupportedPickle(f"{path}: a pickle without a generator (no 'G_ema' or 'G' network); not a "
                                f"StyleGAN2-ADA snapshot")
    networks = {k: v for k, v in top.items() if isinstance(k, str) and isinstance(v, Record)}
    training_set = top.get("training_set_kwargs")
    return Snapshot(path, networks, dict(training_set) if isinstance(training_set, dict) else {}, digest)


# What an embedded module source may do when imported. NVIDIA's loader executes each one as a module,
# so a source that does more than import the libraries such code uses, define classes and functions
# and bind constants is a file built to run something on the machine that opens it. The rules are
# strict enough that nothing a definition can trigger at import (a decorator, a base class's
# __init_subclass__, a default value) comes from the file itself.
IMPORTABLE_ROOTS = frozenset({"numpy", "torch", "torch_utils", "dnnlib", "scipy", "math", "copy", "typing",
                              "collections", "functools"})
DECORATORS = frozenset({"staticmethod", "classmethod", "property", "persistence.persistent_class",
                        "misc.profiled_function"})


def _dotted(node: ast.AST) -> str | None:
    """'a.b.c' for a name or attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _literal(node: ast.AST | None) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


class _ImportTimeCheck:
    def __init__(self, tree: ast.Module):
        self.imported: set[str] = set()       # names bound by imports of allowed libraries
        self.defined: set[str] = set()        # every other name the source binds
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.imported.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.defined.add(node.id)

    def _trusted(self, node: ast.AST, allowed: frozenset[str] | None = None) -> bool:
        """A dotted name rooted at an imported library (or a builtin) that the source never rebinds."""
        name = _dotted(node)
        if name is None:
            return False
        root = name.split(".")[0]
        if root in self.defined:
            return False
        if allowed is not None:
            return name in allowed and (root in self.imported or "." not in name)
        return root in self.imported or name == "object"

    def problem(self, body: list[ast.stmt]) -> ast.AST | None:
        for node in body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue                                                   # a docstring
            if isinstance(node, ast.Pass):
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                roots = [module] if module else [a.name for a in node.names]
                if (isinstance(node, ast.ImportFrom) and node.level) or \
                        any(r.split(".")[0] not in IMPORTABLE_ROOTS for r in roots):
                    return node
                continue
            if isinstance(node, ast.Assign | ast.AnnAssign):
                if node.value is not None and not _literal(node.value):
                    return node
                continue
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                return node
            bad = next((d for d in node.decorator_list if not self._trusted(d, DECORATORS)), None)
            if bad is not None:
                return bad
            if isinstance(node, ast.ClassDef):
                if node.keywords or any(not self._trusted(b) for b in node.bases):
                    return node
                inner = self.problem(node.body)                            # a class body runs at import
                if inner is not None:
                    return inner
            else:
                defaults = [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]
                bad = next((d for d in defaults if not _literal(d)), None)
                if bad is not None:
                    return bad
        return None


def source_problem(source: str) -> str | None:
    """Why an embedded module source would do something when imported, or None when it only imports
    the libraries such code uses and defines classes, functions and constants. Parsed, never run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "its embedded module source is not valid Python"
    node = _ImportTimeCheck(tree).problem(tree.body)
    if node is None:
        return None
    text = " ".join(ast.unparse(node).split())[:60]
    return f"its embedded module source runs code when imported (line {getattr(node, 'lineno', '?')}: {text})"
