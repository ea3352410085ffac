"""The `genstudio train` line of a TrainConfig parses back, with genstudio's own parser, to the same
config: what the Train panel launches under torchrun trains what its form says."""

from pathlib import Path

import pytest

from genstudio.cli import build_parser
from genstudio.cli.train import hyper_overrides
from genstudio.core import registry
from genstudio.core.training.command_line import (
    launch_arguments,
    shell_line,
    torchrun_command,
    train_arguments,
)
from genstudio.core.training.engine import TrainConfig


def parsed_config(arguments: list[str]) -> tuple[TrainConfig, object]:
    """The config `genstudio train ARGUMENTS` builds (cli/train.py run()), and the parsed arguments."""
    args = build_parser().parse_args(["train", *arguments])
    family = registry.get(args.family)
    config = TrainConfig(family=family.name, preset=args.preset, data=args.data, steps=args.steps,
                         batch_size=args.batch_size, hyper=hyper_overrides(args, family), model=dict(args.model),
                         seed=args.seed, device=args.device, out_dir=str(args.out),
                         autosave_every=args.autosave_every, keep_checkpoints=args.keep,
                         sample_every_s=args.sample_every)
    return config, args


CONFIGS = [
    # A GAN as the panel builds it: two learning rates, each its own flag.
    TrainConfig(family="gan", preset="dcgan", data="mnist", steps=2500, batch_size=64,
                hyper={"lr_g": 0.0002, "lr_d": 0.000123}, seed=7, device="cpu", out_dir="/tmp/runs/gan one",
                autosave_every=250, keep_checkpoints=5, sample_every_s=2.0),
    # Integer hyper-parameters given as the panel's spin boxes give them (floats), and a folder spec
    # with characters a shell would split on.
    TrainConfig(family="translation", preset="cyclegan-digits", data="mnist-thick", steps=4000, batch_size=16,
                hyper={"lr": 0.0002, "decay_start": 1500.0, "decay_steps": 2000.0}, seed=0, device="auto",
                out_dir="out", autosave_every=0, keep_checkpoints=1, sample_every_s=0.5),
    # Model overrides: a number, a list and a plain string.
    TrainConfig(family="flow", preset="realnvp", data="folder:/data/my images?size=32&channels=1", steps=10,
                batch_size=None, hyper={"lr": 0.001, "grad_clip": 12.5},
                model={"hidden": 48, "widths": [8, 16], "name": "tiny"}, seed=2**32 - 1, device="cuda",
                out_dir="r", sample_every_s=30),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.family)
def test_every_field_parses_back(config):
    back, args = parsed_config(train_arguments(config))
    for name in ("family", "preset", "data", "steps", "batch_size", "model", "seed", "device", "out_dir",
                 "autosave_every", "keep_checkpoints", "sample_every_s", "report_every", "n_samples", "eval_batch"):
        assert getattr(back, name) == getattr(config, name), name
    assert back.hyper == config.hyper           # 1500.0 == 1500: the CLI takes the int field as an int
    assert all(type(back.hyper[k]) is f.kind for f in registry.get(config.family).hyper_fields
               for k in back.hyper if k == f.key)
    assert args.resume is None


def test_resume_and_torchrun_lines(tmp_path):
    config = CONFIGS[0]
    checkpoint = tmp_path / "a run" / "checkpoint.safetensors"
    arguments = train_arguments(config, resume=checkpoint)
    assert build_parser().parse_args(["train", *arguments]).resume == checkpoint
    command = torchrun_command(config, 4, resume=checkpoint)
    assert command[:5] == ["torchrun", "--nproc_per_node=4", "-m", "genstudio", "train"]
    assert command[5:] == arguments
    line = shell_line(command)
    assert line.startswith("torchrun --nproc_per_node=4 -m genstudio train --family gan")
    assert "'/tmp/runs/gan one'" in line and f"'{checkpoint}'" in line
    launch = launch_arguments(config, 2, 29517)
    assert launch[:4] == ["-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517"]
    assert launch[4:] == ["-m", "genstudio", "train", *train_arguments(config)]


def test_what_the_command_line_cannot_carry_is_refused():
    with pytest.raises(ValueError, match="report_every"):
        train_arguments(TrainConfig(report_every=2))
    with pytest.raises(ValueError, match="keeps its checkpoint's model"):
        train_arguments(TrainConfig(model={"latent_dim": 8}), resume=Path("c.safetensors"))
    with pytest.raises(ValueError, match="lr_g is not a vae hyper-parameter"):
        train_arguments(TrainConfig(family="vae", hyper={"lr_g": 0.001}))
    with pytest.raises(ValueError, match="decay_start must be a whole number"):
        train_arguments(TrainConfig(family="translation", hyper={"decay_start": 1.5}))
