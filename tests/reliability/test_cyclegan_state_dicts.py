"""Fuzzed CycleGAN / pix2pix generator state dicts (issue 26): every one refused in one line naming the
file and the reason, by `genstudio info` and `genstudio translate`, under a 4 GiB address-space cap,
and nothing in any of them run.

The corpus (`state_dict_cases`): a small public-layout ResNet generator's state dict (genstudio's
networks.py reproduces the layout key for key; tests/core/test_cyclegan_files.py checks that against
a reference) with wrong, missing and extra keys, wrong shapes, values that are not tensors, pickled
objects (one whose unpickling would run code), declared shapes far beyond its storage (a stride-0
view of one number), storages declaring more than the file holds (legacy and zip formats), NaN,
the wrong dtypes, an empty dict, a dict of dicts, and architectures genstudio does not build.
"""

from __future__ import annotations

import collections
import io
import json
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzz_cases import Payload
from PIL import Image
from test_pkl_bounds import CAP_FIRST, assert_one_line, python
from torch._utils import _rebuild_tensor_v2

from genstudio.core.errors import CheckpointError
from genstudio.core.families.translation.networks import (
    NLayerDiscriminator,
    ResnetGenerator,
    UnetGenerator,
)
from genstudio.core.io import readers

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not Path("/proc/self/statm").exists(),
                                reason="RLIMIT_AS is what these tests bound memory with (Linux)")

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# Each argv list through the CLI in one capped process: per run, the exit code and what it wrote.
RUN_EACH = CAP_FIRST + """
import contextlib, io, json, sys, traceback
from genstudio.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            code = "raised"
            traceback.print_exc()
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


class _Storage:
    """Stands for a storage in a hand-made torch.save pickle (persistent_id below)."""


class _View:
    """Pickles as torch's tensor rebuild over `storage` with this size and stride."""

    def __init__(self, storage, size, stride):
        self.args = (storage, 0, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return _rebuild_tensor_v2, self.args


class Opaque:
    """A custom class: torch.load(weights_only=True) refuses to rebuild it."""

    def __init__(self):
        self.weights = [1.0, 2.0]


def _pickled(value, storage: _Storage, storage_id: tuple) -> bytes:
    out = io.BytesIO()

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return storage_id if obj is storage else None

    Pickler(out, protocol=2).dump(value)
    return out.getvalue()


def legacy_declaring(numel: int, payload_numbers: int) -> bytes:
    """torch.save's legacy format holding one tensor whose storage declares `numel` float32 numbers
    while the file holds `payload_numbers`."""
    storage = _Storage()
    out = io.BytesIO()
    for value in (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True,
                                       "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(value, out, protocol=2)
    out.write(_pickled({"model.1.weight": _View(storage, (4,), (1,))}, storage,
                       ("storage", torch.FloatStorage, "0", "cpu", numel, None)))
    pickle.dump(["0"], out, protocol=2)
    return out.getvalue() + struct.pack("<q", numel) + bytes(4 * payload_numbers)


def zip_declaring(numel: int, payload_numbers: int) -> bytes:
    """torch.save's zip format, written here, whose data.pkl declares a storage of `numel` float32
    numbers while its record holds `payload_numbers`."""
    storage = _Storage()
    data = _pickled({"model.1.weight": _View(storage, (4,), (1,))}, storage,
                    ("storage", torch.FloatStorage, "0", "cpu", numel))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/data/0", bytes(4 * payload_numbers))
        archive.writestr("archive/version", "3\n")
    return out.getvalue()


def state_dict_cases(folder: Path, markers: Path) -> list[tuple[str, Path, tuple[str, ...]]]:
    """(what, file, words its one-line refusal must hold) for each fuzzed state dict."""
    torch.manual_seed(0)
    good = ResnetGenerator(3, 3, ngf=4, norm="instance", n_blocks=2).state_dict()      # 3 -> 3, 2 blocks
    cases: list[tuple[str, object, tuple[str, ...]]] = []

    def with_(**changes):
        state = dict(good)
        for key, value in changes.items():
            key = key.replace("__", ".")
            if value is None:
                del state[key]
            else:
                state[key] = value
        return state

    renamed = {k.replace("model.1.", "model.one."): v for k, v in good.items()}
    cases += [
        ("a key renamed", renamed, ("neither model.1.weight",)),
        ("an extra key", {**good, "model.99.weight": torch.zeros(2)}, ("unexpected key model.99.weight",)),
        ("a key missing", with_(model__4__bias=None), ("missing key model.4.bias",)),
        ("a conv weight of the wrong shape", with_(model__4__weight=torch.zeros(8, 4, 3, 1)),
         ("model.4.weight has shape [8, 4, 3, 1]",)),
        ("the last conv missing", with_(model__19__weight=None, model__19__bias=None), ("no model.19.weight",)),
        ("a first conv of the wrong kernel", with_(model__1__weight=torch.zeros(4, 3, 5, 5)),
         ("model.1.weight has shape [4, 3, 5, 5]",)),
        ("a value that is an int", {**good, "model.4.bias": 3}, ("model.4.bias is a int, not a tensor",)),
        ("a value that is a list", {**good, "model.4.bias": [1.0, 2.0]}, ("model.4.bias is a list",)),
        ("a pickled custom object", {**good, "model.4.bias": Opaque()}, ("a Python object", "Opaque")),
        ("a dict of dicts", {"G_A": good, "G_B": good}, ("G_A holds a dict, not a tensor",)),
        ("an empty dict", {}, ("the state dict is empty",)),
        ("a list of tensors", list(good.values()), ("holds a list, not a state dict",)),
        ("a key that is not a string", {1: torch.zeros(1)}, ("a state dict key is a int",)),
        ("10,000 entries", {f"w{i}": torch.zeros(1) for i in range(10_000)}, ("more than the 4,096",)),
        ("a stride-0 view of 2^40 numbers", with_(model__4__bias=torch.zeros(1).expand(1 << 40)),
         ("1,099,511,627,776 numbers",)),
        ("a stride-0 view 50000 x 50000", with_(model__4__weight=torch.zeros(1, 1).expand(50_000, 50_000)),
         ("[50000, 50000]", "2,500,000,000 numbers")),
        ("NaN weights", with_(model__4__weight=torch.full_like(good["model.4.weight"], float("nan"))),
         ("model.4.weight holds NaN or Inf",)),
        ("integer weights", with_(model__4__weight=good["model.4.weight"].long()), ("model.4.weight is int64",)),
        ("a DataParallel prefix", {f"module.{k}": v for k, v in good.items()}, ("module.", "DataParallel")),
        ("a discriminator", NLayerDiscriminator(3, 4, 2).state_dict(), ("PatchGAN discriminator",)),
        ("a grey-to-RGB pix2pix", ResnetGenerator(1, 3, ngf=4, n_blocks=1).state_dict(),
         ("maps 1 channels to 3",)),
        ("4 channels", ResnetGenerator(4, 4, ngf=4, n_blocks=1).state_dict(), ("4 channels",)),
        ("no normalisation", {k: v for k, v in good.items() if not (k.endswith(".bias") and k != "model.19.bias")},
         ("--norm none",)),
        ("a U-Net nested 13 levels deep", UnetGenerator(3, 3, downs=13, ngf=1).state_dict(),
         ("more than 12 levels deep",)),
        ("blocks that skip an index", {k.replace("model.11.", "model.12."): v for k, v in good.items()},
         ("not the consecutive",)),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, (what, value, words) in enumerate(cases):
        path = folder / f"case_{k}_net_G.pth"
        torch.save(value, path)
        out.append((what, path, words))
    payload = folder / "payload_net_G.pth"
    torch.save({**good, "model.4.bias": Payload(str(markers / "payload"))}, payload)
    out.append(("a pickled payload that would make a folder", payload, ("a Python object", "makedirs")))
    legacy_payload = folder / "legacy_payload_net_G.pth"
    torch.save({"model.1.weight": Payload(str(markers / "legacy"))}, legacy_payload,
               _use_new_zipfile_serialization=False)
    out.append(("a legacy-format payload", legacy_payload, ("a Python object",)))
    for name, data, words in [
        ("legacy storage declaring 2^40 numbers", legacy_declaring(1 << 40, 4), ("declare more memory",)),
        # 1 GiB: allocated (untouched) and refused at the missing bytes, or refused by the cap at the
        # allocation, depending on how much address space torch's import took: either in one line.
        ("legacy storage declaring 2^28 numbers, holding 4", legacy_declaring(1 << 28, 4), ()),
        ("zip storage declaring 2^40 numbers", zip_declaring(1 << 40, 4), ("torch.save file",)),
        ("zip storage declaring 2^28 numbers, holding 4", zip_declaring(1 << 28, 4), ("torch.save file",)),
    ]:
        path = folder / f"{name.replace(' ', '_').replace(',', '')}.pth"
        path.write_bytes(data)
        out.append((name, path, words))
    whole = (folder / "case_0_net_G.pth").read_bytes()
    truncated = folder / "truncated_net_G.pth"
    torch.save(good, truncated)
    truncated.write_bytes(truncated.read_bytes()[: len(whole) // 2])
    out.append(("a zip cut in half", truncated, ("torch.save file",)))
    legacy_cut = folder / "legacy_cut_net_G.pth"
    torch.save(good, legacy_cut, _use_new_zipfile_serialization=False)
    legacy_cut.write_bytes(legacy_cut.read_bytes()[:-100])
    out.append(("a legacy file cut short", legacy_cut, ("not readable",)))
    return out


def test_fuzzed_state_dicts_are_refused_in_one_line_by_the_reader(tmp_path):
    """The corpus through the reader in this process (no cap): the quick check `make test` runs."""
    markers = tmp_path / "markers"
    markers.mkdir()
    for what, path, words in state_dict_cases(tmp_path / "cases", markers):
        with pytest.raises(CheckpointError) as refused:
            readers.describe(path)
        message = str(refused.value)
        assert "\n" not in message and str(path) in message and all(w in message for w in words), (what, message)
    assert not list(markers.iterdir()), "a file's code ran"


@pytest.mark.long          # about 15 s on 2 cores (a capped process importing torch, 70 CLI runs): `make test-long`
def test_fuzzed_state_dicts_are_refused_in_one_line_by_info_and_translate(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    cases = state_dict_cases(tmp_path / "cases", markers)
    image = tmp_path / "in.png"
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(image)
    runs = []
    for _, path, _ in cases:
        runs.append(["info", str(path)])
        runs.append(["translate", str(path), str(image), "--out", str(tmp_path / "out.png")])
    valid = tmp_path / "latest_net_G_A.pth"
    torch.save(ResnetGenerator(3, 3, ngf=4, n_blocks=2).state_dict(), valid)
    runs += [["info", str(valid)], ["translate", str(valid), str(image), "--out", str(tmp_path / "ok.png"),
                                   "--size", "16"]]
    process = python(RUN_EACH, json.dumps(runs))
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0 and not err.strip(), err[-2000:]
    results = json.loads(out)
    for k, (what, path, words) in enumerate(cases):
        for result in results[2 * k:2 * k + 2]:
            assert_one_line(what, path, words, *result)
    (info_code, info_out, _), (code, written, translate_err) = results[-2:]
    assert info_code == 0 and "resnet_2blocks" in info_out
    assert code == 0 and "wrote" in written and Image.open(tmp_path / "ok.png").size == (16, 16), translate_err
    assert not list(markers.iterdir()), "a file's code ran"
    assert not (tmp_path / "out.png").exists()
