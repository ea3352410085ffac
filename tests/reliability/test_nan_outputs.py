"""Models whose output is NaN (issue 28, case 1) and long work from a header (case 12), through every door.

The NaN files are valid: a bundled flow and diffusion demo with one weight tensor set to 1e38 (finite,
saved with a valid digest by save_checkpoint), whose decode overflows to NaN for every sample, and a
TorchScript generator that returns NaN. Before, `diagnose` died in LAPACK with a segmentation fault
(exit 139) and `sample` wrote black PNGs and exited 0. Now every door says, in one line, "the model's
output is NaN for N of N samples" (core/errors.py: check_finite): `diagnose` and `sample` exit 2 and
write nothing, the explorer shows the line where the image would be. `diagnose` runs here under an
address-space cap (RLIMIT_AS, in a subprocess), as tests/reliability/fuzz_worker.py sets it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from genstudio.core.errors import NonFiniteOutput, check_finite
from genstudio.core.io.checkpoints import load_checkpoint, save_checkpoint
from genstudio.core.metrics.report import check_sample_counts, diagnose_with_samples
from genstudio.ui.model_list import demo_checkpoints

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not Path("/proc/self/statm").exists(),
                                reason="RLIMIT_AS and /proc are what the capped runs measure with (Linux)")

# The weight set to 1e38 in each demo: one whose overflow reaches every pixel of every sample
# (the diffusion model decodes with its EMA copy, so the EMA's weight).
OVERFLOWING = {"flow": "scales.0.checker.1.net.inp.weight", "diffusion": "ema.upsample.0.weight"}
# The cap: the address space after importing genstudio and torch (3.1 GiB here, with torch's CUDA
# libraries) plus this, about the 4 GB in all; `diagnose --samples 200` of the GAN demo
# passes under it (0.8 GiB resident at its peak), as does every NaN run.
HEADROOM = 1 << 30
# Runs `genstudio` once per argument list in one capped process (imports cost seconds a process):
# "exit N" on stdout after each run, RUN_MARK on stderr before it; a signal ends the whole process.
CAPPED = """
import json, os, resource, sys
import torch, genstudio.cli
import genstudio.core.metrics.report, genstudio.core.io.open_model, genstudio.core.data.spec
with open("/proc/self/statm", "rb") as statm:
    mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
resource.setrlimit(resource.RLIMIT_AS, (mapped + int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_AS)[1]))
for args in json.loads(sys.argv[2]):
    print("--- run", file=sys.stderr, flush=True)
    print("exit", genstudio.cli.main(args), flush=True)
