"""Playback (spec 3): ``hdrctl.cgi`` MASK and PLAYCMD, ``camera.cgi`` and ``playaudio.cgi``.

The sequence (spec 3.1): ``hdrctl MASK=<one digit per channel>`` chooses the
channels, a ``PLAYCMD`` sets what the recorder does, and every ``camera.cgi``
answers one GOP (one picture for a JPEG camera) in the container of spec 3.3.1,
every ``playaudio.cgi`` about one second of audio (spec 3.3.2). Pictures come
from the recordings (:mod:`.recordings`): frame ``n`` of a channel was taken at
2000-01-01 UTC + ``n / fps``, over the disks' recorded ranges.

What each PLAYCMD does here (the simulator's reading of spec 3.1, 3.2):

* ``PLAY`` (``TIMEF=AS60_UNKNOWN``): play on from where the UID's playback is,
  else from a minute before the newest recording (the spec does not say;
  a recorder switching from live to playback shows the recent past); each
  ``camera.cgi`` gives the next GOP;
* ``GOTODATE``: play from the GOP holding TIMEF; ``BPLAY``: from there backwards,
  each ``camera.cgi`` giving the GOP before (descending time);
* ``PAUSE``: ``camera.cgi`` gives the GOP holding TIMEF, again and again;
  ``NEXTFRAME``/``PREVFRAME``: the same for the picture after/before TIMEF (the
  client steps through a GOP itself and asks for the next at its end);
* ``FF``/``REW``: each repeat raises the speed step (1-8); each ``camera.cgi``
  skips that many GOPs forwards/backwards;
* ``STOP``: playback ends on the UID (``camera.cgi`` answers 409).

The status TLV (0x000D) of every body carries the state and the speed step.
TIMEF is UTC ``yymmddhhmmssff``; ``ff`` must be ``00`` for BPLAY, GOTODATE and
STOP (spec 3.2.5, 3.2.8, 3.2.10), while PAUSE, NEXTFRAME, PREVFRAME, FF and REW
take the displayed picture's 10 ms. Fixed parameters are checked as written.
A UID with live streams cannot start playback (spec 1.3: 409); positions are
kept within the recordings (404 when the channel has none).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
import datetime as dt
import functools
import math
from typing import TYPE_CHECKING, Final

from aiohttp import web

from custom_components.ipro_nvr.api.spec import (
    NOTIME_ON,
    PC_AS60,
    SDBACKUP_OFF,
    SECOND_STREAM_OFF,
    SMOOTH_OFF,
    TIMEF_UNKNOWN,
    Cgi,
    PlaybackAudioCodec,
    RecorderStatus,
)

from .live import hdrctl as live_hdrctl
from .playback_container import (
    JPEG,
    RECORDING_EPOCH,
    RecordedPicture,
    Zone,
    aac_audio_container,
    frame_time,
    g7xx_audio_container,
    video_container,
)
from .query import BadRequestError
from .responses import error_response, text_response
from .texts import ACK_BODY
from .video import (
    AAC,
    AAC_FRAME_SAMPLES,
    AUDIO_CODECS,
    G726,
    VideoFormat,
    cached_audio_clip,
    cached_jpeg_clip,
    cached_narrowband_clip,
    cached_video_clip,
)

if TYPE_CHECKING:
    from .context import CgiContext
    from .simulator import Simulator

_CONTENT_TYPE: Final = "application/octet-stream"
_MAX_SPEED: Final = 8
_KEPT_RECORDS: Final = 256
_TIMEF_DIGITS: Final = 14
_DEFAULT_LOOKBACK_S: Final = 60
# Which PLAYCMD sets which status, and its fixed parameters besides PC, 2ND, TIMEF.
_COMMANDS: Final[dict[str, tuple[RecorderStatus, tuple[tuple[str, str], ...]]]] = {
    "PLAY": (RecorderStatus.PLAYBACK, (("NOTIME", NOTIME_ON),)),
    "GOTODATE": (RecorderStatus.PLAYBACK, (("SDBACKUP", SDBACKUP_OFF), ("NOTIME", NOTIME_ON))),
    "BPLAY": (RecorderStatus.REVERSE_PLAYBACK, (("NOTIME", NOTIME_ON),)),
    "PAUSE": (RecorderStatus.PAUSE, (("SMOOTH", SMOOTH_OFF), ("NOTIME", NOTIME_ON))),
    "NEXTFRAME": (RecorderStatus.NEXT_IMAGE, (("NOTIME", NOTIME_ON),)),
    "PREVFRAME": (RecorderStatus.PREVIOUS_IMAGE, (("NOTIME", NOTIME_ON),)),
    "FF": (RecorderStatus.FAST_FORWARD, (("SMOOTH", SMOOTH_OFF), ("NOTIME", NOTIME_ON))),
    "REW": (RecorderStatus.FAST_REVERSE, (("SMOOTH", SMOOTH_OFF), ("NOTIME", NOTIME_ON))),
    "STOP": (RecorderStatus.UNDEFINED, ()),
}
# Spec 3.2.5, 3.2.8, 3.2.10: "ff: 10 Millisecond (00 Fixed value)".
_WHOLE_SECONDS: Final = frozenset({"BPLAY", "GOTODATE", "STOP"})
_STILL: Final = frozenset(
    {RecorderStatus.PAUSE, RecorderStatus.NEXT_IMAGE, RecorderStatus.PREVIOUS_IMAGE}
)


@dataclass(slots=True)
class PlaybackSession:
    """The playback of one UID."""

    uid: str
    channels: frozenset[int]
    status: RecorderStatus = RecorderStatus.UNDEFINED
    speed: int = 0
    # Where the next camera.cgi takes its GOP from (UTC), and the next audio second.
    position: dt.datetime | None = None
    audio_position: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ServedGop:
    """One ``camera.cgi`` answer (for tests): the pictures' recorded times and the state."""

    uid: str
    channel: int
    times: tuple[dt.datetime, ...]
    status: RecorderStatus
    speed: int


