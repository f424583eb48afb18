"""recordedtime.cgi: disks, capacities and recording periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.ipro_nvr.api import MalformedResponseError
from custom_components.ipro_nvr.api.parsers import parse_recorded_time

from .spec_examples import RECORDEDTIME

JST = timedelta(hours=9)


def test_spec_example() -> None:
    """The example: one disk with recordings and a flag, three without, empty slots."""
    recorded = parse_recorded_time(RECORDEDTIME, zone=JST)
    slots = [disk.slot for disk in recorded.disks]
    assert slots == [
        "MAIN-1",
        "MAIN-2",
        "MAIN-3",
        "MAIN-4",
        "MAIN-5",
        "MAIN-9",
        "EXT1-1",
        "EXT1-2",
        "EXT5-8",
        "EXT5-9",
    ]
    main1 = recorded.disks[0]
    assert (main1.capacity_gb, main1.remaining_gb, main1.flags) == (4001, 1529, ("R",))
    assert main1.oldest == datetime(2021, 11, 14, 4, 0, tzinfo=UTC)
    assert main1.newest == datetime(2021, 12, 24, 6, 30, 12, tzinfo=UTC)
    assert main1.has_recordings
    assert main1.used_percent == pytest.approx(100 * (4001 - 1529) / 4001)
    main2 = recorded.disks[1]
    assert main2.present
    assert not main2.has_recordings
    assert main2.flags == ()
    empty = recorded.disks[4]
    assert not empty.present
    assert empty.used_percent is None
    assert (empty.capacity_gb, empty.remaining_gb, empty.oldest) == (None, None, None)
    assert recorded.total_capacity_gb == 4 * 4001
    assert recorded.total_remaining_gb == 1529 + 3 * 3710
    assert [disk.slot for disk in recorded.present] == ["MAIN-1", "MAIN-2", "MAIN-3", "MAIN-4"]
    assert recorded.oldest == main1.oldest
    assert recorded.newest == main1.newest


def test_summer_time_flag_moves_the_instant_back_one_hour() -> None:
    """With flag 1 the clock ran one hour ahead of the standard zone."""
    body = b"MAIN-1,100GB,50GB,2021/07/01,1,13:00:00,2021/07/02,0,13:00:00\n"
    disk = parse_recorded_time(body, zone=JST).disks[0]
    assert disk.oldest == datetime(2021, 7, 1, 3, 0, tzinfo=UTC)
    assert disk.newest == datetime(2021, 7, 2, 4, 0, tzinfo=UTC)


def test_a_tz_zone_decides_by_its_own_rules() -> None:
    """Before any log told the offset, a default tzinfo reads the times; the flag
    only picks which of a repeated autumn hour is meant."""
    berlin = ZoneInfo("Europe/Berlin")
    body = b"MAIN-1,100GB,50GB,2023/10/29,1,02:30:00,2023/10/29,0,02:30:00\n"
    disk = parse_recorded_time(body, zone=berlin).disks[0]
    assert disk.oldest == datetime(2023, 10, 29, 0, 30, tzinfo=UTC)  # CEST, first pass
    assert disk.newest == datetime(2023, 10, 29, 1, 30, tzinfo=UTC)  # CET, second pass


def test_tolerates_two_digit_years_missing_fields_flags_and_lf() -> None:
    """The second date of the spec's table is written yy/mm/dd; fields may be missing."""
    body = (
        b"Disk,Capacity\n"
        b"EXT2-3,  2000GB (R)(S) * ,12GB,2021/11/14,0,13:00:00,21/12/24,,15:30:12,x\n"
        b"MAIN-7,8GB\n"
    )
    recorded = parse_recorded_time(body, zone=timedelta(0))
    ext = recorded.disks[0]
    assert ext.slot == "EXT2-3"
    assert ext.flags == ("R", "S", "*")
    assert ext.newest == datetime(2021, 12, 24, 15, 30, 12, tzinfo=UTC)
    main7 = recorded.disks[1]
    assert (main7.capacity_gb, main7.remaining_gb, main7.oldest) == (8, None, None)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Recording information\r\n\r\nDisk,Capacity,Remain capacity,Recorded time range\r\n",
        b"MAIN-1,lots,1529GB,,,,,,\r\n",
        b"MAIN-1,4001GB,1529GB,2021/11/14,0,,2021/12/24,0,15:30:12\r\n",
        b"MAIN-1,4001GB,1529GB,2021/02/30,0,13:00:00,2021/12/24,0,15:30:12\r\n",
        b"MAIN-1,4001GB,1529GB,2021/11/14,2,13:00:00,2021/12/24,0,15:30:12\r\n",
        b"MAIN-1,4001GB,1529GB,2021/11/14,0,25:00:00,2021/12/24,0,15:30:12\r\n",
        b"MAIN-1,4001GB\x07,1529GB,,,,,,\r\n",
    ],
)
def test_rejects_malformed(body: bytes) -> None:
    """No disk row, a size that is no number, half a time range, an impossible date..."""
    with pytest.raises(MalformedResponseError):
        parse_recorded_time(body, zone=JST)
