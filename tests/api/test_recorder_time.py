"""The recorder's clock: zones, summer time, TIMEF and download times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, strategies as st
import pytest

from custom_components.ipro_nvr.api import InvalidArgumentError
from custom_components.ipro_nvr.api.recorder_time import (
    aware_to_local,
    format_download_time,
    format_timef,
    local_to_aware,
    parse_gmt_offset,
)


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("GMT+09:00", timedelta(hours=9)),
        ("GMT-03:30", -timedelta(hours=3, minutes=30)),
        (" GMT + 5:45 ", timedelta(hours=5, minutes=45)),
        ("GMT", timedelta(0)),
        ("UTC+14:00", timedelta(hours=14)),
    ],
)
def test_gmt_offsets(text: str, offset: timedelta) -> None:
    """The log's zone column, tolerantly read."""
    assert parse_gmt_offset(text) == offset


@pytest.mark.parametrize("text", ["JST", "GMT+15:00", "GMT+09:60", "GMT+", ""])
def test_bad_gmt_offsets(text: str) -> None:
    """Anything else is refused (the parser turns it into MalformedResponseError)."""
    with pytest.raises(ValueError, match=r"."):
        parse_gmt_offset(text)


def test_summer_time_rule() -> None:
    """UTC = local - standard offset - 1 h while the summer-time flag is set."""
    local = datetime(2024, 7, 1, 12, 0)  # noqa: DTZ001 - the recorder's naive clock
    assert local_to_aware(local, summer_time=False, zone=timedelta(hours=1)) == datetime(
        2024, 7, 1, 11, 0, tzinfo=UTC
    )
    summer = local_to_aware(local, summer_time=True, zone=timedelta(hours=1))
    assert summer == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert summer.hour == 12  # the wall clock reading is kept


@given(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31)),  # noqa: DTZ001
    st.booleans(),
    st.integers(-12 * 4, 14 * 4).map(lambda quarters: timedelta(minutes=15 * quarters)),
)
def test_local_and_aware_are_inverse(local: datetime, summer: bool, offset: timedelta) -> None:
    """Reading a local time and writing it back gives the same clock reading."""
    aware = local_to_aware(local, summer_time=summer, zone=offset)
    assert aware_to_local(aware, zone=offset, summer_time=summer) == local


def test_timef_is_utc_with_ten_millisecond_ticks() -> None:
    """yymmddhhmmssff in UTC."""
    moment = datetime(2022, 11, 14, 21, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=9)))
    assert format_timef(moment) == "22111412000099"
    with pytest.raises(InvalidArgumentError):
        format_timef(datetime(2022, 11, 14))  # noqa: DTZ001 - naive on purpose


def test_download_time_is_local_whole_minutes() -> None:
    """yymmddhhmmss in the recorder's local time, seconds fixed 00."""
    moment = datetime(2023, 11, 14, 15, 0, tzinfo=UTC)
    assert format_download_time(moment, zone=timedelta(hours=9), summer_time=False) == (
        "231115000000"
    )
    with pytest.raises(InvalidArgumentError):
        format_download_time(moment.replace(second=1), zone=timedelta(0), summer_time=False)
