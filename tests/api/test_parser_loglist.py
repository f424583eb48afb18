"""loglist.cgi: error and event logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ipro_nvr.api import LogKind, MalformedResponseError
from custom_components.ipro_nvr.api.parsers import parse_log_list

from .spec_examples import ERROR_LOG, EVENT_LOG


def test_error_log_example() -> None:
    """The error-log example: two entries, oldest first, in GMT+03:00."""
    log = parse_log_list(ERROR_LOG, kind=LogKind.ERROR)
    assert log.kind is LogKind.ERROR
    assert log.declared_count == 2
    assert [entry.text for entry in log.entries] == [
        "CAM 3 COMMUNICATION ERROR",
        "CAM 3 COMMUNICATION RECOVERED",
    ]
    first = log.entries[0]
    assert first.number == 1
    assert first.time == datetime(2021, 11, 14, 11, 10, tzinfo=UTC)
    assert first.time.utcoffset() == timedelta(hours=3)  # the recorder's wall clock is kept
    assert first.time.hour == 14
    assert first.utc_offset == timedelta(hours=3)
    assert first.summer_time is False
    assert log.latest is log.entries[-1]


def test_event_log_example_is_joined_and_ordered_by_time() -> None:
    """The event example breaks a date across lines and lists newest first."""
    log = parse_log_list(EVENT_LOG, kind=LogKind.EVENT)
    assert [(entry.number, entry.text) for entry in log.entries] == [
        (2, "SITE(VMD)-1"),
        (1, "SITE(VMD)-2"),
    ]
    assert log.entries[0].time == datetime(2024, 4, 24, 2, 45, tzinfo=UTC)
    assert log.entries[1].time == datetime(2024, 4, 24, 3, 30, tzinfo=UTC)


def test_break_in_place_of_the_space_and_typographic_quotes() -> None:
    """A wrap that swallowed the space, and the spec table's “ ” quotes, still parse."""
    body = (
        "EVENT_LOG_NO=2\n"
        "EVENT_LOG=“001”,”2024/04/24 12:30:00”,”1”,”SITE(VMD)-2”,”GMT-03:30”,“002”,“2024/04/24\n"
        "10:45:00”,“0”,“TRM(ALARM)-1”,“GMT-03:30”\n"
    ).encode()
    log = parse_log_list(body)
    assert log.kind is LogKind.EVENT
    assert [entry.text for entry in log.entries] == ["TRM(ALARM)-1", "SITE(VMD)-2"]
    # Summer time: UTC = local - (-3:30) - 1 h.
    assert log.entries[1].time == datetime(2024, 4, 24, 15, 0, tzinfo=UTC)
    assert log.entries[1].summer_time is True
    assert log.entries[1].utc_offset == -timedelta(hours=3, minutes=30)


def test_content_key_ignores_the_renumbered_position() -> None:
    """The same entry read at another position keeps its key; another text does not."""
    first = parse_log_list(ERROR_LOG).entries[0]
    renumbered = parse_log_list(ERROR_LOG.replace(b'"001"', b'"017"')).entries[0]
    assert renumbered.number == 17
    assert renumbered.content_key == first.content_key
    other = parse_log_list(ERROR_LOG.replace(b'ERROR"', b'ERRORS"')).entries[0]
    assert other.content_key != first.content_key


def test_empty_log() -> None:
    """A log without entries: count 0, an empty list, no list line at all also fine."""
    assert (
        parse_log_list(b"FILENAME=as_errorlog.html\r\nERROR_LOG_NO=0\r\nERROR_LOG=\r\n").entries
        == ()
    )
    assert parse_log_list(b"EVENT_LOG_NO=0\r\n").kind is LogKind.EVENT


def test_fewer_entries_than_declared_is_a_list_cut_short() -> None:
    """A list cut at an entry boundary parses field-wise, but the count gives it away."""
    with pytest.raises(MalformedResponseError, match="cut short, 2 of 5"):
        parse_log_list(ERROR_LOG.replace(b"ERROR_LOG_NO=2", b"ERROR_LOG_NO=5"))
    cut = ERROR_LOG[: ERROR_LOG.index(b',"002"')] + b"\r\n"
    with pytest.raises(MalformedResponseError, match="cut short, 1 of 2"):
        parse_log_list(cut)


def test_more_entries_than_declared_are_kept() -> None:
    """A count lower than the list loses nothing: reported, not fatal."""
    log = parse_log_list(ERROR_LOG.replace(b"ERROR_LOG_NO=2", b"ERROR_LOG_NO=1"))
    assert log.declared_count == 1
    assert len(log.entries) == 2


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"", None),
        (b"FILENAME=as_errorlog.html\r\n", None),
        (ERROR_LOG, LogKind.EVENT),  # the wrong list
        (ERROR_LOG.replace(b',"GMT+03:00"\r\n', b"\r\n"), None),  # nine fields
        (ERROR_LOG.replace(b'"0","CAM 3 COMMUNICATION ERROR"', b'"0",CAM 3,"x"'), None),
        (ERROR_LOG.replace(b"2021/11/14 14:10:00", b"2021/13/14 14:10:00"), None),
        (ERROR_LOG.replace(b'"GMT+03:00"', b'"Tokyo"', 1), None),
        (ERROR_LOG.replace(b'"0"', b'"2"', 1), None),
        (ERROR_LOG.replace(b'"001"', b'"one"'), None),
        (ERROR_LOG[:-10], None),  # cut inside a quoted field
        (b"ERROR_LOG_NO=2\r\n", None),  # announced, not listed
        (b"ERROR_LOG_NO=x\r\nERROR_LOG=\r\n", None),
        (b"ERROR_LOG_NO=0\r\nEVENT_LOG=\r\n", None),
    ],
)
def test_rejects_malformed(body: bytes, kind: LogKind | None) -> None:
    """Broken field counts, text outside quotes, bad dates, zones, flags, cut bodies."""
    with pytest.raises(MalformedResponseError):
        parse_log_list(body, kind=kind)
