"""Pure pieces of the simulator: text rendering, query parsing, clocks, log book."""

from __future__ import annotations

import datetime as dt
import string

from hypothesis import given, strategies as st
import pytest

from nvr_simulator.auth import parse_digest_header
from nvr_simulator.clock import FakeWallClock, to_local, zone_label
from nvr_simulator.logs import LogBook, LogEntry
from nvr_simulator.query import BadRequestError, Query
from nvr_simulator.texts import LogKind, loglist_body, wrap

from .helpers import split_log_fields

TEXT_CHARS = string.ascii_uppercase + string.digits + " ()-."
entries_strategy = st.lists(
    st.builds(
        LogEntry,
        time=st.datetimes(
            min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - made aware by timezones=
            max_value=dt.datetime(2099, 1, 1),  # noqa: DTZ001
            timezones=st.just(dt.UTC),
        ).map(lambda t: t.replace(microsecond=0)),
        summer_time=st.booleans(),
        text=st.text(TEXT_CHARS, min_size=1, max_size=40),
    ),
    max_size=30,
)


@given(st.text(max_size=500), st.integers(min_value=0, max_value=120))
def test_wrap_loses_nothing(text: str, width: int) -> None:
    pieces = wrap(text, width)
    assert "".join(pieces) == text
    if width > 0:
        assert all(len(piece) <= width for piece in pieces)


@given(entries_strategy, st.integers(min_value=0, max_value=150), st.sampled_from(list(LogKind)))
def test_log_list_round_trip(entries: list[LogEntry], width: int, kind: LogKind) -> None:
    body = loglist_body(kind, entries, utc_offset=dt.timedelta(hours=-5), wrap_width=width)
    assert body.startswith(f"FILENAME={kind.html}\r\n{kind.prefix}_NO={len(entries)}\r\n")
    assert body.endswith("\r\n\r\n")
    fields = split_log_fields(body, kind.prefix)
    assert len(fields) == 5 * len(entries)
    for n, entry in enumerate(entries):
        number, when, summer, text, zone = fields[5 * n : 5 * n + 5]
        assert number == f"{n + 1:03d}"
        shift = dt.timedelta(hours=-5 + (1 if entry.summer_time else 0))
        assert when == (entry.time + shift).strftime("%Y/%m/%d %H:%M:%S")
        assert summer == ("1" if entry.summer_time else "0")
        assert text == entry.text
        assert zone == "GMT-05:00"


def test_query_keeps_repeated_names_in_order() -> None:
    query = Query.parse("UID=7&CH=1&CMD=FOCUS&CTRL=FAR&CTRL=START&PC=AS60")
    assert query.getall("CTRL") == ["FAR", "START"]
    assert query.get("CMD") == "FOCUS"
    assert query.get("NO") is None
    with pytest.raises(BadRequestError, match="CTRL given 2 times"):
        query.get("CTRL")
    assert query.integer("CH", 1, 128) == 1
    assert query.optional_integer("PAN", -16, 16) is None
    with pytest.raises(BadRequestError, match="outside"):
        query.integer("UID", 1, 5)
    with pytest.raises(BadRequestError, match="missing"):
        query.require("X")
    with pytest.raises(BadRequestError, match="expected 'AS61'"):
        query.require_fixed("PC", "AS61")


def test_parse_digest_header() -> None:
    header = 'Digest username="a\\"b", realm="i-PRO NVR", nc=00000001, qop=auth, uri="/x?a=1,2"'
    assert parse_digest_header(header) == {
        "username": 'a"b',
        "realm": "i-PRO NVR",
        "nc": "00000001",
        "qop": "auth",
        "uri": "/x?a=1,2",
    }
    assert parse_digest_header("Basic YTpi") is None


def test_local_time_and_zone_labels() -> None:
    moment = dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.UTC)
    assert to_local(moment, dt.timedelta(hours=1), summer_time=True) == dt.datetime(  # noqa: DTZ001
        2024, 3, 31, 2, 30
    )
    assert zone_label(dt.timedelta(hours=9)) == "GMT+09:00"
    assert zone_label(dt.timedelta(hours=5, minutes=45)) == "GMT+05:45"
    assert zone_label(-dt.timedelta(hours=3, minutes=30)) == "GMT-03:30"
    assert zone_label(dt.timedelta(0)) == "GMT+00:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeWallClock(dt.datetime(2024, 1, 1))  # noqa: DTZ001


def test_log_book_orders_by_time_and_caps() -> None:
    book = LogBook(capacity=3)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for minutes, text in ((5, "e"), (1, "a"), (3, "c"), (3, "c2"), (9, "z")):
        book.add(LogEntry(base + dt.timedelta(minutes=minutes), False, text))
    # The oldest were dropped; equal times keep the order they were added in.
    assert [e.text for e in book.entries] == ["c2", "e", "z"]
