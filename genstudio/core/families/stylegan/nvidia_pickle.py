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
a string and never executed), a storage blob is parsed by hand into a flat tensor, a tensor is
rebuilt from it with its size, strides and offset checked against the storage. Any other name (a
`__reduce__` payload such as `os.system`, a class to instantiate) stops the read with one line
naming what was found. The file is streamed, and every length, count and extent it declares is
checked against what it holds before anything is allocated, so memory stays within the file plus
its tensors. The generator's weights are then matched by name to genstudio's own implementation
of the architecture (families/stylegan/generator.py), which checks every name and shape before
anything is loaded. Format notes: docs/stylegan.md.

Written here rather than with a library: the only reader of these files is NVIDIA's own, which
executes the embedded source by design.
"""

from __future__ import annotations

import ast
import hashlib
import io
import math
import pickle
import struct
import warnings
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
MAX_MODULE_DEPTH = 32            # NVIDIA's deepest module path, G.synthesis.b1024.conv0.affine, is 4 below G


class UnsupportedPickle(CheckpointError):
    """The pickle is not a StyleGAN2-ADA snapshot this reader can take, or refers to code."""


@dataclass
class Record:
    """One persistence record: a module of class `class_name` with its `__dict__` as `state`."""

    class_name: str
    state: dict
    module_src: str = field(repr=False, default="")

    def child(self, name: str) -> "Record | None":
        value = self._mapping("_modules").get(name)
        return value if isinstance(value, Record) else None

    def _mapping(self, key: str) -> dict:
        value = self.state.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise UnsupportedPickle(f"its {self.class_name}.{key} is a {type(value).__name__}, not a dict")
        return value

    def _below(self, prefix: str = "", depth: int = 0, seen: set[int] | None = None):
        """(prefix, record) for this record and every one below it, parents first, as
        `Module.named_modules` orders them. pickle can make a record hold itself, or one record
        twice (each doubling the walk): a record reached twice, or nested deeper than
        MAX_MODULE_DEPTH, is refused."""
        seen = set() if seen is None else seen
        if id(self) in seen or depth > MAX_MODULE_DEPTH:
            where = prefix.rstrip(".") or self.class_name
            raise UnsupportedPickle(f"its module {where[:80]} is reached twice or nested more than "
                                    f"{MAX_MODULE_DEPTH} deep (a record inside itself?)")
        seen.add(id(self))
        yield prefix, self
        for name, value in self._mapping("_modules").items():
            if isinstance(value, Record):
                yield from value._below(f"{prefix}{name}.", depth + 1, seen)

    def tensors(self, prefix: str = "") -> "OrderedDict[str, torch.Tensor]":
        """The state_dict this record's module would have: own parameters, own persistent buffers,
        then the children's, named as `Module.state_dict` names them."""
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        for path, record in self._below(prefix):
            skipped = record.state.get("_non_persistent_buffers_set") or set()
            if not isinstance(skipped, (set, frozenset)):
                raise UnsupportedPickle(f"its {record.class_name}._non_persistent_buffers_set is not a set")
            for group in ("_parameters", "_buffers"):
                for name, value in record._mapping(group).items():
                    if value is not None and not (group == "_buffers" and name in skipped):
                        if not isinstance(value, torch.Tensor):
                            raise UnsupportedPickle(f"{path}{name!s:.80} is a {type(value).__name__}, not a tensor")
                        out[f"{path}{name}"] = value
            for name, value in record._mapping("_modules").items():
                if value is not None and not isinstance(value, Record):
                    raise UnsupportedPickle(f"{path}{name!s:.80} is a {type(value).__name__}, not a network module")
        return out

    def walk(self):
        """This record and every record below it, each once."""
        for _, record in self._below():
            yield record


class EasyDict(dict):
    """Stands in for dnnlib.util.EasyDict (a dict with attribute access) in configuration values;
    a subclass, not dict itself, because pickle may BUILD it with an (empty) instance dict."""


class _Stop(Exception):
    """What the unpickler found that it will not resolve; becomes UnsupportedPickle with the path."""


MAX_DIMS = 16                    # a tensor or array with more dimensions than this is not a network's
MAX_EXTENT = 1 << 62             # no size, stride, offset or count in a real file comes near this
MAX_NESTING = 100                # containers in a real snapshot nest about 16 deep (G_ema ... affine.weight)
MAX_INT_BITS = 1024              # repr() refuses integers of more than 4,300 digits (about 14,000 bits)


