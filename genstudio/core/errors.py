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


class NonFiniteOutput(GenStudioError, ValueError):
    """A model decoded to NaN or Inf: no image can be drawn from it (it would come out black) and no
    figure computed from it (a linear-algebra routine given NaN may crash the process). A ValueError
    too, so that every caller that turns a model's refusal of its input into a one-line message
    (sample's decode, diagnose) turns this into one as well."""


def check_finite(samples, what: str = "the model's output") -> None:
    """Raise NonFiniteOutput, naming what and for how many of the samples, when `samples` (n, ...)
    (a numpy array or a torch tensor, on any device) holds NaN or Inf; integer samples always pass."""
    import numpy as np

    if hasattr(samples, "detach"):                               # a torch tensor (bfloat16 has no numpy dtype)
        samples = samples.detach().float().cpu().numpy() if samples.is_floating_point() else samples.cpu().numpy()
    flat = np.asarray(samples).reshape(len(samples), -1)                                   # (n, values)
    if not np.issubdtype(flat.dtype, np.floating):
        return
    nan, inf = np.isnan(flat).any(1), np.isinf(flat).any(1)                                 # (n,) bool each
    bad = int((nan | inf).sum())
    if bad:
        kind = "NaN or Inf" if nan.any() and inf.any() else "NaN" if nan.any() else "Inf"
        raise NonFiniteOutput(f"{what} is {kind} for {bad} of {len(flat)} samples")
