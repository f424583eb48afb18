"""Constants taken from the i-PRO NVR CGI interface specification v1.5R1.

This module is the single home of every number and fixed string the spec
prescribes. The client and the simulator both import it (and nothing else from
each other), so a protocol constant can never drift between them, while the
parsing logic stays separate so that a shared bug cannot hide from the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final

CGI_PREFIX: Final = "/cgi-bin/"

# Spec 1.3: UID lifetime and the recorder-wide UID cap.
UID_LIFETIME: Final = 90.0
MAX_UIDS: Final = 16
UID_MAX_DIGITS: Final = 19

# Spec 5.1: log lists hold at most this many entries.
LOG_CAPACITY: Final = 1000

# Spec 5.3: channel numbers run from 1 to 128 at most (model dependent).
MAX_CHANNELS: Final = 128

# Spec 4.2: ranges of camera-control arguments.
PAN_TILT_RANGE_16: Final = 16
PAN_TILT_RANGE_256: Final = 256
ZOOM_RANGE: Final = 4
CENTERING_GRID: Final = 32
PRESET_RANGE: Final = 256
AUX_OUTPUTS: Final = 8

# Spec 6.3.2: a download request spans at most one hour.
DOWNLOAD_MAX_SPAN_S: Final = 3600

# Fixed parameter values, sent exactly as written in the spec.
PC_AS60: Final = "AS60"
SCREEN_16X: Final = "16X"
TIMEF_UNKNOWN: Final = "AS60_UNKNOWN"


class Cgi(StrEnum):
    """Every CGI of the spec, by its file name under /cgi-bin/."""

    LOGIN = "dlogin.cgi"
    LOGOUT = "logout.cgi"
    STATUS = "status.cgi"
    HDRCTL = "hdrctl.cgi"
    PUSH = "push.cgi"
    CAMERA = "camera.cgi"
    PLAYAUDIO = "playaudio.cgi"
    DIRECTCTRL = "directctrl.cgi"
    CAMCTL = "camctl.cgi"
    LOGLIST = "loglist.cgi"
    RECORDEDTIME = "recordedtime.cgi"
    GETINFO = "as_getinfo.cgi"
    HTTPDL = "httpdl.cgi"


class Lane(StrEnum):
    """Pacing class of a request (spec 1.3), paced per recorder across all its UIDs."""

    # Control and information commands: at least COMMAND_INTERVAL apart.
    COMMAND = "command"
    # PTZ, focus, iris, presets, AUX: about CAMERA_CONTROL_INTERVAL apart.
    CAMERA_CONTROL = "camera_control"
    # Requests that fetch stream data (playback GOPs, audio) and the long-lived
    # live body itself are not paced: the recorder expects them back to back.
    STREAM = "stream"


# Which lane each CGI belongs to. push.cgi START/STOP and hdrctl are commands
# (they change the recorder's state); only the data fetches are exempt.
CGI_LANE: Final[dict[Cgi, Lane]] = {
    Cgi.LOGIN: Lane.COMMAND,
    Cgi.LOGOUT: Lane.COMMAND,
    Cgi.STATUS: Lane.COMMAND,
    Cgi.HDRCTL: Lane.COMMAND,
    Cgi.PUSH: Lane.COMMAND,
    Cgi.CAMERA: Lane.STREAM,
    Cgi.PLAYAUDIO: Lane.STREAM,
    Cgi.DIRECTCTRL: Lane.CAMERA_CONTROL,
    Cgi.CAMCTL: Lane.CAMERA_CONTROL,
    Cgi.LOGLIST: Lane.COMMAND,
    Cgi.RECORDEDTIME: Lane.COMMAND,
    Cgi.GETINFO: Lane.COMMAND,
    # Spec 6.3.2 calls it the "download command": each request is paced as
    # one; the file data it answers with streams unpaced.
    Cgi.HTTPDL: Lane.COMMAND,
}


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """Minimum spacing between requests of one lane, per recorder.

    The spec does not say whether the intervals apply per UID or per client;
    we apply them per recorder across all of our UIDs (the stricter reading).
    Tests and the simulator use a scaled-down copy; production uses the default.
    """

    command_interval: float = 3.0
    camera_control_interval: float = 0.2

    def interval(self, lane: Lane) -> float:
        """Return the minimum spacing for ``lane`` (0 for unpaced lanes)."""
        if lane is Lane.COMMAND:
            return self.command_interval
        if lane is Lane.CAMERA_CONTROL:
            return self.camera_control_interval
        return 0.0

    def scaled(self, factor: float) -> PacingPolicy:
        """Return a copy with every interval multiplied by ``factor``."""
        return PacingPolicy(
            command_interval=self.command_interval * factor,
            camera_control_interval=self.camera_control_interval * factor,
        )


SPEC_PACING: Final = PacingPolicy()

# -- Added for the client's URL builders (values exactly as the spec writes them) --

# Spec 1.3: streams per UID (live or playback, never both; never one camera twice).
MAX_STREAMS_PER_UID: Final = 16

# Spec 6.1.1: the UID value that asks for a new UID.
LOGIN_UID: Final = "-1"

# Spec 5.1: the fixed HTML parameter of each log list.
ERROR_LOG_HTML: Final = "as_errorlog.html"
EVENT_LOG_HTML: Final = "as_eventlog.html"

# Spec 5.3.1: FILE=2 selects the camera connection info.
GETINFO_CAMERA_FILE: Final = "2"

# Spec 2.2.2.2 and 3.2: fixed values of push.cgi and hdrctl.cgi parameters.
INTERNETMODE_ON: Final = "ON"
SECOND_STREAM_OFF: Final = "OFF"  # 2ND=OFF
NOTIME_ON: Final = "ON"
SMOOTH_OFF: Final = "OFF"
SDBACKUP_OFF: Final = "0"

# -- Live streams over HTTP(S) (spec 2.2, 2.3) and recorder information (spec 7) --

# Spec 2.3.3-2.3.7: the boundary of the endless multipart body of push.cgi.
MULTIPART_BOUNDARY: Final = "myboundary"
# Spec 2.3.3-2.3.7: the Content-type of each kind of part.
CONTENT_TYPE_VIDEO: Final = "application/octet-stream"  # one RTP packet (H.264/H.265)
CONTENT_TYPE_JPEG: Final = "image/jpeg"  # vendor blocks, then the JPEG
CONTENT_TYPE_AAC_LC: Final = "audio/48kaac-lc"
CONTENT_TYPE_G726: Final = "audio/g.726-32k"
# Spec 2.3.7: every audio part starts with this one byte before the elementary stream.
AUDIO_PART_PREFIX: Final = b"\x00"

# Spec 2.3.1 (2): RTP header fields.
RTP_VERSION: Final = 2
RTP_PAYLOAD_TYPE_AUDIO: Final = 97
RTP_PAYLOAD_TYPE_H264: Final = 98
RTP_PAYLOAD_TYPE_H265: Final = 101
RTP_VIDEO_CLOCK_RATE: Final = 90_000

# Spec 2.3.5: a JPEG part starts with blocks "FF D8 FF FE" + u16 length + TLVs.
JPEG_VENDOR_BLOCK_ID: Final = b"\xff\xd8\xff\xfe"

# Spec 7.1.2: every recorder-information TLV is u16 id, u16 length (of the whole
# TLV, header included), data.
TLV_HEADER_SIZE: Final = 4


class RecorderInfoId(IntEnum):
    """Recorder-information TLV ids (spec 7.1.1)."""

    CAMERA_CHANNEL = 0x0004
    CODEC = 0x0005
    DATA_SIZE = 0x0006
    TIME = 0x0007
    FRAME_COUNT = 0x0008
    FRAME_RATE = 0x0009  # frames per second x 10
    FRAME_TIME = 0x000A  # 10 ms ticks of TIME
    RESERVED = 0x000B
    IMAGE_PRESENT = 0x000C
    STATUS = 0x000D
    CAMERA_TIME = 0x0011
    CAMERA_FRAME_TIME = 0x0012
    START_CODE = 0x0027
    LONG_TERM_REFERENCE_P = 0x0028
    IDR_SHOW = 0x0029


class RecorderCodec(IntEnum):
    """Data of the compression-method TLV (0x0005)."""

    H264 = 3
    H265 = 4


class RecorderStatus(IntEnum):
    """First data byte of the status TLV (0x000D)."""

    UNDEFINED = 0x00
    LIVE = 0x01
    PLAYBACK = 0x02
    REVERSE_PLAYBACK = 0x03
    FAST_FORWARD = 0x04
    FAST_REVERSE = 0x05
    PAUSE = 0x06
    NEXT_IMAGE = 0x07
    PREVIOUS_IMAGE = 0x08
    DOWNLOADING = 0x41
    DOWNLOAD_COMPLETED = 0x42


# -- Playback containers (spec 3.3) --

# Spec 3.3.1.1-3.3.1.3: the chunk id that opens a playback video body (u16, then
# a u16 length); JPEG uses the 4-byte vendor-block id of spec 2.3.5 instead.
PLAYBACK_CHUNK_H264: Final = 0xFF15
PLAYBACK_CHUNK_H265: Final = 0xFF16
# Spec 3.3.1.1: every picture record opens with "0xFF06 Length=0x0044": the
# stream header, GOP information (32 bytes) and PIC information (32 bytes).
PLAYBACK_STREAM_HEADER: Final = b"\xff\x06\x00\x44"
PLAYBACK_INFO_SIZE: Final = 32  # GOP information, PIC information (each)
# Spec 3.3.1.1: "0xFF05 Num. of Padding" before the packet header.
PLAYBACK_PADDING_ID: Final = 0xFF05
PLAYBACK_PACKET_RESERVED: Final = 16  # after the u32 length of the packet header
PLAYBACK_CHUNK_RESERVED: Final = 12  # after the chunk's information TLVs
# Spec 3.3.1, 3.3.2: bodies end with zero padding to this boundary.
PLAYBACK_BODY_ALIGNMENT: Final = 4096
# Spec 3.3.1 *3, 3.3.2 *1: TZ info byte: bit 7 zone sign (1 = minus), bit 6 summer time.
PLAYBACK_TZ_MINUS: Final = 0x80
PLAYBACK_TZ_SUMMER: Final = 0x40
# Spec 3.3.2.1 / 3.3.2.2: audio header ids, the AAC-LC header block and AU entries
# (the text names the AU id both 0xFF14 and 0xFF04).
PLAYBACK_AUDIO_G7XX: Final = 0xFF03
PLAYBACK_AUDIO_AAC: Final = 0xFF13
PLAYBACK_AUDIO_AAC_BLOCK: Final = 0xFF12
PLAYBACK_AUDIO_AAC_BLOCK_LENGTH: Final = 0x003C
PLAYBACK_AUDIO_AU_IDS: Final = (0xFF14, 0xFF04)
PLAYBACK_AAC_FRAME_SAMPLES: Final = 1024
PLAYBACK_AAC_SAMPLE_RATE: Final = 48_000
PLAYBACK_NARROWBAND_RATE: Final = 8000


class PlaybackAudioCodec(IntEnum):
    """Codec byte of a G.711/G.726 playback audio header (spec 3.3.2.1 *3)."""

    G726 = 0x00
    G711 = 0x01


# -- Download (spec 6.3) --

# Spec 6.3.1: the per-part headers of the multipart download body, spelt as the
# spec's example writes them ("Satus" sic). Readers also accept the other
# spellings the spec uses or implies (X-Temp-Filename, X-RecData-Status).
DOWNLOAD_TEMP_HEADER: Final = "X-Temp-FileName"
DOWNLOAD_PREV_HEADER: Final = "X-Prev-Filename"
DOWNLOAD_STATUS_HEADER: Final = "X-RecData-Satus"
# Spec 6.3.2: STARTTIME/ENDTIME are yymmddhhmmss with the seconds fixed at 00.
DOWNLOAD_TIME_FORMAT: Final = "%y%m%d%H%M%S"


class DownloadStatus(IntEnum):
    """Values of ``X-RecData-Satus`` (spec 6.3.1)."""

    NORMAL = 0
    NO_RECORDING = 1  # no recorded data in the requested period
    CODEC_NOT_COMPATIBLE = 2  # MP4 asked of a JPEG recording
    TOO_MANY_REQUESTS = 3  # excessive concurrent processing
