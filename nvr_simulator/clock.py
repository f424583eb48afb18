"""Clocks and the recorder's notion of local time.

Tests drive UID lifetimes and pacing with :class:`FakeClock` (monotonic
seconds) and the recorder's calendar with :class:`FakeWallClock` (UTC).
"""

from __future__ import annotations

import datetime as dt

SUMMER_SHIFT = dt.timedelta(hours=1)


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


class FakeWallClock:
    """A UTC wall clock that only moves when a test says so."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the wall clock must be timezone-aware (UTC)")
        self.now = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += dt.timedelta(seconds=seconds)


def to_local(utc: dt.datetime, utc_offset: dt.timedelta, *, summer_time: bool) -> dt.datetime:
    """Return the recorder's naive local time for the aware ``utc`` time.

    ``utc_offset`` is the standard zone; summer time adds one hour (see
    ``SimulatorConfig``).
    """
    shift = utc_offset + (SUMMER_SHIFT if summer_time else dt.timedelta(0))
    return (utc.astimezone(dt.UTC) + shift).replace(tzinfo=None)


def zone_label(utc_offset: dt.timedelta) -> str:
    """Return the zone as the logs print it, e.g. ``GMT+09:00`` or ``GMT-03:30``."""
    minutes = round(utc_offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours:02d}:{mins:02d}"


def summer_flag(summer_time: bool) -> str:
    """Return the spec's summer-time field: ``1`` (IN) or ``0`` (OUT)."""
    return "1" if summer_time else "0"
