"""H.264 RTP payloads (RFC 6184, non-interleaved mode) into access units.

Single NAL unit packets (types 1-23), STAP-A aggregation (24) and FU-A
fragmentation (28) are reassembled; STAP-B, MTAP and FU-B (interleaved mode,
25-27 and 29) are not used by the recorder and spoil the picture they are in.
See :mod:`.depacketizer` for loss handling.
"""

from __future__ import annotations

from typing import ClassVar, Final

from .access_unit import H264_AUD, H264_PPS, H264_SPS, VideoCodec
from .depacketizer import VideoDepacketizer
from .errors import MediaFormatError

STAP_A: Final = 24
FU_A: Final = 28
_INTERLEAVED: Final = frozenset({25, 26, 27, 29})
_SIZE_BYTES: Final = 2


def _nal_type(header: int) -> int:
    return header & 0x1F


class H264Depacketizer(VideoDepacketizer):
    """RFC 6184 depacketizer; feed packets with :meth:`push`."""

    codec: ClassVar[VideoCodec] = VideoCodec.H264
    _PARAMETER_SET_TYPES: ClassVar[dict[int, str]] = {H264_SPS: "sps", H264_PPS: "pps"}

    def _starts_access_unit(self, payload: bytes) -> bool:
        if not payload:
            return False
        kind = _nal_type(payload[0])
        if kind == STAP_A and len(payload) > 1 + _SIZE_BYTES:
            kind = _nal_type(payload[1 + _SIZE_BYTES])
        return kind == H264_AUD

    def _unpack(self, payload: bytes) -> None:
        if not payload:
            raise MediaFormatError("H.264: empty RTP payload")
        header = payload[0]
        if header & 0x80:
            raise MediaFormatError("H.264: forbidden_zero_bit set", payload)
        kind = _nal_type(header)
        if 1 <= kind <= 23:
            self._abandon_fragment()
            self._add_nal(payload)
        elif kind == STAP_A:
            self._abandon_fragment()
            self._unpack_aggregate(payload)
        elif kind == FU_A:
            if len(payload) < 3:
                raise MediaFormatError("H.264: FU-A packet without data", payload)
            fu_header = payload[1]
            nal_type = _nal_type(fu_header)
            data = payload[2:]
            if fu_header & 0x80:  # S: the first fragment rebuilds the NAL header
                self._start_fragment(nal_type, bytes(((header & 0xE0) | nal_type,)), data)
                if fu_header & 0x40:  # S and E together (not allowed, but complete)
                    self._continue_fragment(nal_type, b"", end=True)
            else:
                self._continue_fragment(nal_type, data, end=bool(fu_header & 0x40))
        elif kind in _INTERLEAVED:
            self._unsupported()
        # Types 0, 30 and 31 are undefined: ignored (RFC 6184 5.2).

    def _unpack_aggregate(self, payload: bytes) -> None:
        pos = 1
        end = len(payload)
        if pos >= end:
            raise MediaFormatError("H.264: empty STAP-A", payload)
        while pos < end:
            if end - pos < _SIZE_BYTES:
                raise MediaFormatError("H.264: STAP-A size field cut short", payload)
            size = int.from_bytes(payload[pos : pos + _SIZE_BYTES])
            pos += _SIZE_BYTES
            if size == 0 or pos + size > end:
                raise MediaFormatError(f"H.264: STAP-A unit of {size} bytes does not fit", payload)
            self._add_nal(payload[pos : pos + size])
            pos += size


__all__ = ["H264Depacketizer"]
