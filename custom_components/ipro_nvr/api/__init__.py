"""Client of the i-PRO network video recorder CGI interface (v1.5R1).

Free of Home Assistant: this package could be published on its own.
"""

from __future__ import annotations

from .client import DOWNLOAD_UID_WAIT, NvrClient
from .connections import CameraConnections
from .download import DirectorySink, DownloadedFile, DownloadSink, sanitize_file_name
from .errors import (
    AuthenticationError,
    CannotConnectError,
    ClientClosedError,
    CodecNotCompatibleError,
    DownloadBusyError,
    DownloadInterruptedError,
    InvalidArgumentError,
    MalformedResponseError,
    NoRecordingError,
    NotSupportedError,
    NvrError,
    NvrTimeoutError,
    RecorderBusyError,
    RecorderFullError,
    UidBudgetExhaustedError,
    UidCommandNotSupportedError,
    UidError,
)
from .feeds import JpegFeed, LastPictures, VideoFeed
from .log_events import LogEventMeaning, LogEventType, classify_log_text
from .media import (
    AccessUnit,
    AudioCodec,
    JpegFrame,
    MediaFormatError,
    TimedAudio,
    VideoCodec,
    aac_audio_specific_config,
    join_annexb,
)
from .models import (
    CameraStatus,
    ChannelState,
    Disk,
    LogEntry,
    LogKind,
    LogList,
    RecordedTime,
    Uid,
)
from .parsers import parse_recorded_time
from .picture_info import PictureInfo
from .playback import PlaybackFrame, PlaybackMode, PlaybackSession
from .recorder_time import RecorderZone, aware_to_local, local_to_aware
from .scheduler import Deadline, Priority, Scheduler
from .session import Lease, UidPurpose
from .spec import (
    AUX_OUTPUTS,
    CENTERING_GRID,
    DOWNLOAD_MAX_SPAN_S,
    MAX_CHANNELS,
    PAN_TILT_RANGE_16,
    PAN_TILT_RANGE_256,
    PRESET_RANGE,
    SPEC_PACING,
    ZOOM_RANGE,
    PacingPolicy,
    RecorderStatus,
)
from .udp_live import UdpSettings
from .urls import (
    AuxAction,
    DownloadKind,
    FocusAction,
    IrisAction,
    LiveCodec,
    PtzSteps,
    Request,
)

__all__ = [
    "AUX_OUTPUTS",
    "CENTERING_GRID",
    "DOWNLOAD_MAX_SPAN_S",
    "DOWNLOAD_UID_WAIT",
    "MAX_CHANNELS",
    "PAN_TILT_RANGE_16",
    "PAN_TILT_RANGE_256",
    "PRESET_RANGE",
    "SPEC_PACING",
    "ZOOM_RANGE",
    "AccessUnit",
    "AudioCodec",
    "AuthenticationError",
    "AuxAction",
    "CameraConnections",
    "CameraStatus",
    "CannotConnectError",
    "ChannelState",
    "ClientClosedError",
    "CodecNotCompatibleError",
    "Deadline",
    "DirectorySink",
    "Disk",
    "DownloadBusyError",
    "DownloadInterruptedError",
    "DownloadKind",
    "DownloadSink",
    "DownloadedFile",
    "FocusAction",
    "InvalidArgumentError",
    "IrisAction",
    "JpegFeed",
    "JpegFrame",
    "LastPictures",
    "Lease",
    "LiveCodec",
    "LogEntry",
    "LogEventMeaning",
    "LogEventType",
    "LogKind",
    "LogList",
    "MalformedResponseError",
    "MediaFormatError",
    "NoRecordingError",
    "NotSupportedError",
    "NvrClient",
    "NvrError",
    "NvrTimeoutError",
    "PacingPolicy",
    "PictureInfo",
    "PlaybackFrame",
    "PlaybackMode",
    "PlaybackSession",
    "Priority",
    "PtzSteps",
    "RecordedTime",
    "RecorderBusyError",
    "RecorderFullError",
    "RecorderStatus",
    "RecorderZone",
    "Request",
    "Scheduler",
    "TimedAudio",
    "UdpSettings",
    "Uid",
    "UidBudgetExhaustedError",
    "UidCommandNotSupportedError",
    "UidError",
    "UidPurpose",
    "VideoCodec",
    "VideoFeed",
    "aac_audio_specific_config",
    "aware_to_local",
    "classify_log_text",
    "join_annexb",
    "local_to_aware",
    "parse_recorded_time",
    "sanitize_file_name",
]
