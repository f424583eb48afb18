"""H.265 RTP payloads (RFC 7798, without DONL) into access units.

Single NAL unit packets (types 0-47), aggregation packets (AP, 48) and
fragmentation units (FU, 49) are reassembled; PACI packets (50) are not used by
the recorder and spoil the picture they are in; types 51-63 are ignored.
The recorder signals no ``sprop-max-don-diff``, so no DONL/DOND fields are
expected. See :mod:`.depacketizer` for loss handling.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Final

from .access_unit import (
    H265_AUD,
    H265_IRAP_FIRST,
    H265_IRAP_LAST,
    H265_PPS,
    H265_SPS,
    H265_VPS,
    VideoCodec,
)
from .depacketizer import VideoDepacketizer
from .errors import MediaFormatError

AGGREGATION_PACKET: Final = 48
FRAGMENTATION_UNIT: Final = 49
PACI: Final = 50
_PAYLOAD_HEADER: Final = 2
_SIZE_BYTES: Final = 2


type _Buffer = bytes | bytearray | memoryview


def _nal_type(first_header_byte: int) -> int:
    return (first_header_byte >> 1) & 0x3F


class H265Depacketizer(VideoDepacketizer):
    """RFC 7798 depacketizer; feed packets with :meth:`push` (or :meth:`take`)."""

    codec: ClassVar[VideoCodec] = VideoCodec.H265
    _PARAMETER_SET_TYPES: ClassVar[dict[int, str]] = {
        H265_VPS: "vps",
        H265_SPS: "sps",
        H265_PPS: "pps",
    }
    _KEYFRAME_TYPES: ClassVar[frozenset[int]] = frozenset(
        range(H265_IRAP_FIRST, H265_IRAP_LAST + 1)
    )

    _FU_MASK: ClassVar[int] = 0xFE
    _FU_ID: ClassVar[int] = FRAGMENTATION_UNIT << 1
    _FU_HEADER_AT: ClassVar[int] = _PAYLOAD_HEADER
    _FU_TYPE_MASK: ClassVar[int] = 0x3F
    _AGGREGATE_ID: ClassVar[int] = AGGREGATION_PACKET << 1
    _SINGLE_TYPES: ClassVar[frozenset[int]] = frozenset(range(AGGREGATION_PACKET))

    @staticmethod
    def _nal_type(first: int) -> int:
        return _nal_type(first)

    def _fragment_header(self, data: _Buffer, start: int, nal_type: int) -> bytes:
        # The payload header's F bit, layer id and temporal id, with the FU's type.
        return bytes(((data[start] & 0x81) | (nal_type << 1), data[start + 1]))

    def _starts_access_unit(self, data: _Buffer, start: int, end: int) -> bool:
        if end - start < _PAYLOAD_HEADER:
            return False
        kind = _nal_type(data[start])
        first_unit = start + _PAYLOAD_HEADER + _SIZE_BYTES
        if kind == AGGREGATION_PACKET and end > first_unit:
            kind = _nal_type(data[first_unit])
        return kind == H265_AUD

    def _unpack(self, data: _Buffer, start: int, end: int) -> None:
        if end - start < _PAYLOAD_HEADER:
            raise MediaFormatError("H.265: RTP payload shorter than its header", data[start:end])
        first = data[start]
        if first & 0x80:
            raise MediaFormatError("H.265: forbidden_zero_bit set", data[start:end])
        kind = _nal_type(first)
        if kind == FRAGMENTATION_UNIT:  # most packets of a picture: its slices are large
            if end - start < _PAYLOAD_HEADER + 2:
                raise MediaFormatError("H.265: FU packet without data", data[start:end])
            fu_header = data[start + _PAYLOAD_HEADER]
            nal_type = fu_header & 0x3F
            if fu_header & 0x80:  # S: rebuild the NAL header from the payload header
                self._start_fragment(nal_type, data, start)
            elif self._fragment_start < 0 or nal_type != self._fragment_type:
                self._lost_fragment_start()
                return
            self._data += data[start + _PAYLOAD_HEADER + 1 : end]
            if fu_header & 0x40:  # E (with S too: not allowed, but complete)
                self._end_fragment()
        elif kind < AGGREGATION_PACKET:
            self._add_nal(kind, data, start, end)
        elif kind == AGGREGATION_PACKET:
            self._abandon_fragment()
            for nal_type, unit_start, unit_end in self._aggregate_units(data, start, end):
                self._add_nal(nal_type, data, unit_start, unit_end)
        elif kind == PACI:
            self._unsupported()
        # Types 51-63 are unspecified: ignored (RFC 7798 4.4).

    def _aggregate_units(
        self, data: _Buffer, start: int, end: int
    ) -> Iterator[tuple[int, int, int]]:
        pos = start + _PAYLOAD_HEADER
        if pos >= end:
            raise MediaFormatError("H.265: empty aggregation packet", data[start:end])
        while pos < end:
            if end - pos < _SIZE_BYTES:
                raise MediaFormatError("H.265: AP size field cut short", data[start:end])
            size = data[pos] << 8 | data[pos + 1]
            pos += _SIZE_BYTES
            if size < _PAYLOAD_HEADER or pos + size > end:
                raise MediaFormatError(
                    f"H.265: AP unit of {size} bytes does not fit", data[start:end]
                )
            yield _nal_type(data[pos]), pos, pos + size
            pos += size


__all__ = ["H265Depacketizer"]
