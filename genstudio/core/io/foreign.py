"""A user's own generator, saved with TorchScript or torch.export, explored like our own models.

Such a file is a program from its author: it runs on this computer when it is opened. So it opens
only with the person's consent (`Consent`, below: `--trust-code` on the command line, the app's
dialog, or a fingerprint the app remembers), and only when its name and content agree:

    TorchScript (`torch.jit.save`)     .pt  .pth  .ts    a zip with <root>/code/ and <root>/data.pkl
    torch.export (`torch.export.save`) .pt2              a zip with <root>/archive_format = "pt2"

Any other zip (a `.zip`, a `torch.save` pickle named .pt, a zip named .safetensors or .ckpt) is
refused: an extension that hides what a file is would let a program pass as data. The file's bytes
are read once; the fingerprint the person approves (SHA-256) and the bytes torch loads are the same.

The file alone does not say its latent size or output range; they come from the caller or from a
sidecar `<file>.json`:
    {"latent_dim": 100, "output_range": [-1, 1], "name": "my DCGAN"}

What torch 2.14's `torch.export.load` does with an archive (torch/export/__init__.py `load`,
torch/export/pt2_archive/_package.py `load_pt2`, torch/_export/serde/serialize.py), and where a
crafted archive runs code (each of the first five was reproduced with a marker file):
  - `data/sample_inputs/<model>.pt` is a torch.save pickle; `deserialize_torch_artifact` tries
    `torch.load(weights_only=True)` and, when that fails, falls back to `weights_only=False`: full
    unpickling, so a `__reduce__` payload runs.
  - `data/weights/<model>_weights_config.json` and `data/constants/<model>_constants_config.json`
    list each tensor with `use_pickle`; a true one is read with `torch.load(weights_only=False)`
    (`_load_state_dict`, `_load_constants`). Constants named `opaque_obj_*` go to `pickle.loads`,
    `custom_obj_*` to `torch._C._pickle_load_obj` (TorchScript's unpickler). Legacy members
    `data/weights/<model>.pt` and `data/constants/<model>.pt` are unpickled with the same fallback.
  - `models/<model>.json` holds symbolic sizes as strings (`expr_str`) that the deserializer passes
    to `sympy.sympify`, which evaluates them with Python's `eval`: JSON alone is enough to run code.
  - `models/<model>.json`'s `guards_code` strings are compiled with `exec` into a guard function by
    `ExportedProgram.module()` (torch/export/_unlift.py `_convert_guards_code_to_fn`) and run on
    every call.
  - `data/aotinductor/<model>/` makes `load_pt2` load a compiled shared library (native code).
  - the old (torch <= 2.7) layout, top-level `serialized_*.pt` members, is unpickled with the same fallback.
  - `extra/*` members are only decoded as UTF-8 text, never unpickled.
  - The graph itself can call only what torch's verifier admits (registered operators, higher-order
    operators, a short list of builtins): the author's program, run with consent.

Before anything else, the archive's size is bounded (`_check_members`): a zip member may declare
that it inflates to gigabytes (a 3.6 MB file whose models/model.json is 3.5 GiB), and torch's
loaders inflate every member into memory. So the members' declared sizes must add up to what this
process can spare, and each member genstudio reads itself is streamed with a byte cap
(`_read_member`): refused when its declared size is over the cap, and when the inflated stream
passes it (declared sizes can lie; Python's zipfile also stops at the declared size and then fails
the CRC check). Such a file is refused as an error, before consent is asked.

So genstudio, before asking for consent, reads an export archive without running anything and
refuses it unless: every member is one that `torch.export.save` writes for one model named "model"
(no aotinductor, executorch or legacy members; no two names that differ only in case, which
Python's zipfile and torch's reader could resolve differently); no weight or constant has
`use_pickle` (so no custom or opaque objects); every `expr_str` is a plain sympy `srepr` expression
(`_check_sym_expr`: calls of known sympy classes on numbers and symbol names, nothing else, of a
bounded number of nodes and nesting depth, with powers that do not nest and whose exponents are
small numbers or symbols, so no tower like Pow(Pow(Pow(64, 64), 64), 64) reaches sympy); and
the sample inputs load with `torch.load(weights_only=True)`, so torch's own first try succeeds and
never falls back. After consent it loads from the same bytes and builds the module with
`module(check_guards=False)`, so `guards_code` is never compiled. A TorchScript file is TorchScript
code by design (`torch.jit.load`): consent is the guard there.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import logging
import math
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from genstudio.core.errors import CheckpointError, first_line
from genstudio.core.families.config import ModelConfig
from genstudio.core.io.file_checks import read_regular_file
from genstudio.core.io.model_card import FOREIGN, DataDescription, ModelCard
from genstudio.core.runtime.memory_budget import budget_bytes, format_bytes

log = logging.getLogger(__name__)

TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts")
EXPORT_SUFFIXES = (".pt2",)
FOREIGN_SUFFIXES = TORCHSCRIPT_SUFFIXES + EXPORT_SUFFIXES
KIND_LABELS = {"torchscript": "TorchScript", "export": "torch.export"}
HOW_TO_ALLOW = "--trust-code on the command line, or Run once / Always trust this file in the app"


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def is_foreign_name(path: str | Path) -> bool:
    """Named as a TorchScript / torch.export file: such a file only ever opens as a foreign generator."""
    return Path(path).suffix.lower() in FOREIGN_SUFFIXES


@dataclass(frozen=True)
class ForeignFile:
    """A foreign generator file as read, before anything in it has run: what consent is asked for."""

    path: Path
    kind: str                       # "torchscript" or "export"
    sha256: str                     # of `data`: the fingerprint the app remembers
    size: int
    entries: tuple[str, ...]
    problem: str | None = None      # why genstudio refuses to load it, or None
    data: bytes = field(default=b"", repr=False, compare=False)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def describe(self) -> dict:
        """Plain data for `genstudio info` and logs."""
        return {"file": str(self.path), "kind": self.kind, "label": self.label, "sha256": self.sha256,
                "size": self.size, "entries": list(self.entries), "refused": self.problem}


# Consent: given the file as read, may its code run? The CLI, the app and the tests share this.
Consent = Callable[[ForeignFile], bool]


def trust_code(file: ForeignFile) -> bool:
    """`--trust-code`: the person said, for this command, that the file may run."""
    return True


def trust_fingerprint(sha256: str) -> Consent:
    """Consent to exactly these bytes: a file changed since the person said yes is asked about again."""
    return lambda file: file.sha256 == sha256


class ConsentRefused(CheckpointError):
    """The file is a program and running it was not allowed (no consent given, or consent declined)."""


# --- what a file is ------------------------------------------------------------------------------
def _content_kind(path: Path, names: list[str]) -> str:
    """'torchscript' or 'export' from the archive's members, or a one-line refusal."""
    roots = {n.split("/", 1)[0] for n in names}
    if any(n.split("/", 1)[0] == "serialized_exported_program.json" for n in names):
        raise CheckpointError(f"{path}: a torch.export archive in the old (torch <= 2.7) layout, whose weights torch "
                              "unpickles with code allowed; re-save it with torch.export.save from torch >= 2.8")
    if len(roots) != 1 or any("/" not in n for n in names):
        raise CheckpointError(f"{path}: a zip archive that is neither TorchScript nor torch.export "
                              "(its members are not under one folder)")
    root = roots.pop()
    members = {n[len(root) + 1:] for n in names}
    if "archive_format" in members:
        return "export"
    if "data.pkl" in members and any(m.startswith("code/") for m in members):
        return "torchscript"
    if "data.pkl" in members:
        raise CheckpointError(f"{path}: a torch.save pickle, not a TorchScript or torch.export file: "
                              "genstudio never unpickles files")
    raise CheckpointError(f"{path}: a zip archive that is neither TorchScript nor torch.export")