def _count(n: int) -> str:
    """`n` for a message, in digits up to 2^64 (a 10**5000 from a file must not reach str(int))."""
    return f"{n:,}" if n <= 1 << 64 else "more than 2^64"


class _BoundedFile:
    """read/readline over the rest of a binary file (`size` bytes from where it stands), refusing any
    request for more than is left before reading: the unpickler sizes its reads by the file's own
    length fields, and a read of n bytes reserves n bytes of memory before it reads any."""

    def __init__(self, handle, size: int):
        self.handle, self.left = handle, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else n
        if n > self.left:
            raise pickle.UnpicklingError(f"a value of {_count(n)} bytes where {_count(self.left)} are left")
        data = self.handle.read(n)
        self.left -= len(data)
        return data

    def readline(self) -> bytes:
        line = self.handle.readline(self.left)           # protocol 0's text opcodes; never past the end
        self.left -= len(line)
        return line


class _BoundedUnpickler(pickle._Unpickler):
    """Python's own unpickler (pickle.py) reading through a _BoundedFile. Not the C one: that reserves a
    bytes value's declared length before it reads, so a few bytes declaring 2^40 reserve 1 TiB."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, size: int | None = None):
        if size is None:
            here = file.tell()
            size = file.seek(0, io.SEEK_END) - here
            file.seek(here)
        super().__init__(_BoundedFile(file, size))

    def _load_bytearray8(self):
        raise _Stop("a bytearray (pickle protocol 5), which snapshots never hold")

    dispatch[pickle.BYTEARRAY8[0]] = _load_bytearray8


def _record(meta) -> Record:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise _Stop("a persistence record that is not a class record")
    if meta.get("version") not in PERSISTENCE_VERSIONS:
        raise _Stop(f"a persistence record of version {meta.get('version')!r:.40} (this reader knows "
                    f"{', '.join(map(str, PERSISTENCE_VERSIONS))})")
    name, state, source = meta.get("class_name"), meta.get("state"), meta.get("module_src")
    if not isinstance(name, str) or not isinstance(state, dict) or not isinstance(source, str):
        raise _Stop("a persistence record without a class name, state or source")
    return Record(name, state, source)


@dataclass(frozen=True)
class _Storage:
    """A flat tensor (numel,) over one storage blob's bytes (read-only: every tensor is cloned from it)."""

    data: torch.Tensor


def _legacy_storage(blob: bytes) -> _Storage:
    """torch's legacy (pre-zip) serialisation of one storage: five small pickles (magic number,
    protocol, system info, the storage as a persistent id, its key list), then for each key an
    8-byte little-endian element count and the raw little-endian elements. The count is checked
    against the bytes the blob holds before anything is made of them."""
    stream = io.BytesIO(blob)
    found: list[tuple] = []

    class Header(_BoundedUnpickler):
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
            and isinstance(pid[4], int) and not isinstance(pid[4], bool) and pid[4] >= 0):
        raise _Stop("a tensor blob with an unexpected storage record")
    dtype, numel = STORAGE_DTYPES[pid[1]], pid[4]
    (count,) = struct.unpack("<q", stream.read(8).ljust(8, b"\0"))
    size = torch.empty((), dtype=dtype).element_size()
    left = len(blob) - stream.tell()
    if count != numel or numel * size > left:
        raise _Stop(f"a tensor blob declaring {_count(numel)} elements of {size} bytes in {_count(left)} bytes")
    if not numel:
        return _Storage(torch.empty(0, dtype=dtype))
    with warnings.catch_warnings():             # "not writable": never written, every tensor is a clone
        warnings.simplefilter("ignore", UserWarning)
        return _Storage(torch.frombuffer(blob, dtype=dtype, count=numel, offset=stream.tell()))


def _load_from_bytes(blob) -> _Storage:
    if not isinstance(blob, (bytes, bytearray)):
        raise _Stop("a tensor blob that is not bytes")
    if bytes(blob[:4]) == b"PK\x03\x04":
        raise _Stop("a tensor blob in torch's zip format, which StyleGAN2-ADA snapshots never hold")
    return _legacy_storage(bytes(blob))


