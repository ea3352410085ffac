"""Folders saved by Hugging Face diffusers (diffusers_folder.py) as a file reader: read as data, opened
as the family the folder's description names; describing one needs no diffusers installed."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from genstudio.core import registry
from genstudio.core.io.diffusers_folder import (
    INSTALL,
    inspect_diffusers_folder,
    is_diffusers_folder,
    load_diffusers_folder,
)
from genstudio.core.io.reader import Description, OpenOptions, Reader

LAYOUTS = {"pipeline": "diffusers pipeline folder ({pipeline})", "model": "diffusers model folder",
           "bare model": "diffusers model folder, without a scheduler config"}


def open_folder(path: Path, device, options: OpenOptions):
    return load_diffusers_folder(path, device)


def _installed(package: str) -> str:
    """'installed 1.2.3', or '' when the package is not installed (nothing is imported)."""
    try:
        return f"installed {metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return ""


def describe(path: Path) -> Description:
    """Described from its JSON and the weights' header: no tensor is loaded and diffusers need not be
    installed, so this also says what opening it would take."""
    found = inspect_diffusers_folder(path)
    where = lambda file: str(file.relative_to(found.path))           # noqa: E731
    labels = "none"
    if found.num_classes:
        labels = f"{found.num_classes} classes (num_class_embeds); guidance not available (no 'no label' class)"
    steps = min(50, found.schedule.timesteps)
    family = registry.get(found.family)
    rows = [
        ("folder", str(path)),
        ("kind", LAYOUTS[found.layout].format(pipeline=found.pipeline)),
        ("network", f"UNet2DModel ({where(found.unet_config_path)}), {found.weight_numbers:,} parameters in "
                    f"{found.tensors} tensors ({where(found.weights)})"),
        ("family", f"{family.name} ({family.label}, explored through DDIM: the latent is the starting noise x_T)"),
        ("sample shape", " x ".join(map(str, found.data_shape))),
        ("latent shape", " x ".join(map(str, found.data_shape))),
        ("value range", "0 .. 1 (the U-Net's -1 .. 1)"),
        ("labels", labels),
        ("scheduler", f"{found.scheduler} ({where(found.scheduler_config_path)})" if found.scheduler else "none"),
        ("schedule", found.schedule_text),
        ("sampling", f"DDIM, {steps} steps and eta 0 unless told otherwise (genstudio sample --steps, --eta)"),
        ("code", "none runs: genstudio reads the config JSON and the safetensors weights as data"),
        ("diffusers", f"saved by {found.diffusers_version or 'an unknown version'}; "
                      f"{_installed('diffusers') or 'not installed here (opening it needs ' + INSTALL + ')'}"),
    ]
    rows += [("note", note) for note in found.notes]
    return Description(tuple(rows), found.describe(), f"a {LAYOUTS[found.layout].format(pipeline=found.pipeline)}",
                       found.family)


READER = Reader(name="diffusers-folder", label="diffusers folders", sniff=is_diffusers_folder, open=open_folder,
                describe=describe, folders=True,
                no_convert="a diffusers folder opens as it is (its U-Net is diffusers' own network, which a "
                           "genstudio checkpoint does not hold)")
