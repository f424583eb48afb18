"""Playback video containers (spec 3.3.1): the simulator's output and hand-made bodies."""

from __future__ import annotations

from contextlib import aclosing
import datetime as dt
import io
import itertools
import struct

import av
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    ContainerCodec,
    JpegFrame,
    MediaFormatError,
    PlaybackPicture,
    PlaybackVideoParser,
    iter_playback_video,
    parse_playback_video,
    playback_state,
)
from custom_components.ipro_nvr.api.spec import RecorderCodec, RecorderStatus
from nvr_simulator.playback_container import (
    JPEG,
    RecordedPicture,
    Zone,
    picture_record,
    recorded_gop,
    video_container,
)
from nvr_simulator.video import H264, H265, VideoFormat

from .helpers import achunks, split, tlv16

FMT = VideoFormat()
ZONE = Zone(dt.timedelta(hours=-3, minutes=-30), summer_time=True)
T0 = dt.datetime(2024, 4, 24, 3, 30, 0, 120000, tzinfo=dt.UTC)
SIGNATURE = b"\xff\x06\x00\x44"


def _feed_all(body: bytes, chunks: list[bytes] | None = None) -> list[PlaybackPicture]:
    parser = PlaybackVideoParser()
    out: list[PlaybackPicture] = []
    for chunk in chunks if chunks is not None else [body]:
        out += parser.feed(chunk)
    out += parser.finish()
    return out


def _small_pictures(count: int = 3) -> list[RecordedPicture]:
    """Tiny H.264 pictures (AUD + IDR, then AUD + P slices) of odd sizes, 100 ms apart."""
    pictures = [RecordedPicture(b"\x00\x00\x00\x01\x09\xf0\x00\x00\x00\x01\x65idr!", T0)]
    for index in range(1, count):
        data = b"\x00\x00\x00\x01\x09\xf0\x00\x00\x00\x01\x41" + b"p" * index
        pictures.append(RecordedPicture(data, T0 + dt.timedelta(milliseconds=100 * index)))
    return pictures


@pytest.mark.parametrize("codec", [H264, H265, JPEG])
def test_round_trip_of_a_recorded_gop(codec: str) -> None:
    pictures = recorded_gop(codec, 5, FMT, 12345)
    body = video_container(codec, 5, pictures, zone=ZONE, status=RecorderStatus.PLAYBACK)
    gop = parse_playback_video(body)
    assert gop.codec == ContainerCodec(codec.lower())
    assert len(gop.pictures) == len(pictures) == (1 if codec == JPEG else FMT.gop)
    assert [p.data for p in gop.pictures] == [p.data for p in pictures]
    for got, written in zip(gop.pictures, pictures, strict=True):
        assert got.info is not None
        assert got.info.time == written.time
        assert got.info.utc_offset == ZONE.utc_offset
        assert got.info.summer_time is True
        assert got.info.channel == 5
    assert gop.gop is not None
    assert gop.gop.start.time == pictures[0].time
    assert gop.gop.end.time == pictures[-1].time
    assert gop.gop.start.local_time == pictures[0].time.astimezone(
        dt.timezone(dt.timedelta(hours=-2, minutes=-30))
    )
    assert gop.info is not None
    assert gop.info.frame_count == len(pictures)
    assert gop.stats.records == len(pictures)
    assert gop.stats.skipped_bytes == gop.stats.bad_records == 0
    assert gop.stats.padding_mismatches == 0
    if codec == JPEG:
        assert isinstance(gop.pictures[0], JpegFrame)
        assert gop.pictures[0].camera_info is not None
        assert gop.pictures[0].camera_info.camera_time == pictures[0].time
    else:
        units = [p for p in gop.pictures if isinstance(p, AccessUnit)]
        assert gop.info.codec == (RecorderCodec.H264 if codec == H264 else RecorderCodec.H265)
        assert [u.keyframe for u in units] == [True] + [False] * (len(units) - 1)
        assert all(u.parameter_sets.complete for u in units)
        # The 90 kHz clock is the recorded time: 100 ms between pictures at 10 fps.
        steps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(units)]
        assert steps == [9000] * (len(units) - 1)


@pytest.mark.parametrize("codec", [H264, H265, JPEG])
def test_the_first_picture_decodes(codec: str) -> None:
    pictures = recorded_gop(codec, 2, FMT, 40)
    first = parse_playback_video(video_container(codec, 2, pictures)).pictures[0]
    name = {H264: "h264", H265: "hevc", JPEG: "mjpeg"}[codec]
    decoder = av.CodecContext.create(name, "r")
    frames = decoder.decode(av.Packet(first.data))
    frames += decoder.decode(None)
    assert frames
    assert (frames[0].width, frames[0].height) == (FMT.width, FMT.height)


