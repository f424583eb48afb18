"""A picture that never ends is dropped at the size cap; the stream goes on at the next keyframe."""

from __future__ import annotations

import logging
import tracemalloc

import pytest

from custom_components.ipro_nvr.api.media.access_unit import join_annexb
from custom_components.ipro_nvr.api.media.depacketizer import MAX_ACCESS_UNIT_SIZE
from custom_components.ipro_nvr.api.media.errors import AccessUnitTooLargeError, MediaFormatError
from custom_components.ipro_nvr.api.media.rtp import parse_rtp

from .helpers import rtp_packet
from .test_h26x import DEPACKETIZERS, packetize, pictures

MIB = 1024 * 1024
# Fragment headers of a keyframe NAL unit: (start, middle) for each codec.
FRAGMENT_HEADERS = {
    "H264": (bytes((0x7C, 0x85)), bytes((0x7C, 0x05))),  # FU-A of an IDR
    "H265": (bytes((0x62, 0x01, 0x93)), bytes((0x62, 0x01, 0x13))),  # FU of an IDR_W_RADL
}


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_endless_picture_is_dropped_at_the_cap_and_the_stream_resumes(
    codec: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Three caps' worth of one picture hold at most one cap; the next GOP comes out whole."""
    depacketizer = DEPACKETIZERS[codec]()
    start, middle = FRAGMENT_HEADERS[codec]
    body = b"\xab" * 1400
    count = 3 * MAX_ACCESS_UNIT_SIZE // len(body)
    caplog.set_level(logging.DEBUG)
    tracemalloc.start()
    try:
        for sequence in range(count):
            header = start if sequence == 0 else middle
            packet = rtp_packet(header + body, sequence=sequence, timestamp=1000)
            assert depacketizer.push(parse_rtp(packet)) == []
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before the cap, everything was held: three times the cap.
    assert peak < MAX_ACCESS_UNIT_SIZE + 2 * MIB
    assert depacketizer.stats.oversize_access_units == 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "exceeds the limit" in warnings[0].getMessage()

    # The stream goes on: the next pictures (from a keyframe) come out byte-exact.
    source = pictures(codec)
    packets = packetize(codec, source, sequence=count, timestamp=1000 + 3000)
    units = [u for _i, p in packets for u in depacketizer.push(parse_rtp(p))]
    assert [u.data for u in units] == [join_annexb(p.nals) for p in source]
    assert units[0].keyframe
    assert depacketizer.stats.dropped_access_units == 1
    assert depacketizer.stats.oversize_access_units == 1


def test_a_second_endless_picture_is_logged_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """The warning comes once per stream; later drops are counted and logged at debug."""
    depacketizer = DEPACKETIZERS["H264"](max_access_unit_size=10_000)
    start, middle = FRAGMENT_HEADERS["H264"]
    sequence = 0
    for timestamp in (1000, 4000):
        for index in range(20):
            header = start if index == 0 else middle
            packet = rtp_packet(header + b"\x01" * 1000, sequence=sequence, timestamp=timestamp)
            depacketizer.push(parse_rtp(packet))
            sequence += 1
    assert depacketizer.stats.oversize_access_units == 2
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_the_cap_error_is_a_media_format_error() -> None:
    error = AccessUnitTooLargeError("h264", 9 * MIB, MAX_ACCESS_UNIT_SIZE)
    assert isinstance(error, MediaFormatError)
    assert (error.size, error.limit) == (9 * MIB, MAX_ACCESS_UNIT_SIZE)
    # Generous for a 4K I-frame, small enough that a hostile stream costs little.
    assert 4 * MIB <= MAX_ACCESS_UNIT_SIZE <= 16 * MIB
