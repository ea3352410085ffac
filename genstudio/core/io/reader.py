"""What a file reader is: how genstudio recognises one format, opens it, describes it and converts it.

One `Reader` per format (genstudio checkpoints, TorchScript / torch.export generators, StyleGAN2-ADA
snapshots, diffusers folders); readers.py registers them, and `genstudio info / sample / convert`,
`open_model` and the app's File > Open ask it which reader takes a path. A reader of a format whose
files are programs says so (`program`): the caller then asks the person's consent (foreign.Consent)
before `open` runs anything, as foreign.py describes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from genstudio.core.io.foreign import Consent, ForeignFile
    from genstudio.core.io.model_card import ModelCard


@dataclass(frozen=True)
class OpenOptions:
    """What the person may add to a file when opening it: a foreign generator's latent size and output
    range (its file does not say them), and consent for a file that is a program. Readers of data
    formats take none of them."""

    latent_dim: int | None = None
    output_range: tuple[float, float] | None = None
    consent: "Consent | None" = None


@dataclass(frozen=True)
class Description:
    """What `genstudio info` prints of a file, read without running anything in it.

    rows: (name, text) lines; data: the plain data `--json` prints; kind: what the file is, for
    messages ("a StyleGAN2-ADA snapshot"); family: the registered family it opens as, or None when
    only opening it would tell (a program)."""

    rows: tuple[tuple[str, str], ...]
    data: dict
    kind: str
    family: str | None = None


# (path, device, options) -> (model, card): the model on `device`, built and checked from the file.
Open = Callable[[Path, "str | torch.device", OpenOptions], "tuple[Any, ModelCard]"]
# (path, **options) -> (model, card) that save_checkpoint writes as a genstudio checkpoint.
Convert = Callable[..., "tuple[Any, ModelCard]"]


@dataclass(frozen=True)
class Reader:
    """One file format.

    sniff(path) says from the name, a few bytes or a folder's layout (never by running or loading
    anything) whether this reader takes the path. `program`, for formats whose files are code, reads
    and checks a file without running it and returns what consent is asked for (foreign.ForeignFile);
    `needs_details(path)` says whether opening needs the latent size and output range from the person.
    `convert` is None where the format cannot become a genstudio checkpoint, and `no_convert` says why."""

    name: str                                    # "stylegan2-ada-pickle": unique, for logs and tests
    label: str                                   # "StyleGAN2-ADA snapshots": the open dialog's filter
    sniff: Callable[[Path], bool]
    open: Open
    describe: Callable[[Path], Description]
    suffixes: tuple[str, ...] = ()               # (".pkl",): what the open dialog lists; () for folders
    folders: bool = False                        # the format is a folder (File > Open model folder)
    program: "Callable[[Path], ForeignFile] | None" = None
    needs_details: Callable[[Path], bool] | None = None
    convert: Convert | None = None
    convert_options: tuple[str, ...] = ()        # the keyword options `convert` takes ("network",)
    no_convert: str = ""                         # why this format is not converted

    @property
    def runs_code(self) -> bool:
        return self.program is not None
