"""Parser of ``recordedtime.cgi``: disk capacities and recording periods (spec 5.2.1).

The answer is a few header lines, then one CSV row per disk slot::

    Recording information

    Disk,Capacity,Remain capacity,Recorded time range
    MAIN-1,4001GB(R),1529GB,2021/11/14,0,13:00:00,2021/12/24,0,15:30:12
    MAIN-2,4001GB,3710GB,,,,,,
    MAIN-5,,,,,,,,

Empty fields mean an empty slot or a disk without recordings. A suffix after
the capacity such as ``(R)`` is a flag, kept in :attr:`Disk.flags`. Times are
local without a zone: the caller says which zone to read them in. Tolerated:
trailing spaces, missing trailing fields, extra fields, any header text,
two-digit years, LF or CRLF.
"""

from __future__ import annotations

from datetime import datetime
import re

from ..errors import MalformedResponseError
from ..models import Disk, RecordedTime
from ..recorder_time import RecorderZone, local_to_aware
from .text import decode_text, split_lines

_WHAT = "recorded time"
# MAIN-1..9, EXT1-1..EXT5-9; accept any such name, since slot counts vary by model.
_SLOT = re.compile(r"^[A-Z][A-Z0-9]*-\d{1,3}$", re.IGNORECASE | re.ASCII)
_SIZE = re.compile(r"^(\d{1,9})\s*(?:GB)?\s*(.*)$", re.IGNORECASE | re.ASCII)
_FLAG = re.compile(r"\(([^()]*)\)", re.ASCII)
_DATE = re.compile(r"^(\d{4}|\d{2})/(\d{1,2})/(\d{1,2})$", re.ASCII)
_TIME = re.compile(r"^(\d{1,2}):(\d{1,2}):(\d{1,2})$", re.ASCII)
_FIELDS = 9


def parse_recorded_time(body: bytes, *, zone: RecorderZone) -> RecordedTime:
    """Return the disk slots in ``body``, times read in ``zone`` (see ``local_to_aware``)."""
    text = decode_text(body, _WHAT)
    disks: list[Disk] = []
    for raw_line in split_lines(text):
        fields = [field.strip() for field in raw_line.split(",")]
        if len(fields) < 2 or not _SLOT.match(fields[0]):
            # Header lines ("Recording information", "Disk,Capacity,...") and blanks.
            continue
        fields += [""] * (_FIELDS - len(fields))
        disks.append(_disk(fields, zone, body))
    if not disks:
        raise MalformedResponseError(f"{_WHAT}: no disk slot listed", body=body)
    return RecordedTime(disks=tuple(disks))


def _disk(fields: list[str], zone: RecorderZone, body: bytes) -> Disk:
    slot = fields[0].upper()
    capacity, capacity_flags = _size(fields[1], slot, body)
    remaining, remaining_flags = _size(fields[2], slot, body)
    oldest = _moment(fields[3:6], zone, slot, body)
    newest = _moment(fields[6:9], zone, slot, body)
    return Disk(
        slot=slot,
        capacity_gb=capacity,
        remaining_gb=remaining,
        flags=capacity_flags + remaining_flags,
        oldest=oldest,
        newest=newest,
    )


def _size(field: str, slot: str, body: bytes) -> tuple[int | None, tuple[str, ...]]:
    """Return the gigabytes of ``4001GB(R)`` and its flags (``("R",)``)."""
    if not field:
        return None, ()
    match = _SIZE.match(field)
    if match is None:
        raise MalformedResponseError(f"{_WHAT}: size {field!r} of {slot}", body=body)
    suffix = match[2]
    flags = [flag.strip() for flag in _FLAG.findall(suffix) if flag.strip()]
    # Whatever is left outside parentheses (say ``*``) is a flag as well.
    rest = _FLAG.sub("", suffix).strip()
    if rest:
        flags.append(rest)
    return int(match[1]), tuple(flags)


def _moment(fields: list[str], zone: RecorderZone, slot: str, body: bytes) -> datetime | None:
    """Return the instant of a ``date, summer flag, time`` triple; None when all empty."""
    date_field, flag_field, time_field = fields
    if not date_field and not time_field and not flag_field:
        return None
    date = _DATE.match(date_field)
    clock = _TIME.match(time_field)
    if date is None or clock is None or flag_field not in ("", "0", "1"):
        raise MalformedResponseError(f"{_WHAT}: time range of {slot}", body=body)
    year = int(date[1])
    if len(date[1]) == 2:
        year += 2000
    try:
        local = datetime(  # noqa: DTZ001 - naive on purpose: the recorder's local clock
            year, int(date[2]), int(date[3]), int(clock[1]), int(clock[2]), int(clock[3])
        )
    except ValueError:
        raise MalformedResponseError(f"{_WHAT}: impossible date of {slot}", body=body) from None
    return local_to_aware(local, summer_time=flag_field == "1", zone=zone)