def test_chunk_boundaries_everywhere() -> None:
    pictures = _small_pictures()
    body = video_container(H264, 1, pictures, zone=ZONE)
    end = body.rstrip(b"\x00")
    whole = _feed_all(body)
    assert [p.data for p in whole] == [p.data for p in pictures]
    for cut in range(1, len(end) + 8):
        assert _feed_all(body, split(body, [cut])) == whole, cut
    assert _feed_all(body, split(body, range(len(body)))) == whole  # one byte at a time


async def test_iter_playback_video_over_chunks() -> None:
    pictures = recorded_gop(H265, 3, FMT, 0)
    body = video_container(H265, 3, pictures)
    parser = PlaybackVideoParser()
    chunks = achunks(split(body, range(0, len(body), 777)))
    async with aclosing(iter_playback_video(chunks, parser=parser)) as items:
        got = [item async for item in items]
    assert [p.data for p in got] == [p.data for p in pictures]
    assert parser.codec is ContainerCodec.H265
    assert parser.stats.bytes_received == len(body)


def test_status_and_speed_reach_each_picture() -> None:
    body = video_container(
        H264, 1, _small_pictures(2), status=RecorderStatus.FAST_FORWARD, speed=3, zone=ZONE
    )
    pictures = parse_playback_video(body).pictures
    states = [playback_state(p.info) for p in pictures if p.info is not None]
    assert [(s.status, s.speed) for s in states] == [(RecorderStatus.FAST_FORWARD, 3)] * 2
    assert states[1].time == T0 + dt.timedelta(milliseconds=100)
    assert not states[0].paused
    assert not states[0].reverse


@pytest.mark.parametrize("cut", [1, 3, 5, 20, 100, 200, 300])
def test_truncated_bodies_raise_after_delivering_what_was_whole(cut: int) -> None:
    pictures = _small_pictures()
    body = video_container(H264, 1, pictures).rstrip(b"\x00")
    parser = PlaybackVideoParser()
    got = parser.feed(body[:-cut])
    with pytest.raises(MediaFormatError):
        got += parser.finish()
    assert [p.data for p in got] == [p.data for p in pictures[: len(got)]]
    assert len(got) < len(pictures)


def test_every_truncation_raises_or_gives_every_picture() -> None:
    pictures = _small_pictures()
    body = video_container(H264, 1, pictures)
    last_record_end = len(body.rstrip(b"\x00"))
    for size in range(len(body)):
        parser = PlaybackVideoParser()
        got = parser.feed(body[:size])
        try:
            got += parser.finish()
        except MediaFormatError:
            assert size < last_record_end + 1, size
        else:
            assert size >= last_record_end - 2, size  # only padding was cut
            assert [p.data for p in got] == [p.data for p in pictures]


def test_end_padding_is_optional() -> None:
    pictures = _small_pictures()
    body = video_container(H264, 1, pictures).rstrip(b"\x00") + b"\x00" * 3
    assert [p.data for p in _feed_all(body)] == [p.data for p in pictures]


def _body_from(head_tlvs: bytes, records: list[bytes], codec_id: int = 0xFF15) -> bytes:
    data = struct.pack(">HH", codec_id, len(head_tlvs)) + head_tlvs + bytes(12) + b"".join(records)
    return data + bytes(-len(data) % 4096)


def test_a_missing_record_raises_when_the_frame_count_says_so() -> None:
    pictures = _small_pictures()
    records = [picture_record(p, T0, T0, Zone()) for p in pictures]
    body = _body_from(tlv16(0x0008, 3), [records[0], records[2]])
    parser = PlaybackVideoParser()
    got = parser.feed(body)
    with pytest.raises(MediaFormatError, match="2 pictures, the recorder announced 3"):
        parser.finish()
    assert [p.data for p in got] == [pictures[0].data, pictures[2].data]


@pytest.mark.parametrize("delta", [-5, -1, 1, 4, 1000])
def test_a_wrong_data_length_loses_only_its_picture(delta: int) -> None:
    pictures = _small_pictures()
    records = [picture_record(p, T0, T0, Zone()) for p in pictures]
    middle = bytearray(records[1])
    length = struct.unpack_from(">I", middle, 72)[0]
    struct.pack_into(">I", middle, 72, length + delta)
    body = _body_from(tlv16(0x0004, 1), [records[0], bytes(middle), records[2]])
    parser = PlaybackVideoParser()
    got = parser.feed(body)
    with pytest.raises(MediaFormatError, match=r"damaged|neither padding"):
        parser.finish()
    assert got[0].data == pictures[0].data
    if delta != 4:  # 4 swallows the next signature: that record is lost instead
        assert [p.data for p in got] == [pictures[0].data, pictures[2].data]