# --- how much an archive may inflate to ----------------------------------------------------------
MAX_MEMBERS = 100_000               # one per tensor and code file; a generator has hundreds
MAX_JSON_MEMBER = 64 << 20          # models/model.json and the payload configs, parsed here as JSON
MAX_SMALL_MEMBER = 1 << 10          # archive_format and its like: a few bytes
_CHUNK = 1 << 20


def _check_members(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse an archive whose members declare more inflated bytes, all together, than this process
    can spare: torch inflates each member it loads into memory, so a zip bomb stops here."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise CheckpointError(f"{path}: a zip archive of {len(infos):,} members, more than the {MAX_MEMBERS:,} "
                              "a TorchScript or torch.export generator has")
    declared = sum(info.file_size for info in infos)
    budget = budget_bytes()
    if declared > budget:
        biggest = max(infos, key=lambda info: info.file_size)
        raise CheckpointError(f"{path}: its members would inflate to {format_bytes(declared)} (the largest, "
                              f"{biggest.filename[:80]!r}, to {format_bytes(biggest.file_size)}) from "
                              f"{format_bytes(sum(i.compress_size for i in infos))} compressed; this process can "
                              f"spare {format_bytes(budget)} (a zip bomb?)")


def _read_member(path: Path, archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """A member's inflated bytes, streamed and never more than `cap` of them: refused when its
    declared size is over `cap` (before reading) and when the inflated stream passes `cap` (while
    reading: a declared size can lie). KeyError when the archive has no such member."""
    info = archive.getinfo(name)
    member = name.split("/", 1)[-1][:80]

    def too_big(size: str) -> CheckpointError:
        return CheckpointError(f"{path}: its {member} inflates to {size}: more than the {format_bytes(cap)} "
                               f"genstudio reads of it (from {format_bytes(info.compress_size)} compressed: "
                               "a zip bomb?)")

    if info.file_size > cap:
        raise too_big(format_bytes(info.file_size))
    chunks, total = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(min(_CHUNK, cap + 1 - total)):
                total += len(chunk)
                if total > cap:
                    raise too_big("more than it declares")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        # a damaged stream, a CRC that does not match (a declared size that lied), encryption
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise CheckpointError(f"{path}: its {member} cannot be inflated ({first})") from None
    return b"".join(chunks)


def _kind_of(path: Path, data: bytes) -> tuple[str, list[str]]:
    """The kind, from the content, checked against the extension; and the member names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_members(path, archive)
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise CheckpointError(f"{path}: not a TorchScript or torch.export file (not a zip archive)") from None
    kind = _content_kind(path, names)
    suffix = path.suffix.lower()
    expected = TORCHSCRIPT_SUFFIXES if kind == "torchscript" else EXPORT_SUFFIXES
    if suffix not in expected:
        raise CheckpointError(f"{path}: a {KIND_LABELS[kind]} archive named {suffix or 'without an extension'}: "
                              f"name it {' or '.join(expected)} (a file's name and content must agree)")
    return kind, names


# --- torch.export archives: what may be in them --------------------------------------------------
# Every member torch.export.save writes for the one model torch.export.load returns ("model").
_EXPORT_MEMBER = re.compile(r"""(archive_format|archive_version|byteorder|\.data/version|\.data/serialization_id
    |models/model\.json|data/sample_inputs/model\.pt
    |data/weights/model_weights_config\.json|data/weights/weight_[0-9]+
    |data/constants/model_constants_config\.json|data/constants/tensor_[0-9]+
    |extra/[^/].*)""", re.X)

# The sympy names srepr writes for torch's symbolic sizes, and torch's own sympy functions
# (the deserializer's `sympy_functions`). Anything else could name eval, exec, open, lambdify...
_SYM_CALLS = frozenset("""Symbol Integer Rational Float Add Mul Pow Mod Max Min Abs floor ceiling
    Equality Unequality StrictLessThan LessThan StrictGreaterThan GreaterThan And Or Not
    Piecewise ExprCondPair FloorDiv ModularIndexing Where PythonMod CleanDiv CeilToInt FloorToInt
    CeilDiv LShift RShift PowByNatural FloatPow FloatTrueDiv IntTrueDiv
    IsNonOverlappingAndDenseIndicator TruncToFloat TruncToInt RoundToInt RoundDecimal ToFloat
    Identity""".split())
_SYM_NAMES = frozenset({"oo", "zoo", "nan", "true", "false", "int_oo"})
# Unknown functions sympy makes up on the spot (torch names them OpaqueUnaryFn_exp, BitwiseFn_...).
_SYM_MADE_UP = re.compile(r"(OpaqueUnaryFn|BitwiseFn)_[a-z0-9_]+")
_SYM_STRING = re.compile(r"[A-Za-z][A-Za-z0-9_]*|[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?")
# Exponents and shifts by large literals would make sympy compute huge numbers while loading.
_SYM_POWERS = frozenset({"Pow", "PowByNatural", "FloatPow", "LShift"})
_MAX_EXPR = 10_000
# srepr expressions torch writes have tens of nodes and a few levels; bounded so neither sympy's
# parser nor its evaluation (recursive, in Python) can be made to work without end.
_MAX_EXPR_NODES = 2_000
_MAX_EXPR_DEPTH = 32
_SYM_NUMBERS = frozenset({"Integer", "Float", "Rational"})


def _call_name(node: ast.AST) -> str | None:
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None


def _small_number(node: ast.AST) -> bool:
    """A literal of at most 64 in size, bare or as Integer(...), Float(...) or Rational(p, q)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if _call_name(node) in _SYM_NUMBERS:           # srepr writes Float('0.5', precision=53)
        return bool(node.args) and all(_small_number(arg) for arg in node.args)
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return False
    value = node.value
    if isinstance(value, str):
        try:
            value = float(value) if len(value) <= 64 else math.inf
        except ValueError:
            return False
    return isinstance(value, (int, float)) and abs(value) <= 64


def _plain_exponent(node: ast.AST) -> bool:
    """What a power may be raised to: a small number or a symbol (sympy keeps x**s0 as it is), never
    an expression sympy would work out first (Pow(64, Mul(64, 64, 64, 64, 64)) is 2^(6 * 2^30))."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return _small_number(node) or _call_name(node) == "Symbol" or (isinstance(node, ast.Name)
                                                                    and node.id in _SYM_NAMES)


def _expr_shape_problem(tree: ast.AST) -> str | None:
    """Why the expression is too large or too deep to hand to sympy, or has powers of powers."""
    nodes = 0
    stack = [(tree, 0, False)]                 # (node, depth, inside a power)
    while stack:
        node, depth, in_power = stack.pop()
        nodes += 1
        if nodes > _MAX_EXPR_NODES:
            return f"a symbolic size of more than {_MAX_EXPR_NODES} nodes"
        if depth > _MAX_EXPR_DEPTH:
            return f"a symbolic size nested more than {_MAX_EXPR_DEPTH} levels deep"
        is_power = _call_name(node) in _SYM_POWERS
        if is_power and in_power:
            # (64^64)^64 ... : each level multiplies the size of the number sympy computes by 64
            return "a symbolic size with a power of a power"
        stack.extend((child, depth + 1, in_power or is_power) for child in ast.iter_child_nodes(node))
    return None


def _check_sym_expr(text: object) -> str | None:
    """Why `text` is not a plain sympy srepr expression (the only kind torch writes), or None."""
    if not isinstance(text, str):
        return f"a symbolic size that is a {type(text).__name__}, not a string"
    if len(text) > _MAX_EXPR:
        return f"a symbolic size of {len(text)} characters"
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return "a symbolic size that is not an expression"
    if (problem := _expr_shape_problem(tree)) is not None:
        return problem
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.keyword, ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if not (name in _SYM_CALLS or (name and _SYM_MADE_UP.fullmatch(name))):
                return f"a symbolic size that calls {ast.unparse(node.func)[:40]!r}"
            if name in _SYM_POWERS and (len(node.args) != 2 or node.keywords or not _plain_exponent(node.args[1])):
                return "a symbolic size with a huge exponent (a power's exponent must be a number up to 64 or a symbol)"
            if any(k.arg is None or "__" in k.arg or not isinstance(k.value, ast.Constant) for k in node.keywords):
                return "a symbolic size with unexpected keyword arguments"
            continue
        if isinstance(node, ast.Name):
            if node.id in _SYM_NAMES or node.id in _SYM_CALLS or _SYM_MADE_UP.fullmatch(node.id):
                continue
            return f"a symbolic size that names {node.id[:40]!r}"
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or value is None or isinstance(value, float):
                continue
            if isinstance(value, int) and abs(value) <= 2 ** 64:
                continue
            # a string argument is parsed by sympy in turn: only names and numbers, never code
            if isinstance(value, str) and len(value) <= 64 and "__" not in value and _SYM_STRING.fullmatch(value):
                continue
            return f"a symbolic size with the constant {str(value)[:40]!r}"
        return f"a symbolic size containing Python {type(node).__name__}"
    return None


def _walk_expr_strings(value, found: list) -> None:
    """Every value under an "expr_str" key: the strings the deserializer hands to sympy.sympify."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if key == "expr_str":
                    found.append(sub)
                else:
                    stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)


