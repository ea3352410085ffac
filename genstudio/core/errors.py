"""Errors the core raises for bad input: each carries one line that names the file and the reason."""


class GenStudioError(Exception):
    """Base class: str(error) is a single line fit for a status bar or a CLI message."""


class DataError(GenStudioError):
    """A data set could not be read (missing or empty folder, unreadable files, bad idx header...)."""


class CheckpointError(GenStudioError):
    """A checkpoint could not be read (corrupt, truncated, foreign, wrong family, unknown version...)."""


class DeviceError(GenStudioError):
    """The requested device (cuda, mps) is not available on this machine."""


class TrainingError(GenStudioError):
    """Training cannot continue (NaN/Inf loss, incompatible resume checkpoint...)."""


class Cancelled(GenStudioError):
    """The caller asked a long computation to stop (a task's cancel, a `should_stop()` that said so)."""


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type's name when it has none: what
    a status bar, a failure signal or a one-line CLI error shows of an unexpected exception."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