def test_camera_information_reserved_bytes_and_padding_are_skipped() -> None:
    pictures = _small_pictures()
    camera = struct.pack(">HHIBBBB", 0x0011, 12, 1713929400, 0, 9, 0, 0) + tlv16(0x0012, 7)
    records = [picture_record(p, T0, T0, Zone()) for p in pictures]
    reserved = b"\x12\x34\x56\x78" * 3  # non-zero reserved bytes
    data = struct.pack(">HH", 0xFF15, 8) + tlv16(0x0004, 2) + reserved
    data += camera + records[0] + bytes(8) + records[1] + camera + bytes(4) + records[2]
    parser = PlaybackVideoParser()
    got = parser.feed(data)
    got += parser.finish()
    assert [p.data for p in got] == [p.data for p in pictures]
    assert parser.stats.camera_tlvs == 4
    assert parser.stats.skipped_bytes == len(reserved)


def test_padding_count_that_disagrees_is_tolerated() -> None:
    pictures = _small_pictures()
    records = []
    for picture in pictures:
        record = bytearray(picture_record(picture, T0, T0, Zone()))
        actual = struct.unpack_from(">H", record, 70)[0]
        struct.pack_into(">H", record, 70, 3 - actual)  # a wrong count
        records.append(bytes(record))
    parser = PlaybackVideoParser()
    got = parser.feed(_body_from(b"", records))
    got += parser.finish()
    assert [p.data for p in got] == [p.data for p in pictures]
    assert parser.stats.padding_mismatches >= 1


def test_chunk_length_that_counts_its_own_header() -> None:
    tlvs = tlv16(0x0004, 9) + tlv16(0x0008, 1)
    record = picture_record(_small_pictures(1)[0], T0, T0, Zone())
    body = struct.pack(">HH", 0xFF16, len(tlvs) + 4) + tlvs + bytes(12) + record
    body = body.replace(b"\x65idr!", b"\x26\x01idr")  # an H.265 IDR
    gop = parse_playback_video(body)
    assert gop.info is not None
    assert gop.info.channel == 9
    assert len(gop.pictures) == 1
    assert not gop.stats.bad_info


def test_no_record_falls_back_to_access_unit_delimiters() -> None:
    pictures = _small_pictures()
    tlvs = tlv16(0x0009, 50) + struct.pack(">HHIBBBB", 0x0007, 12, 1713929400, 0, 0, 0, 0)
    annexb = b"".join(p.data for p in pictures)
    body = struct.pack(">HH", 0xFF15, len(tlvs)) + tlvs + bytes(12) + annexb + bytes(100)
    gop = parse_playback_video(body)
    assert gop.stats.fallback
    units = [p for p in gop.pictures if isinstance(p, AccessUnit)]
    assert [u.data for u in units] == [p.data for p in pictures]
    assert units[0].keyframe
    assert units[0].info is not None
    assert units[0].info.time == dt.datetime.fromtimestamp(1713929400, dt.UTC)
    assert units[1].timestamp - units[0].timestamp == 18000  # 5 fps from the 0x0009 TLV


def test_jpeg_chunk_length_that_counts_its_own_two_bytes() -> None:
    record = picture_record(RecordedPicture(b"\xff\xd8\xff\xd9", T0), T0, T0, Zone())
    tlvs = tlv16(0x0004, 6)
    body = b"\xff\xd8\xff\xfe" + struct.pack(">H", len(tlvs) + 2) + tlvs + bytes(12) + record
    gop = parse_playback_video(body)
    assert gop.info is not None
    assert gop.info.channel == 6
    assert [p.data for p in gop.pictures] == [b"\xff\xd8\xff\xd9"]


