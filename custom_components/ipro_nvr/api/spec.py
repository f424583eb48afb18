"""Constants taken from the i-PRO NVR CGI interface specification v1.5R1.

This module is the single home of every number and fixed string the spec
prescribes. The client and the simulator both import it (and nothing else from
each other), so a protocol constant can never drift between them, while the
parsing logic stays separate so that a shared bug cannot hide from the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
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
    """Pacing class of a request (spec 1.3, NOTES "Pacing")."""

    # Control and information commands: at least COMMAND_INTERVAL apart.
    COMMAND = "command"
    # PTZ, focus, iris, presets, AUX: about CAMERA_CONTROL_INTERVAL apart.
    CAMERA_CONTROL = "camera_control"
    # Requests that fetch stream data (playback GOPs, audio, downloads) and the
    # long-lived live body itself are not paced: the recorder expects them back to back.
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
    Cgi.HTTPDL: Lane.STREAM,
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