@dataclass(slots=True)
class PlaybackState:
    """The playbacks of one simulated recorder (``Simulator.playback``)."""

    simulator: Simulator
    sessions: dict[str, PlaybackSession] = field(default_factory=dict)
    served: deque[ServedGop] = field(default_factory=lambda: deque(maxlen=_KEPT_RECORDS))
    commands: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=_KEPT_RECORDS))

    def session(self, uid: str) -> PlaybackSession | None:
        """The playback of ``uid``, None when it has none (or the UID is gone)."""
        if uid in self.sessions and not self.simulator.uids.is_active(uid):
            del self.sessions[uid]
        return self.sessions.get(uid)

    def frame_rate(self) -> int:
        """Recorded pictures per second."""
        return self.simulator.config.live_fps

    def zone(self) -> Zone:
        """The recorder's zone, as the containers carry it."""
        config = self.simulator.config
        return Zone(config.utc_offset, config.summer_time)


def register_playback_handlers(simulator: Simulator) -> None:
    """Serve ``hdrctl.cgi`` (SCREEN=16X still goes to live), ``camera.cgi``, ``playaudio.cgi``."""
    simulator.register(Cgi.HDRCTL, hdrctl)
    simulator.register(Cgi.CAMERA, camera)
    simulator.register(Cgi.PLAYAUDIO, playaudio)


def _uid(ctx: CgiContext) -> str:
    if ctx.uid is None:  # not reached: needs_uid lets only a live UID through
        raise BadRequestError("UID missing")
    return ctx.uid


