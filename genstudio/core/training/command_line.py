"""The `genstudio train` command line of a TrainConfig: what the app's Train panel launches under
torchrun, what run.json records as the way to repeat an app run from a terminal, and the line the
panel shows so that a person can paste it on a GPU server or a cluster.

Every argument is one `genstudio train` takes (cli/train.py), so that parsing the list back gives the
same config; a config field the command line cannot carry is a ValueError rather than a line that
would train something else.
"""

from __future__ import annotations

import json
import shlex
import socket
from dataclasses import fields
from pathlib import Path

from genstudio.core import registry
from genstudio.core.training.engine import TrainConfig

# TrainConfig fields that `genstudio train` has no flag for: it always trains with their defaults.
_FIXED = ("report_every", "n_samples", "eval_batch")


def _number(value: float) -> str:
    """A float as the shortest text that parses back to the same float ("2" for 2.0)."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _model_value(value) -> str:
    """A --model value: JSON, which the CLI parses back; a string as itself when it is not JSON text
    (the CLI keeps such a value as a string), so `d_augment=translation` stays readable."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, separators=(",", ":"))


def _hyper_arguments(config: TrainConfig) -> list[str]:
    by_key = {field.key: field for field in registry.get(config.family).hyper_fields}
    arguments = []
    for key, value in config.hyper.items():
        field = by_key.get(key)
        if field is None:
            raise ValueError(f"{key} is not a {config.family} hyper-parameter that 'genstudio train' takes")
        if field.kind is int:
            if float(value) != int(value):
                raise ValueError(f"{key} must be a whole number, got {value!r}")
            text = str(int(value))
        else:
            text = _number(value)
        arguments += [field.flag, text]
    return arguments


def train_arguments(config: TrainConfig, resume: str | Path | None = None) -> list[str]:
    """The arguments after `genstudio train` that train `config` (resuming from `resume`). An
    `out_dir` of None is left to the CLI, which then saves under runs/ (it never trains unsaved)."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    for name in _FIXED:
        if getattr(config, name) != defaults[name]:
            raise ValueError(f"'genstudio train' has no flag for {name} (it trains with {defaults[name]}, "
                             f"not {getattr(config, name)})")
    if resume is not None and config.model:
        raise ValueError("a resumed run keeps its checkpoint's model: no model overrides with a resume")
    arguments = ["--family", config.family]
    if config.preset:
        arguments += ["--preset", config.preset]
    arguments += ["--data", config.data, "--steps", str(config.steps)]
    if config.batch_size is not None:
        arguments += ["--batch-size", str(config.batch_size)]
    arguments += _hyper_arguments(config)
    for key, value in config.model.items():
        arguments += ["--model", f"{key}={_model_value(value)}"]
    arguments += ["--seed", str(config.seed), "--device", config.device]
    if config.out_dir is not None:
        arguments += ["--out", str(config.out_dir)]
    arguments += ["--autosave-every", str(config.autosave_every), "--keep", str(config.keep_checkpoints),
                  "--sample-every", _number(config.sample_every_s)]
    if resume is not None:
        arguments += ["--resume", str(resume)]
    return arguments


def torchrun_command(config: TrainConfig, processes: int, resume: str | Path | None = None) -> list[str]:
    """What a person runs (or pastes on a cluster) to train `config` with `processes` processes."""
    return ["torchrun", f"--nproc_per_node={processes}", "-m", "genstudio", "train",
            *train_arguments(config, resume)]


def launch_arguments(config: TrainConfig, processes: int, port: int, resume: str | Path | None = None) -> list[str]:
    """The arguments after a Python interpreter that run torchrun_command's line with that interpreter
    (`python -m torch.distributed.run` is the `torchrun` script, which a virtual environment may not
    have on PATH), the rendezvous on `port` so that two runs on one machine do not collide."""
    return ["-m", "torch.distributed.run", f"--nproc_per_node={processes}", f"--master_port={port}",
            "-m", "genstudio", "train", *train_arguments(config, resume)]


def free_port() -> int:
    """A TCP port free on this machine now (the system's choice of an unused one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shell_line(arguments: list[str]) -> str:
    """One line a POSIX shell runs as `arguments` (quoted where needed)."""
    return shlex.join(arguments)
