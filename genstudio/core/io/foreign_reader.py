"""TorchScript and torch.export generators (foreign.py) as a file reader. Such a file is a program: the
reader says so (`program`), and it opens only with the person's consent, as foreign.py describes."""

from __future__ import annotations

from pathlib import Path

from genstudio.core.io.foreign import (
    FOREIGN_SUFFIXES,
    HOW_TO_ALLOW,
    inspect_foreign_file,
    is_foreign_name,
    load_foreign_generator,
    read_foreign_file,
    sidecar_path,
)
from genstudio.core.io.reader import Description, OpenOptions, Reader

ENTRIES_SHOWN = 20


def open_generator(path: Path, device, options: OpenOptions):
    """On the CPU whatever `device` says: a foreign program is run where it was checked."""
    generator = load_foreign_generator(path, options.latent_dim, options.output_range, consent=options.consent)
    return generator, generator.card()


def _verdict(foreign) -> str:
    if foreign.problem:
        return f"refuses it: {foreign.problem}"
    if foreign.kind == "export":
        # the sample inputs are a pickle; even weights-only unpickling is left to the open itself
        return ("would load it with your consent, if its sample inputs load with weights_only=True "
                "(checked when it is opened: info unpickles nothing)")
    return "would load it with your consent"


def describe(path: Path) -> Description:
    """Described from its archive alone: loading it would run its author's code, and `info` is the
    command one uses to decide whether to."""
    foreign = inspect_foreign_file(path, unpickle_tensors=False)
    shown = list(foreign.entries[:ENTRIES_SHOWN])
    if len(foreign.entries) > ENTRIES_SHOWN:
        shown.append(f"... {len(foreign.entries) - ENTRIES_SHOWN} more (all of them with --json)")
    rows = (
        ("file", str(path)),
        ("kind", f"{foreign.label} archive (a foreign generator)"),
        ("code", f"a program from its author: it runs on this computer when opened ({HOW_TO_ALLOW})"),
        ("genstudio", _verdict(foreign)),
        ("sha256", foreign.sha256),
        ("size", f"{foreign.size} bytes"),
        ("entries", f"{len(foreign.entries)}: " + ", ".join(shown)),
    )
    return Description(rows, foreign.describe(), f"a {foreign.label} generator")


READER = Reader(name="foreign-generator", label="TorchScript / torch.export generators", sniff=is_foreign_name,
                open=open_generator, describe=describe, suffixes=FOREIGN_SUFFIXES, program=read_foreign_file,
                needs_details=lambda path: not sidecar_path(path).exists(),
                no_convert="a TorchScript / torch.export generator is a program from its author, not weights "
                           "genstudio rebuilds; it opens as it is (with --trust-code)")
