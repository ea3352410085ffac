"""One string names a data set: the entry point the CLI (`--data SPEC`) and the app share.

Grammar (keywords and prefixes are case-insensitive, paths are not; `~` is expanded):

    mnist                                the bundled MNIST test set (10,000 digits, works offline)
    ring8 | grid25                       2-D Gaussian mixtures, 100,000 points (see toy.py)
    torchvision:NAME[:ROOT][:test]       NAME is mnist, fashionmnist or cifar10; ROOT defaults to
                                         `datasets` in the user data folder (torchvision_sets.
                                         default_root: ~/.local/share/genstudio/datasets on Linux);
                                         the train split unless `:test` ends it
                                         (`:train` is accepted too, and is what `source` spells out)
    folder:PATH[?size=N&channels=C]      every image under PATH, resized to N×N (default 64; also
                                         HxW) with C = 1 grey or 3 RGB (default 3); labelled by
                                         first-level sub-folder when all images sit in one
    idx:PATH                             an MNIST-layout folder of idx files (train and/or t10k)
    PATH                                 an existing folder: idx files if it holds any, else images
    SPEC[START:STOP[:STEP]]              a slice of any of the above, Python-style (either end may be
                                         left out or negative, STEP positive): `mnist[:9000]` to train,
                                         `mnist[9000:]` for the 1,000 digits it never saw, `mnist[1::2]`
                                         every other digit
    thick:SPEC | inverted:SPEC           SPEC's images with strokes one pixel thicker, or inverted
    A=SPEC,B=SPEC                        two image domains for translation models (data/domains.py),
                                         labelled 0 and 1 by domain
    mnist-thick | mnist-inverted         the bundled pairs: the even digits mnist[0::2] as A, the odd ones
                                         thickened or inverted as B (no image in both)

Keywords win over same-named folders: write `./mnist` for a folder called mnist. ROOT may itself
contain ':' (a Windows drive), since NAME is split off at the first ':' and `:test` at the end.

The returned data set's `source` is the canonical spec (absolute paths, every option spelled out),
so `load_dataset(ds.source)` loads the same data again, e.g. when resuming from a checkpoint.
A slice's `cut_from` is the whole set it was cut from, and `diagnosis_spec` names that set: a model
trained on `mnist[:9000]` is diagnosed against `mnist`, like every model trained on all of it.
"""

from __future__ import annotations

import re
from pathlib import Path

from genstudio.core.data.bundled import load_bundled_mnist
from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.domains import CHANGES, changed, names_two_domains, split_domains, two_domains
from genstudio.core.data.idx import has_idx_files, load_idx_folder
from genstudio.core.data.image_folder import MAX_SIDE, load_image_folder
from genstudio.core.data.toy import TOY_MIXTURES, load_toy
from genstudio.core.data.torchvision_sets import canonical_torchvision_name, default_root, load_torchvision
from genstudio.core.errors import DataError

SPEC_HELP = """\
Data set SPEC, one of:
  mnist                             bundled MNIST test set (10,000 digits, offline)
  ring8 | grid25                    2-D Gaussian mixtures (100,000 points)
  torchvision:NAME[:ROOT][:test]    NAME = mnist | fashionmnist | cifar10; ROOT default: datasets/
                                    in the user data folder (Linux: ~/.local/share/genstudio);
                                    train split unless :test
  folder:PATH[?size=N&channels=C]   images under PATH resized to NxN (default 64), C = 1 or 3
                                    (default 3); sub-folder names become labels
  idx:PATH                          MNIST-layout folder of idx files (train-*/t10k-*[.gz])
  PATH                              existing folder: idx files if present, else images
  SPEC[START:STOP]                  a slice of any of these, e.g. mnist[:9000] and mnist[9000:]
  thick:SPEC | inverted:SPEC        SPEC's images with thicker strokes, or inverted
  A=SPEC,B=SPEC                     two domains for translation (--family translation);
                                    bundled pairs: mnist-thick, mnist-inverted
Add --download to let torchvision: specs fetch missing files (needs a connection)."""

VALID_FORMS = ("mnist, ring8, grid25, torchvision:NAME[:ROOT][:test], "
               "folder:PATH[?size=N&channels=C], idx:PATH, or an existing folder, each optionally sliced [START:STOP] "
               "or changed (thick:SPEC, inverted:SPEC); A=SPEC,B=SPEC, mnist-thick or mnist-inverted for two domains")

# A trailing Python slice; only integers, so a folder whose name ends in '[...]' of other text is a path.
_SLICE = re.compile(r"^(?P<spec>.+)\[(?P<start>-?\d*):(?P<stop>-?\d*)(?::(?P<step>\d*))?\]$")

_FOLDER_DEFAULTS = {"size": "64", "channels": "3"}


def _expand(text: str) -> Path:
    """`~` and `~user` expanded; an unknown user is the spec's fault, so it gets the one-line error."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        raise DataError(f"{text}: cannot expand '~' (no such user, or no home folder)") from None


def _path(text: str) -> Path:
    return _expand(text).resolve()


def _parse_size(spec: str, text: str) -> int | tuple[int, int]:
    """'64' -> 64 (square); '48x64' -> (48, 64) as (height, width); each side 1..MAX_SIDE."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2):
        raise DataError(f"{spec}: size must be N or HxW, got {text!r}")
    # Checked here, before the folder is listed: the spec is what the person typed, so say it.
    if not all(1 <= p <= MAX_SIDE for p in parts):
        raise DataError(f"{spec}: size must be 1 to {MAX_SIDE} pixels a side, got {text!r}")
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])


