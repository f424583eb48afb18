"""H.264 (RFC 6184) and H.265 (RFC 7798) reassembly, byte-exact against the encoded source.

Pictures come from the simulator's encoder, packets from the simulator's
packetizer (written independently of the client), and the client's
depacketizer must give back exactly the encoded pictures.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media.access_unit import (
    START_CODE,
    AccessUnit,
    VideoCodec,
    join_annexb,
    nal_unit_type,
    split_annexb,
)
from custom_components.ipro_nvr.api.media.depacketizer import VideoDepacketizer
from custom_components.ipro_nvr.api.media.h264 import H264Depacketizer
from custom_components.ipro_nvr.api.media.h265 import H265Depacketizer
from custom_components.ipro_nvr.api.media.rtp import parse_rtp
from nvr_simulator.rtp_packetizer import RtpPacketizer
from nvr_simulator.video import EncodedPicture, VideoFormat, cached_video_clip

from .helpers import rtp_packet, tlv16

FMT = VideoFormat()
STEP = 90_000 // FMT.fps
DEPACKETIZERS: dict[str, type[VideoDepacketizer]] = {
    "H264": H264Depacketizer,
    "H265": H265Depacketizer,
}
AUD_TYPE = {"H264": 9, "H265": 35}


def pictures(codec: str, *, with_aud: bool = True) -> list[EncodedPicture]:
    clip = cached_video_clip(codec, 1, FMT)
    if with_aud:
        return list(clip.pictures)
    return [
        EncodedPicture(tuple(n for n in p.nals if _type(codec, n) != AUD_TYPE[codec]), p.keyframe)
        for p in clip.pictures
    ]


def _type(codec: str, nal: bytes) -> int:
    return nal[0] & 0x1F if codec == "H264" else (nal[0] >> 1) & 0x3F


def packetize(
    codec: str,
    source: list[EncodedPicture],
    *,
    mtu: int = 1400,
    aggregate: bool = False,
    sequence: int = 1000,
    timestamp: int = 5000,
    extension: bytes = b"",
) -> list[tuple[int, bytes]]:
    """Every packet with the index of its picture."""
    packetizer = RtpPacketizer(codec, sequence=sequence, ssrc=0xCAFE, mtu=mtu, aggregate=aggregate)
    return [
        (index, packet)
        for index, picture in enumerate(source)
        for packet in packetizer.packetize(picture.nals, timestamp + STEP * index, extension)
    ]


def depacketize(codec: str, packets: list[bytes]) -> tuple[list[AccessUnit], VideoDepacketizer]:
    depacketizer = DEPACKETIZERS[codec]()
    units: list[AccessUnit] = []
    for packet in packets:
        units += depacketizer.push(parse_rtp(packet))
    return units, depacketizer


def expected_after_loss(source: list[EncodedPicture], damaged: set[int]) -> list[int]:
    """Pictures a perfect receiver hands out: whole ones whose references are whole."""
    out: list[int] = []
    broken = False
    for index, picture in enumerate(source):
        if index in damaged:
            broken = True
        elif picture.keyframe or not broken:
            broken = False
            out.append(index)
    return out


@pytest.mark.parametrize("codec", ["H264", "H265"])
@pytest.mark.parametrize(
    ("mtu", "aggregate"), [(1400, False), (1400, True), (300, False), (300, True)]
)
def test_round_trip_is_byte_exact(codec: str, mtu: int, aggregate: bool) -> None:
    source = pictures(codec)
    packets = packetize(codec, source, mtu=mtu, aggregate=aggregate)
    payload_types = {_payload_nal_type(codec, parse_rtp(p).payload) for _, p in packets}
    fragment, aggregated = (28, 24) if codec == "H264" else (49, 48)
    assert fragment in payload_types  # keyframes are larger than any MTU here
    assert (aggregated in payload_types) is aggregate
    units, depacketizer = depacketize(codec, [p for _, p in packets])
    assert [u.data for u in units] == [p.annexb for p in source]
    assert [u.keyframe for u in units] == [p.keyframe for p in source]
    assert [u.timestamp for u in units] == [5000 + STEP * i for i in range(len(source))]
    assert all(u.codec is VideoCodec(codec.lower()) for u in units)
    assert depacketizer.stats.access_units == len(source)
    assert depacketizer.stats.dropped_access_units == 0
    assert depacketizer.stats.lost_packets == 0


def _payload_nal_type(codec: str, payload: bytes) -> int:
    return _type(codec, payload)


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_parameter_sets_are_those_of_the_last_keyframe(codec: str) -> None:
    source = pictures(codec)
    units, _ = depacketize(codec, [p for _, p in packetize(codec, source)])
    key_nals = source[0].nals
    by_type = {_type(codec, n): n for n in key_nals}
    sps_type, pps_type = (7, 8) if codec == "H264" else (33, 34)
    for unit in units:  # P pictures carry no SPS but know it
        assert unit.parameter_sets.sps == by_type[sps_type]
        assert unit.parameter_sets.pps == by_type[pps_type]
        assert unit.parameter_sets.complete
        assert (unit.parameter_sets.vps is not None) is (codec == "H265")
    if codec == "H265":
        assert units[-1].parameter_sets.vps == by_type[32]


@pytest.mark.parametrize("codec", ["H264", "H265"])
@pytest.mark.parametrize("with_aud", [True, False])
def test_a_lost_packet_drops_pictures_until_the_next_keyframe(codec: str, with_aud: bool) -> None:
    source = pictures(codec, with_aud=with_aud)
    packets = packetize(codec, source, mtu=600)
    # Every packet in turn, but not the very first: nothing can tell a receiver
    # that one came before it.
    for lost in range(1, len(packets)):
        kept = [p for i, (_, p) in enumerate(packets) if i != lost]
        units, depacketizer = depacketize(codec, kept)
        picture = packets[lost][0]
        damaged = {picture}
        if not with_aud and sum(1 for i, _ in packets if i == picture) == 1:
            # Without AUDs a receiver cannot tell a lost one-packet picture from a
            # lost first packet of the next picture: it must drop that one too.
            damaged.add(picture + 1)
        wanted = expected_after_loss(source, damaged)
        assert [u.data for u in units] == [source[i].annexb for i in wanted], lost
        assert [u.timestamp for u in units] == [5000 + STEP * i for i in wanted]
        assert depacketizer.stats.lost_packets == (1 if lost < len(packets) - 1 else 0)


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_reordered_packets_count_as_lost(codec: str) -> None:
    source = pictures(codec)
    packets = packetize(codec, source, mtu=600)
    for first in range(1, len(packets) - 1):
        order = [p for _, p in packets]
        order[first], order[first + 1] = order[first + 1], order[first]
        units, depacketizer = depacketize(codec, order)
        wanted = expected_after_loss(source, {packets[first][0]})
        assert [u.data for u in units] == [source[i].annexb for i in wanted], first
        assert depacketizer.stats.late_packets == 1
        assert depacketizer.stats.lost_packets == 1


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_duplicated_packet_is_harmless(codec: str) -> None:
    source = pictures(codec)
    packets = [p for _, p in packetize(codec, source)]
    units, depacketizer = depacketize(codec, [*packets[:5], packets[4], *packets[5:]])
    assert [u.data for u in units] == [p.annexb for p in source]
    assert depacketizer.stats.late_packets == 1


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_burst_loss_recovers_exactly_at_the_next_keyframe(codec: str) -> None:
    source = pictures(codec)
    packets = packetize(codec, source, mtu=600)
    gone = {i for i, (picture, _) in enumerate(packets) if picture in (2, 3)}
    units, _ = depacketize(codec, [p for i, (_, p) in enumerate(packets) if i not in gone])
    assert [u.data for u in units] == [source[i].annexb for i in [0, 1, *range(10, 20)]]


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_stream_taken_up_mid_gop_starts_at_a_keyframe(codec: str) -> None:
    source = pictures(codec)
    packets = packetize(codec, source)
    units, depacketizer = depacketize(codec, [p for picture, p in packets if picture >= 3])
    assert [u.data for u in units] == [p.annexb for p in source[10:]]
    assert units[0].keyframe
    assert depacketizer.stats.dropped_access_units == 7


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_sequence_and_timestamp_wrap(codec: str) -> None:
    source = pictures(codec) * 2
    start = (1 << 32) - STEP * 7
    packets = packetize(codec, source, sequence=65500, timestamp=start)
    raw = [parse_rtp(p) for _, p in packets]
    assert any(r.sequence < 100 for r in raw)
    assert any(r.timestamp < STEP * 20 for r in raw)
    units, depacketizer = depacketize(codec, [p for _, p in packets])
    assert [u.data for u in units] == [p.annexb for p in source]
    assert [u.timestamp for u in units] == [start + STEP * i for i in range(len(source))]
    assert units[-1].timestamp > 1 << 32
    assert depacketizer.stats.lost_packets == 0


@pytest.mark.parametrize("codec", ["H264", "H265"])
def test_recorder_information_rides_along(codec: str) -> None:
    source = pictures(codec)[:3]
    extension = tlv16(0x0004, 7) + tlv16(0x0005, 3 if codec == "H264" else 4)
    units, _ = depacketize(codec, [p for _, p in packetize(codec, source, extension=extension)])
    assert len(units) == 3
    assert all(u.info is not None and u.info.channel == 7 for u in units)


def test_bad_extension_is_counted_and_the_picture_kept() -> None:
    depacketizer = H264Depacketizer()
    bad = struct.pack(">HH", 4, 64) + bytes(4)  # a TLV longer than the extension
    units = depacketizer.push(parse_rtp(rtp_packet(b"\x65idr", marker=True, extension=bad)))
    assert [u.data for u in units] == [START_CODE + b"\x65idr"]
    assert units[0].info is None
    assert depacketizer.stats.bad_extensions == 1


# -- hand-made payloads (RFC details the encoder does not produce) -----------------


def push_all(
    depacketizer: VideoDepacketizer, payloads: list[tuple[bytes, bool]], ts: int = 0
) -> list[AccessUnit]:
    units: list[AccessUnit] = []
    for sequence, (payload, marker) in enumerate(payloads):
        units += depacketizer.push(
            parse_rtp(rtp_packet(payload, sequence=sequence, timestamp=ts, marker=marker))
        )
    return units


def test_h264_fu_a_with_start_and_end_together_and_stap_a() -> None:
    sps, pps, idr = b"\x67spsdata", b"\x68pps", b"\x65" + b"s" * 10
    stap = b"\x78" + len(sps).to_bytes(2) + sps + len(pps).to_bytes(2) + pps
    fu_both = bytes((0x7C, 0xC5)) + idr[1:]
    units = push_all(H264Depacketizer(), [(stap, False), (fu_both, True)])
    assert [u.data for u in units] == [join_annexb([sps, pps, idr])]
    assert units[0].keyframe


def test_h264_fragment_without_start_spoils_the_picture() -> None:
    depacketizer = H264Depacketizer()
    middle = bytes((0x7C, 0x05)) + b"mid"
    end = bytes((0x7C, 0x45)) + b"end"
    assert push_all(depacketizer, [(middle, False), (end, True)]) == []
    assert depacketizer.stats.dropped_access_units == 1


def test_h264_fragment_of_another_type_spoils_the_picture() -> None:
    depacketizer = H264Depacketizer()
    start = bytes((0x7C, 0x85)) + b"aa"
    end_other = bytes((0x7C, 0x41)) + b"bb"
    assert push_all(depacketizer, [(start, False), (end_other, True)]) == []
    assert depacketizer.stats.dropped_access_units == 1


def test_h264_unfinished_fragment_at_the_marker_spoils_the_picture() -> None:
    depacketizer = H264Depacketizer()
    start = bytes((0x7C, 0x85)) + b"aa"
    assert push_all(depacketizer, [(start, True)]) == []
    assert depacketizer.stats.dropped_access_units == 1


@pytest.mark.parametrize(
    ("payload", "counter"),
    [
        (b"\x78\x00\x09\x65", "malformed_payloads"),  # STAP-A unit longer than the packet
        (b"\x78\x00", "malformed_payloads"),  # STAP-A size cut short
        (b"\x78", "malformed_payloads"),  # empty STAP-A
        (b"\x78\x00\x00", "malformed_payloads"),  # zero-size unit
        (b"\x7c\x85", "malformed_payloads"),  # FU-A without data
        (b"\xe5abc", "malformed_payloads"),  # forbidden bit
        (b"", "malformed_payloads"),
        (b"\x7dxxxx", "unsupported_payloads"),  # FU-B
        (b"\x79xxxx", "unsupported_payloads"),  # STAP-B
    ],
)
def test_h264_damaged_payloads_are_counted(payload: bytes, counter: str) -> None:
    depacketizer = H264Depacketizer()
    idr = b"\x65idr"
    assert push_all(depacketizer, [(idr, False), (payload, True)]) == []
    assert getattr(depacketizer.stats, counter) == 1
    assert depacketizer.stats.dropped_access_units == 1
    # The next keyframe is handed out again.
    units = depacketizer.push(parse_rtp(rtp_packet(idr, sequence=2, timestamp=9000, marker=True)))
    assert [u.data for u in units] == [START_CODE + idr]


def test_h264_undefined_types_are_ignored() -> None:
    units = push_all(
        H264Depacketizer(), [(b"\x00zero", False), (b"\x1fthirtyone", False), (b"\x65i", True)]
    )
    assert [u.data for u in units] == [START_CODE + b"\x65i"]


def test_missing_marker_ends_the_picture_at_the_next_timestamp() -> None:
    depacketizer = H264Depacketizer()
    first = depacketizer.push(parse_rtp(rtp_packet(b"\x65a", sequence=1, timestamp=100)))
    second = depacketizer.push(
        parse_rtp(rtp_packet(b"\x41b", sequence=2, timestamp=200, marker=True))
    )
    assert first == []
    assert [(u.data, u.timestamp) for u in second] == [
        (START_CODE + b"\x65a", 100),
        (START_CODE + b"\x41b", 200),
    ]


def test_h265_aggregation_and_fragments_by_hand() -> None:
    vps, sps, pps = b"\x40\x01vps", b"\x42\x01sps", b"\x44\x01pps"
    idr = b"\x26\x01" + b"i" * 20
    ap = b"\x60\x01" + b"".join(len(n).to_bytes(2) + n for n in (vps, sps, pps))
    fu_start = b"\x62\x01" + bytes((0x80 | 19,)) + idr[2:12]
    fu_end = b"\x62\x01" + bytes((0x40 | 19,)) + idr[12:]
    units = push_all(H265Depacketizer(), [(ap, False), (fu_start, False), (fu_end, True)])
    assert [u.data for u in units] == [join_annexb([vps, sps, pps, idr])]
    assert units[0].keyframe
    assert units[0].parameter_sets.vps == vps


@pytest.mark.parametrize(
    ("payload", "counter"),
    [
        (b"\x60\x01\x00\x09\x26", "malformed_payloads"),  # AP unit too long
        (b"\x60\x01\x00\x01\x26", "malformed_payloads"),  # AP unit shorter than a NAL header
        (b"\x60\x01", "malformed_payloads"),  # empty AP
        (b"\x62\x01\x93", "malformed_payloads"),  # FU without data
        (b"\x26", "malformed_payloads"),  # shorter than the payload header
        (b"\xa6\x01x", "malformed_payloads"),  # forbidden bit
        (b"\x64\x01xxxx", "unsupported_payloads"),  # PACI
    ],
)
def test_h265_damaged_payloads_are_counted(payload: bytes, counter: str) -> None:
    depacketizer = H265Depacketizer()
    idr = b"\x26\x01idr"
    assert push_all(depacketizer, [(idr, False), (payload, True)]) == []
    assert getattr(depacketizer.stats, counter) == 1


def test_h265_cra_counts_as_keyframe() -> None:
    cra = b"\x2a\x01cra"  # type 21
    units = push_all(H265Depacketizer(), [(cra, True)])
    assert [u.keyframe for u in units] == [True]
    assert nal_unit_type(VideoCodec.H265, cra) == 21


def test_split_annexb_handles_short_and_long_start_codes() -> None:
    data = b"\x00\x00\x00\x01\x09\x10\x00\x00\x01\x67abc\x00\x00\x00\x00\x01\x65x"
    assert split_annexb(data) == [b"\x09\x10", b"\x67abc", b"\x65x"]
    assert split_annexb(join_annexb([b"\x41a", b"\x41b"])) == [b"\x41a", b"\x41b"]
    assert join_annexb([]) == b""


@pytest.mark.parametrize("codec", ["H264", "H265"])
@given(
    packets=st.lists(
        st.tuples(st.binary(max_size=40), st.booleans(), st.integers(-2, 3), st.integers(0, 3)),
        max_size=40,
    )
)
@settings(max_examples=200)
def test_fuzz_never_raises(codec: str, packets: list[tuple[bytes, bool, int, int]]) -> None:
    depacketizer = DEPACKETIZERS[codec]()
    sequence = 0
    for payload, marker, step, ts in packets:
        sequence += step
        units = depacketizer.push(
            parse_rtp(rtp_packet(payload, sequence=sequence, timestamp=ts * 3000, marker=marker))
        )
        for unit in units:
            assert unit.data.startswith(START_CODE)
            assert unit.nal_units
