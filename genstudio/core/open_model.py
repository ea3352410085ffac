"""Open anything a user may point genstudio at: our checkpoints, or a foreign TorchScript/export generator."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from genstudio.core.checkpoints import load_checkpoint
from genstudio.core.foreign import ForeignGenerator, load_foreign_generator
from genstudio.core.models.base import GenerativeModel


@dataclass
class OpenedModel:
    """A model ready to decode, and what is known about it (the checkpoint header, or a foreign summary)."""

    path: Path
    model: GenerativeModel | ForeignGenerator
    header: dict

    @property
    def family(self) -> str:
        return self.model.family

    @property
    def is_foreign(self) -> bool:
        return isinstance(self.model, ForeignGenerator)

    @property
    def label_names(self) -> list[str]:
        return list(self.header.get("label_names", []))


def open_model(path: str | Path, device: str | torch.device = "cpu", latent_dim: int | None = None,
               output_range: tuple[float, float] | None = None) -> OpenedModel:
    """Our safetensors checkpoints load as data; zip archives (TorchScript / torch.export) as foreign code."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        generator = load_foreign_generator(path, latent_dim, output_range)
        header = {"family": "foreign", **generator.config, "path": str(path),
                  "data_shape": list(generator.data_shape), "latent_shape": [generator.z_dim]}
        return OpenedModel(path, generator, header)
    checkpoint = load_checkpoint(path, device=device)
    checkpoint.model.eval()
    return OpenedModel(path, checkpoint.model, checkpoint.header)
