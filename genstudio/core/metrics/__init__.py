"""Mode-collapse and quality diagnostics (recipes in docs/diagnostics.md), Qt-free.

One job per module: `classifier` (feature spaces), `classes`, `prdc`, `ndb`, `duplicates`,
`frechet`, `toy` (2-D mixtures), `diversity`, and `report`, which runs them all on a generator.
"""

from genstudio.core.errors import Cancelled


class DiagnosticsCancelled(Cancelled):
    """`should_stop()` returned True: the diagnostics stopped before finishing."""


def check_stop(should_stop, what: str) -> None:
    """Raise DiagnosticsCancelled when the caller's `should_stop()` says so (None: never)."""
    if should_stop is not None and should_stop():
        raise DiagnosticsCancelled(f"diagnostics cancelled while {what}")