def test_jpeg_fallback_and_jpeg_chunk() -> None:
    image = b"\xff\xd8\xff\xdb\x00\x04\x01\x02\xff\xd9"
    tlvs = tlv16(0x0004, 3)
    body = b"\xff\xd8\xff\xfe" + struct.pack(">H", len(tlvs)) + tlvs + bytes(12) + image
    gop = parse_playback_video(body + bytes(6))
    assert gop.codec is ContainerCodec.JPEG
    assert [p.data for p in gop.pictures] == [image]
    assert gop.stats.fallback


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff",
        b"\xff\x15\x00",
        b"\xff\x15\x00\x08\x00\x04",  # TLVs cut short
        b"\x00\x00\x00\x01\x09\xf0",  # bare Annex-B, no chunk header
        b"\xff\x15\x00\x00" + bytes(4096),  # no picture at all
        b"\xff\x15\x00\x00" + SIGNATURE + bytes(50),  # a record header cut short
        b"\xff\xd8\xff\xfe\x00\x00" + bytes(64),  # JPEG chunk without an image
    ],
)
def test_malformed_bodies_raise(body: bytes) -> None:
    with pytest.raises(MediaFormatError):
        parse_playback_video(body)


def test_unknown_chunk_id_raises_at_once() -> None:
    with pytest.raises(MediaFormatError, match="chunk header"):
        PlaybackVideoParser().feed(b"\xff\x17\x00\x00")


def test_a_finished_parser_takes_no_more() -> None:
    parser = PlaybackVideoParser()
    parser.feed(video_container(H264, 1, _small_pictures(1)))
    parser.finish()
    assert parser.finish() == []
    with pytest.raises(RuntimeError):
        parser.feed(b"more")


def test_a_huge_length_is_a_damaged_record() -> None:
    record = bytearray(picture_record(_small_pictures(1)[0], T0, T0, Zone()))
    struct.pack_into(">I", record, 72, 0x7FFFFFFF)
    parser = PlaybackVideoParser(max_picture_size=1 << 20)
    parser.feed(_body_from(b"", [bytes(record)]))
    with pytest.raises(MediaFormatError):
        parser.finish()
    assert parser.stats.bad_records == 1


def test_linear_time_on_a_large_body_fed_in_small_chunks() -> None:
    """Many pictures, fed 64 bytes at a time: the buffer stays small (consumed bytes go)."""
    pictures = [
        RecordedPicture(b"\x00\x00\x00\x01\x41" + bytes([index % 200 + 1]) * 3000, T0)
        for index in range(300)
    ]
    body = video_container(H264, 1, pictures, with_camera_info=False)
    parser = PlaybackVideoParser()
    count = 0
    largest = 0
    view = memoryview(body)
    for offset in range(0, len(body), 64):
        count += len(parser.feed(view[offset : offset + 64]))
        largest = max(largest, len(parser._buf))
    count += len(parser.finish())
    assert count == 300
    assert largest < 3 * 3200


_VALID = video_container(H264, 1, _small_pictures(), zone=ZONE)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), max_size=8),
    st.integers(0, len(_VALID)),
    st.lists(st.integers(0, len(_VALID)), max_size=6),
)
def test_fuzz_mutated_bodies_raise_only_media_errors(
    flips: list[tuple[int, int]], size: int, cuts: list[int]
) -> None:
    body = bytearray(_VALID)
    for index, value in flips:
        body[index] = value
    data = bytes(body[:size])
    parser = PlaybackVideoParser()
    got: list[PlaybackPicture] = []
    try:
        for chunk in split(data, cuts):
            got += parser.feed(chunk)
        got += parser.finish()
    except MediaFormatError:
        pass
    for picture in got:
        assert picture.data


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=600),
    st.sampled_from([b"", b"\xff\x15\x00\x00", b"\xff\xd8\xff\xfe\x00\x00"]),
)
def test_fuzz_random_bytes_raise_only_media_errors(noise: bytes, head: bytes) -> None:
    parser = PlaybackVideoParser()
    try:
        parser.feed(head + noise)
        parser.finish()
    except MediaFormatError:
        pass


def test_jpeg_picture_is_a_jpeg() -> None:
    pictures = recorded_gop(JPEG, 1, FMT, 3)
    (frame,) = parse_playback_video(video_container(JPEG, 1, pictures)).pictures
    assert isinstance(frame, JpegFrame)
    container = av.open(io.BytesIO(frame.data), format="mjpeg")
    with container:
        decoded = next(container.decode(video=0))
    assert decoded.width == FMT.width


_H265_BODY = video_container(H265, 4, recorded_gop(H265, 4, FMT, 70), zone=ZONE)
_H265_WHOLE = parse_playback_video(_H265_BODY).pictures


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, len(_H265_BODY)), max_size=12))
def test_any_chunking_gives_the_same_pictures(cuts: list[int]) -> None:
    assert tuple(_feed_all(_H265_BODY, split(_H265_BODY, cuts))) == _H265_WHOLE
