"""Writes StyleGAN2-ADA snapshot pickles the way NVIDIA's stylegan2-ada-pytorch does, without its code:
every module a persistence record (`torch_utils.persistence._reconstruct_persistent_obj(meta)`, meta
holding the module source, the class name and the module's __dict__), tensors pickled by torch
itself (`_rebuild_tensor_v2` over legacy `_load_from_bytes` blobs), EasyDict init kwargs and numpy
float attributes. The names the pickle refers to exist only while `fake_nvidia_modules` is open.
Variants carry hostile content for the reader's refusals."""

from __future__ import annotations

import contextlib
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from genstudio.core.families.stylegan.generator import Generator

NETWORKS_SOURCE = '''"""Network architectures (a stand-in for training/networks.py)."""
import numpy as np
import torch
from torch_utils import misc
from torch_utils import persistence

@persistence.persistent_class
class FullyConnectedLayer(torch.nn.Module):
    def __init__(self, in_features, out_features, bias=True, activation='linear', lr_multiplier=1, bias_init=0):
        super().__init__()
'''

# NVIDIA's attributes per class (besides the Module bookkeeping), as their modules' __init__ sets them.
ATTRIBUTES = {
    "FullyConnectedLayer": lambda m: {"activation": m.activation, "weight_gain": np.float64(m.weight_gain),
                                      "bias_gain": m.bias_gain},
    "MappingNetwork": lambda m: {"z_dim": m.z_dim, "c_dim": m.c_dim, "w_dim": m.w_dim, "num_ws": m.num_ws,
                                 "num_layers": m.num_layers, "w_avg_beta": m.w_avg_beta},
    "SynthesisLayer": lambda m: {"resolution": m.resolution, "up": 2 if m.up else 1, "use_noise": m.use_noise,
                                 "activation": "lrelu", "conv_clamp": m.conv_clamp, "padding": 1,
                                 "act_gain": np.float64(np.sqrt(2))},
    "ToRGBLayer": lambda m: {"conv_clamp": m.conv_clamp, "weight_gain": np.float64(m.weight_gain)},
    "SynthesisBlock": lambda m: {"in_channels": 0 if m.num_conv == 1 else m.conv0.weight.shape[1], "w_dim": 0,
                                 "resolution": m.resolution, "img_channels": 0, "is_last": False,
                                 "architecture": m.architecture, "use_fp16": False, "channels_last": False,
                                 "num_conv": m.num_conv, "num_torgb": m.num_torgb},
    "SynthesisNetwork": lambda m: {"w_dim": m.w_dim, "img_resolution": m.img_resolution,
                                   "img_resolution_log2": int(np.log2(m.img_resolution)),
                                   "img_channels": m.img_channels, "block_resolutions": list(m.block_resolutions),
                                   "num_ws": m.num_ws},
    "Generator": lambda m: {"z_dim": m.z_dim, "c_dim": m.c_dim, "w_dim": m.w_dim,
                            "img_resolution": m.img_resolution, "img_channels": m.img_channels, "num_ws": m.num_ws},
}


def _reconstruct_persistent_obj(meta):          # what the fake torch_utils.persistence names; never called here
    raise AssertionError("the reader must not call the file's reconstruct function")


class EasyDict(dict):
    pass


@contextlib.contextmanager
def fake_nvidia_modules():
    """`torch_utils.persistence` and `dnnlib.util` in sys.modules while pickling, so pickle can name them."""
    made = {}
    for name in ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util"):
        made[name] = types.ModuleType(name)
    made["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    made["dnnlib.util"].EasyDict = EasyDict
    saved = {name: sys.modules.get(name) for name in made}
    old = (_reconstruct_persistent_obj.__module__, EasyDict.__module__)
    _reconstruct_persistent_obj.__module__, EasyDict.__module__ = "torch_utils.persistence", "dnnlib.util"
    sys.modules.update(made)
    try:
        yield
    finally:
        _reconstruct_persistent_obj.__module__, EasyDict.__module__ = old
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class PersistentRecord:
    """Pickles as NVIDIA's persistent classes do: a reconstruct call with the meta dict, no BUILD."""

    def __init__(self, class_name: str, state: dict, source: str):
        self.class_name, self.state, self.source = class_name, state, source

    def __reduce__(self):
        meta = {"type": "class", "version": 6, "module_src": self.source, "class_name": self.class_name,
                "state": self.state}
        return _reconstruct_persistent_obj, (meta,), None


def record_of(module: nn.Module, source: str = NETWORKS_SOURCE, extra: dict | None = None) -> PersistentRecord:
    """The persistence record of one of genstudio's StyleGAN2 modules, with NVIDIA's state layout."""
    name = type(module).__name__
    params = OrderedDict((k, nn.Parameter(v.detach().clone(), requires_grad=False))
                         for k, v in module._parameters.items())
    state = {"training": False, "_parameters": params, "_buffers": OrderedDict(module._buffers),
             "_non_persistent_buffers_set": set(), "_backward_hooks": OrderedDict(),
             "_is_full_backward_hook": None, "_forward_hooks": OrderedDict(), "_forward_pre_hooks": OrderedDict(),
             "_state_dict_hooks": OrderedDict(), "_load_state_dict_pre_hooks": OrderedDict(),
             "_modules": OrderedDict((k, record_of(v, source)) for k, v in module._modules.items()),
             **ATTRIBUTES[name](module), "_init_args": (), "_init_kwargs": {}}
    if name == "Generator":
        state["_init_kwargs"] = {"z_dim": module.z_dim, "w_dim": module.w_dim,
                                 "mapping_kwargs": EasyDict(num_layers=module.mapping.num_layers),
                                 "synthesis_kwargs": EasyDict(channel_base=1024, channel_max=64, num_fp16_res=0,
                                                              conv_clamp=None),
                                 "c_dim": module.c_dim, "img_resolution": module.img_resolution,
                                 "img_channels": module.img_channels}
    state.update(extra or {})
    return PersistentRecord(name, state, source)


def small_generator(resolution: int = 16, channels: int = 3, c_dim: int = 0, seed: int = 0) -> Generator:
    """A small randomly initialised StyleGAN2 generator, w_avg and noise strengths set so they matter."""
    torch.manual_seed(seed)
    g = Generator(32, c_dim, 32, resolution, channels, {"num_layers": 2},
                  {"channel_base": 256, "channel_max": 32, "conv_clamp": 256}).eval()
    with torch.no_grad():
        g.mapping.w_avg.normal_()
        for name, p in g.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.3)
    return g


def write_snapshot(path, generator: Generator, protocol: int = 4, *, g_ema_extra: dict | None = None,
                   source: str = NETWORKS_SOURCE, top_extra: dict | None = None) -> None:
    """A network-snapshot pickle with G, D (a stand-in record), G_ema and augment_pipe, as NVIDIA writes it."""
    with fake_nvidia_modules():
        d = PersistentRecord("Discriminator", {"training": False, "_parameters": OrderedDict(
            b4=nn.Parameter(torch.randn(4), requires_grad=False)), "_buffers": OrderedDict(),
            "_modules": OrderedDict()}, source)
        snapshot = {"training_set_kwargs": {"class_name": "training.dataset.ImageFolderDataset",
                                            "path": "~/datasets/faces.zip", "use_labels": False,
                                            "max_size": 70000, "xflip": False, "resolution": generator.img_resolution},
                    "G": record_of(generator, source), "D": d, "G_ema": record_of(generator, source, g_ema_extra),
                    "augment_pipe": None, **(top_extra or {})}
        with open(path, "wb") as handle:
            pickle.dump(snapshot, handle, protocol=protocol)
