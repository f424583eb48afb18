"""Recorder-information TLVs (spec 7.1)."""

from __future__ import annotations

import contextlib
import datetime as dt
import struct

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media.errors import MediaFormatError
from custom_components.ipro_nvr.api.media.tlv import (
    TlvStructureCheck,
    iter_tlvs,
    parse_recorder_info,
    tlv_spans,
)
from custom_components.ipro_nvr.api.spec import RecorderCodec, RecorderStatus

from .helpers import time_tlv, tlv16

# 2024-04-24 03:30:00 UTC
EPOCH = 1713929400


def test_every_known_id() -> None:
    data = b"".join(
        [
            tlv16(0x0004, 12),
            tlv16(0x0005, 4),
            struct.pack(">HHI", 0x0006, 8, 123456),
            time_tlv(0x0007, EPOCH, hours=9, summer=True),
            tlv16(0x0008, 30),
            tlv16(0x0009, 150),
            tlv16(0x000A, 37),
            struct.pack(">HH8s", 0x000B, 12, b"reserved"),
            tlv16(0x000C, 1),
            struct.pack(">HHBBH", 0x000D, 8, 0x04, 3, 0),
            time_tlv(0x0011, EPOCH + 1, minus=True, hours=3, minutes=30),
            tlv16(0x0012, 5),
            tlv16(0x0027, 1),
            tlv16(0x0028, 0x11),
            tlv16(0x0029, 2),
        ]
    )
    info = parse_recorder_info(data)
    assert info.channel == 12
    assert info.codec is RecorderCodec.H265
    assert info.data_size == 123456
    assert info.time == dt.datetime(2024, 4, 24, 3, 30, 0, 370000, tzinfo=dt.UTC)
    assert info.utc_offset == dt.timedelta(hours=9)
    assert info.summer_time is True
    # Standard zone +9 and summer time: the recorder's clock reads 13:30.
    assert info.local_time is not None
    assert info.local_time.utcoffset() == dt.timedelta(hours=10)
    assert (info.local_time.hour, info.local_time.minute) == (13, 30)
    assert info.frame_count == 30
    assert info.frame_rate == 15.0
    assert info.image_present is True
    assert info.status is RecorderStatus.FAST_FORWARD
    assert info.speed == 3
    assert info.camera_time == dt.datetime(2024, 4, 24, 3, 30, 1, 50000, tzinfo=dt.UTC)
    assert info.start_code is True
    assert info.long_term_reference_p == 0x11
    assert info.idr_show == 2
    assert info.unknown_ids == ()
    assert info.ignored_ids == ()


def test_negative_zone_and_order_of_ticks() -> None:
    # 0x000A may come before 0x0007.
    info = parse_recorder_info(tlv16(0x000A, 50) + time_tlv(0x0007, EPOCH, minus=True, hours=5))
    assert info.time == dt.datetime(2024, 4, 24, 3, 30, 0, 500000, tzinfo=dt.UTC)
    assert info.utc_offset == dt.timedelta(hours=-5)
    assert info.summer_time is False
    assert info.local_time is not None
    assert info.local_time.hour == 22


def test_unknown_ids_are_skipped_by_their_length() -> None:
    data = struct.pack(">HH12s", 0x0099, 16, b"x" * 12) + tlv16(0x0004, 3) + tlv16(0x0100, 0)
    info = parse_recorder_info(data)
    assert info.channel == 3
    assert info.unknown_ids == (0x0099, 0x0100)


def test_known_id_too_short_is_ignored() -> None:
    data = struct.pack(">HHI", 0x0007, 8, EPOCH) + tlv16(0x0004, 2)
    info = parse_recorder_info(data)
    assert info.time is None
    assert info.channel == 2
    assert info.ignored_ids == (0x0007,)


def test_unknown_codec_and_status_values_stay_numbers() -> None:
    info = parse_recorder_info(tlv16(0x0005, 9) + struct.pack(">HHBBH", 0x000D, 8, 0x77, 0, 0))
    assert info.codec == 9
    assert not isinstance(info.codec, RecorderCodec)
    assert info.status == 0x77


def test_bad_zone_keeps_the_time() -> None:
    info = parse_recorder_info(time_tlv(0x0007, EPOCH, hours=30))
    assert info.time == dt.datetime(2024, 4, 24, 3, 30, tzinfo=dt.UTC)
    assert info.utc_offset is None
    assert info.local_time is None


def test_zero_padding_is_allowed() -> None:
    assert parse_recorder_info(tlv16(0x0004, 1) + bytes(4)).channel == 1
    assert parse_recorder_info(tlv16(0x0004, 1) + bytes(2)).channel == 1
    assert parse_recorder_info(b"") == parse_recorder_info(bytes(8))


@pytest.mark.parametrize(
    "data",
    [
        struct.pack(">HH", 0x0004, 3) + b"\x00\x01\x00\x00",  # length below the header
        struct.pack(">HH", 0x0004, 12) + b"\x00\x01\x00\x00",  # runs past the end
        tlv16(0x0004, 1) + b"\x01\x02",  # stray bytes
        bytes(4) + b"\x01\x02\x03\x04",  # a zero header, then data
    ],
)
def test_structural_damage_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(MediaFormatError):
        parse_recorder_info(data)


def test_iter_tlvs_yields_values_without_headers() -> None:
    items = [(tlv_id, bytes(v)) for tlv_id, v in iter_tlvs(tlv16(4, 7) + tlv16(9, 100))]
    assert items == [(4, b"\x00\x07\x00\x00"), (9, b"\x00\x64\x00\x00")]


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_fuzz_only_typed_errors(data: bytes) -> None:
    with contextlib.suppress(MediaFormatError):
        parse_recorder_info(data)


@given(st.lists(st.tuples(st.integers(0, 0x30), st.binary(min_size=0, max_size=12)), max_size=12))
@settings(max_examples=300)
def test_fuzz_well_framed_tlvs_always_parse(items: list[tuple[int, bytes]]) -> None:
    data = b"".join(struct.pack(">HH", i, 4 + len(v)) + v for i, v in items)
    info = parse_recorder_info(data)
    assert len(info.unknown_ids) + len(info.ignored_ids) <= len(items)


def _sound(data: bytes) -> bool:
    try:
        tlv_spans(data)
    except MediaFormatError:
        return False
    return True


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 255)),  # a byte changed, to what
        max_size=30,
    ),
    st.sampled_from([0, 4]),  # zero padding after the TLVs
)
@settings(max_examples=200)
def test_the_remembered_layout_answers_as_the_walk(
    changes: list[tuple[int, int]], pad: int
) -> None:
    """TlvStructureCheck says what tlv_spans says, for TLVs that change a byte at a time."""
    check = TlvStructureCheck()
    data = bytearray(tlv16(0x0004, 1) + time_tlv(0x0007, EPOCH) + tlv16(0x0005, 4) + bytes(pad))
    assert check.sound(bytes(data))
    for at, value in changes:
        data[at % len(data)] = value
        assert check.sound(bytes(data)) == _sound(bytes(data))
