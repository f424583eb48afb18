"""Tell which log entries are new, and never call an entry seen before new.

The recorder's log lists hold at most 1000 entries and number them by position,
so numbers shift as entries arrive and old ones fall off; a reboot renumbers
them too. An entry is therefore identified by its content (time with the zone
in force, text), never by its number. Comparing by content rather than "newer
than the last time" also survives a recorder whose clock was set back.

The tracker remembers every entry it has seen, not only the previous poll: a
list that comes back short (cut by the recorder or the network, or reordered
after a reboot) must not make the entries missing from it look new the next
time they show up. The memory is bounded (:data:`MEMORY_SIZE`, twice what the
recorder itself keeps), oldest sighting forgotten first, and persisted by the
coordinator so a restart of Home Assistant replays nothing either.

Two genuinely identical entries (same second, same text) share a key, so the
memory counts keys: the most copies of a key ever listed at once. Keys are
64-bit digests of the content: 2000 of them take about 40 kB to store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
import hashlib

from custom_components.ipro_nvr.api import LogEntry

# The recorder keeps 1000 entries per log (spec 5.1): remembering twice that
# covers everything it can still list, with room for a clock set back.
MEMORY_SIZE = 2000


def entry_key(entry: LogEntry) -> str:
    """Return the identity of a log entry: its content, never its number.

    A short digest of the content, so that the persisted memory stays small
    (it is written at every poll that finds something).
    """
    return _digest(f"{entry.time.isoformat()}|{entry.text}")


def _digest(content: str) -> str:
    return hashlib.blake2b(content.encode(), digest_size=8).hexdigest()


def _stored_key(key: str) -> str:
    # Earlier versions stored the content itself ("<time>|<text>"); a digest has no "|".
    return _digest(key) if "|" in key else key


@dataclass(slots=True)
class LogTracker:
    """Remembers the log entries of one log kind seen so far (bounded)."""

    # Key -> copies seen, in the order first seen; None: nothing seen yet.
    seen: dict[str, int] | None = None
    capacity: int = MEMORY_SIZE
    _size: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        # Not trimmed here: what was persisted was within the limit when saved.
        self._size = sum(self.seen.values()) if self.seen is not None else 0

    @classmethod
    def from_keys(cls, keys: Iterable[str] | None, *, capacity: int = MEMORY_SIZE) -> LogTracker:
        """Restore a tracker from persisted keys (``None``: nothing seen yet).

        Repeated keys are copies; the order is the order they were first seen.
        """
        if keys is None:
            return cls(seen=None, capacity=capacity)
        return cls(seen=dict(Counter(_stored_key(key) for key in keys)), capacity=capacity)

    def keys(self) -> list[str]:
        """Return the keys to persist, oldest sighting first, repeated per copy."""
        return [key for key, copies in (self.seen or {}).items() for _ in range(copies)]

    def update(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Return the entries never seen before, oldest first, and remember them.

        On the very first poll (nothing persisted) everything present is taken
        as already seen: a fresh install must not replay the recorder's history.
        A list may be incomplete: what it lacks is simply not remembered anew.
        """
        # sorted() is stable: entries of the same second keep the recorder's order.
        ordered = sorted(entries, key=lambda e: e.time)
        listed = Counter(entry_key(e) for e in ordered)
        if self.seen is None:
            self.seen = {}
            self._remember(self.seen, listed)
            return []
        seen = self.seen
        counted: Counter[str] = Counter()
        new: list[LogEntry] = []
        for entry in ordered:
            key = entry_key(entry)
            counted[key] += 1
            if counted[key] > seen.get(key, 0):
                new.append(entry)
        self._remember(seen, listed)
        return new

    def _remember(self, seen: dict[str, int], listed: Counter[str]) -> None:
        for key, copies in listed.items():
            known = seen.get(key, 0)
            if copies > known:
                seen[key] = copies
                self._size += copies - known
        # A list longer than the capacity is remembered whole.
        limit = max(self.capacity, 2 * listed.total())
        while self._size > limit and seen:
            oldest = next(iter(seen))
            self._size -= seen.pop(oldest)
