"""The packaged app (dist/GenStudio, built by `make package`) starts, renders, and trains headless.

Run by `make test` after `make package`: every submission proves it still packages and starts.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "dist" / "GenStudio" / ("GenStudio.exe" if sys.platform == "win32" else "GenStudio")


@pytest.fixture(scope="module")
def frozen():
    assert BINARY.exists(), f"{BINARY} is missing: run `make package` first"
    return BINARY


def run(binary, *args, timeout=600, home: Path | None = None):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if home is not None:                 # a person's first start: no settings, no last picture
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    start = time.perf_counter()
    result = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout, env=env)
    return result, time.perf_counter() - start


def test_smoke_test_renders_a_demo_image(frozen, tmp_path):
    result, seconds = run(frozen, "--smoke-test", home=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "smoke test ok" in result.stdout and "28x28 image" in result.stdout
    assert "first pixels" in result.stdout and "(no picture yet)" in result.stdout
    print(f"frozen start-up to first image: {seconds:.1f} s wall; {result.stdout.strip()}")
    # The second start shows the first one's last picture before the engine has loaded.
    again, seconds = run(frozen, "--smoke-test", home=tmp_path)
    assert again.returncode == 0 and "(the last picture)" in again.stdout, again.stdout + again.stderr[-3000:]
    print(f"frozen second start: {seconds:.1f} s wall; {again.stdout.strip()}")


def test_frozen_training_writes_a_checkpoint_the_source_tree_opens(frozen, tmp_path):
    from genstudio.core.io.checkpoints import load_checkpoint

    result, _ = run(frozen, "train", "--family", "gan", "--preset", "mlp", "--steps", "20", "--device", "cpu",
                    "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert checkpoint.step == 20 and checkpoint.family == "gan"
    images = checkpoint.model.sample(4, torch.Generator().manual_seed(0))
    assert images.shape == (4, 1, 28, 28) and torch.isfinite(images).all()


def test_torchvision_native_ops_are_bundled(frozen):
    """The trap of torchvision 0.29: its ops live in _C_stable.so, which the stock hook misses."""
    bundled = list((frozen.parent / "_internal" / "torchvision").glob("_C_stable*"))
    assert bundled, "torchvision/_C_stable.so is not in the bundle"
