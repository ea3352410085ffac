"""Folders saved by Hugging Face diffusers, opened as diffusion models and explored through DDIM.

Why genstudio reads these folders itself rather than calling diffusers' `from_pretrained`: that
call can run code from the folder or the Hub (`custom_pipeline`, `trust_remote_code`, `auto_map`,
a component named by a module of its own, .py files beside the weights) and unpickles .bin
weights, and a pickle runs code when loaded. Here the folder is read as data only:

    a pipeline folder      model_index.json naming DDPMPipeline or DDIMPipeline, with
                           unet/config.json ("_class_name": "UNet2DModel"),
                           unet/diffusion_pytorch_model.safetensors and scheduler/scheduler_config.json
    a model folder         config.json + diffusion_pytorch_model.safetensors, with a scheduler config
                           beside them (scheduler_config.json, or scheduler/scheduler_config.json)
    a bare model folder    the same without a scheduler config: DDPM's linear schedule is assumed
                           (betas 1e-4 .. 0.02 over T = 1000), and the card notes it

and refused, in one line naming the folder and the reason, when it names a custom or unknown
pipeline, carries `custom_pipeline` / `auto_map` / `trust_remote_code` entries or any Python file,
holds its weights only as pickles (.bin, .pt, .ckpt...), describes another network (a
UNet2DConditionModel needs text encoders), or has config or weights that are absent, corrupt,
too large or not JSON objects. The config's architecture is bounded as it is read (levels, channels,
layers per block: `_check_architecture`), and the network's size is estimated from it
(`parameter_estimate`) and checked against the memory this process can spare before any module is
built: building even on the meta device makes a Python object per layer, and a config of 100000
layers per block would take gigabytes for those alone. The U-Net is then rebuilt with
`UNet2DModel.from_config` (first on the meta device, where its exact size is checked again) and
its weights are loaded from the safetensors bytes with `load_state_dict(strict=True)`.

The scheduler config becomes a NoiseSchedule (num_train_timesteps, beta_schedule linear /
scaled_linear / squaredcos_cap_v2 = schedule.py's cosine, beta_start, beta_end, trained_betas,
prediction_type, clip_sample and clip_sample_range, set_alpha_to_one, steps_offset,
timestep_spacing), read with DDIMScheduler's defaults for absent fields, as `DDIMPipeline` does
when it converts a pipeline's scheduler. alpha-bar is computed in float32 as diffusers computes it,
eps is not recomputed after clipping (DDIMScheduler's default) and each step lands on t - T // steps
as DDIMScheduler.step has it, so genstudio's DDIM decode of a folder equals diffusers' own
DDIMScheduler loop on the same noise, for any number of steps.

diffusers is an optional extra (`pip install "genstudio[diffusers]"`): it is imported only when a
folder is opened, never by importing this module, and `inspect_diffusers_folder` (what `genstudio
info` shows) works without it.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from genstudio.core.errors import CheckpointError
from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize
from genstudio.core.families.diffusion.ddim_model import DDIMModel
from genstudio.core.families.diffusion.schedule import NoiseSchedule, make_betas
from genstudio.core.io.file_checks import open_regular_file, read_regular_file
from genstudio.core.io.model_card import DataDescription, ModelCard
from genstudio.core.runtime.memory_budget import budget_bytes, check_memory

MODEL_INDEX = "model_index.json"
MODEL_CONFIG = "config.json"
SCHEDULER_CONFIG = "scheduler_config.json"
WEIGHTS = "diffusion_pytorch_model.safetensors"
ORIGIN = "diffusers"
INSTALL = 'pip install "genstudio[diffusers]"'

PIPELINES = ("DDPMPipeline", "DDIMPipeline")
# Schedulers whose config describes the DDPM forward process by its betas: any of them is sampled
# here with DDIM from the same alpha-bar, as DDIMScheduler.from_config(that config) would.
SCHEDULERS = frozenset({"DDPMScheduler", "DDIMScheduler", "PNDMScheduler", "DDIMInverseScheduler",
                        "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "LMSDiscreteScheduler",
                        "HeunDiscreteScheduler", "KDPM2DiscreteScheduler", "KDPM2AncestralDiscreteScheduler",
                        "DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler", "DEISMultistepScheduler",
                        "UniPCMultistepScheduler"})
BETA_SCHEDULES = {"linear": "linear", "scaled_linear": "scaled_linear", "squaredcos_cap_v2": "cosine"}
PREDICTIONS = ("epsilon", "v_prediction", "sample")
SPACINGS = ("leading", "trailing", "linspace")
# Entries through which diffusers loads code from the folder or the Hub.
CODE_KEYS = frozenset({"custom_pipeline", "auto_map", "trust_remote_code"})
CODE_SUFFIXES = (".py", ".pyc", ".pyw")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
MAX_CONFIG = 1 << 20              # config.json, model_index.json
MAX_SCHEDULER_CONFIG = 4 << 20    # may list trained_betas, one number per timestep
MAX_HEADER = 100_000_000          # a safetensors header (names, dtypes, shapes, offsets)
MAX_FILES = 10_000                # a model folder holds a handful; refuse a home directory
MAX_TIMESTEPS = 10_000
# A UNet2DModel's architecture: diffusers' own have 4-6 levels of at most 1280 channels and 1-3 layers
# per block. Beyond these bounds a config describes no network anyone trains, only a memory bomb.
MAX_LEVELS = 12                   # block_out_channels; a 4096-pixel image halves 12 times
MAX_CHANNELS = 8192
MAX_LAYERS_PER_BLOCK = 32
# UNet2DModel's defaults, for a config that leaves these out.
DEFAULT_BLOCK_OUT_CHANNELS = (224, 448, 672, 896)
DEFAULT_DOWN_BLOCKS = ("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D")
DEFAULT_UP_BLOCKS = ("AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D")

DEFAULT_SCHEDULE_NOTE = ("no scheduler config: DDPM's linear schedule is assumed (betas 1e-4 .. 0.02 over "
                         "T = 1000, epsilon prediction, x_0 clipped to [-1, 1], leading spacing)")
NO_GUIDANCE = ("guidance is not available for a class-conditional diffusers UNet2DModel: it has no "
               "'no label' class to guide against, so each sample is decoded with its label alone (guidance 0)")


def _fail(path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path}: {reason}")


def _short(value, width: int = 40) -> str:
    return repr(value)[:width]


# --- the config genstudio keeps -----------------------------------------------------------------
@dataclass(frozen=True)
class DiffusersConfig(ModelConfig):
    """What the explorer and the card need of a diffusers U-Net: its sampling defaults (DDIMPipeline's
    50 steps, a 4-step preview while a slider moves), the training timesteps and the network's size.
    The architecture itself stays in the folder's config.json: this config never rebuilds a model."""

    timesteps: int = field(default=1000, metadata={"min": 2, "max": MAX_TIMESTEPS})
    sample_steps: int = field(default=50, metadata={"min": 1, "max": MAX_TIMESTEPS})
    preview_steps: int = field(default=4, metadata={"min": 1, "max": MAX_TIMESTEPS})
    guidance: float = field(default=0.0, metadata={"min": 0.0, "max": 0.0})   # no null label: never guided
    parameters: int = field(default=0, metadata={"min": 0, "max": 1 << 50})
    activations: int = field(default=0, metadata={"min": 0, "max": 1 << 50})  # per sample, one U-Net call

    def size(self) -> ModelSize:
        return ModelSize(self.parameters, self.activations)

    def check(self) -> None:
        if not self.preview_steps <= self.sample_steps <= self.timesteps:
            raise ConfigError(f"need preview_steps ({self.preview_steps}) <= sample_steps ({self.sample_steps}) "
                              f"<= timesteps ({self.timesteps})")


