"""Every request of the CGI interface, built in one place.

Each builder checks its arguments against the spec (ranges from :mod:`.spec`)
and raises :class:`InvalidArgumentError` before anything can be sent; it then
returns a :class:`Request` whose query lists the parameters exactly in the
order of the spec's URL templates, fixed values exactly as written
(``PC=AS60``, ``2ND=OFF``, ``NOTIME=ON``...). Requests that carry a UID get it
at send time (:meth:`Request.target`), so a request can be retried with a new
UID after a re-login. Queries are raw strings, never dictionaries: focus and
iris send ``CTRL`` twice (``CTRL=FAR&CTRL=START``) and both must survive.
"""

from __future__ import annotations

from collections.abc import Collection
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from .errors import InvalidArgumentError
from .models import LogKind, Uid
from .recorder_time import RecorderZone, aware_to_local, format_download_time, format_timef
from .spec import (
    AUX_OUTPUTS,
    CENTERING_GRID,
    CGI_LANE,
    CGI_PREFIX,
    DOWNLOAD_MAX_SPAN_S,
    ERROR_LOG_HTML,
    EVENT_LOG_HTML,
    GETINFO_CAMERA_FILE,
    INTERNETMODE_ON,
    LOGIN_UID,
    MAX_CHANNELS,
    NOTIME_ON,
    PAN_TILT_RANGE_16,
    PAN_TILT_RANGE_256,
    PC_AS60,
    PRESET_RANGE,
    SCREEN_16X,
    SDBACKUP_OFF,
    SECOND_STREAM_OFF,
    SMOOTH_OFF,
    TIMEF_UNKNOWN,
    ZOOM_RANGE,
    Cgi,
    Lane,
)

_MAX_PORT = 65535


@dataclass(frozen=True, slots=True)
class Request:
    """One CGI request, ready to send once it has its UID.

    ``query`` is the raw query string without the UID (already encoded; the
    spec's values never need escaping). ``needs_uid`` says whether ``UID=``
    goes first, as in every template of the spec that carries one.
    """

    cgi: Cgi
    query: str
    needs_uid: bool

    @property
    def lane(self) -> Lane:
        """The pacing lane of this request."""
        return CGI_LANE[self.cgi]

    @property
    def path(self) -> str:
        """The path, without query: ``/cgi-bin/<cgi>``."""
        return f"{CGI_PREFIX}{self.cgi.value}"

    def query_string(self, uid: Uid | None = None) -> str:
        """Return the full raw query string, with ``uid`` first when the request needs one."""
        if not self.needs_uid:
            return self.query
        if uid is None:
            raise InvalidArgumentError(f"{self.cgi} needs a UID")
        return f"UID={uid.value}&{self.query}" if self.query else f"UID={uid.value}"

    def target(self, uid: Uid | None = None) -> str:
        """Return path and query as sent, e.g. ``/cgi-bin/status.cgi?UID=7888&PC=AS60``."""
        query = self.query_string(uid)
        return f"{self.path}?{query}" if query else self.path

    def describe(self) -> str:
        """Path and query for logs, the UID masked."""
        if not self.needs_uid:
            return self.target()
        return f"{self.path}?UID=***" + (f"&{self.query}" if self.query else "")


class LiveCodec(StrEnum):
    """``COMP`` of ``push.cgi``: what a live stream carries (spec 2.1.2.2, 2.2.2.2)."""

    H264 = "H264"
    H265 = "H265"
    JPEG = "JPEG"  # HTTP(S) form only: JPEG is not offered over RTP (spec 1.2)
    AUDIO = "AUDIO"  # only after a video stream on the same UID


class PtzSteps(IntEnum):
    """Speed scale of ``directctrl.cgi``: spec 4.2.1 (16 steps) or 4.2.2 (256 steps)."""

    STEPS_16 = PAN_TILT_RANGE_16
    STEPS_256 = PAN_TILT_RANGE_256


class FocusAction(StrEnum):
    """``CTRL`` of ``CMD=FOCUS`` (spec 4.2.4)."""

    FAR = "FAR"
    NEAR = "NEAR"
    AUTO = "AUTO"


