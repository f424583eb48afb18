"""Hostile inputs of the media path: bytes that look almost like the recorder's."""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from custom_components.ipro_nvr.api.spec import (
    AUDIO_PART_PREFIX,
    JPEG_VENDOR_BLOCK_ID,
    RecorderInfoId,
)
from tests.media.helpers import rtp_packet, split

_DELIMITER = b"--myboundary"
# Fragments a multipart body is made of, good and broken, for random splicing.
_MULTIPART_TOKENS = (
    _DELIMITER + b"\r\n",
    _DELIMITER + b"\n",
    _DELIMITER + b"--\r\n",
    _DELIMITER + b"X\r\n",
    b"Content-type: application/octet-stream\r\n",
    b"Content-type: image/jpeg\r\n",
    b"Content-type: audio/48kaac-lc\r\n",
    b"Content-type: audio/g.726-32k\r\n",
    b"Content-Length: 4\r\n",
    b"Content-Length: 0\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Content-Length: -1\r\n",
    b"Content-Length: 12\r\n",
    b"content-length:   \t 3  \r\n",
    b"X: \xff\xfe\r\n",
    b"\r\n",
    b"\n",
    b"   \t",
    b"\x80\x62\x00\x01",
)

CONTENT_TYPES = (
    "application/octet-stream",
    "image/jpeg",
    "audio/48kaac-lc",
    "audio/g.726-32k",
    "audio/g.711",
    "audio/pcma",
    "audio/basic",
    "audio/",
    "audio/0kaac",
    "video/unknown",
    "",
    ";;;",
)


def multipart_body() -> st.SearchStrategy[bytes]:
    """A multipart body spliced from good and broken fragments and random bytes."""
    piece = st.one_of(
        st.sampled_from(_MULTIPART_TOKENS),
        st.binary(max_size=24),
    )
    return st.lists(piece, max_size=40).map(b"".join)


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random places (as the socket would deliver it)."""
    return split(data, draw(st.lists(st.integers(0, len(data)), max_size=12)))


def _nal_header_byte() -> st.SearchStrategy[int]:
    # Biased towards the packet types with structure (STAP-A, FU-A, AP, FU, AUD, IDR, IRAP).
    special = st.sampled_from((0x09, 0x65, 0x67, 0x68, 0x78, 0x7C, 0x5C, 0x60, 0x62, 0x46, 0x26))
    return st.one_of(special, st.integers(0, 255))


@st.composite
def video_payload(draw: st.DrawFn) -> bytes:
    """An H.264/H.265 RTP payload: a plausible first bytes, then anything."""
    head = bytes(draw(st.lists(_nal_header_byte(), min_size=0, max_size=3)))
    return head + draw(st.binary(max_size=40))


@st.composite
def rtp_stream(draw: st.DrawFn) -> list[bytes]:
    """RTP packets of one stream, with gaps, repeats, reordering and odd headers."""
    packets: list[bytes] = []
    sequence = draw(st.integers(0, 0xFFFF))
    timestamp = draw(st.integers(0, 0xFFFFFFFF))
    for _ in range(draw(st.integers(0, 16))):
        sequence += draw(st.sampled_from((1, 1, 1, 0, 2, -1, 40000)))
        timestamp += draw(st.sampled_from((0, 0, 3600, -3600, 1 << 31)))
        packets.append(draw(rtp_packet_bytes(sequence, timestamp)))
    return packets


@st.composite
def rtp_packet_bytes(draw: st.DrawFn, sequence: int = 0, timestamp: int = 0) -> bytes:
    """One RTP packet of video (or of another payload type), recorder TLVs or not."""
    extension = draw(st.one_of(st.none(), st.none(), st.none(), tlvs().map(_whole_words)))
    return rtp_packet(
        draw(video_payload()),
        sequence=sequence,
        timestamp=timestamp,
        marker=draw(st.booleans()),
        payload_type=draw(st.sampled_from((98, 101, 98, 101, 0, 127))),
        ssrc=draw(st.sampled_from((1, 1, 1, 2))),
        extension=extension,
    )


def _whole_words(data: bytes) -> bytes:
    """``data`` zero-padded to whole 32-bit words (a header extension's length unit)."""
    return data + bytes(-len(data) % 4)


@st.composite
def tlvs(draw: st.DrawFn) -> bytes:
    """Recorder-information TLVs: known ids, odd lengths, padding, stray bytes."""
    data = b""
    for _ in range(draw(st.integers(0, 6))):
        tlv_id = draw(
            st.one_of(st.sampled_from([int(i) for i in RecorderInfoId]), st.integers(0, 0xFFFF))
        )
        value = draw(st.binary(max_size=12))
        length = draw(st.one_of(st.just(len(value) + 4), st.integers(0, 0xFFFF)))
        data += struct.pack(">HH", tlv_id, length) + value
    padding = draw(st.sampled_from((b"", b"\x00\x00", b"\x00\x01", b"\x00")))
    return data + padding


@st.composite
def jpeg_part(draw: st.DrawFn) -> bytes:
    """A live JPEG part: vendor blocks of either length reading (or neither), then an image."""
    data = b""
    for _ in range(draw(st.integers(0, 3))):
        body = draw(tlvs())
        counts_itself = draw(st.booleans())
        length = draw(
            st.one_of(st.just(len(body) + (2 if counts_itself else 0)), st.integers(0, 0xFFFF))
        )
        data += JPEG_VENDOR_BLOCK_ID + struct.pack(">H", length) + body
    image = draw(
        st.sampled_from(
            (
                b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff\xd9",
                b"\xff\xd8\xff\xfe\x00\x04ab\xff\xdb\x00",
                b"\xff\xd8",
                b"",
            )
        )
    )
    return data + image + draw(st.binary(max_size=16))


@st.composite
def audio_part(draw: st.DrawFn) -> tuple[str, bytes]:
    """An audio part: a content type (plausible or not) and a body."""
    content_type = draw(
        st.one_of(
            st.sampled_from(CONTENT_TYPES),
            st.text(max_size=30).map(lambda t: "audio/" + t),
        )
    )
    prefix = draw(st.sampled_from((AUDIO_PART_PREFIX, b"")))
    return content_type, prefix + draw(st.binary(max_size=400))
