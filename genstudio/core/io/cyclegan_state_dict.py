"""Which generator a public CycleGAN / pix2pix state dict holds, from its keys and shapes alone.

The public PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix) saves a generator as a plain state
dict (`latest_net_G_A.pth`, `latest_net_G.pth`) and keeps the options that built it (ngf, n_blocks,
norm, dropout) out of the file. They are read back here from the module layout that
families/translation/networks.py reproduces:

ResNet generator (`resnet_6blocks`, `resnet_9blocks`): `model.1.weight` (ngf, in_c, 7, 7) is the first
conv; residual blocks sit at model.10 .. model.{9 + n}, each a `conv_block` whose convs are at 1 and 5,
or 1 and 6 when a Dropout(0.5) sits between them (`--no_dropout` off); the last conv is
model.{17 + n} (out_c, ngf, 7, 7).

U-Net (`unet_128`, `unet_256`): nested blocks, `model.model.0` the outermost down conv (ngf, in_c, 4, 4)
and `model.model.3` its transposed conv (2 ngf, out_c, 4, 4); each inner level is `.model.1` of
the one outside it (then `.model.3` inside a middle level), so the depth is the nesting; the
innermost level holds a conv at `.model.3` instead of a submodule. A U-Net's dropout sits after
the last layer of its level and has no parameters, so no file records it.

Norm: `batch` (BatchNorm with affine weights and running statistics; the convs before a norm have no
bias) or `instance` (InstanceNorm without weights; the convs have biases). PyTorch before 0.4 also
saved running statistics of InstanceNorm layers, which the public code deletes when it loads a
file: the reader drops them too (`legacy_keys`).

Only shapes are looked at here: the reader (cyclegan_reader.py) then checks every key and shape
against the model these options build, as `load_state_dict(strict=True)` would, in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from genstudio.core.errors import CheckpointError

BLOCKS_START = 10                # model.10 is the first residual block of a ResNet generator
MAX_UNET_DOWNS = 12              # TranslationConfig's bound on unet_downs; deeper nesting is refused first
_BLOCK_KEY = re.compile(r"^model\.(\d+)\.conv_block\.(\d+)\.weight$")
STAT_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")


@dataclass(frozen=True)
class Architecture:
    """What a public generator state dict was built with, in TranslationConfig's terms."""

    generator: str                 # "resnet" | "unet"
    ngf: int
    in_channels: int
    out_channels: int
    norm: str                      # "instance" | "batch"
    n_blocks: int = 0              # ResNet: residual blocks
    dropout: bool = False          # ResNet: read from the conv_block indices; U-Net: never recorded
    unet_downs: int = 0            # U-Net: halvings (7: unet_128, 8: unet_256)

    @property
    def name(self) -> str:
        """The public code's --netG name where one exists ("resnet_9blocks", "unet_256")."""
        if self.generator == "resnet":
            return f"resnet_{self.n_blocks}blocks"
        return f"unet_{2 ** self.unet_downs}"

    def summary(self) -> str:
        """'ResNet generator, 9 residual blocks, ngf 64, instance norm, no dropout, 3 -> 3 channels'."""
        if self.generator == "resnet":
            what = (f"ResNet generator ({self.name}), {self.n_blocks} residual blocks, ngf {self.ngf}, {self.norm} "
                    f"norm, {'dropout 0.5' if self.dropout else 'no dropout'}")
        else:
            what = (f"U-Net generator ({self.name}), {self.unet_downs} downsamplings, ngf {self.ngf}, {self.norm} "
                    f"norm (dropout, if any, leaves no trace in the file)")
        return f"{what}, {self.in_channels} -> {self.out_channels} channels"

    def config_values(self) -> dict:
        """TranslationConfig fields of a one-generator CycleGAN with this generator (data_shape aside)."""
        values = {"generator": self.generator, "ngf": self.ngf, "norm": self.norm, "dropout": self.dropout}
        if self.generator == "resnet":
            values["n_blocks"] = self.n_blocks
        else:
            values["unet_downs"] = self.unet_downs
        return values


def _fail(path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path}: {reason}")


def _conv_shape(path, shapes: dict, key: str, kernel: int) -> tuple[int, ...]:
    """The shape of a 4-D conv weight (out, in, k, k) at `key`; CheckpointError when absent or other."""
    shape = shapes.get(key)
    if shape is None:
        raise _fail(path, f"no {key} in the state dict, which a public generator of this kind has")
    if len(shape) != 4 or shape[2:] != (kernel, kernel):
        raise _fail(path, f"{key} has shape {list(shape)}, not the {kernel}x{kernel} conv weight "
                          f"(out, in, {kernel}, {kernel}) the public layout has there")
    return shape


def _norm(path, shapes: dict, norm_key: str, conv_key: str) -> str:
    """Batch norm leaves affine weights at the norm's index; instance norm leaves none but puts biases
    on the convs. Neither is the public code's `--norm none`, which genstudio does not build."""
    if f"{norm_key}.weight" in shapes:
        return "batch"
    if f"{conv_key}.bias" in shapes:
        return "instance"
    raise _fail(path, f"{conv_key} has no bias and {norm_key} no norm weights: a generator without "
                      "normalisation (--norm none), which genstudio does not build (it builds instance or batch norm)")


