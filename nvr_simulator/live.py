"""Live streams over HTTP(S): ``hdrctl.cgi?SCREEN=16X`` and ``push.cgi`` (spec 2.2, 2.3).

``hdrctl.cgi?UID&SCREEN=16X&PC=AS60`` sets a UID up for live streaming; then
``push.cgi?UID&CAM&CMD=START&COMP=H264|H265|JPEG|AUDIO&INTERNETMODE=ON`` answers
an endless ``multipart/x-mixed-replace; boundary=myboundary`` body, each part
with ``Content-type`` and ``Content-Length``:

* H264/H265: one RTP packet per part (``application/octet-stream``), see
  :mod:`.rtp_packetizer`; recorder-information TLVs (channel, codec, time and
  10 ms ticks, frame count 1, frame rate x10, status live) in the header
  extension of each picture's first packet;
* JPEG: ``image/jpeg`` parts, a recorder vendor block (and a camera block),
  then the JPEG (``SimulatorConfig.live_jpeg_*``);
* AUDIO: ``audio/48kaac-lc`` parts, ``0x00`` then one raw AAC-LC frame; or,
  as ``SimulatorConfig.live_audio_codec(s)`` choose for the camera,
  ``audio/g.726-32k`` (G.726-32k, little-endian packing as in RTP),
  ``audio/g.711`` (mu-law) or ``audio/pcma`` (A-law) parts: ``0x00`` then
  ``live_audio_part_ms`` of the 8 kHz stream.

Pictures and audio frames go out in real time (``live_fps``; 1024 samples at
48 kHz, or one narrowband part every ``live_audio_part_ms``).
``push.cgi?UID&CAM&CMD=STOP&COMP=..`` (no INTERNETMODE) ends a stream.
A stream also ends, cleanly, when the simulator closes, the client goes away,
its UID expires, is released or evicted, or its camera leaves the normal state
(``disconnect_camera`` or ``channel_states[ch] = 2``); it is checked before
every picture.

Rules (spec 1.3, 2.2.2.2) and the answers where the spec is silent (the
simulator's conventions, like those in ``responses``):

* 400: a parameter missing or wrong, or ``CAM`` names no registered camera;
* 409 Conflict: no ``hdrctl SCREEN=16X`` yet on this UID; the camera already
  has a live video stream on this UID (a second START of the same camera is
  refused and the first stream goes on; one video stream, any of
  H264/H265/JPEG, plus one AUDIO stream per camera and UID); AUDIO without a
  running video stream of the same camera on the same UID; more than 16
  streams on one UID;
* ``PORT`` instead of ``INTERNETMODE=ON``: the RTP/UDP form (spec 2.1), served
  by :mod:`.live_udp` under the same rules (JPEG answers 400: not over RTP);
* 503: the camera is registered but not connected (state 2).

``STOP`` answers 200 even when no such stream runs (counted in
``LiveState.unmatched_stops``). ``LiveState.active_per_channel()`` tells how
many streams each channel is serving; ``LiveState.faults`` can cut a stream
after N parts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
import datetime as dt
from enum import StrEnum
import itertools
import random
import struct
from typing import TYPE_CHECKING, Final

from aiohttp import web

from custom_components.ipro_nvr.api.spec import (
    AUDIO_PART_PREFIX,
    CONTENT_TYPE_AAC_LC,
    CONTENT_TYPE_G726,
    CONTENT_TYPE_JPEG,
    CONTENT_TYPE_VIDEO,
    INTERNETMODE_ON,
    JPEG_VENDOR_BLOCK_ID,
    MAX_STREAMS_PER_UID,
    MULTIPART_BOUNDARY,
    PC_AS60,
    RTP_VIDEO_CLOCK_RATE,
    SCREEN_16X,
    Cgi,
    RecorderCodec,
    RecorderInfoId,
    RecorderStatus,
)

from .query import BadRequestError
from .responses import error_response, text_response
from .rtp_packetizer import RtpPacketizer
from .texts import ACK_BODY
from .video import (
    AAC,
    AAC_FRAME_SAMPLES,
    AUDIO_CODECS,
    G711,
    G711_ALAW,
    G726,
    H264,
    H265,
    AudioClip,
    JpegClip,
    NarrowbandClip,
    VideoClip,
    VideoFormat,
    audio_clip,
    jpeg_clip,
    narrowband_clip,
    video_clip,
)

if TYPE_CHECKING:
    from .config import SimulatorConfig
    from .context import CgiContext
    from .simulator import Simulator

JPEG: Final = "JPEG"
AUDIO: Final = "AUDIO"
VIDEO_COMPS: Final = frozenset({H264, H265, JPEG})
COMPS: Final = VIDEO_COMPS | {AUDIO}
LIVE_CONTENT_TYPE: Final = f"multipart/x-mixed-replace; boundary={MULTIPART_BOUNDARY}"
_HDRCTL_LIVE_PARAMS: Final = frozenset({"UID", "SCREEN", "PC"})
_DELIMITER: Final = f"--{MULTIPART_BOUNDARY}\r\n".encode("ascii")
_RECORDER_CODEC: Final = {H264: RecorderCodec.H264, H265: RecorderCodec.H265}
# The spec names the G.726 content type only; the G.711 ones are the simulator's choice.
CONTENT_TYPE_G711: Final = "audio/g.711"
CONTENT_TYPE_G711_ALAW: Final = "audio/pcma"
_NARROWBAND_CONTENT_TYPES: Final = {
    G711: CONTENT_TYPE_G711,
    G711_ALAW: CONTENT_TYPE_G711_ALAW,
    G726: CONTENT_TYPE_G726,
}


class EndReason(StrEnum):
    """Why a live stream ended."""

    STOPPED = "stopped"  # push.cgi CMD=STOP
    CLOSED = "closed"  # the simulator shut down
    CLIENT_GONE = "client_gone"  # the client closed the connection
    UID_GONE = "uid_gone"  # the UID expired, was released or evicted
    CAMERA_DISCONNECTED = "camera_disconnected"  # the channel left state 1
    DROPPED = "dropped"  # LiveFaults.drop_after_parts or LiveState.drop cut the connection


@dataclass(eq=False, slots=True)
class LiveStream:
    """One running (or ended) ``push.cgi`` stream."""

    uid: str
    channel: int
    comp: str  # H264, H265, JPEG or AUDIO
    started_at: float  # config.clock()
    stop: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    stop_reason: EndReason | None = None
    end_reason: EndReason | None = None
    # RTP over UDP (spec 2.1): the client's port; None for the HTTP(S) form.
    port: int | None = None
    parts: int = 0  # parts written (RTP packets, JPEG pictures, audio frames); datagrams over UDP
    pictures: int = 0  # video pictures (or audio frames) written

    @property
    def is_video(self) -> bool:
        """Whether this is a video stream (H264, H265 or JPEG)."""
        return self.comp in VIDEO_COMPS

    async def wait_until(self, due: float) -> None:
        """Sleep until loop time ``due`` (the next picture), or until asked to stop."""
        delay = due - asyncio.get_running_loop().time()
        if delay > 0 and not self.stop.is_set():
            try:
                async with asyncio.timeout(delay):
                    await self.stop.wait()
            except TimeoutError:
                pass
        else:
            await asyncio.sleep(0)  # behind time: still let others run

    def request_stop(self, reason: EndReason) -> None:
        """Ask the stream to end before its next picture."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop.set()