# --- the model ----------------------------------------------------------------------------------
class DiffusersUNet(DDIMModel):
    """A diffusers UNet2DModel behind DDIMModel's decode / encode / variations (family "diffusion").

    Images are in [-1, 1] inside (DDIMModel's _to_model / _from_model), as diffusers' image pipelines
    have them. A class-conditional U-Net (num_class_embeds) decodes each sample with its label; given
    none, sample i gets label i mod num_classes, as genstudio's conditional GANs do."""

    family = "diffusion"

    def __init__(self, config: DiffusersConfig, unet: torch.nn.Module, schedule: NoiseSchedule):
        super().__init__(config)
        self.unet = unet.requires_grad_(False).eval()
        self.schedule = schedule

    def default_labels(self, n: int) -> torch.Tensor | None:
        return torch.arange(n, device=self.device) % self.num_classes if self.num_classes else None

    def _labels(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """(n,) long labels on the model's device, or None for an unconditional U-Net."""
        if not self.num_classes:
            return None
        if labels is None:
            return self.default_labels(n)
        labels = labels.reshape(-1).to(self.device).long()
        if len(labels) == 1 and n > 1:
            labels = labels.expand(n)
        if len(labels) != n:
            raise ValueError(f"{len(labels)} labels for {n} samples")
        if bool(((labels < 0) | (labels >= self.num_classes)).any()):
            raise ValueError(f"labels must be 0..{self.num_classes - 1}, not {labels.tolist()[:8]}")
        return labels

    def predictor(self, labels: torch.Tensor | None = None, guidance: float = 0.0):
        """predict(x (B, C, H, W), t) -> the U-Net's output (B, C, H, W): eps, v or x_0, as the schedule says."""
        if guidance > 0 and self.num_classes:
            raise ValueError(NO_GUIDANCE)

        def predict(x: torch.Tensor, t: int) -> torch.Tensor:
            steps = torch.full((len(x),), int(t), dtype=torch.long, device=x.device)      # (B,)
            return self.unet(x, steps, class_labels=self._labels(labels, len(x))).sample

        return predict


# --- reading the folder (data only; diffusers not needed) ---------------------------------------
def _read_json(path: Path, what: str, max_bytes: int = MAX_CONFIG) -> dict:
    """A JSON object from a regular file of at most max_bytes; NaN/Infinity refused."""
    raw = read_regular_file(path, what, error=CheckpointError, max_bytes=max_bytes)

    def no_constant(name):
        raise ValueError(f"{name} is not a JSON number")

    try:
        value = json.loads(raw, parse_constant=no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise _fail(path, f"not valid JSON ({first})") from None
    if not isinstance(value, dict):
        raise _fail(path, f"expected a JSON object, not a {type(value).__name__}")
    _refuse_code_entries(path, value)
    return value


def _refuse_code_entries(path: Path, value) -> None:
    """custom_pipeline / auto_map / trust_remote_code anywhere in the JSON: ways to load code."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if key in CODE_KEYS:
                    raise _fail(path, f"has a {key!r} entry, which makes diffusers load code from the folder or "
                                      "the Hub; genstudio never runs code from a model folder")
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)


def _scan(folder: Path) -> list[Path]:
    """Every file under the folder (links to folders not followed), refusing code and huge trees."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            found.append(Path(root) / name)
            if len(found) > MAX_FILES:
                raise _fail(folder, f"holds more than {MAX_FILES} files: not a diffusers model folder")
    code = [p for p in found if p.suffix.lower() in CODE_SUFFIXES]
    if code:
        raise _fail(folder, f"holds Python code ({code[0].relative_to(folder)}): a custom pipeline or model, "
                            "and genstudio never runs code from a model folder")
    return found


def _whole(path: Path, config: dict, key: str, default, low: int, high: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(path, f"{key} must be a whole number from {low} to {high}, not {_short(value)}")
    return value


def _number(path: Path, config: dict, key: str, default: float, low: float, high: float) -> float:
    """A finite number in the open interval (low, high)."""
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        raise _fail(path, f"{key} must be a number between {low:g} and {high:g}, not {_short(value)}")
    return float(value)


def _flag(path: Path, config: dict, key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise _fail(path, f"{key} must be true or false, not {_short(value)}")
    return value


def _choice(path: Path, config: dict, key: str, default: str, choices) -> str:
    value = config.get(key, default)
    if value not in choices:
        raise _fail(path, f"{key} {_short(value)} is not one genstudio knows ({', '.join(choices)})")
    return value


def _check_architecture(path: Path, config: dict) -> None:
    """The fields that set the U-Net's size, each within the bounds above (refused in one line naming
    the file), so that `parameter_estimate` can rely on them and nothing is built for a bomb."""
    channels = config.get("block_out_channels", list(DEFAULT_BLOCK_OUT_CHANNELS))
    if (not isinstance(channels, list) or not 1 <= len(channels) <= MAX_LEVELS
            or not all(isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= MAX_CHANNELS for c in channels)):
        raise _fail(path, f"block_out_channels must list 1 to {MAX_LEVELS} whole numbers from 1 to {MAX_CHANNELS} "
                          f"(channels per level), not {_short(channels)}")
    for key, default in (("down_block_types", DEFAULT_DOWN_BLOCKS), ("up_block_types", DEFAULT_UP_BLOCKS)):
        blocks = config.get(key, list(default))
        if (not isinstance(blocks, list) or len(blocks) != len(channels)
                or not all(isinstance(b, str) and b.isidentifier() for b in blocks)):
            raise _fail(path, f"{key} must list one block class name per level ({len(channels)}, as "
                              f"block_out_channels), not {_short(blocks)}")
    mid = config.get("mid_block_type", "UNetMidBlock2D")
    if mid is not None and not (isinstance(mid, str) and mid.isidentifier()):
        raise _fail(path, f"mid_block_type must be a block class name, not {_short(mid)}")
    _whole(path, config, "layers_per_block", 2, 1, MAX_LAYERS_PER_BLOCK)
    if config.get("time_embedding_dim") is not None:
        _whole(path, config, "time_embedding_dim", None, 1, 4 * MAX_CHANNELS)


def parameter_estimate(config: dict, data_channels: int, num_classes: int) -> int:
    """At least how many parameters the UNet2DModel a checked config describes has, counted from its
    config alone: the 3x3 convolutions of its ResNet blocks (down: layers_per_block per level, up: one
    more, with the skip connections' channels), the four projections of each attention layer, the
    down- and upsampling convolutions, the time and class embeddings. Norms and biases are left out,
    and so is what some block types add, so the count is a lower bound of diffusers' own."""
    channels = config.get("block_out_channels", DEFAULT_BLOCK_OUT_CHANNELS)
    down = config.get("down_block_types", DEFAULT_DOWN_BLOCKS)
    up = config.get("up_block_types", DEFAULT_UP_BLOCKS)
    layers = config.get("layers_per_block", 2)
    time_dim = config.get("time_embedding_dim") or 4 * channels[0]

    def resnet(cin: int, cout: int) -> int:     # two 3x3 convolutions, a 1x1 shortcut when channels change
        return 9 * cin * cout + 9 * cout * cout + (cin * cout if cin != cout else 0)

    def attention(c: int) -> int:               # query, key, value and output projections
        return 4 * c * c

    total = 9 * data_channels * channels[0] * 2 + channels[0] * time_dim + time_dim * time_dim
    total += num_classes * time_dim
    previous = channels[0]
    for level, (kind, c) in enumerate(zip(down, channels)):
        total += resnet(previous, c) + (layers - 1) * resnet(c, c)
        total += layers * attention(c) if "Attn" in kind else 0
        total += 9 * c * c if level < len(channels) - 1 else 0
        previous = c
    if config.get("mid_block_type", "UNetMidBlock2D") is not None:
        total += 2 * resnet(channels[-1], channels[-1])
    reversed_channels = list(reversed(channels))
    previous = reversed_channels[0]
    for level, (kind, c) in enumerate(zip(up, reversed_channels)):
        skip = reversed_channels[min(level + 1, len(channels) - 1)]
        for layer in range(layers + 1):     # each takes the level's input (or its own) plus a skip
            total += resnet((previous if layer == 0 else c) + (skip if layer == layers else c), c)
        total += (layers + 1) * attention(c) if "Attn" in kind else 0
        total += 9 * c * c if level < len(channels) - 1 else 0
        previous = c
    return total


def _check_unet_config(path: Path, config: dict) -> tuple[tuple[int, int, int], int]:
    """(data_shape (C, H, W), num_classes) of a UNet2DModel config, or a refusal naming the file."""
    name = config.get("_class_name")
    if name == "UNet2DConditionModel":
        raise _fail(path, "a UNet2DConditionModel (a text-to-image U-Net) needs text encoders, which genstudio "
                          "does not support; it opens image U-Nets (UNet2DModel)")
    if name != "UNet2DModel":
        what = f"a {name}" if isinstance(name, str) and name.isidentifier() else "a config without a model class"
        raise _fail(path, f"{what[:80]}, not a UNet2DModel: genstudio opens unconditional and class-conditional "
                          "image U-Nets (UNet2DModel)")
    channels = _whole(path, config, "in_channels", 3, 1, 4096)
    if channels not in (1, 3):
        raise _fail(path, f"a U-Net of {channels} channels: a latent-diffusion U-Net (it needs its autoencoder), "
                          "not an image model genstudio can show; it opens 1- or 3-channel image U-Nets")
    out = _whole(path, config, "out_channels", 3, 1, 4096)
    if out != channels:
        raise _fail(path, f"the U-Net takes {channels} channels and returns {out} (a learned variance?): genstudio "
                          "samples U-Nets that return one prediction per input channel")
    size = config.get("sample_size")
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size, size]
    if (not isinstance(size, list) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 4096 for s in size)):
        raise _fail(path, f"sample_size must be the image size (a whole number, or [height, width] up to 4096), "
                          f"not {_short(config.get('sample_size'))}")
    embedding = config.get("time_embedding_type", "positional")
    if embedding not in ("positional", "learned"):
        raise _fail(path, f"time_embedding_type {_short(embedding)}: a score-SDE network (noise levels, not "
                          "DDPM timesteps), which genstudio does not sample")
    kind = config.get("class_embed_type")
    if kind is not None:
        raise _fail(path, f"class_embed_type {_short(kind)} conditions on vectors, not class labels; genstudio "
                          "opens unconditional U-Nets and ones with num_class_embeds labels")
    classes = config.get("num_class_embeds")
    classes = 0 if classes is None else _whole(path, config, "num_class_embeds", None, 1, 100_000)
    _check_architecture(path, config)
    return (channels, size[0], size[1]), classes


def _betas(path: Path, config: dict, timesteps: int) -> tuple[torch.Tensor, str]:
    """(T,) float32 betas as diffusers' schedulers build them, and how they were described."""
    trained = config.get("trained_betas")
    if trained is not None:
        if (not isinstance(trained, list) or len(trained) != timesteps
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 < b < 1 for b in trained)):
            raise _fail(path, f"trained_betas must list {timesteps} numbers between 0 and 1 (one per timestep)")
        return torch.tensor(trained, dtype=torch.float32), "trained betas"
    kind = _choice(path, config, "beta_schedule", "linear", tuple(BETA_SCHEDULES))
    if kind == "squaredcos_cap_v2":
        # Improved DDPM's cosine alpha-bar, betas capped at 0.999: diffusers' betas_for_alpha_bar and
        # schedule.py's "cosine" are the same formula (equal once rounded to float32).
        return make_betas("cosine", timesteps).float(), "squaredcos_cap_v2 (cosine) betas"
    start = _number(path, config, "beta_start", 1e-4, 0.0, 1.0)
    end = _number(path, config, "beta_end", 0.02, 0.0, 1.0)
    if kind == "linear":
        betas = torch.linspace(start, end, timesteps, dtype=torch.float32)
    else:
        betas = torch.linspace(start ** 0.5, end ** 0.5, timesteps, dtype=torch.float32) ** 2
    return betas, f"{kind} betas {start:g} .. {end:g}"


def schedule_from_config(path: Path, config: dict | None) -> tuple[NoiseSchedule, str]:
    """A diffusers scheduler config -> (NoiseSchedule, a one-line description). None: DDPM's default
    (the linear schedule diffusers' DDIMScheduler starts from). Absent fields take DDIMScheduler's defaults."""
    config = config or {}
    if config.get("thresholding"):
        raise _fail(path, "uses dynamic thresholding, which genstudio's DDIM sampler does not do")
    if config.get("rescale_betas_zero_snr"):
        raise _fail(path, "rescales the betas to zero terminal SNR, which genstudio's DDIM sampler does not do")
    T = _whole(path, config, "num_train_timesteps", 1000, 2, MAX_TIMESTEPS)
    betas, described = _betas(path, config, T)
    # diffusers: alphas_cumprod = cumprod(1 - betas) in float32; kept here as float64 of those values.
    alphas_cumprod = torch.cumprod(1.0 - betas, 0).double()                    # (T,)
    if not float(alphas_cumprod[-1]) > 0:
        raise _fail(path, f"its betas leave no signal by timestep {T - 1} (alpha-bar reaches 0)")
    prediction = _choice(path, config, "prediction_type", "epsilon", PREDICTIONS)
    clip = None
    if _flag(path, config, "clip_sample", True):
        clip = _number(path, config, "clip_sample_range", 1.0, 0.0, math.inf)
    final = 1.0 if _flag(path, config, "set_alpha_to_one", True) else float(alphas_cumprod[0])
    spacing = _choice(path, config, "timestep_spacing", "leading", SPACINGS)
    offset = _whole(path, config, "steps_offset", 0, 0, T - 1)
    schedule = NoiseSchedule(alphas_cumprod, final_alpha_cumprod=final, spacing=spacing, steps_offset=offset,
                             prediction=prediction, clip=clip, recompute_eps=False, previous="stride")
    text = (f"{T} timesteps, {described}, predicts {prediction}, "
            f"{'x_0 clipped to ' + format(clip, 'g') if clip is not None else 'x_0 not clipped'}, "
            f"{spacing} spacing" + (f" (offset {offset})" if offset else "") + f", final alpha-bar {final:.6g}")
    return schedule, text


def _weights_summary(path: Path) -> tuple[int, int]:
    """(tensors, numbers) from a safetensors file's header, read without loading the tensors."""
    with open_regular_file(path, "the U-Net weights", error=CheckpointError, max_bytes=budget_bytes()) as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= length <= min(size - 8, MAX_HEADER):
            raise _fail(path, "not a safetensors file, or truncated (its header does not fit the file)")
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _fail(path, "corrupt safetensors header (not JSON)") from None
    if not isinstance(header, dict):
        raise _fail(path, "corrupt safetensors header (not a JSON object)")
    tensors = numbers = 0
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        shape = meta.get("shape") if isinstance(meta, dict) else None
        if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                  for s in shape):
            raise _fail(path, f"corrupt safetensors header (tensor {str(name)[:60]!r} has no shape)")
        tensors += 1
        numbers += math.prod(shape)
    return tensors, numbers


