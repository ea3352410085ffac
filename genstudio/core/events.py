"""Change events for Qt-free state objects: views subscribe, the state emits (napari's evented models).

    session.events.latent.connect(view.on_latent)
    session.set_latent(z)        # -> view.on_latent(session)

Callbacks run synchronously in the emitting thread; Qt views are created and called in the GUI
thread, which is the thread that changes the state they observe.
"""

from __future__ import annotations

from typing import Callable


class Event:
    """One kind of change: a list of callbacks called with the emitter's arguments."""

    def __init__(self, name: str):
        self.name = name
        self._callbacks: list[Callable] = []
        self._blocked = 0

    def connect(self, callback: Callable) -> Callable:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(*args)

    def blocked(self) -> "_Blocker":
        """`with event.blocked():` changes made inside emit nothing."""
        return _Blocker(self)


class _Blocker:
    def __init__(self, event: Event):
        self.event = event

    def __enter__(self):
        self.event._blocked += 1

    def __exit__(self, *exc):
        self.event._blocked -= 1


class EventGroup:
    """Named events of one object: `EventGroup("latent", "path")` has `.latent` and `.path`."""

    def __init__(self, *names: str):
        for name in names:
            setattr(self, name, Event(name))
