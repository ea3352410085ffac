"""The explorer's state, Qt-free: the current latent, principal directions and slider offsets, the
interpolation end points A and B with t, the seed, temperature and class. Views observe its events
and render what it holds; the command line reads the latent record it writes.

Events (`session.events.<name>.connect(callback)`, callbacks get the session):
    latent      the current latent changed (slider, seed, temperature, t, load, pin from the map)
    directions  new principal directions, or the slider offsets were reset (rebase)
    path        A, B, spherical or frame count changed
    settings    seed, temperature, class or decode options changed (the latent event follows when it moves)

Decode options are the family's decoder settings (a diffusion sampler's steps, eta, guidance; see
Family.decode_settings): {} for families without any. The record keeps them, so the command line
decodes a saved latent with the settings the app showed it with.

A family may declare latent spaces beyond Z (Family.latent_spaces, e.g. StyleGAN's W): the session
then holds one edit in such a space, offsets along its principal directions on one of its layer
groups (`set_edit_directions`, `move_edit`); the latent z stays, and the edit travels with every
decode of the current image (`decode_options_with_edit`, under the space's decode keyword) and in
the latent record (under the same key).

A model that transforms an image (a translation model) has a source image too (`set_source`, a
core/explore/source_image.SourceImage): the input the explorer translates. It is part of the
current image, passed to every decode as `source=`, kept in the record, and a change of it is a
`latent` event (the image shown changed; the history keeps it as a state).

`current_image()` is the one description of the image the explorer shows: its latent, class and
full decode options (the family's decode settings, the edit in a declared space, the source image). Everything that shows
or starts from "the current image" (the explorer, the nearest neighbours' query, the Layer view,
the Inspect tools that vary it) decodes from it, so no panel can show a digit the others do not.

The latent record (`to_record`, `read_latent_record`) is the JSON that *Save latent* writes and
`genstudio sample --latent FILE` renders, so a result made in the app reproduces on the command line.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genstudio.core.errors import GenStudioError
from genstudio.core.events import EventGroup
from genstudio.core.explore.source_image import SourceImage
from genstudio.core.families.family import LatentSpace
from genstudio.core.latent import SpaceEdit, lerp, seeded_latents, slerp
from genstudio.core.latent import path as latent_path

RECORD_FORMAT = "genstudio-latent"
RECORD_VERSION = 1


@dataclass(frozen=True)
class CurrentImage:
    """What decodes the explorer's current image: `model.decode(latent, labels, **options)`."""

    latent: torch.Tensor                # (1, D) a copy of the current latent
    labels: torch.Tensor | None         # (1,) the class (conditional models), else None
    options: dict                       # the decode options with the edit (`decode_options_with_edit`)

    @property
    def label(self) -> int | None:
        return None if self.labels is None else int(self.labels[0])