class _Refused(Exception):
    """A reason to refuse, raised from inside a helper."""


def _export_problem(path: Path, archive: zipfile.ZipFile, names: list[str]) -> str | None:
    """Why this torch.export archive would run code or unpickle objects when torch loads it, or None.
    Reads JSON members only, each streamed under MAX_JSON_MEMBER (CheckpointError past it): nothing
    is unpickled here."""
    root = names[0].split("/", 1)[0]
    members = [n[len(root) + 1:] for n in names]
    folded = [m.lower() for m in members]
    if len(set(folded)) != len(folded):
        return "it has two members with the same name (up to case), which readers may resolve differently"
    present = set(members)
    for member in members:
        if not _EXPORT_MEMBER.fullmatch(member):
            if member.startswith(("data/aotinductor/", "data/executorch/", "data/mtia")):
                return f"it carries compiled native code ({member[:80]})"
            if re.fullmatch(r"data/constants/(opaque|custom)_obj_[0-9]+|data/(weights|constants)/[^/]*\.pt", member):
                return f"it carries a pickled object ({member[:80]}), which torch would unpickle with code allowed"
            return f"it carries a member torch.export.save does not write for one model ({member[:80]})"

    def read_json(member: str):
        try:
            return json.loads(_read_member(path, archive, f"{root}/{member}", MAX_JSON_MEMBER))
        except KeyError:
            raise _Refused(f"it has no {member}") from None
        except (ValueError, RecursionError):
            raise _Refused(f"its {member} is not valid JSON") from None

    try:
        if _read_member(path, archive, f"{root}/archive_format", MAX_SMALL_MEMBER) != b"pt2":
            return "its archive_format is not pt2"
        for member, prefix in (("data/weights/model_weights_config.json", "weight_"),
                               ("data/constants/model_constants_config.json", "tensor_")):
            config = read_json(member)
            entries = config.get("config") if isinstance(config, dict) else None
            if not isinstance(entries, dict):
                return f"its {member} is not a payload list"
            for name, meta in entries.items():
                if not isinstance(meta, dict) or meta.get("use_pickle") is not False:
                    return (f"its tensor {str(name)[:60]!r} is a pickled object, which torch would unpickle "
                            "with code allowed")
                path_name = meta.get("path_name")
                folder = member.rsplit("/", 1)[0]
                if not (isinstance(path_name, str) and re.fullmatch(prefix + "[0-9]+", path_name)
                        and f"{folder}/{path_name}" in present):
                    return (f"its tensor {str(name)[:60]!r} names a member that is not a raw tensor "
                            f"({str(path_name)[:60]})")
        model = read_json("models/model.json")
    except _Refused as refused:
        return str(refused)
    except KeyError:
        return "it has no archive_format"
    expressions: list = []
    _walk_expr_strings(model, expressions)
    for text in expressions:
        if (problem := _check_sym_expr(text)) is not None:
            return f"{problem}, which torch would evaluate as Python"
    return None


