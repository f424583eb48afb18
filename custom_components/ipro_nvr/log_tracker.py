"""Tell which log entries are new since the previous poll.

The recorder's log lists hold at most 1000 entries and number them by position,
so numbers shift as entries arrive and old ones fall off. An entry is therefore
identified by its content (time, zone, text); the tracker remembers the
multiset of entries it saw last and reports every entry that was not among
them, in time order. Comparing by content rather than "newer than the last
time" also survives a recorder whose clock was set back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .api import LogEntry


def entry_key(entry: LogEntry) -> str:
    """Return the identity of a log entry: its content, never its number."""
    return f"{entry.time.isoformat()}|{entry.text}"


@dataclass(slots=True)
class LogTracker:
    """Remembers the last seen log contents of one log kind."""

    seen: Counter[str] | None = None

    @classmethod
    def from_keys(cls, keys: Iterable[str] | None) -> LogTracker:
        """Restore a tracker from persisted keys (``None``: nothing seen yet)."""
        return cls(seen=None if keys is None else Counter(keys))

    def keys(self) -> list[str]:
        """Return the keys to persist."""
        return list((self.seen or Counter()).elements())

    def update(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Return the entries not seen before, oldest first, and remember all.

        On the very first poll (nothing persisted) everything present is taken
        as already seen: a fresh install must not replay the recorder's history.
        """
        ordered = sorted(entries, key=lambda e: e.time)
        previous = self.seen
        self.seen = Counter(entry_key(e) for e in ordered)
        if previous is None:
            return []
        remaining = previous.copy()
        new: list[LogEntry] = []
        for entry in ordered:
            key = entry_key(entry)
            if remaining[key] > 0:
                remaining[key] -= 1
            else:
                new.append(entry)
        return new
