"""A user's own generator, saved with TorchScript or torch.export, explored like our own models.

Such a file is code from its author: TorchScript and exported programs run their own graph. We
load them only when the user opens them as generators, and say so. The file alone does not say
its latent size or output range; they come from the caller or from a sidecar `<file>.json`:
    {"latent_dim": 100, "output_range": [-1, 1], "name": "my DCGAN"}
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

from dataclasses import dataclass, field

import torch
from torch import nn

from genstudio.core.errors import CheckpointError
from genstudio.core.families.config import ModelConfig
from genstudio.core.model_card import FOREIGN, DataDescription, ModelCard

log = logging.getLogger(__name__)

WARNING = "TorchScript and torch.export files contain code from their author: open only files you trust"


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _archive_kind(path: Path) -> str:
    """'torchscript' or 'export' from the zip's entries (both are zip archives)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise CheckpointError(f"{path}: not a TorchScript or torch.export file (not a zip archive)") from None
    if any(n.endswith("serialized_exported_program.json") or "/models/" in n and n.endswith(".json") or
           n.endswith("archive_format") for n in names):
        return "export"
    if any("/code/" in n or n.endswith("constants.pkl") for n in names):
        return "torchscript"
    raise CheckpointError(f"{path}: a zip archive that is neither TorchScript nor torch.export")


@dataclass(frozen=True)
class ForeignConfig(ModelConfig):
    """What genstudio knows of a foreign generator: given by the person or the sidecar, and probed."""

    latent_dim: int = field(default=1, metadata={"min": 1, "max": 1_000_000})
    output_low: float = -1.0
    output_high: float = 1.0
    kind: str = field(default="torchscript", metadata={"choices": ("torchscript", "export")})


class ForeignGenerator(nn.Module):
    """Wraps a loaded generator module: decode(z) maps its output range onto [0, 1] images."""

    family = FOREIGN
    num_classes = 0

    def __init__(self, module, latent_dim: int, output_range: tuple[float, float], kind: str, path: Path):
        super().__init__()
        self.module = module
        self.z_dim = int(latent_dim)
        self.output_range = (float(output_range[0]), float(output_range[1]))
        self.kind = kind
        self.path = path
        with torch.no_grad():
            probe = self._run(torch.zeros(2, self.z_dim))
        if probe.ndim not in (2, 4):
            raise CheckpointError(f"{path}: the generator returned shape {tuple(probe.shape)} for (2, {self.z_dim}) "
                                  "latents; expected (N, C, H, W) images or (N, 2) points")
        self.data_shape = tuple(probe.shape[1:])
        self.config = ForeignConfig(data_shape=self.data_shape, latent_dim=self.z_dim, output_low=self.output_range[0],
                                    output_high=self.output_range[1], kind=kind)

    def card(self) -> ModelCard:
        """A card for the open dialog, `info` and the panels; the data it came from is unknown."""
        low, high = (0.0, 1.0) if not self.is_points else self.output_range
        data = DataDescription(name=self.path.name, shape=self.data_shape, value_range=(low, high),
                               kind="points" if self.is_points else "images")
        return ModelCard(family=FOREIGN, config=self.config, latent_shape=self.latent_shape, data=data)

    def _run(self, z: torch.Tensor) -> torch.Tensor:
        try:
            return self.module(z)
        except Exception as exc:  # a foreign graph can fail in any way; report it in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"{self.path}: the generator failed on latents of shape "
                                  f"{tuple(z.shape)} ({first})") from None

    @property
    def is_points(self) -> bool:
        return len(self.data_shape) == 1

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.z_dim,)

    @property
    def latent_dim(self) -> int:
        return self.z_dim

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn((n, self.z_dim), generator=generator)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self._run(z.reshape(len(z), -1).float())
        if self.is_points:
            return out
        lo, hi = self.output_range
        return ((out - lo) / (hi - lo)).clamp(0, 1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, labels=None) -> torch.Tensor:
        return self.decode(self.sample_latents(n, generator))


def load_foreign_generator(path: str | Path, latent_dim: int | None = None,
                           output_range: tuple[float, float] | None = None) -> ForeignGenerator:
    """Load a TorchScript (`torch.jit.save`) or torch.export (`torch.export.save`) generator on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    side = sidecar_path(path)
    if side.exists():
        try:
            info = json.loads(side.read_text())
        except ValueError as exc:
            raise CheckpointError(f"{side}: invalid JSON ({exc})") from None
        latent_dim = latent_dim or info.get("latent_dim")
        output_range = output_range or tuple(info.get("output_range", (-1.0, 1.0)))
    if not latent_dim:
        raise CheckpointError(f"{path}: the latent size of a foreign generator is unknown: pass it "
                              f"(--latent-dim) or write {side.name} with {{\"latent_dim\": N}}")
    output_range = tuple(output_range or (-1.0, 1.0))
    kind = _archive_kind(path)
    log.warning("%s: %s", path, WARNING)
    try:
        if kind == "export":
            module = torch.export.load(str(path)).module()
        else:
            module = torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: cannot load the {kind} generator ({first})") from None
    return ForeignGenerator(module, int(latent_dim), output_range, kind, path)
