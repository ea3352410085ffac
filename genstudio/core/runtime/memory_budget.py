"""How much memory one load or model may take before genstudio refuses it with a clear line.

Sizes come from files (a checkpoint header's architecture, an idx header, an image folder's size
option), and an allocation bigger than the machine can hold either kills the process (the
kernel's OOM killer) or fails deep inside numpy or torch with a traceback. Checking the product of
the declared sizes first, in Python ints that cannot overflow, turns both into one line that says
how much was asked for. The budget is half of what this process could still get (physical memory,
or what RLIMIT_AS still allows): a load usually holds a second copy for a moment, and the rest of
the program needs room too. GENSTUDIO_MEMORY_BUDGET (bytes, or with a K/M/G suffix) overrides it.
"""

from __future__ import annotations

import os

from genstudio.core.errors import GenStudioError

GiB = 1 << 30
# When neither the physical memory nor a process limit can be read (Windows without the sysconf
# names), assume a modest machine rather than an unbounded one.
_FALLBACK_MEMORY = 8 * GiB
_SUFFIXES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def format_bytes(n: int | float) -> str:
    """1536 -> '1.5 KiB'; for messages."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _address_space_left() -> int | None:
    """What RLIMIT_AS (ulimit -v, a sandbox's limit) still allows this process, or None if unlimited."""
    try:
        import resource
    except ImportError:                                # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", "rb") as statm:    # Linux: the first field is the address space in pages
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)


def budget_bytes() -> int:
    """Bytes one load or model may take."""
    text = os.environ.get("GENSTUDIO_MEMORY_BUDGET", "").strip().lower()
    if text:
        try:
            scale = _SUFFIXES.get(text[-1], 1)
            return int(float(text[:-1] if text[-1] in _SUFFIXES else text) * scale)
        except ValueError:
            raise GenStudioError(f"GENSTUDIO_MEMORY_BUDGET={text!r}: give bytes, e.g. 4G") from None
    limits = [m for m in (_physical_memory(), _address_space_left()) if m is not None]
    return (min(limits) if limits else _FALLBACK_MEMORY) // 2


def check_memory(nbytes: int, what: str, *, error: type[GenStudioError] = GenStudioError) -> None:
    """Raise `error`, '<what> would need 30.0 TiB of memory; this process can spare 11.5 GiB', when
    `nbytes` is over the budget. `what` names the file and the thing, e.g. '/x: 10000 images'."""
    budget = budget_bytes()
    if nbytes > budget:
        raise error(f"{what} would need {format_bytes(nbytes)} of memory; this process can spare {format_bytes(budget)}")