def _sample_inputs_problem(path: Path, archive: zipfile.ZipFile, names: list[str]) -> str | None:
    """Torch unpickles the sample inputs with weights_only=True and, failing that, with code allowed:
    load them here with weights_only=True first, so a file that needs the fallback is refused."""
    member = next((n for n in names if n.endswith("/data/sample_inputs/model.pt")), None)
    if member is None:
        return None
    raw = _read_member(path, archive, member, budget_bytes())
    if not raw:
        return None
    try:
        inputs = torch.load(io.BytesIO(raw), weights_only=True)
    except Exception as exc:  # any refusal of the restricted unpickler means "would need full unpickling"
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))          # torch colours its advice
        why = re.search(r"WeightsUnpickler error: ([^\n]*)", text)
        first = why.group(1) if why else (text.strip().splitlines() or [type(exc).__name__])[0]
        return f"its sample inputs are a pickle that only full unpickling can load ({first.split('. ')[0][:160]})"
    if not isinstance(inputs, (tuple, dict)):
        return f"its sample inputs are a {type(inputs).__name__}, not a tuple"
    return None


def inspect_foreign_file(path: str | Path, *, unpickle_tensors: bool = True) -> ForeignFile:
    """Read a foreign generator file without running anything in it: kind (name and content agreeing),
    fingerprint, members, and for torch.export whether genstudio would refuse it (`problem`).

    `unpickle_tensors=False` (genstudio info) skips the one step that unpickles, even with
    weights_only=True: loading the sample inputs."""
    path = Path(path)
    data = read_regular_file(path, "a foreign generator", error=CheckpointError, max_bytes=budget_bytes())
    kind, names = _kind_of(path, data)
    problem = None
    if kind == "export":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            problem = _export_problem(path, archive, names)
            if problem is None and unpickle_tensors:
                problem = _sample_inputs_problem(path, archive, names)
    return ForeignFile(path, kind, hashlib.sha256(data).hexdigest(), len(data), tuple(names), problem, data)


