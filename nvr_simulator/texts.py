"""Text bodies exactly in the spec's formats (chapter 5 and 6.1), CRLF line ends."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from .clock import summer_flag, to_local, zone_label

if TYPE_CHECKING:
    from collections.abc import Sequence
    import datetime as dt

    from .disks import DiskSlot
    from .logs import LogEntry

CRLF = "\r\n"
# Body of commands whose answer the spec does not describe (logout, keep-alive,
# camera control): the recorder's HTML frame around nothing. A client must only
# rely on the status code for these.
ACK_BODY = f"<HTML>{CRLF}</HTML>{CRLF}"


class LogKind(StrEnum):
    """The two log lists of loglist.cgi (spec 5.1), by their KIND value."""

    ERR = "ERR"
    EVENT = "EVENT"

    @property
    def html(self) -> str:
        """The fixed HTML (and FILENAME) value of this list."""
        return "as_errorlog.html" if self is LogKind.ERR else "as_eventlog.html"

    @property
    def prefix(self) -> str:
        """The key prefix of this list's lines: ERROR_LOG or EVENT_LOG."""
        return "ERROR_LOG" if self is LogKind.ERR else "EVENT_LOG"


def uid_body(uid: str) -> str:
    """Answer of ``dlogin.cgi?UID=-1`` (spec 6.1.1)."""
    return f"<HTML>{CRLF}UID={uid}{CRLF}</HTML>{CRLF}"


def getinfo_body(states: Sequence[int], *, max_uids: int, used_uids: int) -> str:
    """Answer of ``as_getinfo.cgi?FILE=2`` (spec 5.3.1); ``states[0]`` is channel 1."""
    lines = ["<HTML>"]
    # Two-digit channel numbers below 100 (01..99), then 100, 101...
    lines += [f"CAM_CONNECT_{ch:02d}CH={state}" for ch, state in enumerate(states, start=1)]
    lines += [f"MAXUID={max_uids}", f"USEDUID={used_uids}", "</HTML>"]
    return CRLF.join(lines) + CRLF


def _date_time_fields(
    moment: dt.datetime, utc_offset: dt.timedelta, *, summer_time: bool
) -> list[str]:
    local = to_local(moment, utc_offset, summer_time=summer_time)
    return [local.strftime("%Y/%m/%d"), summer_flag(summer_time), local.strftime("%H:%M:%S")]


def recordedtime_body(
    disks: Sequence[DiskSlot],
    *,
    now: dt.datetime,
    utc_offset: dt.timedelta,
    summer_time: bool,
) -> str:
    """Answer of ``recordedtime.cgi`` (spec 5.2.1).

    Each line has nine fields: slot, capacity (with its flag), remaining
    capacity, then oldest date, flag, time and newest date, flag, time; unknown
    fields are empty. The summer-time flag of both dates is the recorder's
    current one (the simulator does not keep the history of the switch).
    """
    lines = ["Recording information", "", "Disk,Capacity,Remain capacity,Recorded time range"]
    for disk in disks:
        fields = [disk.name, "", ""]
        if disk.capacity_gb is not None:
            fields[1] = f"{disk.capacity_gb}GB{disk.flag}"
            fields[2] = "" if disk.remain_gb is None else f"{disk.remain_gb}GB"
        newest = now if disk.recording else disk.newest
        if disk.capacity_gb is not None and disk.oldest is not None and newest is not None:
            fields += _date_time_fields(disk.oldest, utc_offset, summer_time=summer_time)
            fields += _date_time_fields(newest, utc_offset, summer_time=summer_time)
        else:
            fields += [""] * 6
        lines.append(",".join(fields))
    return CRLF.join(lines) + CRLF


def log_fields(
    entries: Sequence[LogEntry], *, utc_offset: dt.timedelta, first_number: int = 1
) -> list[str]:
    """Return the quoted fields of a log list, five per entry, numbered by position."""
    zone = zone_label(utc_offset)
    fields: list[str] = []
    for number, entry in enumerate(entries, start=first_number):
        local = to_local(entry.time, utc_offset, summer_time=entry.summer_time)
        fields += [
            f'"{number:03d}"',
            f'"{local:%Y/%m/%d %H:%M:%S}"',
            f'"{summer_flag(entry.summer_time)}"',
            f'"{entry.text}"',
            f'"{zone}"',
        ]
    return fields


def wrap(text: str, width: int) -> list[str]:
    """Cut ``text`` every ``width`` characters, wherever the cut falls.

    Joining the pieces gives the text back, which is how the spec's examples
    read (one of them breaks inside a quoted date).
    """
    if width <= 0 or len(text) <= width:
        return [text]
    return [text[i : i + width] for i in range(0, len(text), width)]


def loglist_body(
    kind: LogKind,
    entries: Sequence[LogEntry],
    *,
    utc_offset: dt.timedelta,
    wrap_width: int,
    cut: int | None = None,
    first_number: int = 1,
) -> str:
    """Answer of ``loglist.cgi`` (spec 5.1); ``entries`` in the order to list them.

    As in the spec's examples there is no ``<HTML>`` frame, and the list ends
    with an empty line. ``cut`` lists only the first entries but declares all
    (a fault); ``first_number`` is the number of the first entry.
    """
    listed = entries if cut is None else entries[: max(cut, 0)]
    flat = ",".join(log_fields(listed, utc_offset=utc_offset, first_number=first_number))
    key = f"{kind.prefix}="
    # Breaks may fall anywhere in the list, but never inside the key itself.
    width = max(wrap_width, len(key) + 1) if wrap_width > 0 else 0
    lines = [
        f"FILENAME={kind.html}",
        f"{kind.prefix}_NO={len(entries)}",
        *wrap(key + flat, width),
        "",
    ]
    return CRLF.join(lines) + CRLF
