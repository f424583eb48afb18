"""The media path of the client: live multipart, RTP, H.264/H.265, JPEG and audio.

Free of Home Assistant and of I/O: everything here parses bytes handed to it.
One :class:`AccessUnit` type serves the live and the playback paths.
"""

from __future__ import annotations

from .access_unit import (
    AccessUnit,
    ParameterSets,
    VideoCodec,
    join_annexb,
    split_annexb,
)
from .audio import AudioCodec, AudioFrame, aac_audio_specific_config, parse_audio_part
from .depacketizer import DepacketizerStats, VideoDepacketizer
from .errors import MediaFormatError, PartTooLargeError
from .h264 import H264Depacketizer
from .h265 import H265Depacketizer
from .jpeg import JpegFrame, strip_vendor_blocks
from .live import LiveDepacketizer, LiveItem, LiveStats, iter_live, iter_live_body
from .multipart import (
    MultipartReader,
    MultipartStats,
    Part,
    boundary_from_content_type,
    iter_parts,
)
from .rtp import RtpPacket, TimestampExtender, parse_rtp
from .tlv import RecorderInfo, parse_recorder_info

__all__ = [
    "AccessUnit",
    "AudioCodec",
    "AudioFrame",
    "DepacketizerStats",
    "H264Depacketizer",
    "H265Depacketizer",
    "JpegFrame",
    "LiveDepacketizer",
    "LiveItem",
    "LiveStats",
    "MediaFormatError",
    "MultipartReader",
    "MultipartStats",
    "ParameterSets",
    "Part",
    "PartTooLargeError",
    "RecorderInfo",
    "RtpPacket",
    "TimestampExtender",
    "VideoCodec",
    "VideoDepacketizer",
    "aac_audio_specific_config",
    "boundary_from_content_type",
    "iter_live",
    "iter_live_body",
    "iter_parts",
    "join_annexb",
    "parse_audio_part",
    "parse_recorder_info",
    "parse_rtp",
    "split_annexb",
    "strip_vendor_blocks",
]