class IrisAction(StrEnum):
    """``CTRL`` of ``CMD=IRIS`` (spec 4.2.5)."""

    OPEN = "OPEN"
    CLOSE = "CLOSE"
    RESET = "RESET"


class AuxAction(StrEnum):
    """``CTRL`` of ``CMD=AUXn`` (spec 4.2.8)."""

    OPEN = "OPEN"
    CLOSE = "CLOSE"


class DownloadKind(StrEnum):
    """``KIND`` of ``httpdl.cgi`` (spec 6.3.2)."""

    MP4 = "MP4"  # MP4 with audio
    MP4VO = "MP4VO"  # MP4, video only
    N3 = "N3"  # i-PRO N3R video with N3A audio
    N3VO = "N3VO"  # N3R, video only
    LIST = "LIST"  # list information (N3N file)


# -- argument checks ----------------------------------------------------------


def _integer(name: str, value: object, low: int, high: int) -> int:
    # bool is an int subclass; PAN=True would be a caller's bug, not a speed.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidArgumentError(f"{name}={value} outside {low}..{high}")
    return int(value)


def _channel(value: object) -> int:
    return _integer("channel", value, 1, MAX_CHANNELS)


def _member[E: StrEnum](enum: type[E], value: object) -> E:
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return enum(value)
    choices = ", ".join(member.value for member in enum)
    raise InvalidArgumentError(f"{value!r} is not one of {choices}")


