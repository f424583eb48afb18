"""One camera's MPEG-TS, muxed once and written to every viewer of the relay.

A :class:`TsBroadcast` reads the camera's :class:`~..api.VideoFeed` with one
:class:`.TsMuxer` and hands the same MPEG-TS bytes to each viewer: the muxing
is paid once however many viewers watch, and the stream's timestamps and
continuity counters are the same for all of them. A new viewer starts with the
TS bytes of the current GOP (kept from the keyframe's PAT on), so its picture
starts at once and its stream is continuous from its first byte.

Writing is done where the bytes appear, without a task switch per picture:
while a viewer's socket keeps up, each picture goes straight to its transport
(one ``writelines``, HTTP chunk framing included). A viewer whose transport
holds a backlog gets its bytes queued instead, and its own request handler
writes them with aiohttp's flow control (waiting for the socket to drain); a
viewer whose queue exceeds :data:`VIEWER_BACKLOG_BYTES` loses it and starts
again at the next keyframe, so a stalled viewer neither holds up the others
nor grows memory without bound.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Final

from aiohttp import HttpVersion11, web

from custom_components.ipro_nvr.api import TimedAudio, VideoFeed
from custom_components.ipro_nvr.const import LOGGER

from .ts_muxer import TsMuxer

_TS_PACKET: Final = 188
# FFmpeg's MPEG-TS muxer gives the first elementary stream (the video) PID
# 0x100 (its ``mpegts_start_pid``). A TS packet header with the payload unit
# start bit: sync byte, PUSI | PID high bits, PID low bits.
_VIDEO_PID: Final = 0x100
_VIDEO_UNIT_START: Final = bytes((0x47, 0x40 | _VIDEO_PID >> 8, _VIDEO_PID & 0xFF))
_PAT_START: Final = b"\x47\x40\x00"  # PID 0, the program association table
# FFmpeg writes PAT, PMT (and SDT) right before a keyframe: a viewer's stream
# starts at the PAT found at most this many packets before the keyframe.
_TABLES_BEFORE_KEYFRAME: Final = 4
_RANDOM_ACCESS: Final = 0x40  # adaptation field flag FFmpeg sets on a keyframe's first packet
# The TS of one GOP kept for new viewers is capped (a camera with a huge GOP):
# beyond it new viewers wait for the next keyframe.
MAX_CACHED_GOP_BYTES: Final = 32 * 1024 * 1024
# A viewer further behind than this is cut and restarts at the next keyframe.
VIEWER_BACKLOG_BYTES: Final = 8 * 1024 * 1024
# A picture goes straight to a viewer's transport while it buffers less than
# this (asyncio's default high-water mark: beyond it the viewer is behind).
_DIRECT_WRITE_LIMIT: Final = 64 * 1024
# A read's pictures are joined into one write up to this size (a keyframe is not copied).
_JOIN_LIMIT: Final = 256 * 1024


def keyframe_start(data: bytes, offset: int) -> int | None:
    """Where in ``data`` a viewer may start: the PAT before a keyframe's first TS packet.

    ``offset`` is the stream position of ``data[0]`` (TS packets are 188
    bytes from the stream's start). None when ``data`` holds no keyframe start.
    """
    first = -offset % _TS_PACKET  # the first packet boundary in data
    position = data.find(_VIDEO_UNIT_START, first)
    while position >= 0:
        if (position - first) % _TS_PACKET == 0 and _random_access(data, position):
            return _tables_before(data, position, first)
        position = data.find(_VIDEO_UNIT_START, position + 1)
    return None


def _random_access(data: bytes, position: int) -> bool:
    # Adaptation field present (control bits 0b1x), not empty, random access flag set.
    return (
        position + 6 <= len(data)
        and data[position + 3] & 0x20 != 0
        and data[position + 4] > 0
        and data[position + 5] & _RANDOM_ACCESS != 0
    )


def _tables_before(data: bytes, keyframe: int, first: int) -> int:
    earliest = max(first, keyframe - _TABLES_BEFORE_KEYFRAME * _TS_PACKET)
    for start in range(earliest, keyframe, _TS_PACKET):
        if data.startswith(_PAT_START, start):
            return start
    return keyframe  # no tables in this chunk: the viewer waits for the next PAT


class TsViewer:
    """One viewer's connection: bytes written directly, or queued while it is behind."""

    __slots__ = (
        "_chunked",
        "_direct",
        "_transport",
        "_wake",
        "ended",
        "pending",
        "pending_bytes",
        "resync",
    )

    def __init__(
        self, transport: asyncio.BaseTransport | None, *, chunked: bool, backlog: list[bytes] | None
    ) -> None:
        """A viewer on ``transport``, with ``backlog`` to start with (None: the next keyframe)."""
        self._transport = transport if isinstance(transport, asyncio.WriteTransport) else None
        self._chunked = chunked
        # What the handler still has to write; it writes the first bytes itself
        # (aiohttp sends the headers with them), direct writes come after.
        self.pending: list[bytes] = list(backlog) if backlog is not None else []
        self.pending_bytes = sum(len(chunk) for chunk in self.pending)
        self.resync = backlog is None  # waiting for a keyframe to start at
        self.ended = False
        self._wake: asyncio.Future[None] | None = None
        self._direct = False  # may write to the transport itself (headers sent)

    @property
    def chunked(self) -> bool:
        """Whether the response uses chunked transfer encoding (HTTP/1.1)."""
        return self._chunked

    def send(self, data: bytes, start: int | None) -> None:
        """Write ``data`` (its keyframe start at ``start``, if any) or queue it."""
        if self.ended:
            return
        if self.resync:
            if start is None:
                return
            data = data[start:] if start else data
            self.resync = False
        transport = self._transport
        if transport is None or transport.is_closing():
            self.end()  # the viewer went away
            return
        if (
            self._direct
            and not self.pending
            and transport.get_write_buffer_size() <= _DIRECT_WRITE_LIMIT
        ):
            if self._chunked:
                # One write: a copy of the bytes costs less than writelines' path.
                transport.write(b"%x\r\n%b\r\n" % (len(data), data))
            else:
                transport.write(data)
            return
        self.pending.append(data)
        self.pending_bytes += len(data)
        if self.pending_bytes > VIEWER_BACKLOG_BYTES:
            # Too far behind: drop the backlog, start again at a keyframe.
            self.pending.clear()
            self.pending_bytes = 0
            self.resync = True
        self._wake_up()

    def end(self) -> None:
        """The stream is over for this viewer: its handler returns."""
        self.ended = True
        self._wake_up()

    def _wake_up(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def serve(self, response: web.StreamResponse) -> None:
        """Write what is queued until the stream ends (the handler's part)."""
        loop = asyncio.get_running_loop()
        # aiohttp (3.11+) holds the headers back until the first body bytes:
        # send them now. Direct writes start only after the first bytes went
        # through aiohttp, which sent the headers then whatever its version.
        await response.write(b"")
        while not self.ended:
            if not self.pending:
                self._wake = loop.create_future()
                await self._wake
                self._wake = None
                continue
            data = b"".join(self.pending)
            self.pending.clear()
            self.pending_bytes = 0
            # Sends the headers with the first bytes, then waits while the
            # socket's buffer is full (what the broadcast queues meanwhile
            # goes out with the next write, in order).
            self._direct = False
            await response.write(data)
            self._direct = True


class TsBroadcast:
    """The MPEG-TS of one camera, muxed once for all its viewers."""

    def __init__(self, feed: VideoFeed, *, audio: bool) -> None:
        """Prepare the broadcast; it reads the feed while it has viewers."""
        self._feed = feed
        self._audio = audio
        self._viewers: set[TsViewer] = set()
        self._task: asyncio.Task[None] | None = None
        # The TS since the current GOP's keyframe (its PAT on), for new viewers;
        # None while no complete GOP start is known.
        self._gop: list[bytes] | None = None
        self._gop_bytes = 0
        self._offset = 0  # TS bytes muxed so far (packet alignment)
        self._keyframe_due = False  # a keyframe was muxed whose start is not yet out
        # TS bytes not yet handed to the viewers, and where a keyframe starts in them.
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._out_start: int | None = None

    @property
    def viewers(self) -> int:
        """How many viewers watch now."""
        return len(self._viewers)

    async def serve(self, request: web.Request, response: web.StreamResponse) -> None:
        """Stream to a viewer whose ``response`` is prepared, until it or the feed ends."""
        chunked = request.version >= HttpVersion11
        viewer = TsViewer(request.transport, chunked=chunked, backlog=self._gop)
        self._viewers.add(viewer)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"ipro_nvr relay {self._feed.channel}"
            )
        try:
            await viewer.serve(response)
        finally:
            self._viewers.discard(viewer)
            if not self._viewers and self._task is not None:
                # The last viewer left: stop reading the feed (its idle stop
                # follows). The next viewer gets a new muxer, and a new GOP.
                task, self._task = self._task, None
                task.cancel()
                self._gop = None

    async def _run(self) -> None:
        muxer: TsMuxer | None = None
        self._gop, self._gop_bytes, self._offset = None, 0, 0
        self._keyframe_due = False
        self._out.clear()
        self._out_bytes, self._out_start = 0, None
        try:
            # The TS of the current GOP is kept here for new viewers: the feed
            # need not keep its pictures too (memory per relay).
            async with aclosing(self._feed.subscribe(keeps_gop=True)) as items:
                async for item in items:
                    if isinstance(item, TimedAudio):
                        # Audio before the first picture has no clock to follow.
                        data = muxer.mux_audio(item) if muxer is not None else b""
                    else:
                        if muxer is None:
                            muxer = TsMuxer(item.codec, audio=self._audio)
                        if item.keyframe:
                            # The old GOP's TS goes before the new keyframe's is
                            # made (memory); a viewer arriving meanwhile starts
                            # with the new one.
                            self._gop = None
                            self._keyframe_due = True
                        data = muxer.mux(item)
                    if data:
                        self._send(data)
        finally:
            if self._task is asyncio.current_task():
                # The feed ended (closed, camera gone): so does every viewer's
                # stream. (When the last viewer left, a next one may be
                # watching a new run already: it is not ended.)
                self._task = None
                self._gop = None
                for viewer in self._viewers:
                    viewer.end()
            if muxer is not None:
                muxer.close()
                if muxer.skipped_audio:
                    # AAC at another rate or with ADTS headers, audio too late,
                    # or G.711/G.726 the transcoder failed on (logged once).
                    LOGGER.debug(
                        "Relay of camera %d skipped %d audio frames it cannot carry"
                        " (%d transcoded to AAC)",
                        self._feed.channel,
                        muxer.skipped_audio,
                        muxer.transcoded_audio,
                    )

    def _send(self, data: bytes) -> None:
        start = None
        if self._keyframe_due:
            # FFmpeg's interleaver may hold the keyframe back behind audio: its
            # packets come out with this call's bytes or a later one's.
            start = keyframe_start(data, self._offset)
            if start is not None:
                self._keyframe_due = False
                self._gop = [data[start:] if start else data]
                self._gop_bytes = len(data) - start
                self._out_start = self._out_bytes + start
        if start is None and self._gop is not None:
            self._gop.append(data)
            self._gop_bytes += len(data)
            if self._gop_bytes > MAX_CACHED_GOP_BYTES:
                self._gop = None  # new viewers wait for the next keyframe
        self._offset += len(data)
        # The pictures of one read come in one go: they go to the viewers
        # together, one write each, once this task yields.
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(data)
        self._out_bytes += len(data)

    def _flush(self) -> None:
        chunks, start = self._out, self._out_start
        self._out = []
        self._out_bytes, self._out_start = 0, None
        if len(chunks) > 1 and sum(len(chunk) for chunk in chunks) <= _JOIN_LIMIT:
            chunks = [b"".join(chunks)]
        elif len(chunks) > 1:
            # A keyframe: written chunk by chunk rather than copied once more.
            for chunk in chunks:
                at = start if start is not None and 0 <= start < len(chunk) else None
                for viewer in self._viewers:
                    viewer.send(chunk, at)
                if start is not None:
                    start -= len(chunk)
            return
        for viewer in self._viewers:
            viewer.send(chunks[0], start)
