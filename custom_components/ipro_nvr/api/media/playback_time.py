"""Recorded times of the playback containers (spec 3.3.1 *3/*4, 3.3.2 *1/*2).

A time is a u32 of seconds since the Unix epoch (UTC), with a supplementary
4-byte word: 10 ms units, zone hours, zone minutes and a TZ info byte whose
bit 7 is the zone sign (1 = minus) and bit 6 the summer-time flag.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
from typing import Final

from ..spec import (
    PLAYBACK_TZ_MINUS,
    PLAYBACK_TZ_SUMMER,
    RTP_VIDEO_CLOCK_RATE,
)

_TICK: Final = dt.timedelta(milliseconds=10)
_SUMMER_SHIFT: Final = dt.timedelta(hours=1)
_MAX_TICKS: Final = 99  # 0x63 = 990 ms (spec 7.1.2, frame time information)
UNIX_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class RecordedTime:
    """One recorded instant: UTC, with the recorder's zone and summer-time flag when known."""

    time: dt.datetime
    utc_offset: dt.timedelta | None = None
    summer_time: bool | None = None

    @property
    def local_time(self) -> dt.datetime | None:
        """The recorder's wall-clock time (summer time included), when the zone is known."""
        if self.utc_offset is None:
            return None
        offset = self.utc_offset + (_SUMMER_SHIFT if self.summer_time else dt.timedelta(0))
        return self.time.astimezone(dt.timezone(offset))

    @property
    def timestamp(self) -> int:
        """The time in 90 kHz ticks since the Unix epoch (an access unit's clock)."""
        delta = self.time - UNIX_EPOCH
        seconds = delta.days * 86_400 + delta.seconds
        return (
            seconds * RTP_VIDEO_CLOCK_RATE + delta.microseconds * RTP_VIDEO_CLOCK_RATE // 1_000_000
        )


def zone(hours: int, minutes: int, *, minus: bool) -> dt.timedelta | None:
    """The zone offset, or None when hours or minutes are out of range."""
    if hours > 23 or minutes > 59:
        return None
    return dt.timedelta(hours=hours, minutes=minutes) * (-1 if minus else 1)


def recorded_time(seconds: int, ticks: int, hours: int, minutes: int, tz_info: int) -> RecordedTime:
    """A time of the video containers: u32 seconds, then {10 ms, TZ hours, TZ minutes, TZ info}."""
    when = dt.datetime.fromtimestamp(seconds, dt.UTC) + _TICK * min(ticks, _MAX_TICKS)
    return RecordedTime(
        when,
        zone(hours, minutes, minus=bool(tz_info & PLAYBACK_TZ_MINUS)),
        bool(tz_info & PLAYBACK_TZ_SUMMER),
    )


__all__ = ["UNIX_EPOCH", "RecordedTime", "recorded_time", "zone"]
