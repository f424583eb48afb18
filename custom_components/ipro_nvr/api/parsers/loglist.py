"""Parser of ``loglist.cgi``: the error and event logs (spec 5.1).

The answer::

    FILENAME=as_errorlog.html
    ERROR_LOG_NO=2
    ERROR_LOG="001","2021/11/14 14:10:00","0","CAM 3 COMMUNICATION ERROR","GMT+03:00","002"
    ,"2021/11/14 14:48:00","0","CAM 3 COMMUNICATION RECOVERED","GMT+03:00"

(``EVENT_LOG_NO``/``EVENT_LOG`` for the event log). The count is checked: a
list with fewer entries than declared was cut short and is refused. After
``ERROR_LOG=`` comes a flat list of quoted fields, five per entry: number, local
time, summer-time flag, text, zone. The list may wrap anywhere, even inside a
quoted field (the spec's event example breaks a date in two), so its lines are
joined before it is split into fields. The spec's tables print typographic quotes (“ ”), which
are accepted as quotes. Entries are returned ordered by time, oldest first:
the spec's two examples list in opposite orders, and numbers are positions.
"""

from __future__ import annotations

from datetime import datetime
import re

from ..errors import MalformedResponseError
from ..models import LogEntry, LogKind, LogList
from ..recorder_time import local_to_aware, parse_gmt_offset
from .text import decode_text, is_tag_line, split_lines

_WHAT = "log list"
_PREFIX = {LogKind.ERROR: "ERROR_LOG", LogKind.EVENT: "EVENT_LOG"}
# Typographic quotes (“ ”) are what the spec prints; any of them opens or closes.
_QUOTE = re.compile('["“”]')
_NOT_SEPARATOR = re.compile(r"[^\s,]")
_FIELDS_PER_ENTRY = 5
_NUMBER = re.compile(r"^\d{1,6}$", re.ASCII)
# The break of a wrapped line may fall where the space was: accept no space too.
_LOCAL_TIME = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})\s*(\d{1,2}):(\d{1,2}):(\d{1,2})$", re.ASCII)
_HEADER = re.compile(
    r"^\s*(FILENAME|ERROR_LOG_NO|EVENT_LOG_NO|ERROR_LOG|EVENT_LOG)\s*=", re.IGNORECASE | re.ASCII
)


def parse_log_list(body: bytes, *, kind: LogKind | None = None) -> LogList:
    """Return the log list in ``body``; with ``kind``, refuse a list of the other kind."""
    text = decode_text(body, _WHAT)
    lines = split_lines(text)
    found_kind, declared, list_start = _read_header(lines, body)
    if kind is not None and found_kind is not kind:
        raise MalformedResponseError(f"{_WHAT}: expected the {kind} log", body=body)
    fields: list[str] = []
    if list_start is not None:
        first = lines[list_start]
        rest = [line for line in lines[list_start + 1 :] if not is_tag_line(line)]
        # Join without a separator: a break inside a field must vanish.
        joined = first[first.index("=") + 1 :] + "".join(rest)
        fields = _quoted_fields(joined, body)
    if len(fields) % _FIELDS_PER_ENTRY:
        raise MalformedResponseError(
            f"{_WHAT}: {len(fields)} fields is not a multiple of {_FIELDS_PER_ENTRY}", body=body
        )
    entries = [
        _entry(found_kind, fields[i : i + _FIELDS_PER_ENTRY], body)
        for i in range(0, len(fields), _FIELDS_PER_ENTRY)
    ]
    # "Repeat above for number of logs" (spec 5.1): fewer entries than the count
    # is a list cut short, at an entry boundary, which would otherwise pass for a
    # complete one. More than the count loses nothing and is let through.
    if declared is not None and len(entries) < declared:
        raise MalformedResponseError(
            f"{_WHAT}: cut short, {len(entries)} of {declared} entries listed", body=body
        )
    # sorted() is stable: entries of the same second keep the recorder's order.
    entries.sort(key=lambda entry: entry.time)
    return LogList(
        kind=found_kind,
        declared_count=len(entries) if declared is None else declared,
        entries=tuple(entries),
    )


def _read_header(lines: list[str], body: bytes) -> tuple[LogKind, int | None, int | None]:
    """Return the list's kind, its declared count and the index of its ``*_LOG=`` line."""
    kind: LogKind | None = None
    declared: int | None = None
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match is None:
            continue
        key = match[1].upper()
        value = line[match.end() :].strip()
        if key == "FILENAME":
            continue
        line_kind = LogKind.ERROR if key.startswith("ERROR") else LogKind.EVENT
        if kind is not None and line_kind is not kind:
            raise MalformedResponseError(f"{_WHAT}: error and event keys mixed", body=body)
        kind = line_kind
        if key.endswith("_NO"):
            if not _NUMBER.match(value):
                raise MalformedResponseError(f"{_WHAT}: count {value!r}", body=body)
            declared = int(value)
        else:
            return kind, declared, index
    if kind is None:
        raise MalformedResponseError(f"{_WHAT}: neither an error nor an event log", body=body)
    # A count without a list: only an empty log may be written that way.
    if declared:
        raise MalformedResponseError(
            f"{_WHAT}: {declared} entries announced, none listed", body=body
        )
    return kind, declared, None


def _quoted_fields(text: str, body: bytes) -> list[str]:
    """Split ``"a","b" ,"c"`` into its fields; anything outside quotes but commas is an error.

    One split at every quote, whichever of the three: the pieces alternate
    outside, inside, outside... Linear in the text, whatever characters it holds
    (a search per field for each kind of quote was not, once the text held a
    character beyond Latin-1 and a quote kind was absent).
    """
    pieces = _QUOTE.split(text)
    if len(pieces) % 2 == 0:
        raise MalformedResponseError(f"{_WHAT}: unterminated quoted field", body=body)
    if _NOT_SEPARATOR.search("".join(pieces[::2])):
        raise MalformedResponseError(f"{_WHAT}: text outside quotes", body=body)
    return pieces[1::2]


def _entry(kind: LogKind, fields: list[str], body: bytes) -> LogEntry:
    number, when, flag, message, zone = (field.strip() for field in fields)
    local = _LOCAL_TIME.match(when)
    if not _NUMBER.match(number) or local is None or flag not in ("0", "1"):
        raise MalformedResponseError(f"{_WHAT}: entry {fields!r}", body=body)
    try:
        offset = parse_gmt_offset(zone)
        year, month, day, hour, minute, second = (int(part) for part in local.groups())
        # Naive on purpose: the recorder's local clock, read by local_to_aware.
        moment = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
    except ValueError:
        raise MalformedResponseError(f"{_WHAT}: entry {fields!r}", body=body) from None
    summer_time = flag == "1"
    return LogEntry(
        kind=kind,
        number=int(number),
        time=local_to_aware(moment, summer_time=summer_time, zone=offset),
        summer_time=summer_time,
        text=message,
        utc_offset=offset,
    )
