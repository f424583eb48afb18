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
from .audio import (
    AudioCodec,
    AudioFrame,
    TimedAudio,
    aac_audio_specific_config,
    parse_audio_part,
)
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
from .playback_audio import (
    PlaybackAudio,
    PlaybackAudioParser,
    parse_playback_audio,
    read_playback_audio,
)
from .playback_container import (
    ContainerCodec,
    GopInfo,
    PlaybackGop,
    PlaybackPicture,
    PlaybackVideoParser,
    PlaybackVideoStats,
    iter_playback_video,
    parse_playback_video,
)
from .playback_time import RecordedTime
from .rtp import RtpPacket, TimestampExtender, parse_rtp
from .tlv import PlaybackState, RecorderInfo, parse_recorder_info, playback_state

__all__ = [
    "AccessUnit",
    "AudioCodec",
    "AudioFrame",
    "ContainerCodec",
    "DepacketizerStats",
    "GopInfo",
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
    "PlaybackAudio",
    "PlaybackAudioParser",
    "PlaybackGop",
    "PlaybackPicture",
    "PlaybackState",
    "PlaybackVideoParser",
    "PlaybackVideoStats",
    "RecordedTime",
    "RecorderInfo",
    "RtpPacket",
    "TimedAudio",
    "TimestampExtender",
    "VideoCodec",
    "VideoDepacketizer",
    "aac_audio_specific_config",
    "boundary_from_content_type",
    "iter_live",
    "iter_live_body",
    "iter_parts",
    "iter_playback_video",
    "join_annexb",
    "parse_audio_part",
    "parse_playback_audio",
    "parse_playback_video",
    "parse_recorder_info",
    "parse_rtp",
    "playback_state",
    "read_playback_audio",
    "split_annexb",
    "strip_vendor_blocks",
]
