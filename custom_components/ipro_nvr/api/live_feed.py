"""One live connection per camera, shared by every viewer.

A :class:`LiveFeed` holds at most one ``push.cgi`` stream for its channel. It
starts when the first subscriber arrives and stops a while after the last one
left, so a dashboard that re-opens a stream does not pay for a new login and
``push.cgi`` (three paced commands) each time. It reconnects with backoff when
the recorder drops the stream, and rebases timestamps so that they keep growing
across reconnects. New subscribers first get the current GOP (keyframe
onwards), so their picture starts at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Final

import aiohttp

from . import urls
from .errors import NvrError
from .media import AccessUnit, JpegFrame, MediaFormatError, iter_live_body
from .session import UidPurpose
from .urls import LiveCodec

if TYPE_CHECKING:
    from .client import NvrClient

_LOGGER = logging.getLogger(__name__)

# How long a feed stays connected after its last subscriber left.
DEFAULT_IDLE_TIMEOUT: Final = 30.0
# Waits between reconnection attempts; the last one repeats.
DEFAULT_BACKOFF: Final = (1.0, 2.0, 5.0, 10.0, 30.0)
# A live body that sends nothing for this long is considered dead.
READ_TIMEOUT: Final = 10.0
# A subscriber further behind than this many pictures is resynchronised at the
# next keyframe instead of holding up the others or growing without bound.
SUBSCRIBER_QUEUE: Final = 300
# The GOP kept for new subscribers is capped (a camera with a huge GOP).
MAX_CACHED_GOP: Final = 600
# Frame duration assumed before two pictures were seen (90 kHz ticks, 30 fps).
_DEFAULT_FRAME_TICKS: Final = 3000


@dataclass(slots=True)
class LiveFeedStats:
    """Counters for diagnostics and tests."""

    connections: int = 0
    access_units: int = 0
    dropped_for_slow_subscribers: int = 0


class _Subscriber:
    __slots__ = ("queue", "resync")

    def __init__(self, backlog: list[AccessUnit]) -> None:
        # None marks the end of the feed.
        self.queue: asyncio.Queue[AccessUnit | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.resync = False
        for unit in backlog[-SUBSCRIBER_QUEUE:]:
            self.queue.put_nowait(unit)

    def end(self) -> None:
        """Wake the subscriber with the end marker, dropping what it did not read."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def offer(self, unit: AccessUnit) -> bool:
        """Queue ``unit``; return False when the subscriber lost pictures."""
        if self.resync:
            if not unit.keyframe:
                return True
            self.resync = False
        try:
            self.queue.put_nowait(unit)
        except asyncio.QueueFull:
            # Drop what is queued and restart at the next keyframe: the viewer
            # sees a jump, but every other viewer and the recorder are unaffected.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.resync = not unit.keyframe
            if unit.keyframe:
                self.queue.put_nowait(unit)
            return False
        return True


