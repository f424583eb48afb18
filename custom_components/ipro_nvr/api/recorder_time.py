"""The recorder's clock: how its local times map to real instants, and back.

The spec gives three kinds of times:

* log entries: local time, a summer-time flag and the zone as ``GMT±hh:mm``;
* ``recordedtime.cgi``: local time and a summer-time flag, but no zone;
* ``TIMEF`` parameters of playback commands: UTC; ``httpdl.cgi`` times: not
  said (spec 6.3.2), read as local time.

Every reading of these rules lives in this module, each behind one function, so
that a real recorder that disagrees can be accommodated in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
import re

from .errors import InvalidArgumentError

# Summer time puts the recorder's clock this far ahead of its standard zone.
SUMMER_TIME_SHIFT = timedelta(hours=1)

# What the client knows about the recorder's zone: either the standard offset
# learned from a log entry's ``GMT±hh:mm``, or a time zone given by the user
# (Home Assistant's) when no log entry has been read yet.
type RecorderZone = timedelta | tzinfo

_GMT = re.compile(
    r"^\s*(?:GMT|UTC)\s*(?:(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?)?\s*$", re.ASCII
)
# UTC offsets in use on Earth lie within -12:00 .. +14:00.
_MAX_OFFSET = timedelta(hours=14)

# Two-digit years (yymmdd...) in TIMEF, STARTTIME and ENDTIME.
_CENTURY = 2000


def parse_gmt_offset(text: str) -> timedelta:
    """Return the offset of a log zone such as ``GMT+09:00`` or ``GMT-03:30``.

    Raises ``ValueError`` when ``text`` is not such a zone (the parsers turn
    that into :class:`MalformedResponseError`).
    """
    match = _GMT.match(text)
    if match is None:
        raise ValueError(f"not a GMT offset: {text!r}")
    if match["sign"] is None:
        return timedelta(0)
    minutes = int(match["m"] or 0)
    if minutes >= 60:
        raise ValueError(f"minutes out of range in {text!r}")
    offset = timedelta(hours=int(match["h"]), minutes=minutes)
    if offset > _MAX_OFFSET:
        raise ValueError(f"offset out of range in {text!r}")
    return -offset if match["sign"] == "-" else offset


def local_to_aware(local: datetime, *, summer_time: bool, zone: RecorderZone) -> datetime:
    """Return the instant the recorder means by the naive local time ``local``.

    The working interpretation (spec 5.1 and 5.2.1 print local times, a
    summer-time flag and, in the logs, ``GMT±hh:mm``):

    * ``zone`` is a ``timedelta``: it is the zone's *standard* offset, as the
      log prints it (``GMT+09:00``). While the summer-time flag is set, the
      recorder's clock runs one hour ahead of that, so
      ``UTC = local - offset - (1 h if summer_time else 0)``. The result keeps
      the recorder's wall-clock reading, with the offset that was in force.
    * ``zone`` is a ``tzinfo`` (a guess: the user's zone, used before any log
      entry told us the recorder's offset): the zone's own rules decide, and the
      summer-time flag only picks which of a repeated autumn hour is meant.
    """
    if local.tzinfo is not None:
        raise ValueError("recorder local times are naive")
    if isinstance(zone, timedelta):
        offset = zone + (SUMMER_TIME_SHIFT if summer_time else timedelta(0))
        return local.replace(tzinfo=timezone(offset))
    # fold=0 is the first (summer-time) pass through a repeated hour.
    in_force = local.replace(tzinfo=zone, fold=0 if summer_time else 1).utcoffset()
    if in_force is None:
        raise ValueError(f"time zone {zone!r} gives no UTC offset")
    # Pin the offset: an aware time that depends on ``fold`` compares unequal to
    # every time in another zone (PEP 495), which would surprise any caller.
    return local.replace(tzinfo=timezone(in_force))


def aware_to_local(moment: datetime, *, zone: RecorderZone, summer_time: bool) -> datetime:
    """Return the recorder's naive local clock reading at the instant ``moment``.

    The inverse of :func:`local_to_aware`. With a standard offset the caller
    says whether summer time is in force (the flag of the latest log entry is
    the best knowledge the client has); a ``tzinfo`` knows that by itself.
    """
    if moment.tzinfo is None:
        raise InvalidArgumentError("times sent to the recorder must be timezone-aware")
    if isinstance(zone, timedelta):
        offset = zone + (SUMMER_TIME_SHIFT if summer_time else timedelta(0))
        return (moment.astimezone(UTC) + offset).replace(tzinfo=None)
    return moment.astimezone(zone).replace(tzinfo=None)


def _two_digit_year(moment: datetime) -> str:
    if not _CENTURY <= moment.year < _CENTURY + 100:
        raise InvalidArgumentError(f"year {moment.year} cannot be sent as two digits")
    return f"{moment.year - _CENTURY:02d}"


def format_timef(moment: datetime) -> str:
    """Return ``moment`` as a playback ``TIMEF``: UTC ``yymmddhhmmssff``.

    ``ff`` counts 10 ms. The spec says "00 fixed" for some commands and "the
    time of the displayed video" for the same ones (spec 3.2.6, 3.2.9):
    the 10 ms part of the displayed picture is sent, a recorder may ignore it.
    """
    if moment.tzinfo is None:
        raise InvalidArgumentError("TIMEF must be built from a timezone-aware time")
    utc = moment.astimezone(UTC)
    return f"{_two_digit_year(utc)}{utc:%m%d%H%M%S}{utc.microsecond // 10_000:02d}"


def format_download_time(moment: datetime, *, zone: RecorderZone, summer_time: bool) -> str:
    """Return ``moment`` as ``httpdl.cgi``'s ``STARTTIME``/``ENDTIME``: ``yymmddhhmmss``.

    The spec does not say which clock these use (every ``TIMEF`` is UTC);
    the working interpretation is the recorder's local time, like the logs and
    ``recordedtime.cgi`` (spec 6.3.2). Seconds must be zero.
    """
    local = aware_to_local(moment, zone=zone, summer_time=summer_time)
    if local.second or local.microsecond:
        raise InvalidArgumentError("download times must be whole minutes (seconds are fixed 00)")
    return f"{_two_digit_year(local)}{local:%m%d%H%M%S}"
