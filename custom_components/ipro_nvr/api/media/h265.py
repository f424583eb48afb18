"""H.265 RTP payloads (RFC 7798, without DONL) into access units.

Single NAL unit packets (types 0-47), aggregation packets (AP, 48) and
fragmentation units (FU, 49) are reassembled; PACI packets (50) are not used by
the recorder and spoil the picture they are in; types 51-63 are ignored.
The recorder signals no ``sprop-max-don-diff``, so no DONL/DOND fields are
expected. See :mod:`.depacketizer` for loss handling.
"""

from __future__ import annotations

from typing import ClassVar, Final

from .access_unit import H265_AUD, H265_PPS, H265_SPS, H265_VPS, VideoCodec
from .depacketizer import VideoDepacketizer
from .errors import MediaFormatError

AGGREGATION_PACKET: Final = 48
FRAGMENTATION_UNIT: Final = 49
PACI: Final = 50
_PAYLOAD_HEADER: Final = 2
_SIZE_BYTES: Final = 2


def _nal_type(first_header_byte: int) -> int:
    return (first_header_byte >> 1) & 0x3F


class H265Depacketizer(VideoDepacketizer):
    """RFC 7798 depacketizer; feed packets with :meth:`push`."""

    codec: ClassVar[VideoCodec] = VideoCodec.H265
    _PARAMETER_SET_TYPES: ClassVar[dict[int, str]] = {
        H265_VPS: "vps",
        H265_SPS: "sps",
        H265_PPS: "pps",
    }

    def _starts_access_unit(self, payload: bytes) -> bool:
        if len(payload) < _PAYLOAD_HEADER:
            return False
        kind = _nal_type(payload[0])
        first_unit = _PAYLOAD_HEADER + _SIZE_BYTES
        if kind == AGGREGATION_PACKET and len(payload) > first_unit:
            kind = _nal_type(payload[first_unit])
        return kind == H265_AUD

    def _unpack(self, payload: bytes) -> None:
        if len(payload) < _PAYLOAD_HEADER:
            raise MediaFormatError("H.265: RTP payload shorter than its header", payload)
        first = payload[0]
        if first & 0x80:
            raise MediaFormatError("H.265: forbidden_zero_bit set", payload)
        kind = _nal_type(first)
        if kind < AGGREGATION_PACKET:
            self._abandon_fragment()
            self._add_nal(payload)
        elif kind == AGGREGATION_PACKET:
            self._abandon_fragment()
            self._unpack_aggregate(payload)
        elif kind == FRAGMENTATION_UNIT:
            if len(payload) < _PAYLOAD_HEADER + 2:
                raise MediaFormatError("H.265: FU packet without data", payload)
            fu_header = payload[_PAYLOAD_HEADER]
            nal_type = fu_header & 0x3F
            data = payload[_PAYLOAD_HEADER + 1 :]
            if fu_header & 0x80:  # S: rebuild the NAL header from the payload header
                header = bytes(((first & 0x81) | (nal_type << 1), payload[1]))
                self._start_fragment(nal_type, header, data)
                if fu_header & 0x40:
                    self._continue_fragment(nal_type, b"", end=True)
            else:
                self._continue_fragment(nal_type, data, end=bool(fu_header & 0x40))
        elif kind == PACI:
            self._unsupported()
        # Types 51-63 are unspecified: ignored (RFC 7798 4.4).

    def _unpack_aggregate(self, payload: bytes) -> None:
        pos = _PAYLOAD_HEADER
        end = len(payload)
        if pos >= end:
            raise MediaFormatError("H.265: empty aggregation packet", payload)
        while pos < end:
            if end - pos < _SIZE_BYTES:
                raise MediaFormatError("H.265: AP size field cut short", payload)
            size = int.from_bytes(payload[pos : pos + _SIZE_BYTES])
            pos += _SIZE_BYTES
            if size < _PAYLOAD_HEADER or pos + size > end:
                raise MediaFormatError(f"H.265: AP unit of {size} bytes does not fit", payload)
            self._add_nal(payload[pos : pos + size])
            pos += size


__all__ = ["H265Depacketizer"]