class ExploreSession:
    def __init__(self):
        self.events = EventGroup("latent", "directions", "path", "settings")
        self.latent_shape: tuple[int, ...] = (1,)
        self.num_classes = 0
        self.family = ""
        self.checkpoint = ""
        self.seed = 0
        self.temperature = 1.0
        self.label = 0
        self.decode_options: dict = {}                # {setting: value} passed to model.decode
        self.z = torch.zeros(1)                       # (D,) the current latent
        self.base = torch.zeros(1)                    # (D,) origin of principal-direction moves
        self.directions: torch.Tensor | None = None   # (k, D) unit directions
        self.explained: np.ndarray | None = None      # (k,) share of output variance
        self.alphas: list[float] = []                 # offset along each direction
        # An edit in a space the family declares (StyleGAN's W): the space, the key of the layer group
        # it applies to (None / '' when not editing), its principal directions (k, dim), each one's
        # share of the variance (k,) and the offset along each.
        self.latent_spaces: tuple[LatentSpace, ...] = ()
        self.edit_space: LatentSpace | None = None
        self.edit_group = ""
        self.edit_directions: torch.Tensor | None = None
        self.edit_explained: np.ndarray | None = None
        self.edit_alphas: list[float] = []
        self.source: SourceImage | None = None        # the image a translation model translates
        self.a: torch.Tensor | None = None            # (D,) interpolation end points
        self.b: torch.Tensor | None = None
        # Conditional models: the class of each end point (A = 0, B = 7 morphs a 0 into a 7).
        self.a_label = 0
        self.b_label = 0
        self.t = 0.0
        self.spherical = True
        self.frames = 10

    # --- the model ------------------------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return math.prod(self.latent_shape)

    def configure(self, latent_shape: tuple[int, ...], num_classes: int, family: str, checkpoint: str,
                  keep_latent: bool = False, decode_options: dict | None = None,
                  latent_spaces: tuple[LatentSpace, ...] = ()) -> None:
        """A model was opened. With `keep_latent` (a fresher snapshot of the same run) and a latent of
        the same size, everything stays; otherwise A, B and the directions go, and the latent restarts
        from the seed. `decode_options` are the model's defaults: they replace the current options
        unless a kept model takes the same settings. `latent_spaces`: those its family declares."""
        same = keep_latent and math.prod(latent_shape) == self.latent_dim
        self.latent_spaces = tuple(latent_spaces)
        self.latent_shape, self.num_classes = tuple(latent_shape), int(num_classes)
        self.family, self.checkpoint = family, str(checkpoint)
        self.label = min(self.label, max(self.num_classes - 1, 0))
        defaults = dict(decode_options or {})
        if not (same and set(defaults) == set(self.decode_options)):
            self.decode_options = defaults
        if same:
            return
        self.source = None
        self.a = self.b = None
        self.a_label = self.b_label = self.label
        self.t = 0.0
        self.directions, self.explained, self.alphas = None, None, []
        self.clear_edit()
        self.events.path.emit(self)
        self.events.directions.emit(self)
        self.reset()

    # --- the current latent ---------------------------------------------------------------------
    def seeded_latent(self, seed: int) -> torch.Tensor:
        """(D,) the latent a seed gives at the current temperature (as `genstudio sample --seed`)."""
        return seeded_latents(1, (self.latent_dim,), seed, self.temperature)[0]

    def reset(self) -> None:
        """Back to the seed's latent, every slider move undone (an edit's offsets included)."""
        self.edit_alphas = [0.0] * len(self.edit_alphas)
        self.set_latent(self.seeded_latent(self.seed))

    def set_seed(self, seed: int) -> None:
        self.seed = int(seed)
        self.events.settings.emit(self)
        self.reset()

    def randomise(self, rng: random.Random | None = None, random_class: bool = False) -> None:
        """A new random seed; with `random_class` (conditional models) a random class too."""
        rng = rng or random
        if random_class and self.num_classes:
            self.label = rng.randrange(self.num_classes)       # the seed's settings event shows it
        self.set_seed(rng.randrange(2**31 - 1))

    def set_temperature(self, temperature: float) -> None:
        self.temperature = float(temperature)
        self.events.settings.emit(self)
        self.reset()

    def set_label(self, label: int) -> None:
        self.label = int(label)
        self.events.settings.emit(self)

    def set_decode_option(self, key: str, value) -> None:
        """One decoder setting (the model must take it: the keys are the model's, set by configure)."""
        if key not in self.decode_options:
            raise ValueError(f"'{key}' is not a decode setting of this model (it takes "
                             f"{', '.join(self.decode_options) or 'none'})")
        self.decode_options[key] = value
        self.events.settings.emit(self)

    def set_latent(self, z: torch.Tensor) -> None:
        """Make `z` (any shape with D values) current; direction sliders restart from it."""
        z = torch.as_tensor(z).detach().reshape(-1).float().clone()
        if z.numel() != self.latent_dim:
            raise ValueError(f"a latent of {z.numel()} values; the model takes {self.latent_dim}")
        self.z = z
        self.base = z.clone()
        self.alphas = [0.0] * (0 if self.directions is None else len(self.directions))
        self.events.latent.emit(self)

    def move_dimension(self, index: int, value: float) -> None:
        self.z[index] = float(value)
        self.events.latent.emit(self)

    def move_direction(self, index: int, alpha: float) -> None:
        """Set the offset along direction `index`: z = base + alphas @ directions."""
        self.alphas[index] = float(alpha)
        self.z = self.base + torch.tensor(self.alphas) @ self.directions          # (D,)
        self.events.latent.emit(self)

    def set_directions(self, directions: torch.Tensor, explained: np.ndarray) -> None:
        """New principal directions (k, D); offsets start at 0 from the current latent."""
        self.directions, self.explained = directions.float(), np.asarray(explained)
        self.rebase()

    def rebase(self) -> None:
        """Direction offsets back to 0 around the current latent (the latent does not move)."""
        self.base = self.z.clone()
        self.alphas = [0.0] * (0 if self.directions is None else len(self.directions))
        self.events.directions.emit(self)

    # --- an edit in a declared latent space (StyleGAN's W) ----------------------------------------
    def space(self, key: str) -> LatentSpace:
        """The declared space of this key (ValueError naming the spaces the model has)."""
        for space in self.latent_spaces:
            if space.key == key:
                return space
        raise ValueError(f"'{key}' is not a latent space of this model (it has "
                         f"{', '.join(s.key for s in self.latent_spaces) or 'none beyond Z'})")

    def clear_edit(self) -> None:
        """No edit in any space (another model, or one without declared spaces)."""
        self.edit_space, self.edit_group = None, ""
        self.edit_directions, self.edit_explained, self.edit_alphas = None, None, []

    def set_edit_directions(self, space: str, group: str, directions: torch.Tensor, explained) -> None:
        """Principal directions (k, dim) of the declared space `space`, applied to the layers of
        `group`; offsets start at 0 unless the same directions come back (a new group keeps them)."""
        declared = self.space(space)
        if group not in declared.group_keys():
            raise ValueError(f"'{group}' is not a layer group of {declared.label} "
                             f"(it has {', '.join(declared.group_keys())})")
        if self.edit_directions is None:           # offsets a latent record gave keep their values
            keep = declared == self.edit_space and len(self.edit_alphas) == len(directions)
        else:
            keep = self.edit_directions.shape == directions.shape and torch.equal(self.edit_directions,
                                                                               directions.float())
        self.edit_space, self.edit_group = declared, group
        self.edit_directions, self.edit_explained = directions.float(), np.asarray(explained)
        if not keep:
            self.edit_alphas = [0.0] * len(directions)
        self.events.directions.emit(self)
        self.events.latent.emit(self)

    def move_edit(self, index: int, alpha: float) -> None:
        """Set the offset along the edit's principal direction `index` (the latent z stays)."""
        self.edit_alphas[index] = float(alpha)
        self.events.latent.emit(self)

    def space_edit(self) -> SpaceEdit | None:
        """The current edit, or None when there is none to apply."""
        if self.edit_space is None or self.edit_directions is None or not any(self.edit_alphas):
            return None
        return SpaceEdit(self.edit_directions, torch.tensor(self.edit_alphas), self.edit_group)

    def edit_options(self, record: dict) -> dict:
        """{decode keyword: SpaceEdit} of the edit a record (or history state) keeps, when the session
        holds that space's directions with as many directions; else {} (they are still computing)."""
        space, directions = self.edit_space, self.edit_directions
        edit = record.get(space.option) if space is not None else None
        if edit is None or directions is None or len(directions) != edit["k"]:
            return {}
        return {space.option: SpaceEdit(directions, torch.tensor(edit["alphas"]), edit["layers"])}

    def decode_options_with_edit(self) -> dict:
        """The decode options plus the edit, under its space's decode keyword, and the source image."""
        options = dict(self.decode_options)
        edit = self.space_edit()
        if edit is not None:
            options[self.edit_space.option] = edit
        if self.source is not None:
            options["source"] = self.source
        return options

    def set_source(self, source: SourceImage | None) -> None:
        """The image the model translates (None: its own kept examples); a latent event when it changed."""
        if source is None and self.source is None or source is not None and source.same_as(self.source):
            return
        self.source = source
        self.events.latent.emit(self)

    def current_image(self) -> CurrentImage:
        """The full request of the image the explorer shows (see the module docstring)."""
        return CurrentImage(self.z.view(1, -1).clone(), self.labels(), self.decode_options_with_edit())

    def labels(self, n: int = 1) -> torch.Tensor | None:
        """(n,) the chosen class for conditional models, else None."""
        return torch.full((n,), self.label, dtype=torch.long) if self.num_classes else None

    # --- interpolation --------------------------------------------------------------------------
    def set_endpoint(self, which: str, z: torch.Tensor | None = None, label: int | None = None) -> None:
        """A or B = `z` (the current latent by default) with class `label` (the current class by
        default); the other end starts at the same place."""
        if which not in ("a", "b"):
            raise ValueError(f"end point must be 'a' or 'b', not {which!r}")
        z = self.z.clone() if z is None else torch.as_tensor(z).reshape(-1).float().clone()
        label = self.label if label is None else int(label)
        setattr(self, which, z)
        setattr(self, f"{which}_label", label)
        if self.a is None:
            self.a, self.a_label = z.clone(), label
        if self.b is None:
            self.b, self.b_label = z.clone(), label
        self.events.path.emit(self)

    def set_endpoints(self, a: torch.Tensor, b: torch.Tensor, a_label: int | None = None,
                      b_label: int | None = None) -> None:
        """A and B at once; their classes default to the current class."""
        self.a, self.b = a.reshape(-1).float().clone(), b.reshape(-1).float().clone()
        self.a_label = self.label if a_label is None else int(a_label)
        self.b_label = self.label if b_label is None else int(b_label)
        self.events.path.emit(self)

    def randomise_endpoints(self, seed: int | None = None, random_class: bool = False) -> None:
        """A and B from two consecutive seeds; with `random_class` (conditional models) each end
        draws its own class from the same seed, so a seed gives the same pair every time."""
        seed = random.randrange(2**31 - 1) if seed is None else seed
        a_label = b_label = None
        if random_class and self.num_classes:
            draw = random.Random(seed)
            a_label, b_label = draw.randrange(self.num_classes), draw.randrange(self.num_classes)
        self.set_endpoints(self.seeded_latent(seed), self.seeded_latent(seed + 1), a_label, b_label)
        self.set_t(0.0)

    def label_at(self, t: float) -> int:
        """The class decoded at `t` along A -> B: A's up to half way, B's after.

        A switch half way rather than a blend of the two classes' embeddings: every conditional
        family here decodes a class index (the GAN and StyleGAN look up an embedding, the PixelCNN
        and the diffusion U-Net condition on an index, guidance needs a class to steer towards), and
        a blend is meaningful for none but the first two. The same rule for all of them means the
        strip, the current image and the exported strip and GIF always agree on each frame's class."""
        return self.a_label if t < 0.5 else self.b_label

    def path_labels(self, frames: int | None = None) -> torch.Tensor | None:
        """(frames,) the class of each frame of the A -> B path (conditional models), else None."""
        if not self.num_classes:
            return None
        n = frames or self.frames
        steps = torch.linspace(0, 1, n).tolist() if n > 1 else [0.0]
        return torch.tensor([self.label_at(t) for t in steps], dtype=torch.long)

    def set_t(self, t: float) -> None:
        """Move along A -> B: the current latent becomes the path's point at t (and, for conditional
        models, the class the path has there)."""
        self.t = float(t)
        if self.a is not None and self.b is not None:
            if self.num_classes and self.label_at(self.t) != self.label:
                self.label = self.label_at(self.t)
                self.events.settings.emit(self)
            self.set_latent((slerp if self.spherical else lerp)(self.a, self.b, self.t))

    def set_spherical(self, spherical: bool) -> None:
        self.spherical = bool(spherical)
        self.events.path.emit(self)
        self.set_t(self.t)

    def set_frames(self, frames: int) -> None:
        self.frames = int(frames)
        self.events.path.emit(self)

    @property
    def has_path(self) -> bool:
        return self.a is not None and self.b is not None

    def path_latents(self, frames: int | None = None) -> torch.Tensor:
        """(frames, D) latents from A to B inclusive."""
        if not self.has_path:
            raise ValueError("set interpolation end points A and B first")
        return latent_path(self.a, self.b, frames or self.frames, self.spherical)

    # --- the latent record ----------------------------------------------------------------------
    def to_record(self) -> dict:
        """Everything needed to reproduce what is shown (the JSON of *Save latent*)."""
        record = {"format": RECORD_FORMAT, "version": RECORD_VERSION, "checkpoint": self.checkpoint,
                  "family": self.family, "latent_shape": list(self.latent_shape), "seed": self.seed,
                  "temperature": self.temperature, "latent": self.z.tolist()}
        if self.num_classes:
            record["label"] = self.label
        if self.decode_options:
            record["decode_options"] = dict(self.decode_options)
        if self.has_path:
            record["interpolation"] = {"a": self.a.tolist(), "b": self.b.tolist(), "t": self.t,
                                       "spherical": self.spherical, "frames": self.frames}
            if self.num_classes:
                record["interpolation"].update(a_label=self.a_label, b_label=self.b_label)
        edit = self.space_edit()
        if edit is not None:
            record[self.edit_space.option] = edit.to_record()
        if self.source is not None:
            record["source"] = self.source.to_record()
        return record

    def apply_record(self, record: dict) -> None:
        """Show a record's latent (and its A/B path, class and decode options); its size must fit the
        model, and its decode options must be settings the model takes."""
        record = check_latent_record(record, self.latent_dim, "the record", self.latent_spaces)
        options = record.get("decode_options", {})
        unknown = sorted(set(options) - set(self.decode_options))
        if unknown:
            raise GenStudioError(f"the record: decode option {unknown[0]!r} is not a setting of this model "
                                 f"(it takes {', '.join(self.decode_options) or 'none'})")
        if "label" in record and self.num_classes:
            self.label = min(int(record["label"]), self.num_classes - 1)
        reseeded = "seed" in record and record["seed"] != self.seed
        if reseeded:
            self.seed = record["seed"]          # the seed the latent came from, as the explorer showed it
        if options or ("label" in record and self.num_classes) or reseeded:
            self.decode_options.update(options)
            self.events.settings.emit(self)
        for space in self.latent_spaces:
            edit = record.get(space.option)
            if edit is not None:
                # The directions are the model's own (seeded): the explorer computes them for this group.
                self.clear_edit()
                self.edit_space, self.edit_group = space, edit["layers"]
                self.edit_alphas = [float(a) for a in edit["alphas"]]
        path = record.get("interpolation")
        if path:
            self.spherical = bool(path.get("spherical", True))
            self.frames, self.t = int(path.get("frames", self.frames)), float(path.get("t", 0.0))
            ends = [min(int(path[key]), self.num_classes - 1) if key in path and self.num_classes else None
                    for key in ("a_label", "b_label")]
            self.set_endpoints(torch.tensor(path["a"]), torch.tensor(path["b"]), *ends)
        if "source" in record:
            self.source = source_of(record, "the record")          # shown with the latent's event below
        self.set_latent(torch.tensor(record["latent"], dtype=torch.float32))

    def save_record(self, path: str | Path) -> Path:
        from genstudio.core.io.atomic import write_bytes_atomic
        return write_bytes_atomic(path, json.dumps(self.to_record(), indent=1).encode())