@dataclass(slots=True)
class LiveFaults:
    """Fault switches of the live streams.

    ``drop_after_parts``: the connection of a stream is closed after that many
    parts, without the end of the body (as when the recorder crashes or a
    cable is pulled), mid-GOP if you like; ``count`` limits
    this to the next N streams started (None: every one); ``applied`` counts
    the streams cut. ``refuse_audio``: every AUDIO START is answered 409, as
    for a camera without a microphone (what a real recorder answers then is
    not specified). ``refuse_jpeg``: likewise for every JPEG START (a
    recorder whose JPEG stream is unavailable), to test snapshot fallbacks.
    """

    drop_after_parts: int | None = None
    count: int | None = None
    applied: int = 0
    refuse_audio: bool = False
    refuse_jpeg: bool = False

    def take(self) -> int | None:
        """The part limit for a stream now starting (consuming ``count``)."""
        if self.drop_after_parts is None:
            return None
        if self.count is not None:
            if self.count <= 0:
                return None
            self.count -= 1
        return self.drop_after_parts

    def clear(self) -> None:
        """Turn the switches off."""
        self.drop_after_parts = None
        self.count = None
        self.refuse_audio = False
        self.refuse_jpeg = False


class LiveState:
    """The live streams of one simulated recorder (``Simulator.live``)."""

    def __init__(self, simulator: Simulator) -> None:
        self._simulator = simulator
        self._setup: set[str] = set()
        self.streams: list[LiveStream] = []
        self.ended: list[LiveStream] = []
        self.faults = LiveFaults()
        self.started_total = 0
        self.refused_total = 0
        self.unmatched_stops = 0
        # Not for security: random initial sequence numbers, timestamps and SSRCs.
        self._rng = random.Random(simulator.config.seed)  # noqa: S311

    # -- queries for tests ------------------------------------------------------

    def active(self, channel: int | None = None, uid: str | None = None) -> list[LiveStream]:
        """The running streams, optionally of one channel and/or UID."""
        return [
            s
            for s in self.streams
            if (channel is None or s.channel == channel) and (uid is None or s.uid == uid)
        ]

    def active_per_channel(self) -> dict[int, int]:
        """How many streams each channel is serving now (channels with none left out)."""
        return dict(Counter(s.channel for s in self.streams))

    def is_set_up(self, uid: str) -> bool:
        """Whether ``hdrctl SCREEN=16X`` was sent for ``uid``."""
        return uid in self._setup

    # -- control ----------------------------------------------------------------

    def setup(self, uid: str) -> None:
        """Record ``hdrctl SCREEN=16X`` for ``uid``."""
        live = set(self._simulator.uids.active())
        self._setup &= live  # forget UIDs that are gone
        self._setup.add(uid)

    def stop(self, uid: str, channel: int, comp: str) -> int:
        """End the streams of ``comp`` for ``channel`` on ``uid``; return how many."""
        matched = [s for s in self.active(channel, uid) if s.comp == comp]
        for stream in matched:
            stream.request_stop(EndReason.STOPPED)
        if not matched:
            self.unmatched_stops += 1
        return len(matched)

    def drop(self, channel: int | None = None) -> int:
        """Cut the running streams (of ``channel``) mid-body now; return how many."""
        streams = self.active(channel)
        for stream in streams:
            stream.request_stop(EndReason.DROPPED)
        return len(streams)

    def disconnect_camera(self, channel: int) -> int:
        """Put ``channel`` in connection error (state 2), ending its streams; return how many."""
        self._simulator.channel_states[channel] = 2
        streams = self.active(channel)
        for stream in streams:
            stream.request_stop(EndReason.CAMERA_DISCONNECTED)
        return len(streams)

    def close(self) -> None:
        """End every stream (the simulator is shutting down)."""
        for stream in self.streams:
            stream.request_stop(EndReason.CLOSED)

    def start(
        self, uid: str, channel: int, comp: str, now: float, *, port: int | None = None
    ) -> LiveStream | web.Response:
        """Check the rules and register a new stream, or answer why not."""
        refusal = self._refusal(uid, channel, comp)
        if refusal is not None:
            self.refused_total += 1
            return error_response(*refusal)
        stream = LiveStream(uid, channel, comp, now, port=port)
        self.streams.append(stream)
        self.started_total += 1
        return stream

    def _refusal(self, uid: str, channel: int, comp: str) -> tuple[int, str] | None:
        """The status and reason refusing a START, or None when it may go ahead."""
        state = self._simulator.channel_state(channel)
        if state == 0:
            raise BadRequestError(f"CAM={channel} has no registered camera")
        mine = self.active(uid=uid)
        same_camera = [s for s in mine if s.channel == channel]
        has_video = any(s.is_video for s in same_camera)
        checks = (
            (state != 1, 503, f"camera {channel} is not connected"),
            (uid not in self._setup, 409, "hdrctl.cgi SCREEN=16X must come first for this UID"),
            (
                comp == AUDIO and not has_video,
                409,
                f"AUDIO needs a live video stream of camera {channel}",
            ),
            (comp == AUDIO and self.faults.refuse_audio, 409, f"camera {channel} has no audio"),
            (comp == JPEG and self.faults.refuse_jpeg, 409, f"camera {channel} sends no JPEG"),
            (
                comp == AUDIO and any(s.comp == AUDIO for s in same_camera),
                409,
                f"camera {channel} already streams audio on this UID",
            ),
            (
                comp != AUDIO and has_video,
                409,
                f"camera {channel} already streams video on this UID",
            ),
            (
                len(mine) >= MAX_STREAMS_PER_UID,
                409,
                f"{MAX_STREAMS_PER_UID} streams on this UID already",
            ),
        )
        return next(((status, reason) for failed, status, reason in checks if failed), None)

    def end(self, stream: LiveStream, reason: EndReason) -> None:
        """Record why ``stream`` ended and move it to ``ended``."""
        stream.end_reason = reason
        if stream in self.streams:
            self.streams.remove(stream)
            self.ended.append(stream)

    def reason_to_end(self, stream: LiveStream) -> EndReason | None:
        """Why ``stream`` must end now, or None to go on."""
        simulator = self._simulator
        if simulator.closing.is_set():
            return EndReason.CLOSED
        if stream.stop_reason is not None:
            return stream.stop_reason
        if not simulator.uids.is_active(stream.uid):
            return EndReason.UID_GONE
        if simulator.channel_state(stream.channel) != 1:
            return EndReason.CAMERA_DISCONNECTED
        return None

    # -- serving ----------------------------------------------------------------

    async def serve(self, ctx: CgiContext, stream: LiveStream) -> web.StreamResponse:
        """Answer the endless body of ``stream`` until it must end."""
        response = web.StreamResponse(
            headers={"Content-Type": LIVE_CONTENT_TYPE, "Cache-Control": "no-cache"}
        )
        reason = EndReason.CLIENT_GONE
        try:
            # Encode (at first use only) before answering, so a failure is still a status.
            source = await self.open_source(stream)
            await response.prepare(ctx.request)
            reason = await self._pump(ctx, stream, source, response)
        except ConnectionError:
            reason = EndReason.CLIENT_GONE
        finally:
            if reason is EndReason.CLIENT_GONE and self._simulator.closing.is_set():
                reason = EndReason.CLOSED
            self.end(stream, reason)
        return response

    async def open_source(self, stream: LiveStream) -> _Source:
        """What ``stream`` sends (encoded at first use), for either transport."""
        config = self._simulator.config
        fmt = VideoFormat(
            width=config.live_width,
            height=config.live_height,
            fps=config.live_fps,
            gop_seconds=config.live_gop_seconds,
            loop_seconds=config.live_loop_seconds,
        )
        if stream.comp in (H264, H265):
            clip = await video_clip(stream.comp, stream.channel, fmt)
            return _VideoSource(self, stream, clip)
        if stream.comp == JPEG:
            return _JpegSource(self, stream, await jpeg_clip(stream.channel, fmt))
        codec = config.live_audio_codecs.get(stream.channel, config.live_audio_codec)
        if codec not in AUDIO_CODECS:
            raise ValueError(f"live audio codec {codec!r}, expected one of {sorted(AUDIO_CODECS)}")
        if codec == AAC:
            return _AudioSource(await audio_clip(stream.channel, config.live_loop_seconds))
        narrowband = await narrowband_clip(codec, stream.channel, config.live_loop_seconds)
        return _NarrowbandSource(narrowband, config.live_audio_part_ms)

    async def _pump(
        self,
        ctx: CgiContext,
        stream: LiveStream,
        source: _Source,
        response: web.StreamResponse,
    ) -> EndReason:
        loop = asyncio.get_running_loop()
        started = loop.time()
        limit = self.faults.take()
        for index in itertools.count():
            await stream.wait_until(started + index * source.interval)
            reason = self.reason_to_end(stream)
            if reason is EndReason.DROPPED and ctx.request.transport is not None:
                ctx.request.transport.close()  # mid-body, as a crash or a pulled cable
            if reason is not None:
                return reason
            parts = source.parts(index)
            if limit is not None and stream.parts + len(parts) >= limit:
                keep = max(0, limit - stream.parts)
                await response.write(b"".join(parts[:keep]))
                stream.parts += keep
                self.faults.applied += 1
                if ctx.request.transport is not None:
                    # Closed without the body's end: the client sees exactly ``limit``
                    # parts, then a broken response.
                    ctx.request.transport.close()
                return EndReason.DROPPED
            await response.write(b"".join(parts))
            stream.parts += len(parts)
            stream.pictures += 1
        raise AssertionError("unreachable")  # pragma: no cover

    # -- helpers of the sources -----------------------------------------------------

    def new_packetizer(self, codec: str) -> tuple[RtpPacketizer, int]:
        """A packetizer with this stream's first sequence number, and the first timestamp."""
        config = self._simulator.config
        sequence = config.live_initial_sequence
        timestamp = config.live_initial_timestamp
        packetizer = RtpPacketizer(
            codec=codec,
            sequence=(self._rng.randrange(1 << 16) if sequence is None else sequence) & 0xFFFF,
            ssrc=self._rng.randrange(1 << 32),
            mtu=config.live_mtu,
            aggregate=config.live_aggregate,
        )
        first = self._rng.randrange(1 << 32) if timestamp is None else timestamp
        return packetizer, first & 0xFFFFFFFF

    def recorder_tlvs(self, stream: LiveStream, when: dt.datetime, codec: str | None) -> bytes:
        """The recorder-information TLVs of one picture taken at ``when`` (spec 7.1.2)."""
        config = self._simulator.config
        fps = config.live_fps
        tlvs = [_tlv16(RecorderInfoId.CAMERA_CHANNEL, stream.channel)]
        if codec is not None:
            tlvs.append(_tlv16(RecorderInfoId.CODEC, _RECORDER_CODEC[codec]))
        tlvs += [
            _time_tlv(RecorderInfoId.TIME, when, config.utc_offset, summer=config.summer_time),
            _tlv16(RecorderInfoId.FRAME_TIME, when.microsecond // 10_000),
            _tlv16(RecorderInfoId.FRAME_COUNT, 1),
            _tlv16(RecorderInfoId.FRAME_RATE, fps * 10),
            struct.pack(">HHBBH", RecorderInfoId.STATUS, 8, RecorderStatus.LIVE, 0, 0),
        ]
        return b"".join(tlvs)

    def camera_tlvs(self, channel: int, when: dt.datetime) -> bytes:
        """The camera's own time stamp of a picture the recorder stamped ``when`` (0x0011, 0x0012).

        The camera's clock is ``SimulatorConfig.camera_clock_offsets`` away from the recorder's.
        """
        config = self._simulator.config
        when += config.camera_clock_offsets.get(channel, dt.timedelta(0))
        return _time_tlv(
            RecorderInfoId.CAMERA_TIME, when, config.utc_offset, summer=config.summer_time
        ) + _tlv16(RecorderInfoId.CAMERA_FRAME_TIME, when.microsecond // 10_000)

    def picture_time(self, index: int, start: dt.datetime) -> dt.datetime:
        """The recorder time of picture ``index`` of a stream that started at ``start``."""
        return start + dt.timedelta(seconds=index / self._simulator.config.live_fps)

    @property
    def config(self) -> SimulatorConfig:
        """The simulator's (live) configuration."""
        return self._simulator.config

    @property
    def wall_clock_now(self) -> dt.datetime:
        """The recorder's current time (UTC)."""
        return self._simulator.config.wall_clock()


def _tlv16(tlv_id: int, value: int) -> bytes:
    return struct.pack(">HHHH", tlv_id, 8, value, 0)


def _time_tlv(tlv_id: int, when: dt.datetime, utc_offset: dt.timedelta, *, summer: bool) -> bytes:
    minutes = round(utc_offset.total_seconds() / 60)
    hours, mins = divmod(abs(minutes), 60)
    seconds = int(when.timestamp())
    return struct.pack(
        ">HHIBBBB", tlv_id, 12, seconds, 1 if minutes < 0 else 0, hours, mins, 1 if summer else 0
    )


def _part(content_type: str, body: bytes) -> bytes:
    head = f"Content-type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return _DELIMITER + head.encode("ascii") + body + b"\r\n"


class _Source:
    """What a stream sends: the payloads of step ``index``, every ``interval`` seconds.

    A payload is what both transports carry: an RTP packet (video), a JPEG
    body, or audio elementary-stream data. Over HTTP each goes in one part,
    audio behind ``prefix`` (spec 2.3.7); over RTP/UDP (``live_udp``) video
    packets go out as they are and audio is put in RTP packets of
    ``samples_per_payload`` samples at ``clock_rate``.
    """

    interval: float
    content_type: str
    prefix: bytes = b""
    clock_rate: int = RTP_VIDEO_CLOCK_RATE
    samples_per_payload: int = 0

    def payloads(self, index: int) -> list[bytes]:
        raise NotImplementedError

    def parts(self, index: int) -> list[bytes]:
        """The multipart parts of step ``index`` (the HTTP form)."""
        return [_part(self.content_type, self.prefix + body) for body in self.payloads(index)]


class _VideoSource(_Source):
    content_type = CONTENT_TYPE_VIDEO

    def __init__(self, live: LiveState, stream: LiveStream, clip: VideoClip) -> None:
        self._live = live
        self._stream = stream
        self._clip = clip
        self._packetizer, self._first_timestamp = live.new_packetizer(clip.codec)
        self._start = live.wall_clock_now
        self.interval = 1 / clip.format.fps

    def payloads(self, index: int) -> list[bytes]:
        clip = self._clip
        picture = clip.pictures[index % len(clip.pictures)]
        ticks = round(index * RTP_VIDEO_CLOCK_RATE / clip.format.fps)
        when = self._live.picture_time(index, self._start)
        # Spec 7.1.1: live video carries the camera's time (0x0011/0x0012) too.
        extension = self._live.recorder_tlvs(
            self._stream, when, clip.codec
        ) + self._live.camera_tlvs(self._stream.channel, when)
        return self._packetizer.packetize(picture.nals, self._first_timestamp + ticks, extension)


class _JpegSource(_Source):
    content_type = CONTENT_TYPE_JPEG

    def __init__(self, live: LiveState, stream: LiveStream, clip: JpegClip) -> None:
        self._live = live
        self._stream = stream
        self._clip = clip
        self._start = live.wall_clock_now
        config = live.config
        self._counts_itself = config.live_jpeg_length_counts_itself
        self._camera_block = config.live_jpeg_camera_block
        self.interval = 1 / clip.format.fps

    def _block(self, tlvs: bytes) -> bytes:
        length = len(tlvs) + (2 if self._counts_itself else 0)
        return JPEG_VENDOR_BLOCK_ID + length.to_bytes(2) + tlvs

    def payloads(self, index: int) -> list[bytes]:
        image = self._clip.images[index % len(self._clip.images)]
        when = self._live.picture_time(index, self._start)
        body = self._block(self._live.recorder_tlvs(self._stream, when, None))
        if self._camera_block:
            body += self._block(self._live.camera_tlvs(self._stream.channel, when))
        return [body + image]


class _AudioSource(_Source):
    content_type = CONTENT_TYPE_AAC_LC
    prefix = AUDIO_PART_PREFIX
    samples_per_payload = AAC_FRAME_SAMPLES

    def __init__(self, clip: AudioClip) -> None:
        self._frames = clip.frames
        self.interval = AAC_FRAME_SAMPLES / clip.sample_rate
        self.clock_rate = clip.sample_rate

    def payloads(self, index: int) -> list[bytes]:
        return [self._frames[index % len(self._frames)]]


class _NarrowbandSource(_Source):
    prefix = AUDIO_PART_PREFIX

    def __init__(self, clip: NarrowbandClip, part_ms: int) -> None:
        self._data = clip.data
        self.content_type = _NARROWBAND_CONTENT_TYPES[clip.codec]
        # Whole 10 ms blocks, so that the loop holds a whole number of parts
        # (it is a whole number of 10 ms blocks) as long as it is not shorter.
        blocks = max(1, round(part_ms / 10))
        self._part_bytes = min(len(clip.data), blocks * clip.bytes_per_second // 100)
        self.interval = self._part_bytes / clip.bytes_per_second
        self.clock_rate = clip.sample_rate
        self.samples_per_payload = self._part_bytes * clip.sample_rate // clip.bytes_per_second

    def payloads(self, index: int) -> list[bytes]:
        start = index * self._part_bytes % len(self._data)
        chunk = self._data[start : start + self._part_bytes]
        if len(chunk) < self._part_bytes:  # the loop is not a whole number of parts
            chunk += self._data[: self._part_bytes - len(chunk)]
        return [chunk]


# -- handlers -------------------------------------------------------------------


def register_live_handlers(simulator: Simulator) -> None:
    """Serve ``hdrctl.cgi`` (live setup) and ``push.cgi`` (HTTP(S) live streams)."""
    simulator.register(Cgi.HDRCTL, hdrctl)
    simulator.register(Cgi.PUSH, push)


def _uid(ctx: CgiContext) -> str:
    if ctx.uid is None:  # not reached: needs_uid lets only a live UID through
        raise BadRequestError("UID missing")
    return ctx.uid


async def hdrctl(ctx: CgiContext) -> web.StreamResponse:
    """``hdrctl.cgi?UID&SCREEN=16X&PC=AS60`` (spec 2.1.2.1); the playback forms answer 501."""
    query = ctx.query
    if query.get("SCREEN") is None:
        return error_response(501, "hdrctl.cgi playback forms are not simulated yet")
    query.require_fixed("SCREEN", SCREEN_16X)
    query.require_fixed("PC", PC_AS60)
    extra = sorted({name for name, _ in query.pairs} - _HDRCTL_LIVE_PARAMS)
    if extra:
        raise BadRequestError(f"unexpected parameters with SCREEN=16X: {', '.join(extra)}")
    ctx.simulator.live.setup(_uid(ctx))
    return text_response(ACK_BODY)


async def push(ctx: CgiContext) -> web.StreamResponse:
    """``push.cgi?UID&CAM&CMD=START|STOP&COMP=..`` (spec 2.1.2.2, 2.2.2.2).

    START carries ``INTERNETMODE=ON`` (HTTP) or ``PORT`` (RTP over UDP).
    """
    query = ctx.query
    live = ctx.simulator.live
    uid = _uid(ctx)
    channel = query.integer("CAM", 1, ctx.simulator.config.max_channels)
    comp = query.require("COMP")
    if comp not in COMPS:
        raise BadRequestError(f"COMP={comp!r}, expected one of {', '.join(sorted(COMPS))}")
    command = query.require("CMD")
    if command == "STOP":
        mode = query.get("INTERNETMODE")
        if mode is not None and mode != INTERNETMODE_ON:
            raise BadRequestError(f"INTERNETMODE={mode!r}, expected {INTERNETMODE_ON!r}")
        live.stop(uid, channel, comp)
        return text_response(ACK_BODY)
    if command != "START":
        raise BadRequestError(f"CMD={command!r}, expected START or STOP")
    if query.get("INTERNETMODE") is None:
        if query.get("PORT") is not None:
            port = query.integer("PORT", 1, 65535)
            return await ctx.simulator.live_udp.start(ctx, uid, channel, comp, port)
        raise BadRequestError("INTERNETMODE missing")
    query.require_fixed("INTERNETMODE", INTERNETMODE_ON)
    if query.get("PORT") is not None:
        raise BadRequestError("PORT and INTERNETMODE=ON together")
    started = live.start(uid, channel, comp, ctx.now)
    if isinstance(started, web.Response):
        return started
    return await live.serve(ctx, started)
