"""A StyleGAN2-ADA snapshot's generator as a genstudio style-based GAN: the architecture read from the
records' attributes and tensor shapes (never from running anything), genstudio's own implementation
built to match, and every weight checked by name and shape before it is loaded. The file is read and
the model's card written by core/io/stylegan_reader.py (families sit below io)."""

from __future__ import annotations

import torch

from genstudio.core.families.stylegan.config import StyleGANConfig
from genstudio.core.families.stylegan.generator import block_channels, block_resolutions
from genstudio.core.families.stylegan.model import StyleGAN
from genstudio.core.families.stylegan.nvidia_pickle import (
    STYLEGAN3_MARK,
    Record,
    Snapshot,
    UnsupportedPickle,
    source_problem,
)
from genstudio.core.families.stylegan.ops import fir_filter


def _int(record: Record, name: str, low: int = 0, high: int = 1 << 16) -> int:
    value = record.state.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UnsupportedPickle(f"its {record.class_name}.{name} is {value!r:.40}, not an integer in {low}..{high}")
    return value


def _child(record: Record, name: str, class_name: str) -> Record:
    child = record.child(name)
    if child is None or child.class_name != class_name:
        found = "nothing" if child is None else f"a {child.class_name}"
        raise UnsupportedPickle(f"its {record.class_name} has {found} as '{name}', not a {class_name}")
    return child


def _check_known(snapshot: Snapshot) -> None:
    """Refuse StyleGAN3 and other architectures by name, and any record whose source would act on import."""
    checked: set[int] = set()
    for network in snapshot.networks.values():
        for record in network.walk():
            if record.class_name == "SynthesisInput" or STYLEGAN3_MARK in record.module_src:
                raise UnsupportedPickle("a StyleGAN3 (alias-free, stylegan3-t / stylegan3-r) snapshot: genstudio "
                                        "reads StyleGAN2-ADA generators only, not yet StyleGAN3's")
            if id(record.module_src) not in checked:
                checked.add(id(record.module_src))
                problem = source_problem(record.module_src)
                if problem:
                    raise UnsupportedPickle(f"refused: {record.class_name}'s record: {problem}")


def _channel_rule(channels: dict[int, int]) -> tuple[int, int]:
    """(channel_base, channel_max) that give these per-resolution channel counts."""
    top = max(channels.values())
    below = [c * r for r, c in channels.items() if c < top]
    base = min(below) if below else top * max(channels)
    if any(block_channels(r, base, top) != c for r, c in channels.items()):
        raise UnsupportedPickle(f"its channel counts {channels} follow no channel_base / channel_max rule")
    return base, top