class LiveFeed:
    """The shared live video of one camera channel."""

    def __init__(
        self,
        client: NvrClient,
        channel: int,
        codec: LiveCodec = LiveCodec.H264,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        backoff: tuple[float, ...] = DEFAULT_BACKOFF,
    ) -> None:
        """Prepare the feed; nothing connects before the first subscriber."""
        self.client = client
        self.channel = channel
        self.codec = codec
        self.stats = LiveFeedStats()
        self._idle_timeout = idle_timeout
        self._backoff = backoff
        self._subscribers: set[_Subscriber] = set()
        self._gop: list[AccessUnit] = []
        self._task: asyncio.Task[None] | None = None
        self._idle_handle: asyncio.TimerHandle | None = None
        self._closed = False
        # Timestamp continuity across reconnects.
        self._offset: int | None = None
        self._last_ts: int | None = None
        self._frame_ticks = _DEFAULT_FRAME_TICKS
        self._failing = False
        # JPEG feeds (codec JPEG) keep only the latest picture, for snapshots.
        self._jpeg: JpegFrame | None = None
        self._jpeg_at = 0.0
        self._jpeg_arrived = asyncio.Event()
        self._snapshot_waiters = 0

    @property
    def running(self) -> bool:
        """Whether the feed holds (or is trying to hold) a recorder connection."""
        return self._task is not None and not self._task.done()

    @property
    def subscribers(self) -> int:
        """How many viewers read this feed now."""
        return len(self._subscribers)

    async def subscribe(self) -> AsyncGenerator[AccessUnit]:
        """Yield this camera's pictures, starting with the current GOP, until closed."""
        if self._closed:
            return
        subscriber = _Subscriber(self._gop)
        self._subscribers.add(subscriber)
        self._cancel_idle_stop()
        self._ensure_running()
        try:
            while (unit := await subscriber.queue.get()) is not None:
                yield unit
        finally:
            self._subscribers.discard(subscriber)
            if not self._subscribers:
                self._schedule_idle_stop()

    async def jpeg(self, *, wait: float, max_age: float = 2.0) -> bytes | None:
        """The latest JPEG of a JPEG feed: a fresh one at once, else the next to arrive.

        The feed stays connected for the idle timeout after the call, so a
        dashboard refreshing its picture every few seconds costs the recorder
        one stream, not one login and ``push.cgi`` per picture.
        """
        if self._closed:
            return None
        loop = asyncio.get_running_loop()
        if self._jpeg is not None and loop.time() - self._jpeg_at <= max_age:
            self._keep_alive_for_snapshots()
            return self._jpeg.data
        self._snapshot_waiters += 1
        self._cancel_idle_stop()
        self._ensure_running()
        try:
            self._jpeg_arrived.clear()
            async with asyncio.timeout(wait):
                await self._jpeg_arrived.wait()
        except TimeoutError:
            return None
        finally:
            self._snapshot_waiters -= 1
            self._keep_alive_for_snapshots()
        return self._jpeg.data if self._jpeg is not None else None

    def _keep_alive_for_snapshots(self) -> None:
        if not self._subscribers and not self._snapshot_waiters:
            self._schedule_idle_stop()

    async def close(self) -> None:
        """End every subscription and the recorder connection."""
        self._closed = True
        for subscriber in self._subscribers:
            subscriber.end()
        self._cancel_idle_stop()
        await self._stop()

    # -- lifecycle --------------------------------------------------------------

    def _ensure_running(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"ipro_nvr live feed {self.channel}"
            )

    def _schedule_idle_stop(self) -> None:
        self._cancel_idle_stop()
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        self._idle_handle = loop.call_later(
            self._idle_timeout, lambda: loop.create_task(self._stop_if_idle())
        )

    def _cancel_idle_stop(self) -> None:
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None

    async def _stop_if_idle(self) -> None:
        self._idle_handle = None
        if not self._subscribers and not self._snapshot_waiters:
            await self._stop()

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        # A later start begins a new GOP; the old one would show a stale picture.
        self._gop.clear()
        self._jpeg = None

    async def _run(self) -> None:
        attempt = 0
        while not self._closed:
            received = self.stats.access_units
            try:
                await self._stream_once()
            except (NvrError, MediaFormatError, aiohttp.ClientError, TimeoutError) as err:
                if not self._failing:
                    _LOGGER.warning("Live stream of camera %d interrupted: %s", self.channel, err)
                self._failing = True
            else:
                _LOGGER.debug("Live stream of camera %d ended", self.channel)
            if self.stats.access_units > received:
                attempt = 0  # it worked for a while: retry quickly
            delay = self._backoff[min(attempt, len(self._backoff) - 1)]
            attempt += 1
            await asyncio.sleep(delay)

    async def _stream_once(self) -> None:
        async with self.client.lease(UidPurpose.LIVE, channel=self.channel) as lease:
            await self.client.send_on(lease, urls.live_setup())
            self.stats.connections += 1
            self._offset = None  # rebase on the first picture of this connection
            try:
                async with (
                    self.client.stream(
                        urls.live_start(self.channel, self.codec),
                        lease=lease,
                        read_timeout=READ_TIMEOUT,
                    ) as response,
                    aclosing(iter_live_body(response.content.iter_any())) as items,
                ):
                    async for item in items:
                        if isinstance(item, AccessUnit):
                            self._publish(item)
                        elif isinstance(item, JpegFrame):
                            self._publish_jpeg(item)
            finally:
                # Tell the recorder we are done with this stream, unless we are
                # being cancelled (the UID's logout ends the stream anyway).
                task = asyncio.current_task()
                if task is None or not task.cancelling():
                    with suppress(NvrError, aiohttp.ClientError, TimeoutError):
                        await self.client.send_on(lease, urls.live_stop(self.channel, self.codec))

    def _publish(self, unit: AccessUnit) -> None:
        if self._failing:
            _LOGGER.info("Live stream of camera %d is back", self.channel)
            self._failing = False
        unit = self._rebased(unit)
        self.stats.access_units += 1
        if unit.keyframe:
            self._gop = [unit]
        elif self._gop and len(self._gop) < MAX_CACHED_GOP:
            self._gop.append(unit)
        for subscriber in self._subscribers:
            if not subscriber.offer(unit):
                self.stats.dropped_for_slow_subscribers += 1

    def _publish_jpeg(self, frame: JpegFrame) -> None:
        self._jpeg = frame
        self._jpeg_at = asyncio.get_running_loop().time()
        self._jpeg_arrived.set()

    def _rebased(self, unit: AccessUnit) -> AccessUnit:
        """Shift timestamps so they continue where the previous connection ended."""
        if self._offset is None:
            self._offset = (
                0 if self._last_ts is None else self._last_ts + self._frame_ticks - unit.timestamp
            )
        timestamp = unit.timestamp + self._offset
        if self._last_ts is not None:
            if timestamp <= self._last_ts:
                # The recorder's clock went backwards: keep the output monotonic.
                self._offset += self._last_ts + self._frame_ticks - timestamp
                timestamp = self._last_ts + self._frame_ticks
            else:
                self._frame_ticks = min(timestamp - self._last_ts, 90_000)
        self._last_ts = timestamp
        if timestamp == unit.timestamp:
            return unit
        return AccessUnit(
            codec=unit.codec,
            timestamp=timestamp,
            keyframe=unit.keyframe,
            data=unit.data,
            parameter_sets=unit.parameter_sets,
            info=unit.info,
        )
