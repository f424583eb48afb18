"""RTP packets (RFC 3550) as the recorder sends them inside the live multipart body.

Spec 2.3.1 (2): version 2, payload type 98 (H.264) or 101 (H.265), marker on the
last packet of a picture, sequence number +1 per packet, 90 kHz timestamp. When
X is set, a header extension follows the CSRC list: a 16-bit profile field, a
16-bit length in 32-bit words, then recorder-information TLVs (spec 7).
"""

from __future__ import annotations

import struct
from typing import Final

from ..spec import RTP_VERSION
from .errors import MediaFormatError
from .value_object import SlottedValue

RTP_HEADER_SIZE: Final = 12
_HEADER = struct.Struct(">BBHII")
_EXTENSION = struct.Struct(">HH")
_SEQ_MOD: Final = 1 << 16
_TS_MOD: Final = 1 << 32


class RtpPacket(SlottedValue):
    """One parsed RTP packet.

    ``extension`` is the header-extension data after its 4-byte header (empty
    when X is clear; ``extension_profile`` is then None); ``payload`` excludes
    any padding.

    A plain slotted class rather than a frozen dataclass: one is built per
    packet, tens of thousands a second, and a frozen dataclass pays an
    ``object.__setattr__`` per field. It is immutable by convention (``Final``
    makes mypy hold every caller to that) and compares, hashes and prints like
    the dataclass it replaces.
    """

    __slots__ = (
        "csrcs",
        "extension",
        "extension_profile",
        "marker",
        "payload",
        "payload_type",
        "sequence",
        "ssrc",
        "timestamp",
    )
    __match_args__ = (
        "payload_type",
        "marker",
        "sequence",
        "timestamp",
        "ssrc",
        "csrcs",
        "extension_profile",
        "extension",
        "payload",
    )

    payload_type: Final[int]
    marker: Final[bool]
    sequence: Final[int]
    timestamp: Final[int]
    ssrc: Final[int]
    csrcs: Final[tuple[int, ...]]
    extension_profile: Final[int | None]
    extension: Final[bytes]
    payload: Final[bytes]

    def __init__(  # noqa: PLR0917 - positional, as the dataclass it replaces took them
        self,
        payload_type: int,
        marker: bool,
        sequence: int,
        timestamp: int,
        ssrc: int,
        csrcs: tuple[int, ...],
        extension_profile: int | None,
        extension: bytes,
        payload: bytes,
    ) -> None:
        self.payload_type = payload_type
        self.marker = marker
        self.sequence = sequence
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.extension_profile = extension_profile
        self.extension = extension
        self.payload = payload

    def _fields(self) -> tuple[object, ...]:
        return (
            self.payload_type,
            self.marker,
            self.sequence,
            self.timestamp,
            self.ssrc,
            self.csrcs,
            self.extension_profile,
            self.extension,
            self.payload,
        )


type RtpSpan = tuple[int, int, int, int, int, int, int, int]
"""``(first, second, sequence, timestamp, ssrc, extension, payload, end)``: the header's
first two bytes and fields, then offsets into the buffer: where the header
extension's data starts (``payload`` when there is none: X clear, or no data),
where the payload starts and where it ends (before any padding)."""


def rtp_span(data: bytes | bytearray | memoryview, start: int, end: int) -> RtpSpan:
    """Parse the RTP packet ``data[start:end]`` in place: no copy, no object per packet.

    The one RTP parser: :func:`parse_rtp` builds its :class:`RtpPacket` from
    this, and the live path reads multipart bodies through it straight from
    the reader's buffer. :class:`~.errors.MediaFormatError` when it cannot be one.
    """
    size = end - start
    if size < RTP_HEADER_SIZE:
        raise MediaFormatError(
            f"RTP packet of {size} bytes is shorter than its header", data[start:end]
        )
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data, start)
    if first >> 6 != RTP_VERSION:
        raise MediaFormatError(f"RTP version {first >> 6}, expected {RTP_VERSION}", data[start:end])
    pos = start + RTP_HEADER_SIZE + 4 * (first & 0x0F)
    if pos > end:
        raise MediaFormatError(f"RTP packet too short for {first & 0x0F} CSRCs", data[start:end])
    extension = pos
    if first & 0x10:  # X: a header extension
        if pos + _EXTENSION.size > end:
            raise MediaFormatError("RTP packet too short for its header extension", data[start:end])
        extension = pos + _EXTENSION.size
        pos = extension + 4 * _EXTENSION.unpack_from(data, pos)[1]
        if pos > end:
            raise MediaFormatError(
                f"RTP header extension of {(pos - extension) // 4} words runs past the packet",
                data[start:end],
            )
    if first & 0x20:  # P: padding, its length in the last byte
        padding = data[end - 1]
        if padding == 0 or end - padding < pos:
            raise MediaFormatError(f"RTP padding of {padding} bytes does not fit", data[start:end])
        end -= padding
    return first, second, sequence, timestamp, ssrc, extension, pos, end


def parse_rtp(data: bytes | bytearray | memoryview) -> RtpPacket:
    """Parse one RTP packet; :class:`~.errors.MediaFormatError` when it cannot be one."""
    if data.__class__ is not bytes:
        # A bytearray or a memoryview (of any item format): its bytes, so that the
        # slices below are bytes.
        data = bytes(data)
    first, second, sequence, timestamp, ssrc, extension, payload, end = rtp_span(data, 0, len(data))
    csrc_count = first & 0x0F
    csrcs: tuple[int, ...] = (
        struct.unpack_from(f">{csrc_count}I", data, RTP_HEADER_SIZE) if csrc_count else ()
    )
    profile: int | None = None
    if first & 0x10:
        profile = _EXTENSION.unpack_from(data, extension - _EXTENSION.size)[0]
    return RtpPacket(
        second & 0x7F,
        bool(second & 0x80),
        sequence,
        timestamp,
        ssrc,
        csrcs,
        profile,
        data[extension:payload] if first & 0x10 else b"",
        data[payload:end],
    )


def sequence_delta(sequence: int, expected: int) -> int:
    """Return how far ``sequence`` is ahead of ``expected`` (negative: behind), mod 2**16."""
    delta = (sequence - expected) % _SEQ_MOD
    return delta - _SEQ_MOD if delta >= _SEQ_MOD // 2 else delta


class TimestampExtender:
    """Extend 32-bit RTP timestamps to 64 bits across wrap-around.

    Each timestamp is placed nearest to the previous one (within ±2**31), so a
    stream that runs forward keeps growing through every wrap. The first
    timestamp is kept as it is.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: int | None = None

    def extend(self, timestamp: int) -> int:
        """Return ``timestamp`` (32-bit) extended relative to the previous one."""
        if self._last is None:
            extended = timestamp % _TS_MOD
        else:
            delta = (timestamp - self._last) % _TS_MOD
            if delta >= _TS_MOD // 2:
                delta -= _TS_MOD
            extended = self._last + delta
        self._last = extended
        return extended

    def reset(self) -> None:
        """Forget the previous timestamp (a new stream begins)."""
        self._last = None


__all__ = [
    "RTP_HEADER_SIZE",
    "RtpPacket",
    "RtpSpan",
    "TimestampExtender",
    "parse_rtp",
    "rtp_span",
    "sequence_delta",
]