def _instant(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgumentError(f"{name} must be timezone-aware")
    return value


def _timef(at: object) -> str:
    return format_timef(_instant("time", at))


def _timef_whole(at: object) -> str:
    """TIMEF with the 10 ms field ``00``: spec 3.2.5, 3.2.8 and 3.2.10 fix it there.

    Whole seconds are cut towards the past: the recorder's GOP then holds ``at``.
    """
    return format_timef(_instant("time", at).replace(microsecond=0))


# -- sessions (spec 6.1, 6.2) -------------------------------------------------


def login() -> Request:
    """``dlogin.cgi?UID=-1``: ask for a new UID."""
    return Request(Cgi.LOGIN, f"UID={LOGIN_UID}", needs_uid=False)


def logout() -> Request:
    """``logout.cgi?UID=<uid>``: release a UID."""
    return Request(Cgi.LOGOUT, "", needs_uid=True)


def keep_alive() -> Request:
    """``status.cgi?UID=<uid>&PC=AS60``: refresh a UID's 90 s lifetime."""
    return Request(Cgi.STATUS, f"PC={PC_AS60}", needs_uid=True)


# -- live streams (spec 2) ----------------------------------------------------


def live_setup() -> Request:
    """``hdrctl.cgi?UID&SCREEN=16X&PC=AS60``: once per UID before ``push.cgi``."""
    return Request(Cgi.HDRCTL, f"SCREEN={SCREEN_16X}&PC={PC_AS60}", needs_uid=True)


def _push(channel: int, codec: LiveCodec | str, command: str, rtp_port: int | None) -> str:
    codec = _member(LiveCodec, codec)
    query = f"CAM={_channel(channel)}&CMD={command}&COMP={codec.value}"
    if rtp_port is None:
        return query
    if codec is LiveCodec.JPEG:
        raise InvalidArgumentError("JPEG live streams are only offered over HTTP(S), not RTP")
    return f"{query}&PORT={_integer('port', rtp_port, 1, _MAX_PORT)}"


def live_start(channel: int, codec: LiveCodec | str, *, rtp_port: int | None = None) -> Request:
    """Start a live stream: over HTTP(S) (``INTERNETMODE=ON``), or RTP to ``rtp_port``.

    ``push.cgi?UID&CAM&CMD=START&COMP&INTERNETMODE=ON`` (spec 2.2.2.2) or
    ``push.cgi?UID&CAM&CMD=START&COMP&PORT`` (spec 2.1.2.2).
    """
    query = _push(channel, codec, "START", rtp_port)
    if rtp_port is None:
        query += f"&INTERNETMODE={INTERNETMODE_ON}"
    return Request(Cgi.PUSH, query, needs_uid=True)


def live_stop(channel: int, codec: LiveCodec | str, *, rtp_port: int | None = None) -> Request:
    """Stop a live stream.

    The HTTP(S) form has no ``INTERNETMODE`` (spec 2.2.1.1's sequence:
    ``push.cgi?UID&CAM&CMD=STOP&COMP``); the RTP form repeats the ``PORT``.
    """
    return Request(Cgi.PUSH, _push(channel, codec, "STOP", rtp_port), needs_uid=True)


# -- playback (spec 3) --------------------------------------------------------


def playback_channels(channels: Collection[int], *, channel_count: int) -> Request:
    """``hdrctl.cgi?UID&PC=AS60&MASK=0100...``: which channels to play back.

    One digit per channel the recorder supports (``channel_count``, the
    recorder's channel count), camera 1 leftmost.
    """
    count = _integer("channel_count", channel_count, 1, MAX_CHANNELS)
    if isinstance(channels, (str, bytes)) or not channels:
        raise InvalidArgumentError("at least one channel must be played back")
    chosen = {_integer("channel", ch, 1, count) for ch in channels}
    mask = "".join("1" if ch in chosen else "0" for ch in range(1, count + 1))
    return Request(Cgi.HDRCTL, f"PC={PC_AS60}&MASK={mask}", needs_uid=True)


def _playcmd(command: str, timef: str, tail: str = "") -> Request:
    query = f"PC={PC_AS60}&PLAYCMD={command}&2ND={SECOND_STREAM_OFF}&TIMEF={timef}{tail}"
    return Request(Cgi.HDRCTL, query, needs_uid=True)


def play() -> Request:
    """Start playback where the recorder is (spec 3.2.4): ``TIMEF=AS60_UNKNOWN``."""
    return _playcmd("PLAY", TIMEF_UNKNOWN, f"&NOTIME={NOTIME_ON}")


def reverse_play(at: datetime) -> Request:
    """Start reverse playback from ``at`` (spec 3.2.5; 10 ms field fixed ``00``)."""
    return _playcmd("BPLAY", _timef_whole(at), f"&NOTIME={NOTIME_ON}")


def pause(at: datetime) -> Request:
    """Pause at the displayed picture's time ``at`` (spec 3.2.6)."""
    return _playcmd("PAUSE", _timef(at), f"&SMOOTH={SMOOTH_OFF}&NOTIME={NOTIME_ON}")


def next_frame(at: datetime) -> Request:
    """Step to the next picture after the displayed one at ``at`` (spec 3.2.7)."""
    return _playcmd("NEXTFRAME", _timef(at), f"&NOTIME={NOTIME_ON}")


def previous_frame(at: datetime) -> Request:
    """Step to the picture before the displayed one at ``at`` (spec 3.2.7)."""
    return _playcmd("PREVFRAME", _timef(at), f"&NOTIME={NOTIME_ON}")


def go_to_date(at: datetime) -> Request:
    """Start playback at ``at`` (spec 3.2.8; 10 ms field fixed ``00``)."""
    return _playcmd("GOTODATE", _timef_whole(at), f"&SDBACKUP={SDBACKUP_OFF}&NOTIME={NOTIME_ON}")


def fast_forward(at: datetime) -> Request:
    """Fast forward from the displayed time ``at``; repeat to go faster (spec 3.2.9)."""
    return _playcmd("FF", _timef(at), f"&SMOOTH={SMOOTH_OFF}&NOTIME={NOTIME_ON}")


def fast_reverse(at: datetime) -> Request:
    """Fast reverse from the displayed time ``at``; repeat to go faster (spec 3.2.9)."""
    return _playcmd("REW", _timef(at), f"&SMOOTH={SMOOTH_OFF}&NOTIME={NOTIME_ON}")


def stop_playback(at: datetime) -> Request:
    """Stop playback (spec 3.2.10; 10 ms field fixed ``00``); the template has no ``NOTIME``."""
    return _playcmd("STOP", _timef_whole(at))


def playback_video(channel: int) -> Request:
    """``camera.cgi?UID&CAM``: the next GOP (one JPEG frame) of a playback (spec 3.2.1)."""
    return Request(Cgi.CAMERA, f"CAM={_channel(channel)}", needs_uid=True)


def playback_audio(channel: int) -> Request:
    """``playaudio.cgi?UID&CAM``: about one second of playback audio (spec 3.2.2)."""
    return Request(Cgi.PLAYAUDIO, f"CAM={_channel(channel)}", needs_uid=True)


# -- camera control (spec 4) --------------------------------------------------


def pan_tilt_zoom(
    channel: int,
    *,
    pan: int | None = None,
    tilt: int | None = None,
    zoom: int | None = None,
    steps: PtzSteps = PtzSteps.STEPS_16,
) -> Request:
    """``directctrl.cgi?UID&CH&PAN&TILT&ZOOM&PC=AS60`` (spec 4.2.1, 4.2.2).

    PAN positive turns right, TILT positive down, ZOOM positive tele; 0 stops.
    Axes left as None are omitted (the spec allows it for cameras without
    them), but at least one must be given. ``steps`` selects the 16- or
    256-step speed scale for PAN and TILT; ZOOM is always -4..4.
    """
    scale = PtzSteps(steps) if steps in (16, 256) else None
    if scale is None:
        raise InvalidArgumentError(f"steps={steps!r}, expected 16 or 256")
    axes = [
        ("PAN", pan, scale.value),
        ("TILT", tilt, scale.value),
        ("ZOOM", zoom, ZOOM_RANGE),
    ]
    parts = [f"CH={_channel(channel)}"]
    parts += [f"{name}={_integer(name, v, -lim, lim)}" for name, v, lim in axes if v is not None]
    if len(parts) == 1:
        raise InvalidArgumentError("give at least one of pan, tilt and zoom")
    parts.append(f"PC={PC_AS60}")
    return Request(Cgi.DIRECTCTRL, "&".join(parts), needs_uid=True)


def center_on(channel: int, x: int, y: int) -> Request:
    """Bring grid point (``x``, ``y``) to the picture's centre (spec 4.2.3).

    The grid is 0..32 both ways, (0, 0) at the top right and X growing to the
    left as the spec's figure draws it; the URL names the channel ``CH``
    (the table says ``CAM``: the URL's spelling is sent).
    """
    x = _integer("x", x, 0, CENTERING_GRID)
    y = _integer("y", y, 0, CENTERING_GRID)
    query = f"CH={_channel(channel)}&CMD=CENTERING&CTRL=START&X={x}&Y={y}&PC={PC_AS60}"
    return Request(Cgi.CAMCTL, query, needs_uid=True)


def focus(channel: int, action: FocusAction | str) -> Request:
    """``camctl.cgi?UID&CH&CMD=FOCUS&CTRL=<action>&CTRL=START&PC=AS60`` (spec 4.2.4)."""
    ctrl = _member(FocusAction, action).value
    query = f"CH={_channel(channel)}&CMD=FOCUS&CTRL={ctrl}&CTRL=START&PC={PC_AS60}"
    return Request(Cgi.CAMCTL, query, needs_uid=True)


def iris(channel: int, action: IrisAction | str) -> Request:
    """``camctl.cgi?UID&CH&CMD=IRIS&CTRL=<action>&CTRL=START&PC=AS60`` (spec 4.2.5)."""
    ctrl = _member(IrisAction, action).value
    query = f"CH={_channel(channel)}&CMD=IRIS&CTRL={ctrl}&CTRL=START&PC={PC_AS60}"
    return Request(Cgi.CAMCTL, query, needs_uid=True)


def store_preset(channel: int, number: int) -> Request:
    """Store the camera's position as preset ``number`` (spec 4.2.6, ``PRESETPRG``)."""
    number = _integer("preset", number, 1, PRESET_RANGE)
    query = f"CH={_channel(channel)}&CMD=PRESETPRG&NO={number}&PC={PC_AS60}"
    return Request(Cgi.CAMCTL, query, needs_uid=True)


def go_to_preset(channel: int, number: int) -> Request:
    """Move the camera to preset ``number`` (spec 4.2.7, ``PRESET``)."""
    number = _integer("preset", number, 1, PRESET_RANGE)
    query = f"CH={_channel(channel)}&CMD=PRESET&NO={number}&PC={PC_AS60}"
    return Request(Cgi.CAMCTL, query, needs_uid=True)


def aux(channel: int, output: int, action: AuxAction | str) -> Request:
    """Open or close the camera's AUX ``output`` 1..8 (spec 4.2.8)."""
    output = _integer("aux output", output, 1, AUX_OUTPUTS)
    ctrl = _member(AuxAction, action).value
    query = f"CH={_channel(channel)}&CMD=AUX{output}&CTRL={ctrl}&PC={PC_AS60}"
    return Request(Cgi.CAMCTL, query, needs_uid=True)


# -- recorder information (spec 5) --------------------------------------------


def log_list(kind: LogKind) -> Request:
    """``loglist.cgi?UID&KIND=ERR|EVENT&HTML=as_errorlog.html|as_eventlog.html`` (spec 5.1)."""
    if kind is LogKind.ERROR:
        return Request(Cgi.LOGLIST, f"KIND=ERR&HTML={ERROR_LOG_HTML}", needs_uid=True)
    if kind is LogKind.EVENT:
        return Request(Cgi.LOGLIST, f"KIND=EVENT&HTML={EVENT_LOG_HTML}", needs_uid=True)
    raise InvalidArgumentError(f"unknown log kind {kind!r}")


def error_log() -> Request:
    """The error log (spec 5.1.1)."""
    return log_list(LogKind.ERROR)


def event_log() -> Request:
    """The event log (spec 5.1.2)."""
    return log_list(LogKind.EVENT)


def recorded_time() -> Request:
    """``recordedtime.cgi``: disks and recording periods; no parameters (spec 5.2.1)."""
    return Request(Cgi.RECORDEDTIME, "", needs_uid=False)


def camera_connection_info() -> Request:
    """``as_getinfo.cgi?FILE=2``: camera connection states and UID counts (spec 5.3.1)."""
    return Request(Cgi.GETINFO, f"FILE={GETINFO_CAMERA_FILE}", needs_uid=False)


# -- download (spec 6.3) ------------------------------------------------------


def download(
    channel: int,
    start: datetime,
    end: datetime,
    kind: DownloadKind | str,
    *,
    zone: RecorderZone,
    summer_time: bool = False,
) -> Request:
    """``httpdl.cgi?UID&STARTTIME&ENDTIME&KIND&CAM&PC=AS60`` (spec 6.3.2).

    ``start`` and ``end`` are aware instants on whole minutes, ``end`` after
    ``start`` and at most one hour later. They are sent as the recorder's local
    time (see :func:`.recorder_time.format_download_time`), read in ``zone``
    with ``summer_time`` in force when ``zone`` is a standard offset.
    """
    start = _instant("start", start)
    end = _instant("end", end)
    span = end - start
    local_span = aware_to_local(end, zone=zone, summer_time=summer_time) - aware_to_local(
        start, zone=zone, summer_time=summer_time
    )
    limit = timedelta(seconds=DOWNLOAD_MAX_SPAN_S)
    if not timedelta(0) < span <= limit or not timedelta(0) < local_span <= limit:
        raise InvalidArgumentError("a download spans more than zero and at most one hour")
    kind = _member(DownloadKind, kind)
    start_text = format_download_time(start, zone=zone, summer_time=summer_time)
    end_text = format_download_time(end, zone=zone, summer_time=summer_time)
    query = (
        f"STARTTIME={start_text}&ENDTIME={end_text}&KIND={kind.value}"
        f"&CAM={_channel(channel)}&PC={PC_AS60}"
    )
    return Request(Cgi.HTTPDL, query, needs_uid=True)
