"""Undo and redo for the explorer: a list of explorer states (latent records, as *Save latent*
writes them) with a cursor. A new state after an undo drops the states that were ahead of it, as
editors do. Changes made while a group is open (a slider drag) replace each other, so a whole drag
is one step. Each state can carry a thumbnail of the image it showed, for the history strip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LIMIT = 200


# Keys of a latent record that name the model rather than what it shows: a fresher snapshot of the
# same run shows the same state. Every other key (the latent, seed, class, decode options, path, an
# edit in a declared latent space under its own key) is part of the state.
MODEL_KEYS = frozenset({"format", "version", "checkpoint", "family", "latent_shape"})


def _same(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in (a.keys() | b.keys()) - MODEL_KEYS)


@dataclass
class HistoryEntry:
    state: dict
    thumbnail: object | None = None        # whatever the view keeps (a small image array)


@dataclass
class LatentHistory:
    limit: int = LIMIT
    entries: list[HistoryEntry] = field(default_factory=list)
    index: int = -1                         # the entry shown now
    _group_open: bool = False
    _group_pushed: bool = False

    def clear(self) -> None:
        self.entries, self.index = [], -1
        self._group_open = self._group_pushed = False

    def begin_group(self) -> None:
        self._group_open, self._group_pushed = True, False

    def end_group(self) -> None:
        self._group_open = self._group_pushed = False

    def record(self, state: dict) -> bool:
        """Add `state` after the current entry (or replace it inside an open group); False when it
        equals the current state."""
        if self.index >= 0 and _same(self.entries[self.index].state, state):
            return False
        if self._group_open and self._group_pushed:
            self.entries[self.index] = HistoryEntry(state)
            return True
        del self.entries[self.index + 1:]
        self.entries.append(HistoryEntry(state))
        if len(self.entries) > self.limit:
            del self.entries[0]
        self.index = len(self.entries) - 1
        self._group_pushed = self._group_open
        return True

    @property
    def can_undo(self) -> bool:
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        return self.index < len(self.entries) - 1

    def undo(self) -> dict | None:
        return self.jump(self.index - 1) if self.can_undo else None

    def redo(self) -> dict | None:
        return self.jump(self.index + 1) if self.can_redo else None

    def jump(self, index: int) -> dict:
        if not 0 <= index < len(self.entries):
            raise IndexError(f"no history entry {index} (there are {len(self.entries)})")
        self.index = index
        self.end_group()
        return self.entries[index].state

    def set_thumbnail(self, thumbnail) -> None:
        """The image the current state shows."""
        if self.index >= 0:
            self.entries[self.index].thumbnail = thumbnail