def _numbers(value, count: int | None) -> bool:
    return (isinstance(value, list) and (count is None or len(value) == count)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value))


def check_latent_record(record, latent_dim: int | None, where: str, spaces: tuple[LatentSpace, ...] = ()) -> dict:
    """The record, if its latent (and A/B path) are lists of `latent_dim` finite numbers, and its
    edits in `spaces` (the model's declared latent spaces) name one of their layer groups, k and k
    offsets."""
    if not isinstance(record, dict) or "latent" not in record:
        raise GenStudioError(f"{where}: not a genstudio latent record (no 'latent' list)")
    latent = record["latent"]
    if not _numbers(latent, None) or not latent:
        raise GenStudioError(f"{where}: 'latent' must be a list of finite numbers")
    if latent_dim is not None and len(latent) != latent_dim:
        raise GenStudioError(f"{where}: a latent of {len(latent)} values, the model takes {latent_dim}")
    path = record.get("interpolation")
    if path is not None and (not isinstance(path, dict) or not _numbers(path.get("a"), len(latent))
                             or not _numbers(path.get("b"), len(latent))):
        raise GenStudioError(f"{where}: 'interpolation' needs end points a and b of {len(latent)} values")
    if path is not None and not all(isinstance(path.get(key, 0), int) and not isinstance(path.get(key, 0), bool)
                                    and path.get(key, 0) >= 0 for key in ("a_label", "b_label")):
        raise GenStudioError(f"{where}: the interpolation's 'a_label' and 'b_label' must be class indices")
    seed = record.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
        raise GenStudioError(f"{where}: 'seed' must be a whole number from 0 to 2^31 - 1")
    if "label" in record and (not isinstance(record["label"], int) or record["label"] < 0):
        raise GenStudioError(f"{where}: 'label' must be a class index")
    options = record.get("decode_options", {})
    if not isinstance(options, dict) or not all(isinstance(k, str) and _numbers([v], 1) for k, v in options.items()):
        raise GenStudioError(f"{where}: 'decode_options' must map setting names to finite numbers")
    for space in spaces:
        edit = record.get(space.option)
        if edit is not None and not (isinstance(edit, dict) and edit.get("layers") in space.group_keys()
                                     and isinstance(edit.get("k"), int) and not isinstance(edit.get("k"), bool)
                                     and 1 <= edit["k"] <= 512 and _numbers(edit.get("alphas"), edit["k"])):
            raise GenStudioError(f"{where}: '{space.option}' needs layers (one of {', '.join(space.group_keys())}), "
                                 f"k and k alphas")
    source_of(record, where)
    return record


def source_of(record: dict, where: str) -> SourceImage | None:
    """The source image a record (or history state) keeps, checked; None when it keeps none."""
    return None if record.get("source") is None else SourceImage.from_record(record["source"], where)


def read_latent_record(path: str | Path, latent_dim: int | None = None, spaces: tuple[LatentSpace, ...] = ()) -> dict:
    """A latent record from a JSON file, checked (its edits in `spaces` too); GenStudioError names
    the file and the reason."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenStudioError(f"{path}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise GenStudioError(f"{path}: not a readable JSON latent record ({type(exc).__name__})") from None
    return check_latent_record(record, latent_dim, str(path), spaces)
