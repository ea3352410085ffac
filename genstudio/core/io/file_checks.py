"""Refuse what is not a plain file before opening it, and bound what a file may make genstudio allocate.

Why up front: open() on a FIFO blocks until a writer appears (forever, for a crafted path), reading
/dev/zero or /dev/urandom never ends and fills memory, and a folder or socket fails with an error
that names neither the file nor the reason. os.stat answers without opening anything, so every
loader of a person's file (checkpoints, idx files, images) asks here first. `open_regular_file`
then opens without blocking and checks the opened descriptor again, so a file swapped for a FIFO
between the two steps cannot block either.

How much a file may make genstudio allocate is memory_budget.py's concern.

Every error is `error(f"{path}: ...")`, one line naming the file, with the caller's error class
(DataError for data, CheckpointError for checkpoints), so callers need no wrapping.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from genstudio.core.errors import GenStudioError
from genstudio.core.runtime.memory_budget import format_bytes


def _not_regular(mode: int) -> str:
    """What a non-regular file is, for 'cannot read X: it is ...'."""
    if stat.S_ISDIR(mode):
        return "it is a folder"
    if stat.S_ISFIFO(mode):
        return "it is a FIFO (named pipe), which could block forever"
    if stat.S_ISCHR(mode):
        return "it is a character device, not a file"
    if stat.S_ISBLK(mode):
        return "it is a block device, not a file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a file"
    return "it is not a regular file"


def _stat_reason(path: Path, exc: OSError | ValueError) -> str:
    if isinstance(exc, ValueError):                    # an embedded NUL byte in the path
        return "the path is not valid"
    if isinstance(exc, FileNotFoundError):
        return "a broken link" if os.path.islink(path) else "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def check_readable_file(path: str | os.PathLike, what: str, *, error: type[GenStudioError] = GenStudioError,
                        max_bytes: int | None = None) -> Path:
    """`path` as a Path when it is a regular file (links followed) of at most `max_bytes` bytes.

    Otherwise raises `error` with one line, '<path>: cannot read <what>: <reason>': missing, a broken
    link, a folder, a FIFO, a character or block device, a socket, permission denied, too large.
    Nothing is opened, so this never blocks.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:
        raise error(f"{path}: cannot read {what}: {_stat_reason(path, exc)}") from None
    _check_stat(path, info, what, error, max_bytes)
    return path


def _check_stat(path: Path, info: os.stat_result, what: str, error: type[GenStudioError], max_bytes: int | None):
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: cannot read {what}: {_not_regular(info.st_mode)}")
    if max_bytes is not None and info.st_size > max_bytes:
        raise error(f"{path}: cannot read {what}: it is {format_bytes(info.st_size)}, more than the "
                    f"{format_bytes(max_bytes)} this reader accepts")


def open_regular_file(path: str | os.PathLike, what: str, *, error: type[GenStudioError] = GenStudioError,
                      max_bytes: int | None = None) -> BinaryIO:
    """`check_readable_file`, then open for binary reading without ever blocking.

    The open itself is non-blocking (O_NONBLOCK: a FIFO put there after the check opens at once
    instead of waiting for a writer) and the opened descriptor is checked again with fstat, so the
    returned file is a regular file whatever happened in between. Use as a context manager.
    """
    path = check_readable_file(path, what, error=error, max_bytes=max_bytes)
    # O_NOCTTY: a terminal device swapped in must not become this process's controlling terminal.
    flags = os.O_RDONLY
    for extra in ("O_NONBLOCK", "O_NOCTTY", "O_BINARY", "O_CLOEXEC"):
        flags |= getattr(os, extra, 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {_stat_reason(path, exc)}") from None
    try:
        _check_stat(path, os.fstat(fd), what, error, max_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)                  # a regular file after all: ordinary reads
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str | os.PathLike, what: str, *, error: type[GenStudioError] = GenStudioError,
                      max_bytes: int | None = None) -> bytes:
    """The whole content of a regular file, refused as `check_readable_file` refuses, never blocking.

    `max_bytes` also bounds the read itself, so a file that grows after the check is not read
    past the bound. Read errors (EIO, a file removed under a network mount) become `error` too.
    """
    try:
        with open_regular_file(path, what, error=error, max_bytes=max_bytes) as handle:
            data = handle.read() if max_bytes is None else _read_bounded(handle, max_bytes)
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or type(exc).__name__}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{path}: cannot read {what}: it is more than the {format_bytes(max_bytes)} this reader accepts")
    return data


def _read_bounded(handle: BinaryIO, max_bytes: int) -> bytes:
    """At most max_bytes + 1 bytes, with a buffer the size of the file, not of the bound: read(n)
    allocates n bytes before reading, and a memory budget of gigabytes must not become a buffer of
    gigabytes for a 3 MB file."""
    size = os.fstat(handle.fileno()).st_size
    data = handle.read(min(size, max_bytes) + 1)
    if len(data) <= size or len(data) > max_bytes:
        return data
    # It grew since fstat (or, like a /proc file, reports no size): read on in chunks, to the bound.
    parts, total = [data], len(data)
    while total <= max_bytes and (chunk := handle.read(min(1 << 20, max_bytes + 1 - total))):
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def printable(text: str | os.PathLike) -> str:
    """`text` with what must not reach a terminal or a label written as escapes: the undecodable
    bytes of a file name as \\xNN, control characters as \\x1b, \\n..., and the bidirectional
    controls that reorder what is shown (U+202E...) as \\u202e.

    Python keeps the bytes of a non-UTF-8 file name as lone surrogates ('\\udcff'), and a JSON
    header may hold any lone surrogate ('\\ud800'); a strict UTF-8 console, a UTF-8 log file or a
    Qt label cannot encode either. A header's fields may also hold terminal escape sequences
    ('\\x1b[2J' clears the screen, '\\x1b]0;...\\x07' retitles the window) or a right-to-left
    override that shows a name backwards. So anything from a file shown to a person or logged goes
    through here. Plain text comes back unchanged.
    """
    text = os.fspath(text)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(_escape, text)


# Lone surrogates, C0 and C1 controls (DEL too), and the bidirectional embeddings, overrides,
# isolates and marks.
_UNPRINTABLE = re.compile("[\ud800-\udfff\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    ch = match.group()
    if "\udc80" <= ch <= "\udcff":            # a file name's undecodable byte
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"