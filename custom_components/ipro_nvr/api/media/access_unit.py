"""The one access-unit type of the live and playback paths, and Annex-B helpers.

An :class:`AccessUnit` is one coded picture as a decoder or muxer wants it:
Annex-B NAL units with 4-byte start codes, a 90 kHz timestamp extended to 64
bits (it never wraps), whether a decoder can start there, and the codec
parameter sets known at that point (the latest SPS/PPS, and VPS for H.265).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ..spec import RTP_VIDEO_CLOCK_RATE
from .tlv import RecorderInfo, parse_recorder_info
from .value_object import SlottedValue

START_CODE: Final = b"\x00\x00\x00\x01"
_SHORT_START_CODE: Final = b"\x00\x00\x01"

# NAL unit types (H.264: ITU-T H.264 table 7-1; H.265: ITU-T H.265 table 7-1).
H264_IDR: Final = 5
H264_SEI: Final = 6
H264_SPS: Final = 7
H264_PPS: Final = 8
H264_AUD: Final = 9
H265_IRAP_FIRST: Final = 16  # BLA_W_LP
H265_IRAP_LAST: Final = 23  # RSV_IRAP_VCL23
H265_VPS: Final = 32
H265_SPS: Final = 33
H265_PPS: Final = 34
H265_AUD: Final = 35


class VideoCodec(StrEnum):
    """Video coding of an access unit."""

    H264 = "h264"
    H265 = "h265"


def nal_unit_type(codec: VideoCodec, nal: bytes) -> int:
    """Return the type of a NAL unit (given without start code); -1 for an empty one."""
    if not nal:
        return -1
    if codec is VideoCodec.H264:
        return nal[0] & 0x1F
    return (nal[0] >> 1) & 0x3F


def is_keyframe_nal(codec: VideoCodec, nal_type: int) -> bool:
    """Whether a NAL unit of ``nal_type`` lets a decoder start (H.264 IDR, H.265 IRAP)."""
    if codec is VideoCodec.H264:
        return nal_type == H264_IDR
    return H265_IRAP_FIRST <= nal_type <= H265_IRAP_LAST


def join_annexb(nals: Iterable[bytes]) -> bytes:
    """Return ``nals`` as one Annex-B byte string with 4-byte start codes."""
    units = list(nals)
    return START_CODE + START_CODE.join(units) if units else b""


def split_annexb(data: bytes) -> list[bytes]:
    """Return the NAL units of an Annex-B byte string (3- or 4-byte start codes).

    Bytes before the first start code are ignored; trailing zero bytes of a NAL
    unit (the leading zero of the next 4-byte start code, or trailing_zero_8bits)
    are removed. Emulation prevention guarantees no start code inside a unit.
    """
    nals: list[bytes] = []
    start = data.find(_SHORT_START_CODE)
    while start >= 0:
        begin = start + len(_SHORT_START_CODE)
        start = data.find(_SHORT_START_CODE, begin)
        nal = data[begin:start] if start >= 0 else data[begin:]
        nal = nal.rstrip(b"\x00")
        if nal:
            nals.append(nal)
    return nals


@dataclass(frozen=True, slots=True)
class ParameterSets:
    """The latest codec parameter sets seen (NAL units without start codes)."""

    sps: bytes | None = None
    pps: bytes | None = None
    vps: bytes | None = None  # H.265 only

    @property
    def complete(self) -> bool:
        """Whether every parameter set the codec needs is known."""
        return self.sps is not None and self.pps is not None


class AccessUnit(SlottedValue):
    """One coded picture.

    ``timestamp`` counts 90 kHz ticks and is extended across the 32-bit RTP
    wrap, so it only grows along a stream; its origin is arbitrary (the first
    RTP timestamp). ``data`` is Annex-B with 4-byte start codes. ``info`` holds
    the recorder information carried with the picture, when there was any.

    A plain slotted class rather than a frozen dataclass: the live path builds
    one per picture of every camera. It is immutable by convention (``Final``
    holds mypy's callers to that) and compares, hashes and prints like the
    dataclass it replaces. The depacketizer hands over the recorder TLVs as
    ``info_tlvs`` (their structure already checked, spec 7.1): they are only
    decoded into :attr:`info` when someone reads it, as nobody does for most
    pictures of a live stream.
    """

    __slots__ = ("_info", "_info_tlvs", "codec", "data", "keyframe", "parameter_sets", "timestamp")
    __match_args__ = ("codec", "timestamp", "keyframe", "data", "parameter_sets", "info")

    codec: Final[VideoCodec]
    timestamp: Final[int]
    keyframe: Final[bool]
    data: Final[bytes]
    parameter_sets: Final[ParameterSets]

    def __init__(  # noqa: PLR0917 - positional, as the dataclass it replaces took them
        self,
        codec: VideoCodec,
        timestamp: int,
        keyframe: bool,
        data: bytes,
        parameter_sets: ParameterSets,
        info: RecorderInfo | None = None,
        *,
        info_tlvs: bytes | None = None,
    ) -> None:
        self.codec = codec
        self.timestamp = timestamp
        self.keyframe = keyframe
        self.data = data
        self.parameter_sets = parameter_sets
        self._info = info
        self._info_tlvs = info_tlvs if info is None else None

    @property
    def info(self) -> RecorderInfo | None:
        """The recorder information of the picture (spec 7.1.2), None when it had none."""
        tlvs = self._info_tlvs
        if tlvs is not None:
            self._info_tlvs = None
            # The structure was checked when the picture was assembled; only a
            # short value can remain, which the parser lists rather than raises.
            self._info = parse_recorder_info(tlvs)
        return self._info

    @property
    def carries_info(self) -> bool:
        """Whether the picture came with recorder information (without decoding it)."""
        return self._info_tlvs is not None or self._info is not None

    def with_timestamp(self, timestamp: int) -> AccessUnit:
        """The same picture at another ``timestamp`` (its information still undecoded)."""
        unit = AccessUnit(
            self.codec, timestamp, self.keyframe, self.data, self.parameter_sets, self._info
        )
        unit._info_tlvs = self._info_tlvs
        return unit

    def _fields(self) -> tuple[object, ...]:
        return (
            self.codec,
            self.timestamp,
            self.keyframe,
            self.data,
            self.parameter_sets,
            self.info,
        )

    @property
    def seconds(self) -> float:
        """``timestamp`` in seconds."""
        return self.timestamp / RTP_VIDEO_CLOCK_RATE

    @property
    def nal_units(self) -> list[bytes]:
        """The NAL units of ``data``, without start codes."""
        return split_annexb(self.data)


__all__ = [
    "START_CODE",
    "AccessUnit",
    "ParameterSets",
    "VideoCodec",
    "is_keyframe_nal",
    "join_annexb",
    "nal_unit_type",
    "split_annexb",
]
