"""Consent before code: TorchScript and torch.export files are programs from their author.

Crafted archives are built here, each with a payload that creates a marker file when it runs, and
pushed through every door: the core loader, `genstudio info / sample / diagnose`, the app's open
dialog and drag-and-drop, and archives named .safetensors / .ckpt. The marker must never appear
without consent, and for torch.export never at all (genstudio refuses what torch would unpickle
or evaluate). The first test shows that each payload is live: torch's own loader runs it.
"""

import hashlib
import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import torch  # noqa: E402
from foreign_generators import TinyGenerator, save_export, with_sidecar  # noqa: E402
from torch import nn  # noqa: E402

from genstudio.cli import main  # noqa: E402
from genstudio.core.errors import CheckpointError  # noqa: E402
from genstudio.core.io.foreign import ConsentRefused, trust_code  # noqa: E402
from genstudio.core.io.open_model import open_model  # noqa: E402


class TouchingGenerator(nn.Module):
    """A TorchScript generator that, as any program may, does something else too: it creates a file."""

    def __init__(self, marker: str):
        super().__init__()
        self.marker = marker
        self.linear = nn.Linear(8, 144)

    def forward(self, z):
        touched = torch.from_file(self.marker, True, 1, dtype=torch.uint8)   # creates the file
        return torch.tanh(self.linear(z)).view(-1, 1, 12, 12) + 0 * touched.sum()


