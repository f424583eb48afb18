"""The playback state model of the recorder-information TLVs (spec 7.1.2)."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from custom_components.ipro_nvr.api.media import PlaybackState, parse_recorder_info, playback_state
from custom_components.ipro_nvr.api.spec import RecorderStatus

from .helpers import time_tlv, tlv16

EPOCH = 1713929400  # 2024-04-24 03:30:00 UTC


def _status(state: int, speed: int) -> bytes:
    return struct.pack(">HHBBH", 0x000D, 8, state, speed, 0)


def test_state_speed_and_picture_time() -> None:
    info = parse_recorder_info(
        _status(0x04, 5) + time_tlv(0x0007, EPOCH, hours=9, summer=True) + tlv16(0x000A, 42)
    )
    state = playback_state(info)
    assert state.status is RecorderStatus.FAST_FORWARD
    assert state.speed == 5
    assert state.time == dt.datetime(2024, 4, 24, 3, 30, 0, 420000, tzinfo=dt.UTC)
    assert state.local_time is not None
    assert state.local_time.utcoffset() == dt.timedelta(hours=10)
    assert not state.paused
    assert not state.reverse


@pytest.mark.parametrize(
    ("status", "reverse", "paused"),
    [
        (RecorderStatus.PLAYBACK, False, False),
        (RecorderStatus.REVERSE_PLAYBACK, True, False),
        (RecorderStatus.FAST_REVERSE, True, False),
        (RecorderStatus.PAUSE, False, True),
        (RecorderStatus.NEXT_IMAGE, False, True),
        (RecorderStatus.PREVIOUS_IMAGE, True, True),
    ],
)
def test_direction_and_pause(status: RecorderStatus, *, reverse: bool, paused: bool) -> None:
    state = playback_state(parse_recorder_info(_status(status, 1)))
    assert state.status is status
    assert (state.reverse, state.paused) == (reverse, paused)


def test_undefined_speed_and_unknown_status() -> None:
    state = playback_state(parse_recorder_info(_status(0x55, 0)))
    assert state.status == 0x55
    assert state.speed is None
    assert state.time is None
    assert state.local_time is None


def test_nothing_reported() -> None:
    assert playback_state(parse_recorder_info(b"")) == PlaybackState()