@dataclass(frozen=True)
class DiffusersFolder:
    """A diffusers folder as read and checked, before diffusers is imported or any weight loaded."""

    path: Path
    layout: str                              # "pipeline", "model" or "bare model"
    pipeline: str                            # "DDPMPipeline", "DDIMPipeline", or "" for a model folder
    unet_config_path: Path
    unet_config: dict = field(repr=False)
    weights: Path
    tensors: int                             # in the weights file, from its header
    weight_numbers: int
    scheduler: str                           # the scheduler config's class, or "" (none: DDPM's default)
    scheduler_config_path: Path | None
    schedule: NoiseSchedule = field(repr=False)
    schedule_text: str
    data_shape: tuple[int, int, int]         # (C, H, W)
    num_classes: int
    diffusers_version: str
    notes: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """The registered family such a folder opens as: its U-Net is sampled as a diffusion model."""
        return DiffusersUNet.family

    @property
    def label(self) -> str:
        """How the folder is shown: 'DDPMPipeline' or 'UNet2DModel'."""
        return self.pipeline or "UNet2DModel"

    def describe(self) -> dict:
        """Plain data for `genstudio info --json`."""
        return {"folder": str(self.path), "layout": self.layout, "family": self.family,
                "pipeline": self.pipeline or None, "network": "UNet2DModel", "config": str(self.unet_config_path),
                "weights": str(self.weights),
                "tensors": self.tensors, "parameters": self.weight_numbers,
                "scheduler": self.scheduler or None,
                "scheduler_config": str(self.scheduler_config_path) if self.scheduler_config_path else None,
                "schedule": self.schedule_text, "data_shape": list(self.data_shape),
                "num_classes": self.num_classes, "saved_by_diffusers": self.diffusers_version or None,
                "notes": list(self.notes), "unet_config": self.unet_config}


