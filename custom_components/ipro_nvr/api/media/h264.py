"""H.264 RTP payloads (RFC 6184, non-interleaved mode) into access units.

Single NAL unit packets (types 1-23), STAP-A aggregation (24) and FU-A
fragmentation (28) are reassembled; STAP-B, MTAP and FU-B (interleaved mode,
25-27 and 29) are not used by the recorder and spoil the picture they are in.
See :mod:`.depacketizer` for loss handling.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Final

from .access_unit import H264_AUD, H264_IDR, H264_PPS, H264_SPS, VideoCodec
from .depacketizer import VideoDepacketizer
from .errors import MediaFormatError

STAP_A: Final = 24
FU_A: Final = 28
_INTERLEAVED: Final = frozenset({25, 26, 27, 29})
_SIZE_BYTES: Final = 2


type _Buffer = bytes | bytearray | memoryview


class H264Depacketizer(VideoDepacketizer):
    """RFC 6184 depacketizer; feed packets with :meth:`push` (or :meth:`take`)."""

    codec: ClassVar[VideoCodec] = VideoCodec.H264
    _PARAMETER_SET_TYPES: ClassVar[dict[int, str]] = {H264_SPS: "sps", H264_PPS: "pps"}
    _KEYFRAME_TYPES: ClassVar[frozenset[int]] = frozenset({H264_IDR})
    _FU_MASK: ClassVar[int] = 0x9F
    _FU_ID: ClassVar[int] = FU_A
    _FU_HEADER_AT: ClassVar[int] = 1
    _FU_TYPE_MASK: ClassVar[int] = 0x1F
    _AGGREGATE_ID: ClassVar[int] = STAP_A
    _SINGLE_TYPES: ClassVar[frozenset[int]] = frozenset(range(1, 24))

    @staticmethod
    def _nal_type(first: int) -> int:
        return first & 0x1F

    def _fragment_header(self, data: _Buffer, start: int, nal_type: int) -> bytes:
        return bytes(((data[start] & 0xE0) | nal_type,))  # F and NRI of the FU indicator

    def _starts_access_unit(self, data: _Buffer, start: int, end: int) -> bool:
        if start >= end:
            return False
        kind = data[start] & 0x1F
        if kind == STAP_A and end - start > 1 + _SIZE_BYTES:
            kind = data[start + 1 + _SIZE_BYTES] & 0x1F
        return kind == H264_AUD

    def _unpack(self, data: _Buffer, start: int, end: int) -> None:
        if start >= end:
            raise MediaFormatError("H.264: empty RTP payload")
        header = data[start]
        if header & 0x80:
            raise MediaFormatError("H.264: forbidden_zero_bit set", data[start:end])
        kind = header & 0x1F
        if kind == FU_A:  # most packets of a picture: its slices are large
            if end - start < 3:
                raise MediaFormatError("H.264: FU-A packet without data", data[start:end])
            fu_header = data[start + 1]
            nal_type = fu_header & 0x1F
            if fu_header & 0x80:  # S: the first fragment rebuilds the NAL header
                self._start_fragment(nal_type, data, start)
            elif self._fragment_start < 0 or nal_type != self._fragment_type:
                self._lost_fragment_start()
                return
            self._data += data[start + 2 : end]
            if fu_header & 0x40:  # E (with S too: not allowed, but complete)
                self._end_fragment()
        elif 1 <= kind <= 23:
            self._add_nal(kind, data, start, end)
        elif kind == STAP_A:
            self._abandon_fragment()
            for nal_type, unit_start, unit_end in self._aggregate_units(data, start, end):
                self._add_nal(nal_type, data, unit_start, unit_end)
        elif kind in _INTERLEAVED:
            self._unsupported()
        # Types 0, 30 and 31 are undefined: ignored (RFC 6184 5.2).

    def _aggregate_units(
        self, data: _Buffer, start: int, end: int
    ) -> Iterator[tuple[int, int, int]]:
        pos = start + 1
        if pos >= end:
            raise MediaFormatError("H.264: empty STAP-A", data[start:end])
        while pos < end:
            if end - pos < _SIZE_BYTES:
                raise MediaFormatError("H.264: STAP-A size field cut short", data[start:end])
            size = data[pos] << 8 | data[pos + 1]
            pos += _SIZE_BYTES
            if size == 0 or pos + size > end:
                raise MediaFormatError(
                    f"H.264: STAP-A unit of {size} bytes does not fit", data[start:end]
                )
            yield data[pos] & 0x1F, pos, pos + size
            pos += size


__all__ = ["H264Depacketizer"]
