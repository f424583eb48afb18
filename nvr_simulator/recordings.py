"""Recordings and their download: ``httpdl.cgi`` (spec 6.3).

``httpdl.cgi?UID&STARTTIME=yymmddhhmmss&ENDTIME=yymmddhhmmss&KIND&CAM&PC=AS60``
answers ``200`` with a ``multipart/x-mixed-replace; boundary=myboundary`` body
that ends with the closing delimiter. Every part carries, as the spec's example
writes them::

    X-Temp-FileName: filename = "001_240424123000_1000_7f_00_01.tmp"
    X-Prev-Filename: filename = ""
    X-RecData-Satus: 0

The sequence (the simulator's reading of spec 6.3.1):

* the first part starts file 1: ``Temp`` its temporary name, ``Prev`` empty,
  the body the first bytes of the file;
* further parts of the same file repeat its ``Temp`` with an empty ``Prev``
  (files go out in parts of ``SimulatorConfig.download_part_bytes``);
* a split: ``Prev`` names the finished file (its final name), ``Temp`` the
  next file, whose first bytes are the body;
* the last part: ``Temp`` empty, ``Prev`` the final name of the last file,
  an empty body.

A refused request (status 1, 2 or 3) is one part with both names empty, the
status, and no body.

What is recorded (the simulator's conventions; the spec has no listing): every
camera in the normal state (``CAM_CONNECT`` 1) records continuously over the
disks' recorded ranges (``recordedtime.cgi``, so both always agree); a
request that overlaps no range, or asks for a camera in connection error,
answers status 1. A request overlapping a range only partly gets the part
that is recorded (from the first keyframe on). Cameras record H.264 unless
``SimulatorConfig.recording_codecs`` says ``H265`` or ``JPEG``: an H.265
camera's MP4 holds HEVC (``hev1``, parameter sets in-band and in ``hvcC``, as
FFmpeg's muxer writes Annex-B input); MP4 of a JPEG camera answers status 2.
More than ``download_max_concurrent`` downloads at once (across all UIDs)
answer status 3.

Content: KIND=MP4 and MP4VO are real MP4 files muxed with PyAV from the
synthetic clip (:mod:`.video`), looped, at the clip's frame rate, with
timestamps from 0 at the start of each file; MP4 adds the AAC-LC tone. A
picture's content depends only on its time (its frame number since 2000-01-01
UTC), so the same request gives the same bytes. N3, N3VO and LIST answer an
opaque blob (``b"N3SIM"`` + channel, kind and frame range + SHAKE-256 bytes,
64 bytes per recorded second), standing in for the proprietary N3R/N3N files.

Files split where the recorder's local time crosses a multiple of
``download_split_minutes`` (0: never), standing in for the recorder's "large
file" and "parameters changed" splits.

File names: the spec's examples (``001_231115000000_3000_7f_00_01``, split
into ``…_1000_…`` and ``…_2000_…``) are read as camera channel (3 digits),
the request's STARTTIME, the file number times 1000, and three fields
(``7f_00_01``) reproduced as written; ``.tmp`` while downloading, then
``.mp4`` (MP4, MP4VO), ``.n3r`` (N3, N3VO) or ``.n3n`` (LIST).

Fault switches (``RecordingState.faults``): ``drop_after_bytes`` cuts the
connection after that many bytes of file data; ``rename`` rewrites every file
name sent (hostile names such as ``../x`` or ``/etc/passwd``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
import datetime as dt
import fractions
import hashlib
import io
import math
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from custom_components.ipro_nvr.api.spec import (
    DOWNLOAD_MAX_SPAN_S,
    DOWNLOAD_PREV_HEADER,
    DOWNLOAD_STATUS_HEADER,
    DOWNLOAD_TEMP_HEADER,
    DOWNLOAD_TIME_FORMAT,
    MULTIPART_BOUNDARY,
    PC_AS60,
    Cgi,
    DownloadStatus,
)

from .clock import SUMMER_SHIFT
from .query import BadRequestError
from .video import (
    AAC_FRAME_SAMPLES,
    H264,
    H265,
    VideoFormat,
    cached_audio_clip,
    cached_video_clip,
)

if TYPE_CHECKING:
    from .context import CgiContext
    from .simulator import Simulator

JPEG: Final = "JPEG"
MP4: Final = "MP4"
MP4VO: Final = "MP4VO"
N3: Final = "N3"
N3VO: Final = "N3VO"
LIST: Final = "LIST"
KINDS: Final = frozenset({MP4, MP4VO, N3, N3VO, LIST})
RECORDING_CODECS: Final = frozenset({H264, H265, JPEG})
_EXTENSIONS: Final = {MP4: "mp4", MP4VO: "mp4", N3: "n3r", N3VO: "n3r", LIST: "n3n"}
DOWNLOAD_CONTENT_TYPE: Final = f"multipart/x-mixed-replace; boundary={MULTIPART_BOUNDARY}"
_DELIMITER: Final = f"--{MULTIPART_BOUNDARY}\r\n".encode("ascii")
_CLOSE: Final = f"--{MULTIPART_BOUNDARY}--\r\n".encode("ascii")
# Frame numbers count from here, so a picture's content depends only on its time.
_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_BLOB_BYTES_PER_SECOND: Final = 64
_NAME_TAIL: Final = "7f_00_01"
_KEPT_RECORDS: Final = 100


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """One file of a download: its names and content."""

    temp_name: str
    name: str
    data: bytes


@dataclass(slots=True)
class RecordingFaults:
    """Fault switches of ``httpdl.cgi``.

    ``drop_after_bytes``: close the connection (mid-part) once that many bytes
    of file data went out; ``hold_after_bytes``: stop sending once that many went
    out, until the switch is turned off (a download still running when a test
    acts); ``rename``: rewrite every file name sent, temporary and final (hostile
    names); ``applied`` counts the downloads cut.
    """

    drop_after_bytes: int | None = None
    hold_after_bytes: int | None = None
    rename: Callable[[str], str] | None = None
    applied: int = 0

    def clear(self) -> None:
        """Turn the switches off."""
        self.drop_after_bytes = None
        self.hold_after_bytes = None
        self.rename = None


@dataclass(eq=False, slots=True)
class DownloadRecord:
    """One ``httpdl.cgi`` request as served (for tests)."""

    channel: int
    kind: str
    status: int
    files: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    completed: bool = False


class RecordingState:
    """The recordings of one simulated recorder (``Simulator.recordings``)."""

    def __init__(self, simulator: Simulator) -> None:
        self._simulator = simulator
        self.faults = RecordingFaults()
        self.active = 0
        # The latest downloads, newest last (a long-running demo keeps only these).
        self.downloads: deque[DownloadRecord] = deque(maxlen=_KEPT_RECORDS)
        self.generated = 0  # downloads generated (not served from the LRU)
        self._lru: OrderedDict[DownloadPlan, tuple[RecordedFile, ...]] = OrderedDict()

    # -- what is recorded -------------------------------------------------------

    def codec(self, channel: int) -> str:
        """How ``channel`` records: ``H264`` (default), ``H265`` or ``JPEG``."""
        codec = self._simulator.config.recording_codecs.get(channel)
        return codec if codec in (H265, JPEG) else H264

    def recorded_ranges(self) -> list[tuple[dt.datetime, dt.datetime]]:
        """The disks' recorded ranges (UTC), as ``recordedtime.cgi`` reports them."""
        now = self._simulator.config.wall_clock().replace(microsecond=0)
        ranges = []
        for disk in self._simulator.disks:
            newest = now if disk.recording else disk.newest
            if disk.capacity_gb is not None and disk.oldest is not None and newest is not None:
                ranges.append((disk.oldest, newest))
        return ranges

    def frame_span(self, channel: int, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
        """The recorded frame numbers ``[first, stop)`` of ``channel`` within ``[start, end)``.

        Empty (``first >= stop``) when nothing is recorded there.
        """
        if self._simulator.channel_state(channel) != 1:
            return 0, 0
        overlapping = [
            (old, new) for old, new in self.recorded_ranges() if old < end and new > start
        ]
        if not overlapping:
            return 0, 0
        fmt = self.video_format()
        first = _frame(max(start, min(old for old, _ in overlapping)), fmt.fps, math.ceil)
        first = -(-first // fmt.gop) * fmt.gop  # start on a keyframe
        stop = _frame(min(end, max(new for _, new in overlapping)), fmt.fps, math.floor)
        return first, stop

    def video_format(self) -> VideoFormat:
        """The synthetic clip recordings are made of (the live streams' format)."""
        config = self._simulator.config
        return VideoFormat(
            width=config.live_width,
            height=config.live_height,
            fps=config.live_fps,
            gop_seconds=config.live_gop_seconds,
            loop_seconds=config.live_loop_seconds,
        )

    # -- generating files ---------------------------------------------------------

    async def files(
        self, channel: int, kind: str, start_local: dt.datetime, frames: tuple[int, int]
    ) -> tuple[RecordedFile, ...]:
        """The files of a download, generated off the event loop (LRU-cached)."""
        config = self._simulator.config
        plan = DownloadPlan(
            channel=channel,
            kind=kind,
            codec=self.codec(channel),
            fmt=self.video_format(),
            start_local=start_local,
            frames=frames,
            shift=_local_shift(config.utc_offset, summer=config.summer_time),
            split_minutes=config.download_split_minutes,
        )
        hit = self._lru.get(plan)
        if hit is not None:
            self._lru.move_to_end(plan)
            return hit
        built = await asyncio.to_thread(_build_files, plan)
        self.generated += 1
        self._lru[plan] = built
        while len(self._lru) > max(0, config.download_cache_entries):
            self._lru.popitem(last=False)
        return built


@dataclass(frozen=True, slots=True)
class DownloadPlan:
    """Everything a download's files depend on (also the LRU key)."""

    channel: int
    kind: str
    codec: str
    fmt: VideoFormat
    start_local: dt.datetime
    frames: tuple[int, int]  # [first, stop) frame numbers since 2000-01-01 UTC
    shift: dt.timedelta  # local time minus UTC
    split_minutes: int


def _frame(moment: dt.datetime, fps: int, rounding: Callable[[float], int]) -> int:
    return int(rounding((moment - _EPOCH).total_seconds() * fps))


def _local_shift(utc_offset: dt.timedelta, *, summer: bool) -> dt.timedelta:
    return utc_offset + (SUMMER_SHIFT if summer else dt.timedelta(0))


def _segments(
    first: int, stop: int, fmt: VideoFormat, shift: dt.timedelta, split: int
) -> list[tuple[int, int]]:
    """Split ``[first, stop)`` where local time crosses a multiple of ``split`` minutes."""
    if split <= 0:
        return [(first, stop)]
    period = split * 60 * fmt.fps
    offset = round(shift.total_seconds() * fmt.fps)  # local frame = frame + offset
    segments: list[tuple[int, int]] = []
    begin = first
    while begin < stop:
        boundary = ((begin + offset) // period + 1) * period - offset
        boundary = -(-boundary // fmt.gop) * fmt.gop  # files start on a keyframe
        end = min(stop, boundary)
        segments.append((begin, end))
        begin = end
    return segments


def _build_files(plan: DownloadPlan) -> tuple[RecordedFile, ...]:
    """Generate every file of a download (blocking)."""
    stem = f"{plan.channel:03d}_{plan.start_local.strftime(DOWNLOAD_TIME_FORMAT)}"
    segments = _segments(*plan.frames, plan.fmt, plan.shift, plan.split_minutes)
    out = []
    for number, (first, stop) in enumerate(segments, start=1):
        base = f"{stem}_{number * 1000:04d}_{_NAME_TAIL}"
        if plan.kind in (MP4, MP4VO):
            data = _mp4(plan, first, stop, audio=plan.kind == MP4)
        else:
            data = _blob(plan, first, stop)
        out.append(RecordedFile(f"{base}.tmp", f"{base}.{_EXTENSIONS[plan.kind]}", data))
    return tuple(out)


def _blob(plan: DownloadPlan, first: int, stop: int) -> bytes:
    header = f"N3SIM {plan.kind} CH{plan.channel} F{first}-{stop}\n".encode("ascii")
    seconds = max(1, (stop - first) // plan.fmt.fps)
    return header + hashlib.shake_256(header).digest(seconds * _BLOB_BYTES_PER_SECOND)


def _mp4(plan: DownloadPlan, first: int, stop: int, *, audio: bool) -> bytes:
    """Mux frames ``[first, stop)`` of the looped clip (and its tone) into an MP4."""
    import av

    channel, codec, fmt = plan.channel, plan.codec, plan.fmt
    clip = cached_video_clip(codec, channel, fmt)
    pictures = clip.pictures
    video_base = fractions.Fraction(1, fmt.fps)
    buffer = io.BytesIO()
    container: Any = av.open(buffer, "w", format="mp4")
    with container:
        video = container.add_stream("hevc" if codec == H265 else "h264", rate=fmt.fps)
        video.width = fmt.width
        video.height = fmt.height
        packets: list[tuple[float, Any]] = []
        for index in range(stop - first):
            picture = pictures[(first + index) % len(pictures)]
            packet = av.Packet(picture.annexb)
            packet.pts = packet.dts = index
            packet.duration = 1
            packet.is_keyframe = picture.keyframe
            packet.stream = video
            packet.time_base = video_base
            packets.append((index / fmt.fps, packet))
        if audio:
            tone = cached_audio_clip(channel, fmt.loop_seconds)
            sound = container.add_stream("aac", rate=tone.sample_rate)
            sound.codec_context.extradata = tone.extradata
            sound.codec_context.layout = "mono"
            audio_base = fractions.Fraction(1, tone.sample_rate)
            per_second = tone.sample_rate / AAC_FRAME_SAMPLES
            first_audio = int(first / fmt.fps * per_second)
            count = int((stop - first) / fmt.fps * per_second)
            for index in range(count):
                packet = av.Packet(tone.frames[(first_audio + index) % len(tone.frames)])
                packet.pts = packet.dts = index * AAC_FRAME_SAMPLES
                packet.duration = AAC_FRAME_SAMPLES
                packet.stream = sound
                packet.time_base = audio_base
                packets.append((index / per_second, packet))
        packets.sort(key=lambda item: item[0])  # interleave by time (stable: video first)
        for _, packet in packets:
            container.mux(packet)
    return buffer.getvalue()


# -- the multipart body ---------------------------------------------------------------


def _name(value: str) -> str:
    return f'filename = "{value}"'


def download_part(temp: str, prev: str, status: int, body: bytes = b"") -> bytes:
    """One part of the download body, headers as the spec's example writes them."""
    head = (
        "Content-Type: application/octet-stream\r\n"
        f"{DOWNLOAD_TEMP_HEADER}: {_name(temp)}\r\n"
        f"{DOWNLOAD_PREV_HEADER}: {_name(prev)}\r\n"
        f"{DOWNLOAD_STATUS_HEADER}: {status}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    # UTF-8 raw: a hostile name (NUL, control characters) goes out as it is.
    return _DELIMITER + head.encode("utf-8", errors="surrogateescape") + body + b"\r\n"


def _parts(
    files: tuple[RecordedFile, ...], part_bytes: int, rename: Callable[[str], str]
) -> list[tuple[bytes, int]]:
    """The body as (part bytes, file data bytes in it), closing delimiter included."""
    parts: list[tuple[bytes, int]] = []
    prev = ""
    for file in files:
        temp = rename(file.temp_name)
        data = file.data
        for offset in range(0, max(len(data), 1), part_bytes):
            chunk = data[offset : offset + part_bytes]
            parts.append((download_part(temp, prev, DownloadStatus.NORMAL, chunk), len(chunk)))
            prev = ""
        prev = rename(file.name)
    parts.append((download_part("", prev, DownloadStatus.NORMAL), 0))
    parts.append((_CLOSE, 0))
    return parts


def _status_body(status: DownloadStatus) -> bytes:
    return download_part("", "", status) + _CLOSE


_HEADERS: Final = {"Content-Type": DOWNLOAD_CONTENT_TYPE, "Cache-Control": "no-cache"}


# -- handler ------------------------------------------------------------------------


def register_recording_handlers(simulator: Simulator) -> None:
    """Serve ``httpdl.cgi``."""
    simulator.register(Cgi.HTTPDL, httpdl)


def _download_time(ctx: CgiContext, name: str) -> dt.datetime:
    value = ctx.query.require(name)
    try:
        moment = dt.datetime.strptime(value, DOWNLOAD_TIME_FORMAT)  # noqa: DTZ007 - local time
    except ValueError:
        raise BadRequestError(f"{name}={value!r} is not yymmddhhmmss") from None
    if len(value) != len("yymmddhhmmss"):
        raise BadRequestError(f"{name}={value!r} is not yymmddhhmmss")
    if moment.second:
        raise BadRequestError(f"{name}={value!r}: seconds are fixed at 00")
    return moment


async def httpdl(ctx: CgiContext) -> web.StreamResponse:
    """``httpdl.cgi?UID&STARTTIME&ENDTIME&KIND&CAM&PC=AS60`` (spec 6.3.2)."""
    simulator = ctx.simulator
    config = simulator.config
    state = simulator.recordings
    query = ctx.query
    start_local = _download_time(ctx, "STARTTIME")
    end_local = _download_time(ctx, "ENDTIME")
    kind = query.require("KIND")
    if kind not in KINDS:
        raise BadRequestError(f"KIND={kind!r}, expected one of {', '.join(sorted(KINDS))}")
    channel = query.integer("CAM", 1, config.max_channels)
    if simulator.channel_state(channel) == 0:
        raise BadRequestError(f"CAM={channel} has no registered camera")
    query.require_fixed("PC", PC_AS60)
    if end_local <= start_local:
        raise BadRequestError("ENDTIME must be after STARTTIME")
    if end_local - start_local > dt.timedelta(seconds=DOWNLOAD_MAX_SPAN_S):
        raise BadRequestError("a download spans at most one hour")
    shift = _local_shift(config.utc_offset, summer=config.summer_time)
    start = (start_local - shift).replace(tzinfo=dt.UTC)
    end = (end_local - shift).replace(tzinfo=dt.UTC)
    frames = state.frame_span(channel, start, end)
    if state.active >= config.download_max_concurrent:
        status = DownloadStatus.TOO_MANY_REQUESTS
    elif kind in (MP4, MP4VO) and state.codec(channel) == JPEG:
        status = DownloadStatus.CODEC_NOT_COMPATIBLE
    elif frames[0] >= frames[1]:
        status = DownloadStatus.NO_RECORDING
    else:
        status = DownloadStatus.NORMAL
    record = DownloadRecord(channel, kind, status)
    state.downloads.append(record)
    if status != DownloadStatus.NORMAL:
        record.completed = True
        return web.Response(body=_status_body(status), headers=_HEADERS)
    state.active += 1
    try:
        files = await state.files(channel, kind, start_local, frames)
        record.files = [file.name for file in files]
        return await _serve(ctx, state, record, files)
    finally:
        state.active -= 1


async def _serve(
    ctx: CgiContext, state: RecordingState, record: DownloadRecord, files: tuple[RecordedFile, ...]
) -> web.StreamResponse:
    config = ctx.simulator.config
    faults = state.faults
    rename = faults.rename or (lambda name: name)
    limit = faults.drop_after_bytes
    response = web.StreamResponse(headers=_HEADERS)
    await response.prepare(ctx.request)
    try:
        for part, data_bytes in _parts(files, max(1, config.download_part_bytes), rename):
            if ctx.simulator.closing.is_set():
                return response
            if limit is not None and record.bytes_sent + data_bytes > limit:
                # Cut inside this part: the client sees a body that stops mid-file.
                await response.write(part[: len(part) - data_bytes + limit - record.bytes_sent])
                faults.applied += 1
                if ctx.request.transport is not None:
                    ctx.request.transport.close()
                return response
            await response.write(part)
            record.bytes_sent += data_bytes
            while faults.hold_after_bytes is not None and (
                record.bytes_sent >= faults.hold_after_bytes
            ):
                if ctx.simulator.closing.is_set():
                    return response
                await asyncio.sleep(0.01)  # held: the rest waits for the switch
        await response.write_eof()
        record.completed = True
    except ConnectionError:
        pass  # the client went away (a cancelled download)
    return response
