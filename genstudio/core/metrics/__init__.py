"""Mode-collapse and quality diagnostics (recipes in docs/diagnostics.md), Qt-free.

One job per module: `classifier` (feature spaces), `classes`, `prdc`, `ndb`, `duplicates`,
`frechet`, `toy` (2-D mixtures), `diversity`, and `report`, which runs them all on a generator.
"""

from genstudio.core.errors import Cancelled


def check_stop(should_stop, what: str) -> None:
    """Raise Cancelled when the caller's `should_stop()` says so (None: never)."""
    if should_stop is not None and should_stop():
        raise Cancelled(f"diagnostics cancelled while {what}")