def read_foreign_file(path: str | Path) -> ForeignFile:
    """`inspect_foreign_file`, refusing (CheckpointError) a file genstudio will not load whatever consent."""
    foreign = inspect_foreign_file(path)
    if foreign.problem:
        raise CheckpointError(f"{foreign.path}: refused: a torch.export archive that could run code when "
                              f"loaded: {foreign.problem}")
    return foreign


@dataclass(frozen=True)
class ForeignConfig(ModelConfig):
    """What genstudio knows of a foreign generator: given by the person or the sidecar, and probed."""

    latent_dim: int = field(default=1, metadata={"min": 1, "max": 1_000_000})
    output_low: float = -1.0
    output_high: float = 1.0
    kind: str = field(default="torchscript", metadata={"choices": ("torchscript", "export")})


class ForeignGenerator(nn.Module):
    """Wraps a loaded generator module: decode(z) maps its output range onto [0, 1] images."""

    family = FOREIGN
    num_classes = 0

    def __init__(self, module, latent_dim: int, output_range: tuple[float, float], kind: str, path: Path):
        super().__init__()
        self.module = module
        self.z_dim = int(latent_dim)
        self.output_range = (float(output_range[0]), float(output_range[1]))
        self.kind = kind
        self.path = path
        with torch.no_grad():
            probe = self._run(torch.zeros(2, self.z_dim))
        if probe.ndim not in (2, 4):
            raise CheckpointError(f"{path}: the generator returned shape {tuple(probe.shape)} for (2, {self.z_dim}) "
                                  "latents; expected (N, C, H, W) images or (N, 2) points")
        self.data_shape = tuple(probe.shape[1:])
        self.config = ForeignConfig(data_shape=self.data_shape, latent_dim=self.z_dim, output_low=self.output_range[0],
                                    output_high=self.output_range[1], kind=kind)

    def card(self) -> ModelCard:
        """A card for the open dialog, `info` and the panels; the data it came from is unknown."""
        low, high = (0.0, 1.0) if not self.is_points else self.output_range
        data = DataDescription(name=self.path.name, shape=self.data_shape, value_range=(low, high),
                               kind="points" if self.is_points else "images")
        return ModelCard(family=FOREIGN, config=self.config, latent_shape=self.latent_shape, data=data)

    def _run(self, z: torch.Tensor) -> torch.Tensor:
        try:
            return self.module(z)
        except Exception as exc:  # a foreign graph can fail in any way; report it in one line
            first = first_line(exc)
            raise CheckpointError(f"{self.path}: the generator failed on latents of shape "
                                  f"{tuple(z.shape)} ({first})") from None

    @property
    def is_points(self) -> bool:
        return len(self.data_shape) == 1

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.z_dim,)

    @property
    def latent_dim(self) -> int:
        return self.z_dim

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn((n, self.z_dim), generator=generator)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self._run(z.reshape(len(z), -1).float())
        if self.is_points:
            return out
        lo, hi = self.output_range
        return ((out - lo) / (hi - lo)).clamp(0, 1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, labels=None) -> torch.Tensor:
        return self.decode(self.sample_latents(n, generator))