def parse_timef(value: str) -> tuple[dt.datetime, int]:
    """``yymmddhhmmssff`` (UTC) as a time and its 10 ms part; 400 when malformed."""
    if len(value) != _TIMEF_DIGITS or not value.isdigit():
        raise BadRequestError(f"TIMEF={value!r} is not yymmddhhmmssff")
    try:
        moment = dt.datetime.strptime(value[:12], "%y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadRequestError(f"TIMEF={value!r} is not a valid date and time") from None
    ticks = int(value[12:])
    return moment + dt.timedelta(milliseconds=10 * ticks), ticks


async def hdrctl(ctx: CgiContext) -> web.StreamResponse:
    """``hdrctl.cgi``: SCREEN=16X (live, spec 2.1.2.1), MASK (3.2.3) or PLAYCMD (3.2.4-3.2.10)."""
    query = ctx.query
    if query.get("SCREEN") is not None:
        return await live_hdrctl(ctx)
    query.require_fixed("PC", PC_AS60)
    uid = _uid(ctx)
    state = ctx.simulator.playback
    names = {name for name, _ in query.pairs}
    if "MASK" in names:
        extra = sorted(names - {"UID", "PC", "MASK"})
        if extra:
            raise BadRequestError(f"unexpected parameters with MASK: {', '.join(extra)}")
        return _mask(ctx, uid, query.require("MASK"))
    command = query.require("PLAYCMD")
    if command not in _COMMANDS:
        raise BadRequestError(f"PLAYCMD={command!r}, expected one of {', '.join(_COMMANDS)}")
    status, fixed = _COMMANDS[command]
    query.require_fixed("2ND", SECOND_STREAM_OFF)
    for name, value in fixed:
        query.require_fixed(name, value)
    extra = sorted(names - {"UID", "PC", "PLAYCMD", "2ND", "TIMEF"} - {n for n, _ in fixed})
    if extra:
        raise BadRequestError(f"unexpected parameters with PLAYCMD={command}: {', '.join(extra)}")
    timef = query.require("TIMEF")
    at: dt.datetime | None = None
    if command == "PLAY":
        if timef != TIMEF_UNKNOWN:
            raise BadRequestError(f"TIMEF={timef!r}, PLAY takes {TIMEF_UNKNOWN}")
    else:
        at, ticks = parse_timef(timef)
        if command in _WHOLE_SECONDS and ticks:
            raise BadRequestError(f"TIMEF={timef!r}: the 10 ms part is fixed at 00 for {command}")
    session = state.session(uid)
    if session is None:
        return error_response(409, "hdrctl.cgi MASK must come first for this UID")
    state.commands.append((uid, command))
    if command == "STOP":
        del state.sessions[uid]
        return text_response(ACK_BODY)
    _apply(state, session, command, status, at)
    return text_response(ACK_BODY)


def _mask(ctx: CgiContext, uid: str, mask: str) -> web.StreamResponse:
    simulator = ctx.simulator
    count = simulator.config.max_channels
    if len(mask) != count or set(mask) - {"0", "1"}:
        raise BadRequestError(f"MASK must be {count} digits 0/1, one per channel")
    channels = frozenset(index + 1 for index, digit in enumerate(mask) if digit == "1")
    if not channels:
        raise BadRequestError("MASK names no channel")
    if simulator.live.active(uid=uid):
        return error_response(409, "this UID streams live: stop it before playback (spec 1.3)")
    state = simulator.playback
    session = state.session(uid)
    if session is None:
        state.sessions[uid] = PlaybackSession(uid, channels)
    else:
        session.channels = channels
    state.commands.append((uid, "MASK"))
    return text_response(ACK_BODY)


def _apply(
    state: PlaybackState,
    session: PlaybackSession,
    command: str,
    status: RecorderStatus,
    at: dt.datetime | None,
) -> None:
    fps = state.frame_rate()
    if command in {"FF", "REW"}:
        session.speed = min(session.speed + 1, _MAX_SPEED) if session.status == status else 1
    else:
        session.speed = 1
    session.status = status
    if at is None:  # PLAY: on from where it is
        return
    step = dt.timedelta(seconds=1 / fps)
    if command == "NEXTFRAME":
        at += step
    elif command == "PREVFRAME":
        at -= step
    session.position = at
    session.audio_position = at


# -- camera.cgi ------------------------------------------------------------------------


def _session_for(ctx: CgiContext) -> tuple[PlaybackSession, int] | web.Response:
    simulator = ctx.simulator
    channel = ctx.query.integer("CAM", 1, simulator.config.max_channels)
    session = simulator.playback.session(_uid(ctx))
    if session is None or session.status is RecorderStatus.UNDEFINED:
        return error_response(409, "no playback on this UID: hdrctl MASK and PLAYCMD first")
    if channel not in session.channels:
        return error_response(409, f"CAM={channel} is not in this UID's MASK")
    return session, channel


def _frame_of(moment: dt.datetime, fps: int) -> int:
    """The recorded frame shown at ``moment`` (the latest taken at or before it)."""
    delta = moment - RECORDING_EPOCH
    ticks = (delta.days * 86_400 + delta.seconds) * 100 + delta.microseconds // 10_000
    frame = ticks * fps // 100
    return frame + 1 if (frame + 1) * 100 // fps <= ticks else frame


def _default_start(first: int, stop: int, fps: int) -> dt.datetime:
    """Where PLAY without a time starts: a minute before the newest recording."""
    return frame_time(max(first, stop - _DEFAULT_LOOKBACK_S * fps), fps)


def _span(ctx: CgiContext, channel: int) -> tuple[int, int]:
    recordings = ctx.simulator.recordings
    return recordings.frame_span(channel, RECORDING_EPOCH, ctx.simulator.config.wall_clock())


def _pictures(codec: str, channel: int, fmt: VideoFormat, frames: range) -> list[RecordedPicture]:
    """The recorded pictures ``frames`` of ``channel`` (blocking: may encode the clip)."""
    if codec == JPEG:
        images = cached_jpeg_clip(channel, fmt).images
        data = [images[frame % len(images)] for frame in frames]
    else:
        clip = cached_video_clip(codec, channel, fmt).pictures
        data = [clip[frame % len(clip)].annexb for frame in frames]
    return [
        RecordedPicture(item, frame_time(frame, fmt.fps))
        for item, frame in zip(data, frames, strict=True)
    ]


async def camera(ctx: CgiContext) -> web.StreamResponse:
    """``camera.cgi?UID&CAM``: one GOP (one JPEG picture) of the playback (spec 3.2.1)."""
    found = _session_for(ctx)
    if isinstance(found, web.Response):
        return found
    session, channel = found
    state = ctx.simulator.playback
    recordings = ctx.simulator.recordings
    fmt = recordings.video_format()
    first, stop = _span(ctx, channel)
    if first >= stop:
        return error_response(404, f"CAM={channel} has no recording")
    codec = recordings.codec(channel)
    position = session.position or _default_start(first, stop, fmt.fps)
    frame = min(max(_frame_of(position, fmt.fps), first), stop - 1)
    if codec == JPEG:
        frames = range(frame, frame + 1)
        size = 1
    else:
        start = max(first, frame - frame % fmt.gop)
        frames = range(start, min(stop, start + fmt.gop))
        size = fmt.gop
    pictures = await asyncio.to_thread(_pictures, codec, channel, fmt, frames)
    body = video_container(
        codec,
        channel,
        pictures,
        zone=state.zone(),
        frame_rate=fmt.fps,
        status=session.status,
        speed=session.speed,
    )
    state.served.append(
        ServedGop(
            session.uid,
            channel,
            tuple(p.time for p in pictures),
            session.status,
            session.speed,
        )
    )
    session.audio_position = pictures[0].time
    session.position = frame_time(_next_frame(session, frames, size, first, stop), fmt.fps)
    return web.Response(
        body=body, headers={"Content-Type": _CONTENT_TYPE, "Cache-Control": "no-cache"}
    )


def _next_frame(session: PlaybackSession, frames: range, size: int, first: int, stop: int) -> int:
    """Where the following camera.cgi starts: on, back, skipping, or the same GOP."""
    status = session.status
    if status in _STILL:
        frame = frames.start if size > 1 else frames[-1]
    elif status is RecorderStatus.PLAYBACK:
        frame = frames.stop
    elif status is RecorderStatus.FAST_FORWARD:
        frame = frames.stop + session.speed * size
    elif status is RecorderStatus.REVERSE_PLAYBACK:
        frame = frames.start - 1
    else:  # FAST_REVERSE
        frame = frames.start - 1 - session.speed * size
    return min(max(frame, first), stop - 1)


# -- playaudio.cgi -------------------------------------------------------------------------


async def playaudio(ctx: CgiContext) -> web.StreamResponse:
    """``playaudio.cgi?UID&CAM``: about one second of audio at the playback's position."""
    found = _session_for(ctx)
    if isinstance(found, web.Response):
        return found
    session, channel = found
    config = ctx.simulator.config
    state = ctx.simulator.playback
    first, stop = _span(ctx, channel)
    if first >= stop:
        return error_response(404, f"CAM={channel} has no recording")
    fps = state.frame_rate()
    start = session.audio_position or _default_start(first, stop, fps)
    end = start + dt.timedelta(seconds=1)
    codec = config.live_audio_codecs.get(channel, config.live_audio_codec)
    codec = codec if codec in AUDIO_CODECS else AAC
    body = await asyncio.to_thread(
        functools.partial(
            _audio_body,
            codec,
            channel,
            start,
            end,
            zone=state.zone(),
            loop=config.live_loop_seconds,
        )
    )
    if session.status not in _STILL:
        session.audio_position = end
    return web.Response(
        body=body, headers={"Content-Type": _CONTENT_TYPE, "Cache-Control": "no-cache"}
    )


def _audio_body(
    codec: str, channel: int, start: dt.datetime, end: dt.datetime, *, zone: Zone, loop: float
) -> bytes:
    seconds = (start - RECORDING_EPOCH).total_seconds()
    if codec == AAC:
        clip = cached_audio_clip(channel, loop)
        per_second = clip.sample_rate / AAC_FRAME_SAMPLES
        index = int(seconds * per_second)
        count = math.ceil(per_second)
        frames = [clip.frames[(index + n) % len(clip.frames)] for n in range(count)]
        return aac_audio_container(channel, frames, start, end, zone=zone)
    narrow = cached_narrowband_clip(codec, channel, loop)
    offset = int(seconds * narrow.bytes_per_second) % len(narrow.data)
    data = (narrow.data[offset:] + narrow.data)[: narrow.bytes_per_second]
    byte = PlaybackAudioCodec.G726 if codec == G726 else PlaybackAudioCodec.G711
    return g7xx_audio_container(channel, byte, data, start, end, zone=zone)


__all__ = [
    "PlaybackSession",
    "PlaybackState",
    "ServedGop",
    "camera",
    "hdrctl",
    "parse_timef",
    "playaudio",
    "register_playback_handlers",
]
