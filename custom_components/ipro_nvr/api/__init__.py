"""Client of the i-PRO network video recorder CGI interface (v1.5R1).

Free of Home Assistant: this package could be published on its own.
"""

from __future__ import annotations

from .client import NvrClient
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
    UidError,
)
from .feeds import JpegFeed, VideoFeed
from .media import TimedAudio
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
from .scheduler import Priority
from .session import Lease, UidPurpose
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
    "AuthenticationError",
    "AuxAction",
    "CameraStatus",
    "CannotConnectError",
    "ChannelState",
    "ClientClosedError",
    "CodecNotCompatibleError",
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
    "Lease",
    "LiveCodec",
    "LogEntry",
    "LogKind",
    "LogList",
    "MalformedResponseError",
    "NoRecordingError",
    "NotSupportedError",
    "NvrClient",
    "NvrError",
    "NvrTimeoutError",
    "Priority",
    "PtzSteps",
    "RecordedTime",
    "RecorderBusyError",
    "RecorderFullError",
    "Request",
    "TimedAudio",
    "Uid",
    "UidBudgetExhaustedError",
    "UidError",
    "UidPurpose",
    "VideoFeed",
    "sanitize_file_name",
]