class Payload:
    """Unpickling this runs `code` (the classic __reduce__ payload)."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return exec, (self.code,)


def torch_saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def rewrite(src: Path, dst: Path, replace: dict[str, bytes | str]) -> None:
    """A copy of the zip `src` with members replaced or added (names relative to its root folder)."""
    with zipfile.ZipFile(src) as zin:
        root = zin.namelist()[0].split("/", 1)[0]
        todo = {f"{root}/{k}": v for k, v in replace.items()}
        with zipfile.ZipFile(dst, "w") as zout:
            for info in zin.infolist():
                data = todo.pop(info.filename, None)
                zout.writestr(info.filename, zin.read(info.filename) if data is None else data)
            for name, data in todo.items():
                zout.writestr(name, data)


def member_json(path: Path, member: str):
    with zipfile.ZipFile(path) as archive:
        root = archive.namelist()[0].split("/", 1)[0]
        return json.loads(archive.read(f"{root}/{member}"))


# Crafted torch.export archives that genstudio refuses whatever the consent: each puts a payload
# where torch.export.load unpickles or evaluates (foreign.py's docstring).
REFUSED = ["sample-inputs", "weight", "tensor-constant", "opaque-constant", "legacy-weights",
           "symbolic-size", "native-code"]
# Crafted export archives that pass genstudio's checks, so they open with consent, yet their payload
# never runs: guards_code (genstudio never has torch compile it) and a pickle among the extra files
# (an ASCII pickle, which torch reads as text and never unpickles).
PASSING = ["guards", "extra-file"]
# Programs that open only with consent: those, and a TorchScript file that creates the marker.
ASKED = PASSING + ["touching"]
# The payloads torch's own loader runs (native-code holds no real library).
LIVE = ["sample-inputs", "weight", "tensor-constant", "opaque-constant", "legacy-weights", "symbolic-size", "guards"]


def craft(benign: Path, name: str, marker: Path, out: Path) -> Path:
    code = f"open({str(marker)!r}, 'w').close()"
    pickled = torch_saved(Payload(code))
    if name == "sample-inputs":
        replace = {"data/sample_inputs/model.pt": pickled}
    elif name == "weight":
        config = member_json(benign, "data/weights/model_weights_config.json")
        config["config"]["linear.bias"]["use_pickle"] = True
        path_name = config["config"]["linear.bias"]["path_name"]
        replace = {"data/weights/model_weights_config.json": json.dumps(config), f"data/weights/{path_name}": pickled}
    elif name in ("tensor-constant", "opaque-constant"):
        member = "tensor_0" if name == "tensor-constant" else "opaque_obj_0"
        config = {"config": {"evil": {"path_name": member, "is_param": False, "use_pickle": True, "tensor_meta": None}}}
        replace = {"data/constants/model_constants_config.json": json.dumps(config),
                   f"data/constants/{member}": pickled if name == "tensor-constant" else pickle.dumps(Payload(code))}
    elif name == "legacy-weights":
        replace = {"data/weights/model.pt": pickled}
    elif name == "symbolic-size":
        text = json.dumps(member_json(benign, "models/model.json"))
        symbol = next(part for part in text.split('"expr_str": "')[1:]).split('"')[0]
        # sympify evaluates the string with eval; json.dumps escapes it for the JSON text
        replace = {"models/model.json": text.replace(symbol, json.dumps(f"exec({code!r})")[1:-1])}
        json.loads(replace["models/model.json"])
        assert replace["models/model.json"] != text
    elif name == "native-code":
        replace = {"data/aotinductor/model/model.so": b"\x7fELF not really a library"}
    elif name == "extra-file":
        replace = {"extra/notes.pkl": pickle.dumps(Payload(code), protocol=0)}
    elif name == "guards":   # compiled with exec by ExportedProgram.module(), run on every call
        model = member_json(benign, "models/model.json")
        model["guards_code"] = [f"open({str(marker)!r}, 'w').close() is None"]
        replace = {"models/model.json": json.dumps(model)}
    else:
        raise AssertionError(name)
    path = out / f"{name}.pt2"
    rewrite(benign, path, replace)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("foreign")
    marker = folder / "MARKER"
    torch.manual_seed(0)
    generator = TinyGenerator().eval()
    benign_export = folder / "benign.pt2"
    save_export(generator, benign_export)
    benign_script = folder / "benign.pt"
    torch.jit.save(torch.jit.script(generator), benign_script)
    touching = folder / "touching.pt"
    torch.jit.save(torch.jit.script(TouchingGenerator(str(marker))), touching)
    crafted = {name: craft(benign_export, name, marker, folder) for name in REFUSED + PASSING}
    crafted["touching"] = touching
    for path in [benign_export, benign_script, *crafted.values()]:
        with_sidecar(path)
    return SimpleNamespace(folder=folder, marker=marker, generator=generator, benign_export=benign_export,
                           benign_script=benign_script, crafted=crafted)


@pytest.fixture(autouse=True)
def no_marker(request):
    """Every test starts without the marker (the positive controls create it)."""
    if "files" in request.fixturenames:
        request.getfixturevalue("files").marker.unlink(missing_ok=True)
    yield


# --- the payloads are live ------------------------------------------------------------------------
@pytest.mark.parametrize("name", LIVE)
def test_torch_export_load_itself_runs_each_payload(files, name):
    """The positive control: without genstudio in the way, torch runs the crafted archive's code."""
    path = files.crafted[name]
    try:
        torch.export.load(path).module()(torch.randn(2, 8))
    except Exception:
        pass   # most payloads return None where torch wanted a tensor: the code has run by then
    assert files.marker.exists()


def test_the_torchscript_program_runs_when_opened_with_consent(files):
    """Consent is the guard for TorchScript: with it the program runs (the marker appears), so the
    marker is a real witness in the tests that assert its absence."""
    with pytest.raises(ConsentRefused):
        open_model(files.crafted["touching"])
    assert not files.marker.exists()
    opened = open_model(files.crafted["touching"], consent=trust_code)
    assert opened.is_foreign and files.marker.exists()


# --- the core loader ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", REFUSED + ASKED)
def test_core_loader_runs_nothing_without_consent(files, name):
    path = files.crafted[name]
    with pytest.raises(CheckpointError) as exc:
        open_model(path, latent_dim=8)
    message = str(exc.value)
    assert str(path) in message and "\n" not in message
    assert not files.marker.exists()


