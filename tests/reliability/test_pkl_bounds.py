"""StyleGAN2-ADA snapshot pickles at the edges (issue 28, cases 2 and 3).

Memory: the reader streams the file and checks every length, count and tensor view against what
the file holds before it allocates, so crafted storages are refused in one line through `genstudio
info` under a 4 GiB address-space cap (RLIMIT_AS), and the tests' own valid snapshot opens under it.
The cap is a literal 4 GiB, not import-time plus headroom as in fuzz_worker.py: importing torch maps
about 3.1 GiB here and `info` on the fixture peaks at about 3.2 GiB (VmPeak), so 4 GiB leaves room.

Code: the embedded module source is checked against an allow-list of constructs, so each thing
that would run at import under NVIDIA's loader (annotations, subscript and attribute targets,
augmented assignments, decorators, defaults, bases and keywords with calls, load-time methods) is
refused; genstudio never runs it either way, but its `info` vouches for it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import fuzz_cases
import pytest
from stylegan_snapshots import (
    NETWORKS_SOURCE,
    PersistentRecord,
    small_generator,
    write_snapshot,
)

from genstudio.core.families.stylegan.nvidia_pickle import (
    UnsupportedPickle,
    source_problem,
)
from genstudio.core.io.stylegan_reader import open_snapshot

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not Path("/proc/self/statm").exists(),
                                reason="RLIMIT_AS is what these tests bound memory with (Linux)")

CAP = 4 << 30                   # bytes of address space for each `genstudio info` run
ROOT = Path(__file__).resolve().parents[2]

# --- embedded sources ------------------------------------------------------------------------------

PREAMBLE = "import torch\nfrom torch_utils import persistence\nd = {}\n"
CALL = "__import__('os').system('touch {marker}')"

# (what, the source's last lines with CALL in place): each is refused, pointing at one of these lines.
REFUSED_SOURCES = [
    ("module annotation with a value", "x: {call} = 1"),
    ("module annotation without a value", "x: {call}"),
    ("annotated subscript target", "d[0]: {call} = 1"),
    ("subscript target", "d[{call}] = 1"),
    ("subscript target in a tuple", "a, d[{call}] = 1, 2"),
    ("attribute target of a call", "{call}.x = 1"),
    ("augmented assignment", "x = 1\nx += {call}"),
    ("argument annotation", "def f(a: {call}):\n    pass"),
    ("keyword-only argument annotation", "def f(*, a: {call}):\n    pass"),
    ("*args annotation", "def f(*a: {call}):\n    pass"),
    ("**kwargs annotation", "def f(**a: {call}):\n    pass"),
    ("return annotation", "def f() -> {call}:\n    pass"),
    ("class-body annotation", "class A(torch.nn.Module):\n    x: {call} = 1"),
    ("method argument annotation", "class A(torch.nn.Module):\n    def f(self, a: {call}):\n        pass"),
    ("class-body subscript target", "class A(torch.nn.Module):\n    d[{call}] = 1"),
    ("decorator call", "@persistence.persistent_class({call})\nclass A(torch.nn.Module):\n    pass"),
    ("decorator defined in the file", "def deco(c):\n    return c\n@deco\nclass A(torch.nn.Module):\n    pass"),
    ("default value", "def f(a={call}):\n    pass"),
    ("keyword-only default value", "def f(*, a=[{call}]):\n    pass"),
    ("base class call", "class A({call}):\n    pass"),
    ("class keyword", "class A(torch.nn.Module, metaclass={call}):\n    pass"),
    ("__setstate__, run by NVIDIA's loader",
     "class A(torch.nn.Module):\n    def __setstate__(self, s):\n        {call}"),
    ("__init_subclass__, run by persistent_class",
     "class A(torch.nn.Module):\n    def __init_subclass__(cls):\n        {call}"),
    ("assignment of a call", "x = {call}"),
    ("an f-string statement", 'f"{{{call}}}"'),
    ("a relative import", "from . import misc"),
    ("a star import", "from torch import *"),
]

# NVIDIA's shape of training/networks.py and training/augment.py (written here, not copied): what
# the allow-list must keep accepting.
NVIDIA_SHAPED_SOURCE = '''"""Network architectures."""

import numpy as np
import scipy.signal
import torch
import torch.nn.functional as F
from torch_utils import misc
from torch_utils import persistence
from torch_utils.ops import conv2d_resample, upfirdn2d, bias_act, fma

wavelets = {
    'haar': [0.7071067811865476, 0.7071067811865476],
    'db2':  [-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025],
}

@misc.profiled_function
def normalize_2nd_moment(x, dim=1, eps=1e-8):
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()

def matrix(*rows, device=None):
    return torch.as_tensor(np.asarray(rows), device=device)

@persistence.persistent_class
class SynthesisLayer(torch.nn.Module):
    """A modulated convolution."""
    def __init__(self, in_channels, out_channels, w_dim, resolution, kernel_size=3, up=1, use_noise=True,
                 activation='lrelu', resample_filter=[1,3,3,1], conv_clamp=None, channels_last=False, **kwargs):
        super().__init__()
        self.register_buffer('resample_filter', upfirdn2d.setup_filter(resample_filter))
        self.act_gain = bias_act.activation_funcs[activation].def_gain

    def forward(self, x, w, noise_mode='random', fused_modconv=True, gain=1):
        assert noise_mode in ['random', 'const', 'none']
        return F.leaky_relu(x)

    @staticmethod
    def helper(x):
        return x

    def extra_repr(self):
        return f'{self.act_gain}'
'''


def hostile_source(body: str, marker: Path) -> str:
    return PREAMBLE + body.format(call=CALL.format(marker=marker)) + "\n"


@pytest.mark.parametrize("what,body", REFUSED_SOURCES, ids=[w for w, _ in REFUSED_SOURCES])
def test_each_construct_that_would_run_at_import_is_refused(tmp_path, what, body):
    marker = tmp_path / "ran"
    path = tmp_path / "network-snapshot.pkl"
    write_snapshot(path, small_generator(resolution=8), source=hostile_source(body, marker))
    with pytest.raises(UnsupportedPickle) as info:
        open_snapshot(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message, message
    line = re.search(r"runs code when imported or rebuilt \(line (\d+): ", message)
    assert line and int(line.group(1)) > PREAMBLE.count("\n"), message      # in the variant, not the preamble
    assert not marker.exists()


def test_the_fixture_and_nvidia_shaped_sources_are_accepted(tmp_path):
    assert source_problem(NETWORKS_SOURCE) is None and source_problem(NVIDIA_SHAPED_SOURCE) is None
    path = tmp_path / "network-snapshot.pkl"
    write_snapshot(path, small_generator(resolution=8), source=NVIDIA_SHAPED_SOURCE)
    model, _ = open_snapshot(path)
    assert model.config.data_shape == (3, 8, 8)


# --- crafted storages, counts and dtypes (fuzz_cases.pkl_cases) -----------------------------------

# Each process limits its own address space first thing, before it imports anything.
CAP_FIRST = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({CAP}, "
             f"resource.getrlimit(resource.RLIMIT_AS)[1]))\n")
# `genstudio info FILE`, as the console script runs it.
INFO = CAP_FIRST + "import runpy; runpy.run_module('genstudio', run_name='__main__', alter_sys=True)\n"
# `genstudio info FILE` for each file in one process (torch's import is most of a run's time): per
# file, the CLI's exit code (or "raised" with the traceback) and what it wrote, as JSON.
INFO_EACH = CAP_FIRST + """
import contextlib, io, json, sys, traceback
from genstudio.cli import main
results = []
for path in sys.argv[1:]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["info", path])
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            code = "raised"
            traceback.print_exc()
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def python(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def assert_one_line(name: str, path: Path, words, code, out: str, err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and not out.strip(), (name, code, err[-2000:])
    line = lines[0]
    assert line.startswith("genstudio: error:") and str(path) in line and "Traceback" not in err, (name, line)
    assert all(w in line for w in words), (name, line)


def test_crafted_storages_are_refused_in_one_line_and_a_snapshot_opens_under_a_4_gib_cap(tmp_path):
    """Every mutant through the CLI's `info` in one capped process, the valid snapshot as a `genstudio
    info` process of its own beside it; every refusal one line naming the file."""
    files = {name: (path, words) for name, path, words in fuzz_cases.pkl_cases(tmp_path)}
    valid = tmp_path / "network-snapshot-000100.pkl"
    write_snapshot(valid, small_generator(resolution=16))
    # Only `info` reads the discriminator (it counts every network's tensors); sampling never does.
    odd_d = tmp_path / "network-snapshot-discriminator-int.pkl"
    write_snapshot(odd_d, small_generator(resolution=8),
                   top_extra={"D": PersistentRecord("Discriminator", {"_parameters": {"b4": 5}}, NETWORKS_SOURCE)})
    files["a discriminator parameter that is an int"] = (odd_d, ("b4 is a int, not a tensor",))
    each = python(INFO_EACH, *(str(path) for path, _ in files.values()))
    alone = python(INFO, "info", str(valid))

    out, err = alone.communicate(timeout=180)
    assert alone.returncode == 0 and "G_ema: 16 x 16 px" in out and not err.strip(), err
    out, err = each.communicate(timeout=180)
    assert each.returncode == 0 and not err.strip(), err[-2000:]
    for (name, (path, words)), result in zip(files.items(), json.loads(out), strict=True):
        assert_one_line(name, path, words, *result)
