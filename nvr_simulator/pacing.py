"""The pacing journal: every authenticated request, and which ones came too soon.

Spec 1.3 asks for at least 3 s between commands and about 0.2 s between camera
controls. The simulator answers every request anyway (a real recorder would
only slow down) but records it here, so that every test can assert
``journal.violations == []``. Lanes are independent (``spec.CGI_LANE``;
``httpdl.cgi``, spec 6.3.2's "download command", is a command) and
``Lane.STREAM`` is never paced. The rule is per recorder, across all UIDs and
clients: spec 1.3 does not say whether the intervals apply per UID or per
client, and this is the stricter reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from custom_components.ipro_nvr.api.spec import CGI_LANE, Cgi, Lane

if TYPE_CHECKING:
    from .config import SimulatorConfig


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One authenticated request, as it arrived."""

    time: float  # config.clock() at arrival
    cgi: Cgi
    query: str  # the raw query string, exactly as received (without "?")
    uid: str | None
    lane: Lane


@dataclass(frozen=True, slots=True)
class PacingViolation:
    """A request that arrived sooner after the previous one of its lane than allowed."""

    entry: JournalEntry
    previous: JournalEntry
    gap: float
    required: float

    def __str__(self) -> str:
        return (
            f"{self.entry.cgi}?{self.entry.query} came {self.gap:.3f}s after "
            f"{self.previous.cgi}?{self.previous.query} ({self.entry.lane} lane needs "
            f"{self.required:.3f}s)"
        )


class PacingJournal:
    """Records requests and checks their spacing against ``config.pacing``."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._entries: list[JournalEntry] = []
        self._violations: list[PacingViolation] = []
        self._last: dict[Lane, JournalEntry] = {}

    def record(
        self, cgi: Cgi, query: str, uid: str | None, now: float | None = None
    ) -> JournalEntry:
        """Record a request that passed authentication; return its entry."""
        lane = CGI_LANE[cgi]
        entry = JournalEntry(
            time=self._config.clock() if now is None else now,
            cgi=cgi,
            query=query,
            uid=uid,
            lane=lane,
        )
        required = self._config.pacing.interval(lane)
        previous = self._last.get(lane)
        if previous is not None and required > 0:
            gap = entry.time - previous.time
            # Jitter allowance, but never more than half the interval: requests sent
            # without pacing still count at test speeds (lanes of 50 ms and more, where
            # a loaded machine's event loop delays one arrival by tens of milliseconds).
            slack = min(self._config.pacing_tolerance, required / 2)
            if gap < required - slack:
                self._violations.append(PacingViolation(entry, previous, gap, required))
        self._last[lane] = entry
        self._entries.append(entry)
        return entry

    @property
    def entries(self) -> list[JournalEntry]:
        """Every recorded request, in arrival order (a copy)."""
        return list(self._entries)

    @property
    def violations(self) -> list[PacingViolation]:
        """Every request that broke the pacing rule (a copy)."""
        return list(self._violations)

    def by_cgi(self, cgi: Cgi) -> list[JournalEntry]:
        """Return the recorded requests of one CGI."""
        return [entry for entry in self._entries if entry.cgi == cgi]

    def by_lane(self, lane: Lane) -> list[JournalEntry]:
        """Return the recorded requests of one lane."""
        return [entry for entry in self._entries if entry.lane == lane]

    def queries(self, cgi: Cgi) -> list[str]:
        """Return the raw query strings sent to one CGI, in order."""
        return [entry.query for entry in self.by_cgi(cgi)]

    def clear(self) -> None:
        """Forget the entries and violations recorded so far.

        The time of the last request of each lane is kept: a command sent too
        soon after one recorded before ``clear()`` is still a violation.
        """
        self._entries.clear()
        self._violations.clear()