@pytest.mark.parametrize("name", REFUSED)
def test_crafted_export_archives_are_refused_even_with_consent_and_before_asking(files, name):
    asked = []
    with pytest.raises(CheckpointError, match="refused: a torch.export archive that could run code") as exc:
        open_model(files.crafted[name], consent=lambda foreign: asked.append(foreign) or True)
    assert asked == [] and "\n" not in str(exc.value)
    assert not files.marker.exists()


@pytest.mark.parametrize("name", PASSING)
def test_passing_payloads_never_run_even_with_consent(files, name):
    opened = open_model(files.crafted[name], consent=trust_code)
    z = torch.randn(5, 8)
    images = opened.model.decode(z)
    assert torch.allclose(images, (files.generator(z) + 1) / 2, atol=1e-6)
    assert not files.marker.exists()


@pytest.mark.parametrize("which", ["benign_export", "benign_script"])
def test_with_consent_a_benign_generator_opens_and_decodes(files, which):
    path = getattr(files, which)
    seen = []
    opened = open_model(path, consent=lambda foreign: seen.append(foreign) or True)
    assert seen[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert seen[0].kind == ("export" if which == "benign_export" else "torchscript")
    z = torch.randn(3, 8)
    assert torch.allclose(opened.model.decode(z), (files.generator(z) + 1) / 2, atol=1e-6)


def test_consent_is_for_the_bytes_that_were_fingerprinted(files, tmp_path):
    from genstudio.core.io.foreign import trust_fingerprint

    path = tmp_path / "g.pt"
    shutil.copy(files.benign_script, path)
    with_sidecar(path)
    approved = hashlib.sha256(path.read_bytes()).hexdigest()
    shutil.copy(files.crafted["touching"], path)  # swapped after the person said yes
    with pytest.raises(ConsentRefused, match="not allowed"):
        open_model(path, consent=trust_fingerprint(approved))
    assert not files.marker.exists()


@pytest.mark.parametrize("suffix", [".safetensors", ".ckpt"])
def test_a_zip_archive_named_as_data_is_refused_in_one_line(files, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    shutil.copy(files.crafted["sample-inputs"], path)
    with pytest.raises(CheckpointError, match=f"a zip archive named \\{suffix}: ") as exc:
        open_model(path, latent_dim=8, consent=trust_code)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)
    assert not files.marker.exists()


# --- the command line -----------------------------------------------------------------------------
def cli(*argv) -> int:
    return main([str(a) for a in argv])


COMMANDS = {
    "sample": lambda path, out: ["sample", path, "--latent-dim", "8", "--grid", "2x2", "--out", out / "grid.png"],
    "diagnose": lambda path, out: ["diagnose", path, "--latent-dim", "8", "--data", "ring8", "--samples", "20"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", REFUSED + ASKED)
def test_cli_runs_nothing_without_trust_code(files, tmp_path, capsys, command, name):
    path = files.crafted[name]
    assert cli(*COMMANDS[command](path, tmp_path)) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("genstudio: error:") and str(path) in err and err.count("\n") == 0
    if name in ASKED:                             # loadable programs: the message says how to allow them
        assert "program from its author" in err and "--trust-code" in err
    assert not files.marker.exists() and not (tmp_path / "grid.png").exists()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", REFUSED)
def test_cli_trust_code_still_refuses_crafted_export_archives(files, tmp_path, capsys, command, name):
    assert cli(*COMMANDS[command](files.crafted[name], tmp_path), "--trust-code") != 0
    assert "refused: a torch.export archive that could run code" in capsys.readouterr().err
    assert not files.marker.exists()


@pytest.mark.parametrize("which", ["benign_export", "benign_script"])
def test_cli_trust_code_samples_a_benign_generator(files, tmp_path, which):
    from PIL import Image

    out = tmp_path / "grid.png"
    assert cli("sample", getattr(files, which), "--grid", "2x3", "--padding", "0", "--out", out, "--trust-code") == 0
    with Image.open(out) as image:
        assert image.size == (3 * 12, 2 * 12)


@pytest.mark.parametrize("name", REFUSED + ASKED)
def test_cli_info_describes_the_archive_without_running_it(files, capsys, name):
    path = files.crafted[name]
    assert cli("info", path) == 0
    out = capsys.readouterr().out
    assert "program from its author" in out and hashlib.sha256(path.read_bytes()).hexdigest() in out
    assert ("TorchScript archive" if path.suffix == ".pt" else "torch.export archive") in out
    # info unpickles nothing, not even weights-only, so the sample-input pickle is judged at open time
    refused = name in REFUSED and name != "sample-inputs"
    assert ("refuses it:" in out) == refused
    assert cli("info", path, "--json") == 0
    described = json.loads(capsys.readouterr().out)
    with zipfile.ZipFile(path) as archive:
        assert described["entries"] == archive.namelist()
    assert not files.marker.exists()


@pytest.mark.parametrize("command", ["info", "sample", "diagnose"])
def test_cli_refuses_a_zip_archive_named_safetensors(files, tmp_path, capsys, command):
    path = tmp_path / "model.safetensors"
    shutil.copy(files.crafted["sample-inputs"], path)
    argv = ["info", path] if command == "info" else COMMANDS[command](path, tmp_path)
    assert cli(*argv, *([] if command == "info" else ["--trust-code"])) != 0
    err = capsys.readouterr().err
    assert "a zip archive named .safetensors: " in err and str(path) in err and err.count("\n") == 1
    assert not files.marker.exists()


# --- the app --------------------------------------------------------------------------------------
@pytest.fixture
def asked(monkeypatch):
    """The consent dialog replaced: records each question and answers `answer.choice`."""
    from genstudio.ui import consent_dialog

    record = SimpleNamespace(calls=[], choice=consent_dialog.CANCEL, then=None)

    def ask(parent, foreign):
        record.calls.append(foreign)
        if record.then:
            record.then()
        return record.choice

    monkeypatch.setattr(consent_dialog, "ask", ask)
    return record


def open_through(window, monkeypatch, door: str, path: Path) -> None:
    """The app's doors for a file: File > Open (its file dialog answered) and drag-and-drop."""
    from PySide6.QtWidgets import QFileDialog

    if door == "open-dialog":
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
        window.open_dialog()
    else:
        window.drop_path(path)


def open_demo(window):
    from genstudio.ui.model_list import demo_checkpoints

    demo = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    assert window.open_path(demo)
    return demo


DOORS = ["open-dialog", "drop"]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", REFUSED)
def test_app_refuses_crafted_export_archives_without_running_or_asking(files, window, asked, monkeypatch, door, name):
    demo = open_demo(window)
    open_through(window, monkeypatch, door, files.crafted[name])
    assert asked.calls == []
    assert window.banner.isVisible() and "refused: a torch.export archive" in window.banner.label.text()
    assert window.opened.path == demo
    assert not files.marker.exists()


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", ASKED)
def test_app_asks_first_and_cancel_keeps_what_was_open(files, window, asked, monkeypatch, door, name):
    path = files.crafted[name]
    demo = open_demo(window)
    open_through(window, monkeypatch, door, path)
    assert [f.path for f in asked.calls] == [path]
    assert asked.calls[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert window.opened.path == demo and not window.banner.isVisible()
    assert "not opened" in window.statusBar().currentMessage()
    assert not files.marker.exists()


@pytest.mark.parametrize("door", DOORS)
def test_app_run_once_opens_and_decodes_and_asks_again_next_time(files, window, asked, monkeypatch, qtbot, door):
    from genstudio.ui import consent_dialog

    asked.choice = consent_dialog.RUN_ONCE
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        open_through(window, monkeypatch, door, files.benign_export)
    assert window.opened.is_foreign and window.opened.path == files.benign_export
    image = window.explore.last_image
    assert image.shape == (1, 12, 12) and 0 <= image.min() < image.max() <= 1
    open_through(window, monkeypatch, door, files.benign_export)
    assert len(asked.calls) == 2                  # "Run once" is not remembered


def test_app_always_trust_is_remembered_for_the_same_bytes_only(files, window, asked, tmp_path):
    from genstudio.ui import consent_dialog

    path = with_sidecar(tmp_path / "mine.pt")
    shutil.copy(files.benign_script, path)
    asked.choice = consent_dialog.ALWAYS
    assert window.open_path(path) and len(asked.calls) == 1
    fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()
    assert window.settings.value(f"{consent_dialog.TRUSTED_KEY}/{fingerprint}") == str(path)

    asked.choice = consent_dialog.CANCEL          # would refuse, if it were asked
    assert window.open_path(path) and len(asked.calls) == 1
    same = with_sidecar(tmp_path / "copy.pt")
    shutil.copy(path, same)
    assert window.open_path(same) and len(asked.calls) == 1     # the fingerprint, not the name

    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:        # one byte of a stored weight, the archive still valid
        info = next(i for i in archive.infolist() if i.filename.endswith("/data/1"))
    start = info.header_offset                    # the local header's own name and extra lengths
    offset = start + 30 + int.from_bytes(data[start + 26:start + 28], "little") + \
        int.from_bytes(data[start + 28:start + 30], "little")
    data[offset + 5] ^= 0x01
    path.write_bytes(bytes(data))
    assert not window.open_path(path)
    assert len(asked.calls) == 2 and asked.calls[1].sha256 != fingerprint
    assert window.opened.path == same


def test_app_a_file_swapped_after_consent_does_not_run(files, window, asked, tmp_path):
    from genstudio.ui import consent_dialog

    path = with_sidecar(tmp_path / "g.pt")
    shutil.copy(files.benign_script, path)
    asked.choice = consent_dialog.RUN_ONCE
    asked.then = lambda: shutil.copy(files.crafted["touching"], path)    # replaced while the dialog was open
    assert not window.open_path(path)
    assert "not allowed" in window.banner.label.text()
    assert not files.marker.exists()


def test_app_latent_size_is_asked_after_consent_only(files, window, asked, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    from genstudio.ui import consent_dialog

    path = tmp_path / "nosidecar.pt2"
    shutil.copy(files.benign_export, path)
    events = []
    asked.then = lambda: events.append("consent")
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: events.append("latent") or (8, True))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: events.append("range") or ("-1, 1", True))
    assert not window.open_path(path)             # Cancel: no question about a file that will not run
    assert events == ["consent"]
    asked.choice = consent_dialog.RUN_ONCE
    assert window.open_path(path)
    assert events == ["consent", "consent", "latent", "range"]
    assert window.opened.latent_shape == (8,)


@pytest.mark.parametrize("suffix", [".safetensors", ".ckpt"])
def test_app_refuses_a_zip_archive_named_as_data(files, window, asked, monkeypatch, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    shutil.copy(files.crafted["sample-inputs"], path)
    for door in DOORS:
        open_through(window, monkeypatch, door, path)
        assert f"a zip archive named {suffix}" in window.banner.label.text()
    assert asked.calls == [] and window.opened is None
    assert not files.marker.exists()


def test_consent_dialog_says_it_is_a_program_and_defaults_to_cancel(files, qtbot, monkeypatch):
    from genstudio.core.io.foreign import read_foreign_file
    from genstudio.ui import consent_dialog

    foreign = read_foreign_file(files.benign_export)
    dialog = consent_dialog.CodeConsentDialog(foreign)
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    for needed in ("program", "run", "benign.pt2", "torch.export", foreign.sha256):
        assert needed in text
    assert dialog.cancel.isDefault() and not dialog.run_once.isDefault() and not dialog.always.isDefault()
    assert [b.text() for b in (dialog.run_once, dialog.always, dialog.cancel)] == \
        ["Run once", "Always trust this file", "Cancel"]
    dialog.run_once.click()
    assert dialog.choice == consent_dialog.RUN_ONCE and dialog.result() == dialog.DialogCode.Accepted

    # ask() as the app calls it, its modal exec replaced by a click on a button
    for button, choice in (("always", consent_dialog.ALWAYS), ("cancel", consent_dialog.CANCEL)):
        monkeypatch.setattr(consent_dialog.CodeConsentDialog, "exec", lambda self, b=button: getattr(self, b).click())
        assert consent_dialog.ask(None, foreign) == choice


# --- the symbolic-size check, on its own ---------------------------------------------------------
def test_symbolic_sizes_torch_writes_pass_the_check():
    """srepr of the expressions torch.export writes for dynamic shapes: none may be refused."""
    import sympy
    from torch.utils._sympy.functions import CeilDiv, FloorDiv, Mod, ModularIndexing
    from torch.utils._sympy.numbers import int_oo

    from genstudio.core.io.foreign import _check_sym_expr

    s = sympy.Symbol("s68", positive=True, integer=True)
    u = sympy.Symbol("u0", integer=True)
    for expr in (s, 144 * s + 3, FloorDiv(s, 2), CeilDiv(s, 4), Mod(s, 4), ModularIndexing(s, 1, 8), s ** 2,
                 s / 2, sympy.Eq(s, 3), sympy.Ne(s, 1) & sympy.Lt(u, 5), sympy.Max(s, 2), sympy.Min(s, u),
                 -s, sympy.floor(s / 3), sympy.Float(0.5), int_oo, -int_oo, sympy.oo, sympy.true):
        assert _check_sym_expr(sympy.srepr(expr)) is None, sympy.srepr(expr)


@pytest.mark.parametrize("text,why", [
    ("exec('import os')", "calls 'exec'"),
    ("__import__('os').system('true')", "calls"),
    ("Symbol('s0').__class__", "Attribute"),
    ("Symbol('__import__(\"os\")')", "constant"),
    ("Add(Symbol('x'), 'open(1)')", "constant"),
    ("lambdify(Symbol('x'), 'x')", "calls 'lambdify'"),
    ("Symbol('s0') or exec('1')", "BoolOp"),
    ("[Symbol('s0')]", "List"),
    ("Pow(Integer(9), Integer(999999999))", "huge exponent"),
    ("Symbol(*['s0'])", "Starred"),
    ("Symbol('s0', **{'positive': True})", "keyword"),
    ("sympify", "names 'sympify'"),
    (["exec('1')"], "not a string"),
    ("Symbol('s0'", "not an expression"),
])
def test_symbolic_sizes_that_could_run_code_are_refused(text, why):
    from genstudio.core.io.foreign import _check_sym_expr

    problem = _check_sym_expr(text)
    assert problem is not None and why in problem


# --- resume and plain pickles -----------------------------------------------------------------------
@pytest.mark.parametrize("name", REFUSED + ASKED)
def test_resume_never_loads_a_foreign_file(files, tmp_path, capsys, name):
    """`train --resume` takes only genstudio checkpoints: an archive is refused before it is opened."""
    assert cli("train", "--resume", str(files.crafted[name]), "--steps", "2", "--out", str(tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert str(files.crafted[name]) in err and err.count("\n") == 1
    assert not files.marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt", ".safetensors"])
def test_a_plain_pickle_is_refused_everywhere(files, window, asked, tmp_path, capsys, suffix):
    """A pickle (what torch.save writes) with a __reduce__ payload: no door unpickles it, consent or not."""
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(Payload(f"open({str(files.marker)!r}, 'w').close()")))
    for argv in (["info", str(path)], ["sample", str(path), "--trust-code", "--latent-dim", "8",
                                        "--out", str(tmp_path / "g.png")],
                 ["train", "--resume", str(path), "--steps", "2"]):
        assert cli(*argv) == 2
        assert str(path) in capsys.readouterr().err
    with pytest.raises(CheckpointError):
        open_model(path, consent=trust_code)
    assert not window.open_path(path)
    assert asked.calls == [] and not files.marker.exists()
