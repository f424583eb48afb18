"""RTP headers (RFC 3550) and the 64-bit timestamp extension."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media.errors import MediaFormatError
from custom_components.ipro_nvr.api.media.rtp import (
    TimestampExtender,
    parse_rtp,
    sequence_delta,
)

from .helpers import rtp_packet, tlv16


def test_plain_header() -> None:
    packet = parse_rtp(
        rtp_packet(b"payload", sequence=65535, timestamp=0xFFFFFFFF, marker=True, ssrc=7)
    )
    assert packet.payload_type == 98
    assert packet.marker is True
    assert packet.sequence == 65535
    assert packet.timestamp == 0xFFFFFFFF
    assert packet.ssrc == 7
    assert packet.csrcs == ()
    assert packet.extension_profile is None
    assert packet.extension == b""
    assert packet.payload == b"payload"


def test_csrcs_extension_and_padding() -> None:
    extension = tlv16(0x0004, 5) + tlv16(0x0005, 3)
    data = rtp_packet(
        b"\x65data",
        payload_type=101,
        csrcs=(1, 2),
        extension=extension,
        profile=0xABAC,
        padding=3,
    )
    packet = parse_rtp(data)
    assert packet.payload_type == 101
    assert packet.marker is False
    assert packet.csrcs == (1, 2)
    assert packet.extension_profile == 0xABAC
    assert packet.extension == extension
    assert packet.payload == b"\x65data"


def test_memoryview_input() -> None:
    data = rtp_packet(b"xyz")
    assert parse_rtp(memoryview(data)).payload == b"xyz"


def test_any_buffer_gives_the_same_packet_of_bytes() -> None:
    data = rtp_packet(b"xyz", extension=tlv16(0x0004, 5), profile=7, padding=2)
    packets = [
        parse_rtp(source) for source in (data, bytearray(data), memoryview(b"head" + data)[4:])
    ]
    assert packets[0] == packets[1] == packets[2]
    for packet in packets:
        assert type(packet.payload) is bytes
        assert type(packet.extension) is bytes
        assert packet.payload == b"xyz"


def test_packets_compare_hash_and_print_as_before() -> None:
    packet = parse_rtp(rtp_packet(b"xyz", sequence=5, marker=True))
    same = parse_rtp(rtp_packet(b"xyz", sequence=5, marker=True))
    assert packet == same
    assert hash(packet) == hash(same)
    assert packet != parse_rtp(rtp_packet(b"xyz", sequence=6, marker=True))
    assert packet != (98, True, 5, 0, 0x1234, (), None, b"", b"xyz")
    assert repr(packet) == (
        "RtpPacket(payload_type=98, marker=True, sequence=5, timestamp=0, ssrc=4660, "
        "csrcs=(), extension_profile=None, extension=b'', payload=b'xyz')"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x62\x00", "shorter than its header"),
        (b"\x40" + bytes(11), "version 1"),
        (rtp_packet(b"", csrcs=(1,))[:14], "CSRC"),
        (rtp_packet(b"", extension=b"")[:14], "header extension"),
        (rtp_packet(b"", extension=bytes(8))[:-4], "runs past"),
        # P set, the last byte claims 9 bytes of padding in a 4-byte payload.
        (bytes((0xA0,)) + rtp_packet(b"abc")[1:] + b"\x09", "padding"),
    ],
)
def test_malformed_headers(data: bytes, message: str) -> None:
    with pytest.raises(MediaFormatError, match=message):
        parse_rtp(data)


def test_zero_padding_count_is_malformed() -> None:
    data = bytearray(rtp_packet(b"abc\x00"))
    data[0] |= 0x20
    with pytest.raises(MediaFormatError, match="padding"):
        parse_rtp(bytes(data))


@pytest.mark.parametrize(
    ("sequence", "expected", "delta"),
    [(5, 5, 0), (6, 5, 1), (4, 5, -1), (0, 65535, 1), (65535, 0, -1), (100, 65500, 136)],
)
def test_sequence_delta(sequence: int, expected: int, delta: int) -> None:
    assert sequence_delta(sequence, expected) == delta


def test_timestamps_extend_across_the_wrap() -> None:
    extender = TimestampExtender()
    start = 0xFFFFFFFF - 9000 * 2
    raw = [(start + 9000 * i) & 0xFFFFFFFF for i in range(6)]
    extended = [extender.extend(t) for t in raw]
    assert extended == [start + 9000 * i for i in range(6)]
    assert extended[-1] > 1 << 32
    # A small step back stays near (reordering), it does not jump a whole wrap.
    assert extender.extend(raw[-2]) == extended[-2]
    extender.reset()
    assert extender.extend(5) == 5


@given(st.lists(st.integers(0, 1 << 31 - 1), min_size=1, max_size=50), st.integers(0, 0xFFFFFFFF))
def test_forward_steps_are_monotonic(steps: list[int], start: int) -> None:
    extender = TimestampExtender()
    value = start
    previous = extender.extend(value)
    for step in steps:
        value += step
        current = extender.extend(value & 0xFFFFFFFF)
        assert current - previous == step
        previous = current


@given(st.binary(max_size=100))
@settings(max_examples=500)
def test_fuzz_only_typed_errors(data: bytes) -> None:
    try:
        packet = parse_rtp(data)
    except MediaFormatError:
        return
    assert packet.sequence < 1 << 16
    assert len(packet.payload) <= len(data) - 12