def config_of(generator: Record) -> StyleGANConfig:
    """The genstudio config of a stylegan2-ada `Generator` record."""
    if generator.class_name != "Generator":
        raise UnsupportedPickle(f"its generator is a {generator.class_name}, not a StyleGAN2 Generator")
    z_dim, w_dim = _int(generator, "z_dim", 1, 4096), _int(generator, "w_dim", 1, 4096)
    c_dim, channels = _int(generator, "c_dim", 0, 100_000), _int(generator, "img_channels", 1, 4)
    resolution = _int(generator, "img_resolution", 4, 1024)
    if channels not in (1, 3):
        raise UnsupportedPickle(f"its generator draws {channels}-channel images; genstudio shows grey or RGB")
    mapping = _child(generator, "mapping", "MappingNetwork")
    synthesis = _child(generator, "synthesis", "SynthesisNetwork")
    layers = _int(mapping, "num_layers", 1, 16)
    fc0 = _child(mapping, "fc0", "FullyConnectedLayer")
    lr = fc0.state.get("bias_gain")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 1:
        raise UnsupportedPickle(f"its mapping learning-rate multiplier is {lr!r:.40}")
    beta = mapping.state.get("w_avg_beta")
    tensors = generator.tensors()
    embed = tensors.get("mapping.embed.weight")
    if tensors.get("mapping.fc0.weight") is None or tensors["mapping.fc0.weight"].shape[0] != w_dim or \
            (c_dim and (embed is None or embed.shape[0] != w_dim)):
        raise UnsupportedPickle("its mapping network has layer or label-embedding widths other than w_dim")

    blocks = [_child(synthesis, f"b{r}", "SynthesisBlock") for r in block_resolutions(resolution)]
    architecture = blocks[-1].state.get("architecture")
    if architecture not in ("skip", "orig"):
        raise UnsupportedPickle(f"its synthesis architecture is {architecture!r:.20}; genstudio reads 'skip' and "
                                "'orig' generators")
    first_layer = _child(blocks[0], "conv1", "SynthesisLayer")
    activation, clamp = first_layer.state.get("activation"), first_layer.state.get("conv_clamp")
    if activation != "lrelu":
        raise UnsupportedPickle(f"its synthesis layers use {activation!r:.20}, not leaky ReLU")
    if clamp is not None and (isinstance(clamp, bool) or not isinstance(clamp, (int, float)) or clamp <= 0):
        raise UnsupportedPickle(f"its conv_clamp is {clamp!r:.20}")
    per_resolution = {}
    for block in blocks:
        weight = tensors.get(f"synthesis.b{block.state.get('resolution')}.conv1.weight")
        if weight is None or weight.ndim != 4 or tuple(weight.shape[2:]) != (3, 3):
            raise UnsupportedPickle(f"its block b{block.state.get('resolution')!r:.10} has no 3x3 conv1 weight")
        per_resolution[int(block.state["resolution"])] = int(weight.shape[0])
    base, top = _channel_rule(per_resolution)
    return StyleGANConfig.from_dict({
        "data_shape": [channels, resolution, resolution], "num_classes": c_dim, "z_dim": z_dim, "w_dim": w_dim,
        "mapping_layers": layers, "mapping_lr": float(lr),
        "w_avg_beta": float(beta) if isinstance(beta, (int, float)) and not isinstance(beta, bool) else 0.995,
        "channel_base": base, "channel_max": top, "architecture": architecture,
        "use_noise": bool(first_layer.state.get("use_noise", True)), "conv_clamp": float(clamp or 0.0),
        "trainable": False}, complete=False)


def model_from_snapshot(snapshot: Snapshot, network: str = "G_ema") -> StyleGAN:
    """genstudio's StyleGAN2 with the snapshot's `network` weights (G_ema unless asked)."""
    path = snapshot.path
    try:
        _check_known(snapshot)
        if network not in snapshot.networks:
            raise UnsupportedPickle(f"it has no '{network}' network (it has {', '.join(snapshot.networks)})")
        record = snapshot.networks[network]
        config = config_of(record)
        model = StyleGAN(config).eval()
        theirs = {f"generator_ema.{k}": v for k, v in record.tensors().items()}
        ours = model.state_dict()
        missing = [k for k in ours if k not in theirs and k != "d_updates"]
        extra = [k for k in theirs if k not in ours]
        if missing or extra:
            raise UnsupportedPickle(f"its weights do not match a StyleGAN2 generator ({len(missing)} missing, e.g. "
                                    f"{(missing or ['-'])[0]}; {len(extra)} unexpected, e.g. {(extra or ['-'])[0]})")
        for key, value in theirs.items():
            if tuple(value.shape) != tuple(ours[key].shape):
                raise UnsupportedPickle(f"its {key.removeprefix('generator_ema.')} is {list(value.shape)}, the "
                                        f"architecture needs {list(ours[key].shape)}")
            if not value.is_floating_point() or not torch.isfinite(value).all():
                raise UnsupportedPickle(f"its {key.removeprefix('generator_ema.')} is not finite floating point")
            if key.endswith("resample_filter") and not torch.allclose(value.float(), fir_filter()):
                raise UnsupportedPickle(f"its {key.removeprefix('generator_ema.')} is not the [1, 3, 3, 1] filter")
        model.load_state_dict({**ours, **{k: v.to(ours[k].dtype) for k, v in theirs.items()}})
    except UnsupportedPickle as exc:
        raise UnsupportedPickle(f"{path}: {exc}") from None
    return model