def infer_architecture(shapes: dict[str, tuple[int, ...]], path: str | Path) -> Architecture:
    """The architecture of a generator whose state dict has these {key: shape}; CheckpointError (one
    line naming `path`) when the keys are not those of a public ResNet or U-Net generator."""
    if "model.model.0.weight" in shapes:
        return _unet(shapes, path)
    if _looks_resnet(shapes) or ("model.1.weight" in shapes and any(_BLOCK_KEY.match(k) for k in shapes)):
        return _resnet(shapes, path)
    raise _fail(path, f"not a CycleGAN / pix2pix generator: {_what_it_is(shapes)}")


def _looks_resnet(shapes: dict) -> bool:
    """A ResNet generator with no residual blocks still has its 7x7 first conv at model.1."""
    shape = shapes.get("model.1.weight")
    return shape is not None and len(shape) == 4 and shape[2:] == (7, 7)


def _what_it_is(shapes: dict) -> str:
    """Why the keys are not a generator's, as the rest of a one-line refusal."""
    if not shapes:
        return "the state dict is empty"
    if any(k.startswith("module.") for k in shapes):
        return ("its keys start with 'module.' (a DataParallel wrapper's state dict; the public code saves "
                "the inner module's)")
    first = shapes.get("model.0.weight")
    if first is not None and len(first) == 4 and first[2:] == (4, 4):
        return "it looks like a PatchGAN discriminator (net_D: model.0 is a 4x4 conv), not a generator"
    keys = sorted(shapes)
    shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    return (f"it has neither model.1.weight (a ResNet generator) nor model.model.0.weight (a U-Net); "
            f"its keys are {shown}")


def _resnet(shapes: dict, path) -> Architecture:
    first = _conv_shape(path, shapes, "model.1.weight", 7)                       # (ngf, in_c, 7, 7)
    ngf, in_channels = first[0], first[1]
    norm = _norm(path, shapes, "model.2", "model.1")
    convs: dict[int, set[int]] = {}                                              # block index -> conv indices
    for key, shape in shapes.items():
        match = _BLOCK_KEY.match(key)
        if match and len(shape) == 4:
            convs.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    blocks = sorted(convs)
    n = len(blocks)
    if blocks != list(range(BLOCKS_START, BLOCKS_START + n)):
        raise _fail(path, f"residual blocks at model.{blocks[0]} .. model.{blocks[-1]} are not the consecutive "
                          f"model.{BLOCKS_START}, model.{BLOCKS_START + 1}, ... of a ResNet generator")
    layouts = {frozenset({1, 5}): False, frozenset({1, 6}): True}               # conv indices -> dropout
    dropout = set()
    for index in blocks:
        if frozenset(convs[index]) not in layouts:
            raise _fail(path, f"model.{index}.conv_block has convs at {sorted(convs[index])}, not at 1 and 5 "
                              f"(or 1 and 6 with dropout) as in a ResNet block")
        dropout.add(layouts[frozenset(convs[index])])
    if len(dropout) > 1:
        raise _fail(path, "some residual blocks have dropout and others not, which no public generator has")
    last = _conv_shape(path, shapes, f"model.{17 + n}.weight", 7)                 # (out_c, ngf, 7, 7)
    return Architecture("resnet", ngf, in_channels, last[0], norm, n_blocks=n, dropout=bool(dropout and dropout.pop()))


def _unet(shapes: dict, path) -> Architecture:
    first = _conv_shape(path, shapes, "model.model.0.weight", 4)                  # (ngf, in_c, 4, 4)
    ngf, in_channels = first[0], first[1]
    up = _conv_shape(path, shapes, "model.model.3.weight", 4)                     # (2 ngf, out_c, 4, 4)
    # The outermost level holds the next one at model.model.1; each middle level holds the next at
    # .model.3; the innermost holds a transposed conv there instead.
    level, downs = "model.model.1", 2
    _conv_shape(path, shapes, f"{level}.model.1.weight", 4)
    while f"{level}.model.3.model.1.weight" in shapes:
        level, downs = f"{level}.model.3", downs + 1
        if downs > MAX_UNET_DOWNS:
            raise _fail(path, f"a U-Net nested more than {MAX_UNET_DOWNS} levels deep, deeper than genstudio builds")
    _conv_shape(path, shapes, f"{level}.model.3.weight", 4)                     # the innermost up conv
    norm = _norm(path, shapes, "model.model.1.model.2", "model.model.1.model.1")
    return Architecture("unet", ngf, in_channels, up[1], norm, unet_downs=downs)


def legacy_keys(shapes: dict[str, tuple[int, ...]], instance_norms: set[str]) -> list[str]:
    """Running-statistics keys of InstanceNorm layers (module names in `instance_norms`), which PyTorch
    before 0.4 saved and the public code deletes on load: what the reader drops before checking."""
    return [key for key in shapes for suffix in STAT_SUFFIXES
            if key.endswith(suffix) and key[:-len(suffix)] in instance_norms]