def is_diffusers_folder(path: str | os.PathLike) -> bool:
    """A folder laid out as diffusers saves one (model_index.json or config.json in it). Whether it is
    one genstudio opens is `inspect_diffusers_folder`'s to say."""
    try:
        folder = Path(path)
        return folder.is_dir() and ((folder / MODEL_INDEX).is_file() or (folder / MODEL_CONFIG).is_file())
    except (OSError, ValueError):
        return False


def _pipeline_parts(folder: Path) -> tuple[str, Path, Path]:
    """(pipeline class, U-Net folder, scheduler config) of a pipeline folder, from its model_index.json."""
    index_path = folder / MODEL_INDEX
    index = _read_json(index_path, "a diffusers pipeline index")
    name = index.get("_class_name")
    if isinstance(name, list):
        raise _fail(index_path, f"names a custom pipeline ({_short(name, 60)}): code from the folder or the Hub, "
                                "which genstudio never runs")
    if name not in PIPELINES:
        what = f"a {name}" if isinstance(name, str) and name.isidentifier() else "no pipeline class"
        raise _fail(index_path, f"{what[:80]}: not a pipeline genstudio opens (it opens {' and '.join(PIPELINES)} "
                                "folders, whose unet is a UNet2DModel)")
    components = {k: v for k, v in index.items() if not k.startswith("_")}
    for key, value in components.items():
        if (not isinstance(value, list) or len(value) != 2
                or not all(v is None or isinstance(v, str) for v in value)):
            raise _fail(index_path, f"its {key[:40]!r} entry must be [library, class], not {_short(value)}")
        if key not in ("unet", "scheduler"):
            raise _fail(index_path, f"a {name} has a unet and a scheduler, and this one also a {key[:40]!r}: "
                                    "not a pipeline genstudio opens")
        if value[0] != "diffusers":
            raise _fail(index_path, f"its {key} comes from {_short(value[0])}, a module diffusers would import "
                                    "(a custom component): genstudio never runs code from a model folder")
    if components.get("unet", [None, None])[1] != "UNet2DModel":
        unet = components.get("unet", [None, None])[1]
        if unet == "UNet2DConditionModel":
            raise _fail(index_path, "its unet is a UNet2DConditionModel (text-to-image), which needs text encoders "
                                    "genstudio does not support")
        raise _fail(index_path, f"its unet is {_short(unet)}, not a UNet2DModel")
    scheduler = components.get("scheduler", [None, None])[1]
    if scheduler not in SCHEDULERS:
        raise _fail(index_path, f"its scheduler is {_short(scheduler)}, not one whose noise schedule genstudio reads")
    return name, folder / "unet", folder / "scheduler" / SCHEDULER_CONFIG


