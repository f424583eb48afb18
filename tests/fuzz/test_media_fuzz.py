"""Fuzzing of the live media path: whatever the recorder sends, only typed errors escape.

Every parser of ``api.media`` on the live path is fed hostile input built from
the recorder's own framing (see :mod:`.strategies`). Anything but an
:class:`~custom_components.ipro_nvr.api.errors.NvrError` escaping fails the
test, and what the readers hold stays bounded by their limits. Not asserted
here: the size cap on an H.264/H.265 picture in reassembly and a typed error
for multipart boundaries over 70 characters (both issue 12, tested with their
fixes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing

from hypothesis import example, given, strategies as st

from custom_components.ipro_nvr.api.errors import NvrError
from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioFrame,
    H264Depacketizer,
    H265Depacketizer,
    JpegFrame,
    LiveDepacketizer,
    MediaFormatError,
    MultipartReader,
    Part,
    boundary_from_content_type,
    iter_live_body,
    parse_audio_part,
    parse_recorder_info,
    parse_rtp,
    strip_vendor_blocks,
)
from custom_components.ipro_nvr.api.media.access_unit import START_CODE
from custom_components.ipro_nvr.api.media.jpeg import SOI

from .budget import fuzz_settings
from .strategies import (
    CONTENT_TYPES,
    audio_part,
    chunked,
    jpeg_part,
    multipart_body,
    rtp_packet_bytes,
    rtp_stream,
    tlvs,
)

MAX_PART = 64
MAX_HEADER = 96


@fuzz_settings()
@given(st.data())
def test_multipart_reader_raises_only_typed_errors_and_stays_bounded(data: st.DataObject) -> None:
    """Parts come out or PartTooLargeError; the buffer never holds much more than a part."""
    body = data.draw(multipart_body())
    reader = MultipartReader(max_part_size=MAX_PART, max_header_size=MAX_HEADER)
    try:
        for chunk in data.draw(chunked(body)):
            for part in reader.feed(chunk):
                assert len(part.body) <= MAX_PART
            # One part, its headers, a delimiter and the chunk being read at most.
            assert reader.buffered <= MAX_PART + MAX_HEADER + len(chunk) + 64
        reader.finish()
    except MediaFormatError:
        pass


@fuzz_settings()
@given(st.text(max_size=90))
@example("\u0100")  # found by fuzzing: UnicodeEncodeError out of the reader
def test_boundary_of_any_content_type_reads_or_raises_typed(content_type: str) -> None:
    """The boundary a recorder names gives a reader or a typed error (not a crash)."""
    boundary = boundary_from_content_type(f"multipart/x-mixed-replace; boundary={content_type}")
    if len(boundary) > 70:
        return  # the typed error for over-long boundaries is tested with its fix
    try:
        reader = MultipartReader(boundary)
    except NvrError:
        return
    reader.feed(b"--" + boundary.encode("latin-1", "replace") + b"\r\n\r\n")


@fuzz_settings()
@given(st.binary(max_size=64))
def test_rtp_parser_raises_only_media_format_error(data: bytes) -> None:
    """An RTP packet parses, or MediaFormatError; the payload lies inside the packet."""
    try:
        packet = parse_rtp(data)
    except MediaFormatError:
        return
    assert len(packet.payload) + len(packet.extension) + 12 <= len(data)


@fuzz_settings(40)
@given(rtp_stream(), st.sampled_from((H264Depacketizer, H265Depacketizer)))
def test_depacketizers_never_raise(
    packets: list[bytes], kind: type[H264Depacketizer | H265Depacketizer]
) -> None:
    """Damaged packets are counted, never raised; what comes out is Annex-B."""
    depacketizer = kind()
    units: list[AccessUnit] = []
    for data in packets:
        try:
            packet = parse_rtp(data)
        except MediaFormatError:
            continue
        units += depacketizer.push(packet)
    stats = depacketizer.stats
    assert stats.access_units == len(units)
    for unit in units:
        assert unit.data.startswith(START_CODE)
    assert not units or units[0].keyframe


@fuzz_settings()
@given(
    st.lists(
        st.tuples(
            st.sampled_from(CONTENT_TYPES),
            st.one_of(rtp_packet_bytes(), jpeg_part(), st.binary(max_size=64)),
        ),
        max_size=20,
    )
)
def test_live_depacketizer_never_raises(parts: list[tuple[str, bytes]]) -> None:
    """Any part of any type is turned into items or counted as bad; nothing is raised."""
    live = LiveDepacketizer()
    for content_type, body in parts:
        headers = (("content-type", content_type),) if content_type else ()
        for item in live.push(Part(content_type, headers, body)):
            assert isinstance(item, AccessUnit | JpegFrame | AudioFrame)
    assert live.stats.parts == len(parts)


async def _chunks(chunks: list[bytes]) -> AsyncGenerator[bytes]:
    for chunk in chunks:
        yield chunk


@fuzz_settings()
@given(st.data())
def test_live_body_raises_only_typed_errors(data: st.DataObject) -> None:
    """The whole live path over a hostile multipart body: items, or a MediaFormatError."""
    chunks = data.draw(chunked(data.draw(multipart_body())))

    async def run() -> None:
        try:
            async with aclosing(_chunks(chunks)) as source:
                async for _item in iter_live_body(source, max_part_size=MAX_PART):
                    pass
        except MediaFormatError:
            pass

    # A loop of its own, never made current: the test's fixtures keep theirs.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


@fuzz_settings()
@given(st.one_of(jpeg_part(), st.binary(max_size=64)))
def test_jpeg_vendor_blocks_raise_only_media_format_error(data: bytes) -> None:
    """A JPEG comes out from an FF D8 of the part, or MediaFormatError."""
    try:
        frame = strip_vendor_blocks(data)
    except MediaFormatError:
        return
    assert frame.data.startswith(SOI)
    assert data.endswith(frame.data)


@fuzz_settings()
@given(st.one_of(tlvs(), st.binary(max_size=48)))
def test_recorder_information_raises_only_media_format_error(data: bytes) -> None:
    """TLVs parse to a RecorderInfo (its local time computable), or MediaFormatError."""
    try:
        info = parse_recorder_info(data)
    except MediaFormatError:
        return
    assert info.local_time is None or info.local_time.tzinfo is not None


@fuzz_settings()
@given(audio_part())
@example(("audio/0kaac", b"\x00\x00"))  # found by fuzzing: a sample rate of 0
@example(("audio/" + "9" * 5000 + "kaac", b"\x00\x00"))  # found: int() digit limit ValueError
def test_audio_parts_raise_only_media_format_error(part: tuple[str, bytes]) -> None:
    """An audio part gives a frame with data, or MediaFormatError."""
    content_type, body = part
    try:
        frame = parse_audio_part(content_type, body)
    except MediaFormatError:
        return
    assert frame.data
    assert frame.sample_rate > 0
