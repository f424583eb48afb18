"""The recorder's UID table (spec 1.3 and 6.1).

A UID lives ``config.uid_lifetime`` seconds after the last command that carried
it. At most ``config.max_uids`` live at once: issuing one more invalidates the
oldest-issued live UID (the spec says "lower priority or first issued"; the
simulator has no priorities, so it is always the first issued). Times come from
``config.clock``; expired UIDs are purged whenever the table is consulted.

UIDs of *other clients* (``config.other_clients`` at start, or
:meth:`UidTable.hold_for_others`) stand for viewers and apps that keep their
sessions alive: they never expire, but a login beyond the cap evicts them like
any other (they are the oldest issued), and :meth:`UidTable.release_others`
logs them out.
"""

from __future__ import annotations

from dataclasses import dataclass
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import SimulatorConfig


@dataclass(slots=True)
class _Uid:
    issued_at: float
    last_used: float


class UidTable:
    """Issues, refreshes, releases and expires UIDs."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        # Insertion order is issue order, which is what eviction needs.
        self._live: dict[str, _Uid] = {}
        # Never hand out a UID twice, so a client holding an old one cannot be
        # lucky and find it valid again.
        self._ever_issued: set[str] = set()
        # UIDs held by simulated other clients, which keep them alive.
        self._others: set[str] = set()
        self.issued_total = 0
        self.released_total = 0
        self.expired_total = 0
        self.evicted_total = 0

    def _now(self, now: float | None) -> float:
        return self._config.clock() if now is None else now

    def _purge(self, now: float) -> None:
        lifetime = self._config.uid_lifetime
        for uid in [
            uid
            for uid, entry in self._live.items()
            if now - entry.last_used >= lifetime and uid not in self._others
        ]:
            del self._live[uid]
            self.expired_total += 1

    def _new_value(self) -> str:
        digits = self._config.uid_digits
        low = 10 ** (digits - 1)
        while True:
            uid = str(low + secrets.randbelow(10**digits - low))
            if uid not in self._ever_issued:
                return uid

    def issue(self, now: float | None = None) -> str:
        """Issue a new UID, evicting the oldest-issued ones beyond the cap."""
        now = self._now(now)
        self._purge(now)
        while len(self._live) >= self._config.max_uids:
            del self._live[next(iter(self._live))]
            self.evicted_total += 1
        uid = self._new_value()
        self._ever_issued.add(uid)
        self._live[uid] = _Uid(issued_at=now, last_used=now)
        self.issued_total += 1
        return uid

    def touch(self, uid: str | None, now: float | None = None) -> bool:
        """Refresh ``uid``'s lifetime; False when it is unknown, expired or evicted."""
        now = self._now(now)
        self._purge(now)
        entry = self._live.get(uid) if uid is not None else None
        if entry is None:
            return False
        entry.last_used = now
        return True

    def release(self, uid: str, now: float | None = None) -> bool:
        """Release ``uid`` (logout); False when it was not live."""
        self._purge(self._now(now))
        if self._live.pop(uid, None) is None:
            return False
        self.released_total += 1
        return True

    def is_active(self, uid: str, now: float | None = None) -> bool:
        """Return whether ``uid`` is live (without refreshing it)."""
        self._purge(self._now(now))
        return uid in self._live

    def active(self, now: float | None = None) -> list[str]:
        """Return the live UIDs, oldest issued first."""
        self._purge(self._now(now))
        return list(self._live)

    def active_count(self, now: float | None = None) -> int:
        """Return how many UIDs are live (the spec's USEDUID)."""
        return len(self.active(now))

    def hold_for_others(self, count: int, now: float | None = None) -> list[str]:
        """Issue ``count`` UIDs to other clients, which keep them alive; return them."""
        uids = [self.issue(now) for _ in range(count)]
        self._others.update(uids)
        return uids

    def others(self, now: float | None = None) -> list[str]:
        """The other clients' UIDs that are still valid (not evicted or released)."""
        self._purge(self._now(now))
        return [uid for uid in self._live if uid in self._others]

    def release_others(self, count: int, now: float | None = None) -> int:
        """Log out ``count`` of the other clients' UIDs (newest first); return how many."""
        released = 0
        for uid in reversed(self.others(now)):
            if released == count:
                break
            self.release(uid, now)
            released += 1
        return released

    def expire_all(self) -> int:
        """Invalidate every live UID now (as a recorder restart would); return how many."""
        count = len(self._live)
        self._live.clear()
        self.expired_total += count
        return count