def _ints(values, low: int = 0) -> bool:
    return (isinstance(values, tuple) and len(values) <= MAX_DIMS
            and all(isinstance(i, int) and not isinstance(i, bool) and low <= i < MAX_EXTENT for i in values))


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None) -> torch.Tensor:
    """The tensor viewing `storage` from `offset` with `size` and `stride`, copied out of it; its extent
    is checked first, so the copy is never larger than the storage the file holds."""
    if not isinstance(storage, _Storage):
        raise _Stop("a tensor without a storage blob")
    if not (_ints((offset,)) and _ints(size) and _ints(stride) and len(size) == len(stride)):
        raise _Stop(f"a tensor with a malformed or negative shape, stride or offset (at most {MAX_DIMS} "
                    f"dimensions, each below 2^62)")
    flat, numel = storage.data, math.prod(size)
    if numel > len(flat):
        raise _Stop(f"a tensor of shape {list(size)} ({_count(numel)} elements) over a storage of "
                    f"{len(flat):,} elements")
    if numel and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= len(flat):
        raise _Stop(f"a tensor of shape {list(size)} reaching past its storage of {len(flat):,} elements")
    return torch.as_strided(flat, size, stride, offset).clone() if numel else torch.empty(size, dtype=flat.dtype)


def _rebuild_parameter(data, requires_grad=False, hooks=None, state=None) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise _Stop("a parameter that is not a tensor")
    return data


class _NumpyDtype:
    """A numpy dtype the file names, only plain numbers (bool, integer, float, complex). pickle's BUILD
    hands it a state tuple; that must be the dtype's own, since numpy trusts a state's flags (object
    flags set on a float dtype make numpy fail inside C)."""

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype

    def __setstate__(self, state):
        if state != self.dtype.__reduce__()[2]:
            raise _Stop(f"a numpy dtype {self.dtype.str} whose pickled state is not numpy's own for it")


class _NumpyArray:
    """A small numpy array (StyleGAN3 records keep some), as `array`; BUILD gives its shape, dtype and
    bytes, checked against each other before numpy sees them."""

    array: np.ndarray | None = None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5 and _ints(state[1]) and isinstance(state[2], _NumpyDtype)
                and isinstance(state[3], bool) and isinstance(state[4], bytes)):
            raise _Stop("a numpy array whose pickled state is not shape, dtype and bytes")
        shape, dtype, fortran, raw = state[1:]
        if math.prod(shape) * dtype.dtype.itemsize != len(raw):
            raise _Stop(f"a numpy array of shape {list(shape)} with {len(raw):,} bytes of data")
        self.array = np.frombuffer(raw, dtype=dtype.dtype).reshape(shape, order="F" if fortran else "C").copy()


def _numpy_dtype(*args) -> _NumpyDtype:
    if not args or not isinstance(args[0], str) or len(args[0]) > 16:
        raise _Stop("a numpy dtype that is not named")
    dtype = np.dtype(args[0])
    if dtype.kind not in "biufc" or dtype.subdtype is not None or dtype.names is not None:
        raise _Stop(f"a numpy dtype {args[0]!r} that is not plain numbers")
    return _NumpyDtype(dtype)


def _numpy_scalar(dtype, payload=None):
    if not isinstance(dtype, _NumpyDtype) or not isinstance(payload, bytes) or len(payload) != dtype.dtype.itemsize:
        raise _Stop("a numpy scalar that is not plain numbers")
    return np.frombuffer(payload, dtype=dtype.dtype, count=1)[0].item()


class _NumpyArrayClass:
    """What the file's `numpy.ndarray` resolves to: only an argument of numpy's array rebuild."""


def _numpy_array(cls=None, *args) -> _NumpyArray:
    """numpy's array rebuild; BUILD then fills it from bytes."""
    if cls is not _NumpyArrayClass:
        raise _Stop("a numpy array rebuild of something other than an ndarray")
    return _NumpyArray()


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
    ("numpy", "ndarray"): _NumpyArrayClass,
}


class SnapshotUnpickler(_BoundedUnpickler):
    """Reads a snapshot's pickle from a binary file (its next `size` bytes, or the rest of it)."""

    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module.startswith("dnnlib.tflib") or module == "tfutil":
            raise UnsupportedPickle("a TensorFlow StyleGAN pickle (dnnlib.tflib Network objects): convert it to "
                                    "PyTorch with NVIDIA's stylegan2-ada-pytorch legacy.py first; genstudio does "
                                    "not run TensorFlow pickles")
        raise _Stop(f"it refers to {module:.80}.{name:.80}, which a StyleGAN2-ADA snapshot never does")

    def persistent_load(self, pid):
        raise _Stop("a persistent reference, which plain snapshot pickles never hold")


def _contents(obj) -> list | None:
    """What a container the unpickler built holds (None for anything that is not a container)."""
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, Record):
        return [obj.state]
    return None


