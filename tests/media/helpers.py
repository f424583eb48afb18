"""Helpers of the media tests: hand-built multipart bodies and RTP packets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
import itertools
import struct


def multipart_part(
    body: bytes,
    content_type: str = "application/octet-stream",
    *,
    newline: bytes = b"\r\n",
    length: bool = True,
    header_names: tuple[str, str] = ("Content-type", "Content-Length"),
    blank_line: bool = True,
) -> bytes:
    """One part as the spec draws it: delimiter, headers, blank line, body, newline."""
    lines = [b"--myboundary", f"{header_names[0]}: {content_type}".encode()]
    if length:
        lines.append(f"{header_names[1]}: {len(body)}".encode())
    head = newline.join(lines) + newline + (newline if blank_line else b"")
    return head + body + newline


def split(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """Cut ``data`` at the given offsets (sorted, deduplicated, clamped)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


async def achunks(chunks: Sequence[bytes]) -> AsyncIterator[bytes]:
    """The chunks as an async iterator (like aiohttp's ``iter_any()``)."""
    for chunk in chunks:
        yield chunk


def rtp_packet(
    payload: bytes,
    *,
    sequence: int = 0,
    timestamp: int = 0,
    marker: bool = False,
    payload_type: int = 98,
    ssrc: int = 0x1234,
    csrcs: Sequence[int] = (),
    extension: bytes | None = None,
    profile: int = 0,
    padding: int = 0,
) -> bytes:
    """An RTP packet built by hand (RFC 3550 section 5.1)."""
    first = 0x80 | (0x20 if padding else 0) | (0x10 if extension is not None else 0) | len(csrcs)
    second = (0x80 if marker else 0) | payload_type
    data = struct.pack(">BBHII", first, second, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
    data += b"".join(struct.pack(">I", c) for c in csrcs)
    if extension is not None:
        assert len(extension) % 4 == 0
        data += struct.pack(">HH", profile, len(extension) // 4) + extension
    data += payload
    if padding:
        data += b"\x00" * (padding - 1) + bytes((padding,))
    return data


def tlv16(tlv_id: int, value: int) -> bytes:
    """A recorder-information TLV with one u16 and a reserved u16 (length 8)."""
    return struct.pack(">HHHH", tlv_id, 8, value, 0)


def time_tlv(
    tlv_id: int,
    seconds: int,
    *,
    minus: bool = False,
    hours: int = 0,
    minutes: int = 0,
    summer: bool = False,
) -> bytes:
    """A time TLV (0x0007 / 0x0011): u32 epoch seconds, zone sign, hours, minutes, summer."""
    return struct.pack(">HHIBBBB", tlv_id, 12, seconds, int(minus), hours, minutes, int(summer))
