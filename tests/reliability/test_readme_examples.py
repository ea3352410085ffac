"""The README, tried as a newcomer would (issue 28, case 11): every `genstudio …` line of its command
examples runs, in order, in an empty folder, and does what its comment says.

The lines are read from README.md itself, so an example that stops working, or a new one, fails
here. Only what makes them fit two CPU cores changes: step counts become a few steps, grids 2 x 2,
`diagnose` draws 200 samples, `bench` measures its cheapest group. The files the examples take as
given (a sprite folder, the person's TorchScript generator, a diffusers folder, an NVIDIA snapshot,
the app's saved latent) are made first, under the names the README uses.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from stylegan_snapshots import small_generator, write_snapshot  # noqa: E402

from genstudio.cli import main  # noqa: E402
from genstudio.core.explore.explore_session import RECORD_FORMAT, RECORD_VERSION  # noqa: E402
from genstudio.core.io.checkpoints import load_checkpoint  # noqa: E402

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    """The `genstudio …` lines of the README's fenced shell blocks, continuations joined, comments cut."""
    commands, pending = [], ""
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            line = pending + line.strip()
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            line = line.split("  #")[0].strip()
            if line.startswith("genstudio "):
                commands.append(line)
    return commands


def fitted(argv: list[str]) -> list[str]:
    """The same command sized for two cores (module docstring)."""
    out = list(argv)
    small = {"--steps": "2", "--grid": "2x2", "--autosave-every": "1"}
    for i, arg in enumerate(out[:-1]):
        if arg in small and out[0] in ("train", "sample"):
            out[i + 1] = small[arg]
    if out[0] == "train" and "--steps" not in out:
        out += ["--steps", "2"]
    if out[0] == "train" and "--resume" in out:
        out[out.index("--steps") + 1] = "4"             # a resumed run goes on past the first 2 steps
    if out[0] == "sample" and "--steps" in out:
        out[out.index("--steps") + 1] = "3"             # DDIM steps of a decode
    if out[0] == "diagnose":
        out += ["--samples", "200"]
    if out[0] == "bench":
        out += ["--only", "stop"]
    return out


def the_givens(folder: Path) -> None:
    """The files the README's examples take as the person's own."""
    sprites = folder / "home" / "sprites"
    sprites.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(sprites / f"{i}.png")
    # The person's generator: 128-D latent to 16 x 16 grey images in [-1, 1], as the README's line says.
    generator = torch.nn.Sequential(torch.nn.Linear(128, 256), torch.nn.Tanh(), torch.nn.Unflatten(1, (1, 16, 16)))
    torch.jit.save(torch.jit.trace(generator.eval(), torch.zeros(1, 128)), folder / "my_generator.pt")
    write_snapshot(folder / "network-snapshot-000800.pkl", small_generator())
    from diffusers import DDIMPipeline, DDIMScheduler, UNet2DModel

    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=8, in_channels=1, out_channels=1, layers_per_block=1, block_out_channels=(8, 16),
                       down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
                       norm_num_groups=4).eval()
    DDIMPipeline(unet=unet, scheduler=DDIMScheduler(num_train_timesteps=50)).save_pretrained(
        folder / "path" / "to" / "diffusers-folder", safe_serialization=True)
    # Two photo folders for the 256 px CycleGAN, a public CycleGAN generator (its layout, few maps) and
    # the images the translate lines name, with the folder they write into.
    for domain in ("horses", "zebras"):
        photos = folder / "home" / domain
        photos.mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(photos / f"{i}.jpg")
    from genstudio.core.families.translation.networks import ResnetGenerator

    torch.save(ResnetGenerator(3, 3, ngf=8, norm="instance", dropout=False, n_blocks=2).state_dict(),
               folder / "latest_net_G_A.pth")
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(folder / "horse.jpg")
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(folder / name)
    (folder / "translated").mkdir()


def the_apps_latent(folder: Path) -> None:
    """latent.json as the app's *Save latent* writes it, for the GAN the README trained first."""
    card = load_checkpoint(folder / "runs" / "gan" / "checkpoint.safetensors").card
    dim = math.prod(card.latent_shape)
    record = {"format": RECORD_FORMAT, "version": RECORD_VERSION, "checkpoint": "runs/gan/checkpoint.safetensors",
              "family": "gan", "latent_shape": list(card.latent_shape), "seed": 3, "temperature": 1.0,
              "latent": torch.randn(dim, generator=torch.Generator().manual_seed(3)).tolist()}
    (folder / "latent.json").write_text(json.dumps(record), encoding="utf-8")


def test_the_readme_lists_the_examples_this_test_runs():
    commands = readme_commands()
    assert len(commands) >= 15 and commands[0] == "genstudio presets"
    assert any("--resume" in c for c in commands) and any(c.startswith("genstudio diagnose") for c in commands)


@pytest.mark.long      # 20 commands, a few training steps each, one classifier to train: minutes on 2 cores
def test_every_readme_command_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))         # folder:~/sprites
    the_givens(tmp_path)
    ran = []
    for command in readme_commands():
        argv = fitted(shlex.split(command)[1:])
        if argv[0] == "sample" and "--latent" in argv and not (tmp_path / "latent.json").exists():
            the_apps_latent(tmp_path)
        code = main(argv)
        out = capsys.readouterr()
        assert code == 0, (command, argv, out.err[-2000:])
        ran.append((argv, out.err))
    # What the comments promise, checked where a file says it.
    gan = load_checkpoint(tmp_path / "runs" / "gan" / "checkpoint.safetensors")
    assert gan.card.step == 4                                  # --resume went on to --steps, in the run's folder
    said = next(err for argv, err in ran if argv[0] == "train" and "--resume" in argv).strip().splitlines()
    assert "runs/gan/checkpoint.safetensors" in said[0] and "runs/gan/checkpoint.safetensors" in said[-1]
    for name in ("grid.png", "one.png", "stylegan2.safetensors", "report.json", "zebra.png", "translated/a.png",
                 "translated/b.png"):
        assert (tmp_path / name).is_file(), name
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"]["sentence"] and report["figures"]