def inspect_diffusers_folder(path: str | os.PathLike) -> DiffusersFolder:
    """Read and check a diffusers folder without importing diffusers or loading a weight."""
    folder = Path(path)
    if not folder.is_dir():
        raise _fail(folder, "not a folder" if folder.exists() else "no such folder")
    files = _scan(folder)
    notes: list[str] = []
    if (folder / MODEL_INDEX).is_file():
        pipeline, model_dir, scheduler_path = _pipeline_parts(folder)
        layout = "pipeline"
        if not scheduler_path.is_file():
            raise _fail(folder, f"a {pipeline} folder without {scheduler_path.relative_to(folder)}")
    elif (folder / MODEL_CONFIG).is_file():
        pipeline, model_dir, layout = "", folder, "model"
        scheduler_path = next((p for p in (folder / SCHEDULER_CONFIG, folder / "scheduler" / SCHEDULER_CONFIG)
                               if p.is_file()), None)
        if scheduler_path is None:
            layout = "bare model"
            notes.append(DEFAULT_SCHEDULE_NOTE)
    else:
        hint = (" (a genstudio run folder? open its checkpoint.safetensors)"
                if (folder / "checkpoint.safetensors").is_file() else "")
        raise _fail(folder, f"not a diffusers folder: it has neither {MODEL_INDEX} nor {MODEL_CONFIG}{hint}")

    config_path = model_dir / MODEL_CONFIG
    if not config_path.is_file():
        raise _fail(folder, f"no {config_path.relative_to(folder)}: the U-Net's config is missing")
    unet_config = _read_json(config_path, "a diffusers model config")
    data_shape, num_classes = _check_unet_config(config_path, unet_config)

    weights = model_dir / WEIGHTS
    pickles = [p for p in files if p.suffix.lower() in PICKLE_SUFFIXES]
    if not weights.is_file():
        in_model = [p for p in pickles if p.parent == model_dir]
        if in_model:
            raise _fail(folder, f"its weights are a pickle ({in_model[0].relative_to(folder)}), which runs code "
                                "when loaded: genstudio reads only safetensors weights (save them with "
                                "save_pretrained(safe_serialization=True))")
        if (model_dir / (WEIGHTS + ".index.json")).is_file():
            raise _fail(folder, "its weights are split into shards, which genstudio does not read")
        raise _fail(folder, f"no {weights.relative_to(folder)}: the U-Net's weights are missing")
    if pickles:
        notes.append(f"pickle files left unread: {', '.join(str(p.relative_to(folder)) for p in pickles[:3])}")
    tensors, numbers = _weights_summary(weights)

    scheduler_config = None
    scheduler = ""
    if scheduler_path is not None:
        scheduler_config = _read_json(scheduler_path, "a diffusers scheduler config", MAX_SCHEDULER_CONFIG)
        scheduler = scheduler_config.get("_class_name")
        if not isinstance(scheduler, str) or scheduler not in SCHEDULERS:       # a list is unhashable
            raise _fail(scheduler_path, f"a {_short(scheduler)} config, not a scheduler whose noise schedule "
                                        "genstudio reads")
        if scheduler != "DDIMScheduler":
            notes.append(f"sampled with DDIM from its {scheduler}'s noise schedule, as DDIMPipeline would")
    schedule, schedule_text = schedule_from_config(scheduler_path or config_path, scheduler_config)
    if (unet_config.get("time_embedding_type") == "learned"
            and _whole(config_path, unet_config, "num_train_timesteps", None, 1, MAX_TIMESTEPS) < schedule.timesteps):
        raise _fail(config_path, f"its learned time embedding has fewer entries than the schedule's "
                                 f"{schedule.timesteps} timesteps")
    if num_classes:
        notes.append(NO_GUIDANCE)
    version = next((c.get("_diffusers_version") for c in (unet_config, scheduler_config or {})
                    if isinstance(c.get("_diffusers_version"), str)), "")
    return DiffusersFolder(folder, layout, pipeline, config_path, unet_config, weights, tensors, numbers, scheduler,
                           scheduler_path, schedule, schedule_text, data_shape, num_classes, version[:40],
                           tuple(notes))


