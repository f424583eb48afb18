"""RTP packets (RFC 3550) as the recorder sends them inside the live multipart body.

Spec 2.3.1 (2): version 2, payload type 98 (H.264) or 101 (H.265), marker on the
last packet of a picture, sequence number +1 per packet, 90 kHz timestamp. When
X is set, a header extension follows the CSRC list: a 16-bit profile field, a
16-bit length in 32-bit words, then recorder-information TLVs (spec 7).
"""

from __future__ import annotations

from dataclasses import dataclass
import struct
from typing import Final

from custom_components.ipro_nvr.api.spec import RTP_VERSION

from .errors import MediaFormatError

RTP_HEADER_SIZE: Final = 12
_HEADER = struct.Struct(">BBHII")
_EXTENSION = struct.Struct(">HH")
_SEQ_MOD: Final = 1 << 16
_TS_MOD: Final = 1 << 32


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One parsed RTP packet.

    ``extension`` is the header-extension data after its 4-byte header (empty
    when X is clear; ``extension_profile`` is then None); ``payload`` excludes
    any padding.
    """

    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    csrcs: tuple[int, ...]
    extension_profile: int | None
    extension: bytes
    payload: bytes


def parse_rtp(data: bytes | bytearray | memoryview) -> RtpPacket:
    """Parse one RTP packet; :class:`~.errors.MediaFormatError` when it cannot be one."""
    view = memoryview(data).cast("B")
    size = len(view)
    if size < RTP_HEADER_SIZE:
        raise MediaFormatError(f"RTP packet of {size} bytes is shorter than its header", view)
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(view)
    if first >> 6 != RTP_VERSION:
        raise MediaFormatError(f"RTP version {first >> 6}, expected {RTP_VERSION}", view)
    padded = bool(first & 0x20)
    has_extension = bool(first & 0x10)
    csrc_count = first & 0x0F
    pos = RTP_HEADER_SIZE + 4 * csrc_count
    if pos > size:
        raise MediaFormatError(f"RTP packet too short for {csrc_count} CSRCs", view)
    csrcs = struct.unpack_from(f">{csrc_count}I", view, RTP_HEADER_SIZE) if csrc_count else ()
    profile: int | None = None
    extension = b""
    if has_extension:
        if pos + _EXTENSION.size > size:
            raise MediaFormatError("RTP packet too short for its header extension", view)
        profile, words = _EXTENSION.unpack_from(view, pos)
        start = pos + _EXTENSION.size
        pos = start + 4 * words
        if pos > size:
            raise MediaFormatError(
                f"RTP header extension of {words} words runs past the packet", view
            )
        extension = bytes(view[start:pos])
    end = size
    if padded:
        padding = view[size - 1]
        if padding == 0 or size - padding < pos:
            raise MediaFormatError(f"RTP padding of {padding} bytes does not fit", view)
        end = size - padding
    return RtpPacket(
        payload_type=second & 0x7F,
        marker=bool(second & 0x80),
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        csrcs=tuple(csrcs),
        extension_profile=profile,
        extension=extension,
        payload=bytes(view[pos:end]),
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


__all__ = ["RTP_HEADER_SIZE", "RtpPacket", "TimestampExtender", "parse_rtp", "sequence_delta"]