def _generator_details(path: Path, latent_dim, output_range) -> tuple[int, tuple[float, float]]:
    """Latent size and output range: given, else from the sidecar `<file>.json`, checked."""
    side = sidecar_path(path)
    if side.exists():
        raw = read_regular_file(side, "a sidecar", error=CheckpointError, max_bytes=1 << 20)
        try:
            info = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise CheckpointError(f"{side}: invalid JSON ({first_line(exc)})") from None
        if not isinstance(info, dict):
            raise CheckpointError(f"{side}: expected a JSON object like {{\"latent_dim\": 100}}")
        latent_dim = latent_dim or info.get("latent_dim")
        output_range = output_range or info.get("output_range")
    if not latent_dim:
        raise CheckpointError(f"{path}: the latent size of a foreign generator is unknown: pass it "
                              f"(--latent-dim) or write {side.name} with {{\"latent_dim\": N}}")
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or not 1 <= latent_dim <= 1_000_000:
        raise CheckpointError(f"{path}: the latent size must be a whole number from 1 to 1000000, "
                              f"not {latent_dim!r:.40}")
    try:
        low, high = (float(v) for v in (output_range or (-1.0, 1.0)))
    except (TypeError, ValueError):
        raise CheckpointError(f"{path}: the output range must be two numbers like [-1, 1], "
                              f"not {output_range!r:.40}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise CheckpointError(f"{path}: the output range must go from a lower to a higher finite number, "
                              f"not {low:g}..{high:g}")
    return latent_dim, (low, high)


