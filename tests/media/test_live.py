"""The live path end to end without HTTP: multipart chunks in, items out."""

from __future__ import annotations

from contextlib import aclosing

from hypothesis import given, settings, strategies as st

from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioFrame,
    JpegFrame,
    LiveDepacketizer,
    MultipartReader,
    Part,
    iter_live_body,
)
from custom_components.ipro_nvr.api.media.access_unit import START_CODE
from nvr_simulator.rtp_packetizer import RtpPacketizer
from nvr_simulator.video import VideoFormat, cached_video_clip

from .helpers import achunks, multipart_part, rtp_packet, split, tlv16

JPEG = b"\xff\xd8\xff\xfe\x00\x08" + tlv16(4, 2)[:6] + b"\xff\xd8\xff\xdb\x00\x04\x01\x02\xff\xd9"


async def test_mixed_stream_through_iter_live_body() -> None:
    clip = cached_video_clip("H265", 2, VideoFormat())
    packetizer = RtpPacketizer("H265", sequence=9, ssrc=1, mtu=500)
    body = b""
    for index, picture in enumerate(clip.pictures[:4]):
        for packet in packetizer.packetize(picture.nals, index * 9000, tlv16(4, 2)):
            body += multipart_part(packet)
        body += multipart_part(b"\x00\x21\x10\x04", "audio/48kaac-lc")
    body += multipart_part(JPEG, "image/jpeg")
    reader = MultipartReader()
    live = LiveDepacketizer()
    chunks = achunks(split(body, range(0, len(body), 333)))
    async with aclosing(iter_live_body(chunks, reader=reader, depacketizer=live)) as items:
        got = [item async for item in items]
    units = [i for i in got if isinstance(i, AccessUnit)]
    audio = [i for i in got if isinstance(i, AudioFrame)]
    jpegs = [i for i in got if isinstance(i, JpegFrame)]
    assert [u.data for u in units] == [p.annexb for p in clip.pictures[:4]]
    assert all(u.info is not None and u.info.channel == 2 for u in units)
    assert [a.data for a in audio] == [b"\x21\x10\x04"] * 4
    assert len(jpegs) == 1
    assert jpegs[0].data.startswith(b"\xff\xd8\xff\xdb")
    assert live.stats.video.access_units == 4
    assert live.stats.audio_frames == 4
    assert live.stats.jpeg_frames == 1
    assert reader.stats.parts == live.stats.parts


def test_payload_type_from_the_recorder_information() -> None:
    live = LiveDepacketizer()
    h265_idr = b"\x26\x01idr"
    codec_tlv = tlv16(0x0005, 4)
    packet = rtp_packet(h265_idr, payload_type=96, marker=True, extension=codec_tlv)
    (unit,) = live.push_rtp(packet)
    assert unit.codec == "h265"
    assert unit.data == START_CODE + h265_idr
    # Without a codec TLV an unknown payload type is skipped and counted.
    assert live.push_rtp(rtp_packet(h265_idr, payload_type=96, marker=True)) == []
    assert live.stats.unknown_payload_types == 1


def test_parts_without_content_type_are_sniffed() -> None:
    live = LiveDepacketizer()
    rtp = rtp_packet(b"\x65idr", marker=True)
    assert [type(i) for i in live.push(Part("", (), rtp))] == [AccessUnit]
    assert [type(i) for i in live.push(Part("", (), JPEG))] == [JpegFrame]
    assert live.push(Part("", (), b"what is this")) == []
    assert live.stats.unknown_parts == 1


def test_damaged_parts_are_counted_not_raised() -> None:
    live = LiveDepacketizer()
    assert live.push(Part("application/octet-stream", (), b"\x00short")) == []
    assert live.push(Part("image/jpeg", (), b"no image")) == []
    assert live.push(Part("audio/48kaac-lc", (), b"\x00")) == []
    assert live.push(Part("text/html", (), b"<html>")) == []
    stats = live.stats
    assert (stats.bad_rtp_packets, stats.bad_jpeg_parts, stats.bad_audio_parts) == (1, 1, 1)
    assert stats.unknown_parts == 1
    assert stats.parts == 4


def test_a_new_ssrc_starts_a_new_stream() -> None:
    live = LiveDepacketizer()
    assert len(live.push_rtp(rtp_packet(b"\x65a", sequence=10, ssrc=1, marker=True))) == 1
    # A P picture of another source right after: not decodable, dropped (no loss counted).
    assert live.push_rtp(rtp_packet(b"\x41b", sequence=500, ssrc=2, marker=True)) == []
    assert live.stats.video.lost_packets == 0
    assert len(live.push_rtp(rtp_packet(b"\x65c", sequence=501, ssrc=2, marker=True))) == 1


@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["application/octet-stream", "image/jpeg", "audio/48kaac-lc", "", "text/x"]
            ),
            st.binary(max_size=60),
        ),
        max_size=30,
    )
)
@settings(max_examples=200)
def test_fuzz_parts_never_raise(parts: list[tuple[str, bytes]]) -> None:
    live = LiveDepacketizer()
    for content_type, body in parts:
        for item in live.push(Part(content_type, (), body)):
            assert isinstance(item, AccessUnit | JpegFrame | AudioFrame)
    assert live.stats.parts == len(parts)
