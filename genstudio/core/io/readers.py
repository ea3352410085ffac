"""The file-reader registry: the one place a format genstudio opens is registered.

`open_model`, `genstudio info / sample / convert` and the app's File > Open (its file filter, the
folder action, dropping a file) ask `reader_for(path)`; none of them names a format. Adding a format
is a `Reader` (reader.py) in core/io/ and one `register(...)` line below (docs/adding-a-file-format.md).

A path is taken by the first reader whose `sniff` recognises it. A file no reader recognises is read
as a genstudio checkpoint, whose loader says in one line what the file is not (a zip named
.safetensors, a pickle, a truncated file); a folder no reader recognises is refused naming the
folders genstudio opens.
"""

from __future__ import annotations

from pathlib import Path

from genstudio.core.errors import CheckpointError
from genstudio.core.io.reader import Description, OpenOptions, Reader

_READERS: dict[str, Reader] = {}
_FALLBACK = "genstudio-checkpoint"        # a file no reader recognises is read as a checkpoint


def register(reader: Reader) -> Reader:
    if reader.name in _READERS and _READERS[reader.name] is not reader:
        raise ValueError(f"a file reader named '{reader.name}' is registered already")
    _READERS[reader.name] = reader
    return reader


def unregister(name: str) -> None:
    """Forget a reader (tests that register one of their own put things back with this)."""
    _READERS.pop(name, None)


def readers() -> list[Reader]:
    return list(_READERS.values())


def get(name: str) -> Reader:
    if name not in _READERS:
        raise ValueError(f"unknown file reader '{name}': choose one of {', '.join(_READERS)}")
    return _READERS[name]


def _sniffs(reader: Reader, path: Path) -> bool:
    try:
        return bool(reader.sniff(path))
    except (OSError, ValueError):            # an unreadable path or a name the OS refuses: not this format
        return False


def reader_for(path: str | Path) -> Reader:
    """The reader that takes `path`; CheckpointError (one line naming it) for a folder none takes."""
    path = Path(path)
    for reader in _READERS.values():
        if _sniffs(reader, path):
            return reader
    if path.is_dir():
        hint = (" (a genstudio run folder? open its checkpoint.safetensors)"
                if (path / "checkpoint.safetensors").is_file() else "")
        opened = ", ".join(r.label for r in _READERS.values() if r.folders) or "none"
        raise CheckpointError(f"{path}: not a model folder genstudio opens (it opens {opened}){hint}")
    return _READERS[_FALLBACK]


def open_file(path: str | Path, device="cpu", options: OpenOptions = OpenOptions()):
    """(model, card) of any file or folder genstudio opens; open_model.py wraps them."""
    path = Path(path)
    return reader_for(path).open(path, device, options)


def describe(path: str | Path) -> Description:
    """What `genstudio info` shows of a path, read without running anything in it."""
    path = Path(path)
    return reader_for(path).describe(path)


def convert(path: str | Path, **options):
    """(model, card) of a file in another format, ready for save_checkpoint; CheckpointError (one line)
    where its format cannot become a genstudio checkpoint or does not take an option given."""
    path = Path(path)
    reader = reader_for(path)
    if reader.convert is None:
        raise CheckpointError(f"{path}: {reader.no_convert or f'{reader.label} are not converted'}")
    unknown = sorted(set(options) - set(reader.convert_options))
    if unknown:
        takes = ", ".join(f"--{o}" for o in reader.convert_options) or "no options"
        raise CheckpointError(f"{path}: --{unknown[0]} does not apply to {reader.label} (they take {takes})")
    return reader.convert(path, **options)


def file_filter() -> str:
    """The open dialog's filter: every registered suffix, then each format's own, then all files."""
    suffixes = [s for r in _READERS.values() for s in r.suffixes]
    parts = [f"Models ({' '.join('*' + s for s in dict.fromkeys(suffixes))})"]
    parts += [f"{r.label} ({' '.join('*' + s for s in r.suffixes)})" for r in _READERS.values() if r.suffixes]
    return ";;".join(parts + ["All files (*)"])


# The built-in formats.
from genstudio.core.io import checkpoint_reader, cyclegan_reader, diffusers_reader, foreign_reader, stylegan_reader  # noqa: E402

register(checkpoint_reader.READER)
register(cyclegan_reader.READER)          # before foreign_reader: .pth state dicts, not TorchScript .pth programs
register(foreign_reader.READER)
register(stylegan_reader.READER)
register(diffusers_reader.READER)

__all__ = ["Description", "OpenOptions", "Reader", "convert", "describe", "file_filter", "get", "open_file",
           "reader_for", "readers", "register", "unregister"]