"""
RUN_MARK = "--- run\n"


class NaNGenerator(nn.Module):
    """(B, 8) latents -> (B, 1, 28, 28) NaN: a foreign generator whose every sample is NaN."""

    def forward(self, z):
        return torch.full((z.shape[0], 1, 28, 28), float("nan"))


def demo(stem: str) -> Path:
    return next(p for p in demo_checkpoints() if p.stem == stem)


@pytest.fixture(scope="module")
def nan_files(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """{kind: (file, the extra arguments `sample` and `diagnose` need)} for the three NaN models."""
    folder = tmp_path_factory.mktemp("nan")
    files = {}
    for family, weight in OVERFLOWING.items():
        checkpoint = load_checkpoint(demo(f"{family}-mnist"))
        with torch.no_grad():
            checkpoint.model.state_dict()[weight].fill_(1e38)
        card = checkpoint.card
        if family == "diffusion":     # one sampling step (the header's, as a person could set it): 20 took 50 s here
            card = dataclasses.replace(card, config=dataclasses.replace(card.config, sample_steps=1, preview_steps=1))
        path = save_checkpoint(folder / f"nan-{family}.safetensors", checkpoint.model, card)
        files[family] = (path, [])
    script = folder / "nan.pt"
    torch.jit.save(torch.jit.script(NaNGenerator()), script)
    script.with_name("nan.pt.json").write_text(json.dumps({"latent_dim": 8, "output_range": [0, 1]}))
    files["torchscript"] = (script, ["--trust-code", "--data", "mnist"])
    return files


def capped_cli(runs: list[list[str]], cwd: Path, timeout: float = 120) -> tuple[int, list[int], list[str]]:
    """(the process's return code, each run's exit code, each run's stderr) of `runs` under the cap."""
    result = subprocess.run([sys.executable, "-c", CAPPED, str(HEADROOM), json.dumps(runs)], cwd=cwd,
                            capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONWARNINGS": "default"})
    codes = [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("exit ")]
    return result.returncode, codes, result.stderr.split(RUN_MARK)[1:]


def error_lines(stderr: str) -> list[str]:
    """stderr's lines, the progress line's carriage-return redraws dropped."""
    return [line.rsplit("\r", 1)[-1] for line in stderr.splitlines() if line.rsplit("\r", 1)[-1].strip()]


# --- the one check ------------------------------------------------------------------------------
def test_check_finite_counts_samples_and_names_nan_or_inf():
    images = torch.rand(64, 1, 4, 4)
    check_finite(images)
    images[3, 0, 1, 1] = float("inf")
    with pytest.raises(NonFiniteOutput, match=r"^the model's output is Inf for 1 of 64 samples$"):
        check_finite(images)
    images[5:9] = float("nan")
    with pytest.raises(NonFiniteOutput, match="is NaN or Inf for 5 of 64 samples"):
        check_finite(images.numpy())
    check_finite(torch.zeros(2, 3, dtype=torch.uint8))          # pixels read from a file cannot be NaN


# --- diagnose: exit 2, one line, never a signal, under the cap --------------------------------------
def test_diagnose_refuses_nan_samples_in_one_line_under_the_cap(nan_files, tmp_path):
    kinds = ["torchscript", "flow", "diffusion"]      # the TorchScript first: its load warns once a process
    runs = [["diagnose", str(nan_files[kind][0]), "--samples", "200", *nan_files[kind][1]] for kind in kinds]
    returncode, codes, stderrs = capped_cli(runs, tmp_path)
    assert returncode == 0, "".join(stderrs)[-2000:]        # no run died of a signal (SIGSEGV was exit 139)
    assert codes == [2, 2, 2], "".join(stderrs)[-2000:]
    for kind, stderr in zip(kinds, stderrs):
        lines = error_lines(stderr)
        assert lines[-1] == f"genstudio: error: {nan_files[kind][0]}: the model's output is NaN for 200 of 200 samples"
        assert not [line for line in lines if "Warning" in line or "Traceback" in line or "MKL" in line], lines


@pytest.mark.long     # the feature classifier and every figure at 200 samples: ~15 s, more when the classifier trains
def test_diagnose_of_a_valid_demo_passes_under_the_cap(tmp_path):
    returncode, codes, stderrs = capped_cli([["diagnose", str(demo("gan-mnist")), "--samples", "200"]], tmp_path,
                                            timeout=900)
    assert returncode == 0 and codes == [0], "".join(stderrs)[-2000:]


def test_sample_counts_are_refused_before_any_sampling(mnist):
    class NeverDecoded:
        data_shape, latent_dim = (1, 28, 28), 8

        def decode(self, z, labels=None):
            raise AssertionError("sampled before the counts were checked")

    with pytest.raises(ValueError, match="NDB's 100 bins need at least 100 real samples.*64 samples"):
        diagnose_with_samples(NeverDecoded(), mnist, samples=64)
    check_sample_counts(100, 10000)                        # a second real sample of 100: enough
    with pytest.raises(ValueError, match="150 samples of a data set of 150 give 75"):
        check_sample_counts(150, 150)                      # two halves of 75 for the real data's own figures


def test_diagnose_with_too_few_samples_is_refused_at_once(capsys):
    from genstudio.cli import main

    started = time.perf_counter()
    assert main(["diagnose", str(demo("diffusion-mnist")), "--samples", "64"]) == 2
    stderr = capsys.readouterr().err
    assert error_lines(stderr) == [f"genstudio: error: {demo('diffusion-mnist')}: NDB's 100 bins need at least 100 "
                                   "real samples on each side of the comparison; 64 samples of a data set of "
                                   "10000 give 64"]
    assert "generating" not in stderr and time.perf_counter() - started < 30     # sampling 64 took up to 81 s


# --- sample: exit 2, nothing written, no warning before the line ----------------------------------
@pytest.mark.parametrize("kind", ["flow", "diffusion"])
def test_sample_writes_no_black_png(nan_files, kind, tmp_path, capsys):
    from genstudio.cli import main

    path, _ = nan_files[kind]
    assert main(["sample", str(path), "--grid", "2x2", "--out", str(tmp_path / "grid.png")]) == 2
    lines = error_lines(capsys.readouterr().err)
    assert lines[-1] == f"genstudio: error: {path}: the model's output is NaN for 4 of 4 samples"
    assert all(line.startswith("decoding: step") for line in lines[:-1]), lines      # progress, if it was slow
    assert not (tmp_path / "grid.png").exists()


def test_sample_of_a_nan_torchscript_prints_only_the_line(nan_files, tmp_path):
    """In a process of its own: torch.jit.load's FutureWarning came before the error line."""
    path, _ = nan_files["torchscript"]
    result = subprocess.run([sys.executable, "-m", "genstudio", "sample", str(path), "--trust-code", "--grid", "2x2",
                             "--out", "grid.png"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONWARNINGS": "default"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"genstudio: error: {path}: the model's output is NaN for 4 of 4 samples"]
    assert not (tmp_path / "grid.png").exists()


def test_a_long_decode_shows_progress_and_stops_on_ctrl_c(tmp_path):
    """A header's many sampling steps (the diffusion demo with sample_steps 1000, its T: minutes on a
    CPU) show a progress line on stderr, and SIGINT ends the run with exit 130 and no file."""
    checkpoint = load_checkpoint(demo("diffusion-mnist"))
    card = dataclasses.replace(checkpoint.card, config=dataclasses.replace(checkpoint.card.config, sample_steps=1000))
    path = save_checkpoint(tmp_path / "slow.safetensors", checkpoint.model, card)
    process = subprocess.Popen([sys.executable, "-m", "genstudio", "sample", str(path), "--grid", "2x2",
                                "--out", "grid.png"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while b"decoding: step" not in seen and time.monotonic() < deadline and process.poll() is None:
            if select.select([process.stderr], [], [], 1.0)[0]:
                seen += os.read(process.stderr.fileno(), 4096)
        assert b"of 1000" in seen, seen.decode(errors="replace")
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (seen + rest).decode(errors="replace")
    assert b"genstudio: interrupted" in rest and b"Traceback" not in rest
    assert not (tmp_path / "grid.png").exists()


# --- the app: the explorer shows the line where the image would be --------------------------------
@pytest.mark.parametrize("kind", ["flow", "torchscript"])
def test_the_explorer_shows_the_line_not_a_black_image(qtbot, window, nan_files, kind, monkeypatch):
    from genstudio.ui import consent_dialog

    monkeypatch.setattr(consent_dialog, "allowed", lambda *args: True)      # the person says "Run once"
    path, _ = nan_files[kind]
    assert window.open_path(path)
    view = window.explore.image_view
    qtbot.waitUntil(lambda: bool(view.message()), timeout=60000)
    assert view.message() == "the model's output is NaN for 1 of 1 samples"
    assert view.image() is None and window.explore.last_image is None


def test_a_nan_training_preview_is_reported_not_drawn(qtbot, window):
    from types import SimpleNamespace

    panel = window.train
    samples = torch.rand(16, 1, 28, 28).numpy()
    samples[:4] = float("nan")
    with qtbot.waitSignal(panel.status) as said:
        panel._on_samples(SimpleNamespace(step=120, scalars={"loss": 0.5}, samples=samples, rows_drawn=None,
                                          surface=None))
    assert said.args == ["step 120: the preview is NaN for 4 of 16 samples"]
    assert panel.sample_view.message() == said.args[0] and panel.sample_view.image() is None