def _load_folder(spec: str, path: Path, query: str = "") -> InMemoryDataset:
    """An image folder with the options of a `folder:` spec's query 'size=N&channels=C'."""
    options = dict(_FOLDER_DEFAULTS)
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        if key not in options:
            raise DataError(f"{spec}: unknown folder option {key!r} (expected size=N and/or channels=C)")
        options[key] = value
    if options["channels"] not in ("1", "3"):
        raise DataError(f"{spec}: channels must be 1 (grey) or 3 (RGB), got {options['channels']!r}")
    channels = int(options["channels"])
    dataset, _ = load_image_folder(path, _parse_size(spec, options["size"]), channels)
    dataset.source = f"folder:{dataset.source}?size={options['size'].lower()}&channels={channels}"
    return dataset


def _load_torchvision(body: str, download: bool) -> InMemoryDataset:
    """`torchvision:` spec body 'NAME[:ROOT][:test]'."""
    train = True
    for suffix, is_train in ((":test", False), (":train", True)):
        if body.lower().endswith(suffix):
            body, train = body[: -len(suffix)], is_train
            break
    name, _, root_text = body.partition(":")
    root = _path(root_text or str(default_root()))
    key = canonical_torchvision_name(name)
    dataset = load_torchvision(key, root, train=train, download=download)
    dataset.source = f"torchvision:{key}:{root}:{'train' if train else 'test'}"
    return dataset


def _slice_of(text: str) -> re.Match | None:
    """The trailing `[START:STOP]` of a stripped spec, split off (groups spec, start, stop); None
    when there is none, or when the whole text names an existing path (a folder called 'a[1:2]')."""
    sliced = _SLICE.match(text)
    return sliced if sliced and not _expand(text).exists() else None


def diagnosis_spec(training_spec: str) -> str:
    """The data a model trained on `training_spec` is diagnosed against by default: for a slice
    (`mnist[:9000]`, nested ones too) the whole set it was cut from (`mnist`), so that every model of
    one source is compared with the same real set and its one feature classifier; otherwise
    `training_spec` itself."""
    if names_two_domains(training_spec):     # a pair is diagnosed domain by domain (metrics/translation_report.py)
        return training_spec
    sliced = _slice_of(training_spec.strip())
    return diagnosis_spec(sliced["spec"]) if sliced else training_spec


def _load_slice(spec: str, sliced: re.Match, download: bool) -> InMemoryDataset:
    """`SPEC[START:STOP]` or `SPEC[START:STOP:STEP]`: the named rows of SPEC's data set, whose source
    is SPEC's canonical form with the same slice, so a checkpoint trained on it reloads exactly those rows."""
    step = int(sliced["step"]) if sliced["step"] else 1
    if step < 1:
        raise DataError(f"{spec}: a slice's step must be a positive integer, not {sliced['step']}")
    whole = _load(sliced["spec"], download)
    start, stop = (int(sliced[k]) if sliced[k] else None for k in ("start", "stop"))
    rows = range(len(whole))[start:stop:step]
    if not rows:
        raise DataError(f"{spec}: the slice [{sliced['start']}:{sliced['stop']}] holds none of the "
                        f"{len(whole)} samples of {whole.source or sliced['spec']}")
    part = whole.rows(rows.start, rows.stop, step)
    part.source = f"{whole.source}[{rows.start}:{rows.stop}{f':{step}' if step > 1 else ''}]"
    return part


def _load_idx(path: Path) -> InMemoryDataset:
    dataset = load_idx_folder(path)
    dataset.source = f"idx:{path}"
    return dataset


def load_dataset(spec: str, download: bool = False) -> InMemoryDataset:
    """The data set `spec` names (grammar in the module docstring and SPEC_HELP).

    `download` only matters for torchvision: specs. Raises DataError, one line naming the spec or
    path and the reason, for an unknown spec or data that cannot be read.
    """
    try:
        return _load(spec, download)
    except (ValueError, OSError) as exc:
        # The loaders check what they know to go wrong; what still escapes them while reading files
        # (an OSError from the file system, a ValueError from numpy or Pillow on odd data) is about
        # the data, so it gets the same one line. Anything else is a bug and keeps its traceback.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{spec}: cannot load this data set ({reason[:200]})") from exc


def _load(spec: str, download: bool) -> InMemoryDataset:
    text = spec.strip()
    domains = split_domains(text)
    if domains is not None:
        return two_domains(*(_load(part, download) for part in domains))
    sliced = _slice_of(text)
    if sliced:
        return _load_slice(text, sliced, download)
    keyword = text.lower()
    prefix, sep, body = text.partition(":")
    prefix = prefix.lower() if sep else ""

    if keyword == "mnist":
        return load_bundled_mnist()
    if keyword in TOY_MIXTURES:
        return load_toy(keyword)
    if prefix == "torchvision":
        return _load_torchvision(body, download)
    if prefix in CHANGES:
        return changed(_load(body, download), prefix)
    if prefix in ("folder", "idx") and not body.partition("?")[0].strip():
        # An empty path would resolve to the working folder: load only what was named.
        raise DataError(f"{spec}: {prefix}: needs a path (e.g. {prefix}:~/data/digits)")
    if prefix == "folder":
        path_text, _, query = body.partition("?")
        return _load_folder(text, _path(path_text), query)
    if prefix == "idx":
        return _load_idx(_path(body))
    if text and _expand(text).exists():
        path = _path(text)
        if path.is_dir() and has_idx_files(path):
            return _load_idx(path)
        return _load_folder(text, path)
    raise DataError(f"unknown data set {spec!r} (not a spec, nor an existing path); valid forms: {VALID_FORMS}")