# --- opening (diffusers needed) -----------------------------------------------------------------
def diffusers_available() -> bool:
    """Whether the extra is installed (without importing it)."""
    try:
        return importlib.util.find_spec("diffusers") is not None
    except (ImportError, ValueError):
        return False


def _unet_class(folder: Path):
    try:
        from diffusers import UNet2DModel
    except ImportError as exc:
        if exc.name == "diffusers" and getattr(sys, "frozen", False):
            raise _fail(folder, "opening diffusers folders needs the diffusers extra, which this packaged app "
                                f"does not include: install genstudio with {INSTALL}") from None
        if exc.name == "diffusers":
            raise _fail(folder, f"opening diffusers folders needs the diffusers extra: {INSTALL}") from None
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise _fail(folder, f"the diffusers library is installed but does not import ({first})") from None
    return UNet2DModel


def _build_unet(found: DiffusersFolder, unet_class) -> tuple[torch.nn.Module, int, int]:
    """The U-Net from its config, with (parameters and buffers, activations of one sample's call):
    first on the meta device, so a config that describes a huge network is refused before allocating."""
    names = set(inspect.signature(unet_class.__init__).parameters) - {"self"}
    values = {k: v for k, v in found.unet_config.items() if k in names}

    def build():
        try:
            return unet_class.from_config(values)
        except Exception as exc:  # diffusers raises anything on a bad architecture; one line names the file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise _fail(found.unet_config_path, f"cannot build the UNet2DModel it describes ({first})") from None

    # From the config alone, before anything is built: building a bomb, even on the meta device, is the bomb.
    estimate = parameter_estimate(found.unet_config, found.data_shape[0], found.num_classes)
    check_memory(4 * estimate, f"{found.unet_config_path}: the UNet2DModel it describes (at least {estimate:,} "
                 "parameters, from its config)", error=CheckpointError)
    activations = [0]

    def count(module, inputs, output):
        if torch.is_tensor(output):
            activations[0] += output[:1].numel()

    with torch.device("meta"):
        sketch = build()
        numbers = sum(t.numel() for t in (*sketch.parameters(), *sketch.buffers()))
        check_memory(4 * numbers, f"{found.path}: the UNet2DModel it describes ({numbers:,} parameters)",
                     error=CheckpointError)
        handle = torch.nn.modules.module.register_module_forward_hook(count)
        try:
            x = torch.zeros(1, *found.data_shape)                                     # (1, C, H, W)
            labels = torch.zeros(1, dtype=torch.long) if found.num_classes else None
            sketch(x, torch.zeros(1, dtype=torch.long), class_labels=labels)
        except Exception as exc:  # e.g. a sample_size the U-Net's levels cannot halve
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise _fail(found.unet_config_path, f"the UNet2DModel it describes cannot denoise "
                                                f"{' x '.join(map(str, found.data_shape))} images ({first})") from None
        finally:
            handle.remove()
    check_memory(4 * (numbers + activations[0]), f"{found.path}: the UNet2DModel it describes "
                 f"({numbers:,} parameters)", error=CheckpointError)
    return build(), numbers, activations[0]