def _check_plain(top) -> None:
    """Refuse what pickle can build but nothing after it can take: containers nested more than
    MAX_NESTING deep or holding themselves (repr, json and the card recurse through them) and
    integers too long to print. Walked with an explicit stack, each container once."""
    height: dict[int, int] = {}          # id -> levels of containers from it down, once known
    open_: set[int] = set()              # containers on the path being walked
    stack = [(top, False)]
    while stack:
        obj, finished = stack.pop()
        contents = _contents(obj)
        if contents is None:
            if isinstance(obj, int) and obj.bit_length() > MAX_INT_BITS:
                raise _Stop(f"an integer of {obj.bit_length():,} bits")
            continue
        key = id(obj)
        if finished:
            open_.discard(key)
            height[key] = 1 + max((height.get(id(c), 0) for c in contents), default=0)
            if height[key] > MAX_NESTING:
                raise _Stop(f"containers nested more than {MAX_NESTING} deep")
        elif key in open_:
            raise _Stop(f"a {type(obj).__name__} that holds itself")
        elif key not in height:
            open_.add(key)
            stack.append((obj, True))
            stack.extend((c, False) for c in contents)


@dataclass
class Snapshot:
    """What a snapshot holds, as data: its networks' records by key and the training set's settings."""

    path: Path
    networks: dict[str, Record]
    training_set: dict
    sha256: str


def _sha256(handle, size: int) -> str:
    """The digest of the file's first `size` bytes, read in 1 MiB pieces; the file is left at its start."""
    digest, left = hashlib.sha256(), size
    while left:
        chunk = handle.read(min(left, 1 << 20))
        if not chunk:
            break
        digest.update(chunk)
        left -= len(chunk)
    handle.seek(0)
    return digest.hexdigest()


def parse_snapshot(handle, size: int, path: str | Path) -> Snapshot:
    """The contents of the snapshot file `path`, open as the binary `handle` and `size` bytes long,
    without running anything from it and never holding more than the file and its tensors;
    UnsupportedPickle (one line naming the file) for anything it will not read."""
    path = Path(path)
    digest = _sha256(handle, size)
    try:
        top = SnapshotUnpickler(handle, size).load()
        _check_plain(top)
    except UnsupportedPickle as exc:
        raise UnsupportedPickle(f"{path}: {exc}; nothing from the file was run") from None
    except _Stop as exc:
        raise UnsupportedPickle(f"{path}: refused: {exc}; nothing from the file was run") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            OverflowError, MemoryError, RecursionError, struct.error) as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise UnsupportedPickle(f"{path}: not a readable pickle ({reason}); nothing from the file was run") from None
    if not isinstance(top, dict) or not any(isinstance(top.get(k), Record) for k in ("G_ema", "G")):
        raise UnsupportedPickle(f"{path}: a pickle without a generator (no 'G_ema' or 'G' network); not a "
                                f"StyleGAN2-ADA snapshot")
    networks = {k: v for k, v in top.items() if isinstance(k, str) and isinstance(v, Record)}
    training_set = top.get("training_set_kwargs")
    return Snapshot(path, networks, dict(training_set) if isinstance(training_set, dict) else {}, digest)


# What an embedded module source may do. NVIDIA's loader executes each one as a module, then makes
# the named class's object with `__new__`, subclasses the class (persistent_class) and calls its
# `__setstate__`; so the source is accepted only when all of that runs nothing the file wrote. It is
# checked against an allow-list of statement and expression kinds, not a list of bad ones, so a
# construct this check never thought of (an annotation, an assignment's subscript, a decorator, a
# default, a base class) is refused rather than passed:
# - at module level: a docstring, `pass`, imports of the libraries such code uses (absolute,
#   not `*`), functions and classes, `NAME = constant`;
# - in a class body: the same without imports;
# - a function: decorated only by DECORATORS, defaults only constants, no annotations; its body is
#   not looked at, as it runs only when called (a caller's business, never genstudio's);
# - a class: decorated only by DECORATORS, based only on library classes or `object`, no keywords
#   (a metaclass), and no method among LOAD_TIME_METHODS;
# - a constant: numbers, strings, bytes, True/False/None, signed numbers, and tuples, lists, sets
#   and dicts of constants.
IMPORTABLE_ROOTS = frozenset({"numpy", "torch", "torch_utils", "dnnlib", "scipy", "math", "copy", "typing",
                              "collections", "functools"})
DECORATORS = frozenset({"staticmethod", "classmethod", "property", "torch_utils.persistence.persistent_class",
                        "torch_utils.misc.profiled_function"})
