"""The recorder's error and event logs: storage, seeded history and growth.

Texts follow the forms i-PRO recorders write (the spec leaves them to the
product manuals): events ``SITE(VMD)-2`` (motion on camera 2),
``SITE(ALARM)-3`` (alarm from camera 3), ``TRM(ALARM)-1`` (alarm input
terminal 1), ``COM(ALARM)-5`` (command alarm 5); errors ``POWER ON``,
``CAM 3 COMMUNICATION ERROR`` / ``CAM 3 COMMUNICATION RECOVERED``,
``MAIN-2 HDD ERROR``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    import random


@dataclass(frozen=True, slots=True, order=True)
class LogEntry:
    """One log line: when (aware UTC), the summer-time flag then, and the text."""

    time: dt.datetime
    summer_time: bool
    text: str


class LogBook:
    """A log list in chronological order, capped like the recorder's (oldest dropped)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: list[LogEntry] = []

    def add(self, entry: LogEntry) -> None:
        """Insert ``entry`` at its place in time; drop the oldest beyond capacity."""
        # Equal times keep insertion order, so a burst stays in the order it happened.
        index = bisect.bisect_right(self._entries, entry.time, key=lambda e: e.time)
        self._entries.insert(index, entry)
        if len(self._entries) > self.capacity:
            del self._entries[: len(self._entries) - self.capacity]

    def extend(self, entries: Iterable[LogEntry]) -> None:
        """Add several entries."""
        for entry in entries:
            self.add(entry)

    @property
    def entries(self) -> list[LogEntry]:
        """The entries, oldest first (a copy)."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()


class LogTexts:
    """Draws realistic log texts from a seeded random generator."""

    def __init__(self, rng: random.Random, cameras: Sequence[int]) -> None:
        self._rng = rng
        # Events name registered cameras; an empty recorder still has terminals.
        self._cameras = list(cameras) or [1]

    def event(self) -> str:
        """Return a random event text, mostly motion detection."""
        roll = self._rng.random()
        if roll < 0.7:
            return f"SITE(VMD)-{self._rng.choice(self._cameras)}"
        if roll < 0.82:
            return f"SITE(ALARM)-{self._rng.choice(self._cameras)}"
        if roll < 0.94:
            return f"TRM(ALARM)-{self._rng.randint(1, 8)}"
        return f"COM(ALARM)-{self._rng.randint(1, 8)}"


def seed_history(
    rng: random.Random,
    now: dt.datetime,
    *,
    cameras: Sequence[int],
    failed_cameras: Sequence[int],
    summer_time: bool,
) -> tuple[list[LogEntry], list[LogEntry]]:
    """Return a deterministic (events, errors) history ending before ``now``.

    The error log starts with a power-on three weeks ago, has a few camera
    communication errors that recovered and one old disk error; every camera in
    ``failed_cameras`` (connection error in as_getinfo) has a recent error that
    has not recovered, so the logs agree with the camera states.
    """
    now = now.replace(microsecond=0)

    def at(seconds_ago: float) -> dt.datetime:
        return now - dt.timedelta(seconds=int(seconds_ago))

    day = 86400.0
    errors = [LogEntry(at(21 * day), summer_time, "POWER ON")]
    for _ in range(3):
        camera = rng.choice(list(cameras) or [1])
        start = rng.uniform(2 * day, 20 * day)
        errors.append(LogEntry(at(start), summer_time, f"CAM {camera} COMMUNICATION ERROR"))
        recovered = start - rng.uniform(60, 3600)
        errors.append(LogEntry(at(recovered), summer_time, f"CAM {camera} COMMUNICATION RECOVERED"))
    errors.append(LogEntry(at(rng.uniform(5 * day, 15 * day)), summer_time, "MAIN-2 HDD ERROR"))
    errors.extend(
        LogEntry(at(rng.uniform(600, 7200)), summer_time, f"CAM {camera} COMMUNICATION ERROR")
        for camera in failed_cameras
    )

    texts = LogTexts(rng, cameras)
    events = [LogEntry(at(rng.uniform(60, 3 * day)), summer_time, texts.event()) for _ in range(60)]
    return sorted(events), sorted(errors)