def _load_weights(found: DiffusersFolder, unet: torch.nn.Module) -> None:
    """The safetensors weights into the U-Net, every name and shape checked first (strict)."""
    import safetensors
    import safetensors.torch

    path = found.weights
    raw = read_regular_file(path, "the U-Net weights", error=CheckpointError, max_bytes=budget_bytes())
    try:
        tensors = safetensors.torch.load(raw)
    except (safetensors.SafetensorError, ValueError, RuntimeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise _fail(path, f"corrupt or truncated safetensors weights ({first})") from None
    del raw
    # Weights saved before diffusers 0.14 name attention layers query/key/value/proj_attn; diffusers
    # renames them to to_q/to_k/to_v/to_out.0 as it loads (a rename of keys, nothing more).
    fix = getattr(unet, "_fix_state_dict_keys_on_load", None)
    if callable(fix):
        tensors = fix(dict(tensors)) or tensors
    expected = unet.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        parts = []
        for what, names in (("missing", missing), ("unexpected", unexpected)):
            if names:
                more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
                parts.append(f"{what} weights {', '.join(names[:3])}{more}")
        raise _fail(path, f"the weights do not fit {found.unet_config_path.name}: {'; '.join(parts)}")
    for key, value in tensors.items():
        if value.shape != expected[key].shape:
            raise _fail(path, f"weight {key} has shape {tuple(value.shape)}, the config's U-Net needs "
                              f"{tuple(expected[key].shape)}")
        if not value.is_floating_point():
            raise _fail(path, f"weight {key} is {str(value.dtype).removeprefix('torch.')}, not floating point")
        if not torch.isfinite(value).all():
            raise _fail(path, f"weight {key} holds NaN or infinite values")
    unet.load_state_dict(tensors, strict=True)      # fp16 / bf16 weights become the U-Net's float32


def load_diffusers_folder(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[DiffusersUNet, ModelCard]:
    """(model, card) of a diffusers folder: the U-Net rebuilt from its config with its safetensors
    weights, sampled with DDIM over the scheduler config's schedule. Nothing in the folder runs."""
    found = inspect_diffusers_folder(path)
    unet_class = _unet_class(found.path)
    unet, numbers, activations = _build_unet(found, unet_class)
    _load_weights(found, unet)
    T = found.schedule.timesteps
    sample_steps = min(50, T)
    config = DiffusersConfig(data_shape=found.data_shape, num_classes=found.num_classes, timesteps=T,
                             sample_steps=sample_steps, preview_steps=min(4, sample_steps), parameters=numbers,
                             activations=activations)
    config.check()
    model = DiffusersUNet(config, unet, found.schedule).to(device)
    return model, card_of(found, config)


def card_of(found: DiffusersFolder, config: DiffusersConfig) -> ModelCard:
    """The card of an opened folder: the folder's family (diffusion: the explorer's DDIM controls, encode
    and variations), origin "diffusers" (never saved or resumed as a genstudio checkpoint)."""
    data = DataDescription(name=found.path.name, shape=found.data_shape, value_range=(0.0, 1.0), kind="images")
    versions = {"diffusers": found.diffusers_version} if found.diffusers_version else {}
    return ModelCard(family=found.family, config=config, latent_shape=found.data_shape, preset=found.label,
                     data=data, versions=versions, origin=ORIGIN, notes=found.notes)