def load_foreign_generator(path: str | Path, latent_dim: int | None = None,
                           output_range: tuple[float, float] | None = None,
                           consent: Consent | None = None) -> ForeignGenerator:
    """Load a TorchScript (`torch.jit.save`) or torch.export (`torch.export.save`) generator on the CPU,
    if `consent` says its code may run (None: it may not; ConsentRefused says how to allow it)."""
    path = Path(path)
    foreign = read_foreign_file(path)          # nothing has run yet; a crafted export archive stops here
    if consent is None:
        raise ConsentRefused(f"{path}: a {foreign.label} file is a program from its author that would run on "
                             f"this computer; genstudio runs it only if you allow it ({HOW_TO_ALLOW})")
    if not consent(foreign):
        raise ConsentRefused(f"{path}: not opened: running this {foreign.label} program was not allowed")
    latent_dim, output_range = _generator_details(path, latent_dim, output_range)
    log.info("%s: running a %s program (sha256 %s) with the person's consent", path, foreign.label, foreign.sha256)
    try:
        # From the bytes that were fingerprinted and checked, not from the path again: a file swapped
        # after consent must not be what runs.
        if foreign.kind == "export":
            # check_guards=False: the archive's guards_code strings would be compiled with exec.
            module = torch.export.load(io.BytesIO(foreign.data)).module(check_guards=False)
        else:
            module = torch.jit.load(io.BytesIO(foreign.data), map_location="cpu").eval()
    except Exception as exc:  # torch raises anything from a damaged archive; report it in one line
        first = first_line(exc)
        raise CheckpointError(f"{path}: cannot load the {foreign.label} generator ({first})") from None
    return ForeignGenerator(module, latent_dim, output_range, foreign.kind, path)