LOAD_TIME_METHODS = frozenset({"__new__", "__init_subclass__", "__setstate__", "__getattribute__", "__getattr__",
                               "__setattr__", "__set_name__", "__class_getitem__", "__del__", "__reduce__",
                               "__reduce_ex__", "__getstate__", "__instancecheck__", "__subclasscheck__"})
MAX_CONSTANT_DEPTH = 20


class _SourceCheck:
    """The first node of a module's source that would run something when the module is imported or
    one of its classes is reconstructed, or None."""

    def __init__(self, tree: ast.Module):
        self.origin: dict[str, str] = {}        # name bound by an import -> what it names ('torch_utils.misc')
        self.rebound: set[str] = set()          # names the source binds otherwise (functions, classes, constants)
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    self.origin[bound] = alias.name if alias.asname else bound
            elif isinstance(node, ast.ImportFrom) and node.module:
                self.origin.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        for node in ast.walk(tree):             # class-body and nested bindings shadow too, to be strict
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.rebound.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.rebound.add(node.id)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                self.rebound.update(node.names)

    def resolved(self, node: ast.AST) -> str | None:
        """'torch.nn.Module' for `torch.nn.Module` when `torch` was imported and never rebound; a
        builtin's own name; else None."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id in self.rebound:
            return None
        root = self.origin.get(node.id, node.id if not parts else None)
        return ".".join([root, *reversed(parts)]) if root else None

    def statements(self, body: list[ast.stmt], in_class: bool = False) -> ast.AST | None:
        for node in body:
            bad = self.statement(node, in_class)
            if bad is not None:
                return bad
        return None

    def statement(self, node: ast.stmt, in_class: bool) -> ast.AST | None:
        if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                                          and isinstance(node.value.value, str)):
            return None                                                    # pass, a docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not in_class:
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            relative = isinstance(node, ast.ImportFrom) and node.level
            star = any(a.name == "*" for a in node.names)
            ok = not relative and not star and all(n.split(".")[0] in IMPORTABLE_ROOTS for n in names)
            return None if ok else node
        if isinstance(node, ast.Assign):
            if all(isinstance(t, ast.Name) for t in node.targets) and _constant(node.value):
                return None
            return node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return self.function(node, in_class)
        if isinstance(node, ast.ClassDef):
            return self.class_(node)
        return node                                # anything else: an annotation, a call, an `if`, a `with`, ...

    def decorators(self, node) -> ast.AST | None:
        return next((d for d in node.decorator_list if self.resolved(d) not in DECORATORS), None)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> ast.AST | None:
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, (args.vararg, args.kwarg))]
        if (in_class and node.name in LOAD_TIME_METHODS) or node.returns is not None or \
                getattr(node, "type_params", None) or any(a.annotation is not None for a in every):
            return node
        bad = self.decorators(node)
        if bad is not None:
            return bad
        return next((d for d in [*args.defaults, *args.kw_defaults] if d is not None and not _constant(d)), None)

    def class_(self, node: ast.ClassDef) -> ast.AST | None:
        if node.keywords or getattr(node, "type_params", None):
            return node
        bad = self.decorators(node)
        if bad is not None:
            return bad
        for base in node.bases:
            name = self.resolved(base)
            if name != "object" and (name is None or name.split(".")[0] not in IMPORTABLE_ROOTS):
                return base
        return self.statements(node.body, in_class=True)                   # a class body runs at import


def _constant(node: ast.AST, depth: int = 0) -> bool:
    """A number, string, bytes, True/False/None, a signed number, or a tuple, list, set or dict of these."""
    if depth > MAX_CONSTANT_DEPTH:
        return False
    if isinstance(node, ast.Constant):
        return node.value is not Ellipsis
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float, complex)) \
            and not isinstance(node.operand.value, bool)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_constant(e, depth + 1) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _constant(k, depth + 1) for k in node.keys) and \
            all(_constant(v, depth + 1) for v in node.values)
    return False


def source_problem(source: str) -> str | None:
    """Why an embedded module source would do something when imported (or when NVIDIA's loader
    rebuilds one of its classes), or None when it only imports the libraries such code uses and
    defines classes, functions and constants. Parsed, never run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "its embedded module source is not valid Python"
    node = _SourceCheck(tree).statements(tree.body)
    if node is None:
        return None
    try:
        text = " ".join(ast.unparse(node).split())[:60]
    except (RecursionError, ValueError):
        text = type(node).__name__
    return (f"its embedded module source runs code when imported or rebuilt (line {getattr(node, 'lineno', '?')}: "
            f"{text})")
