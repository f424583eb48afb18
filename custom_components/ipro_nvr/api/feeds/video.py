"""One live connection per camera, shared by every viewer.

A :class:`LiveFeed` holds at most one ``push.cgi`` stream for its channel. It
starts when the first subscriber arrives and stops a while after the last one
left, so a dashboard that re-opens a stream does not pay for ``push.cgi``
START and STOP (paced commands) each time. Its UID comes from a lease: a kept
UID, logged in and set up (``hdrctl``) ahead, makes a start one command. It
reconnects with backoff when the recorder drops the stream, and rebases
timestamps so that they keep growing across reconnects. New subscribers first
get the current GOP (keyframe onwards), so their picture starts at once.

No START goes out for a camera the recorder reports disconnected
(:class:`~.connections.CameraConnections`): the feed ends its viewers and
waits for a status that says the camera is back. A START refused with 503
holds the camera back until a fresh status says whether the camera or the
recorder was the cause.

With ``audio=True`` the feed also starts ``push.cgi ... COMP=AUDIO`` on the
same UID once the video stream runs (the recorder accepts audio only after
video on one UID) and hands out :class:`TimedAudio` frames stamped in the
video's 90 kHz clock, so a muxer can put both in one stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, aclosing, suppress
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Final

import aiohttp

from .. import urls
from ..connections import CameraConnections
from ..errors import NvrError, RecorderBusyError, RecorderFullError
from ..media import (
    AccessUnit,
    AudioCodec,
    AudioFrame,
    JpegFrame,
    MediaFormatError,
    iter_live_body,
)
from ..scheduler import Priority
from ..session import Lease, UidPurpose
from ..urls import LiveCodec

if TYPE_CHECKING:
    from ..client import NvrClient

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
_CLOCK_RATE: Final = 90_000
# Samples per AAC frame; G.711 carries one sample per byte, G.726-32k two.
_AAC_FRAME_SAMPLES: Final = 1024
_SAMPLES_PER_BYTE: Final = {
    AudioCodec.G711: 1.0,
    AudioCodec.G711_ALAW: 1.0,
    AudioCodec.G726: 2.0,
}
# Audio whose running timestamp strays this far from the video clock's
# estimate of "now" is re-anchored (a gap) or dropped (a burst running ahead).
_AUDIO_MAX_DRIFT: Final = _CLOCK_RATE // 2


class _StartRefusedError(NvrError):
    """push.cgi START answered 503: the camera is unreachable or the recorder busy."""


@dataclass(frozen=True, slots=True)
class TimedAudio:
    """An audio frame with its 90 kHz timestamp in the feed's (video) clock."""

    frame: AudioFrame
    timestamp: int
    duration: int  # 90 kHz ticks


type FeedItem = AccessUnit | TimedAudio


@dataclass(slots=True)
class LiveFeedStats:
    """Counters for diagnostics and tests."""

    connections: int = 0
    access_units: int = 0
    audio_frames: int = 0
    audio_refused: int = 0
    dropped_for_slow_subscribers: int = 0


class _Subscriber:
    __slots__ = ("queue", "resync")

    def __init__(self, backlog: list[FeedItem]) -> None:
        # None marks the end of the feed. The whole backlog fits (it is capped
        # at MAX_CACHED_GOP): cutting it would lose the keyframe it starts with,
        # which a long GOP with audio frames in between would otherwise exceed.
        self.queue: asyncio.Queue[FeedItem | None] = asyncio.Queue(SUBSCRIBER_QUEUE + len(backlog))
        self.resync = False
        for item in backlog:
            self.queue.put_nowait(item)

    def end(self) -> None:
        """Wake the subscriber with the end marker, dropping what it did not read."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def offer(self, item: FeedItem) -> bool:
        """Queue ``item``; return False when the subscriber lost pictures."""
        keyframe = isinstance(item, AccessUnit) and item.keyframe
        if self.resync:
            if not keyframe:
                return True
            self.resync = False
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Drop what is queued and restart at the next keyframe: the viewer
            # sees a jump, but every other viewer and the recorder are unaffected.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.resync = not keyframe
            if keyframe:
                self.queue.put_nowait(item)
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
        audio: bool = False,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        backoff: tuple[float, ...] = DEFAULT_BACKOFF,
        connections: CameraConnections | None = None,
    ) -> None:
        """Prepare the feed; nothing connects before the first subscriber."""
        self.client = client
        self.channel = channel
        self.codec = codec
        self._connections = connections if connections is not None else CameraConnections()
        self._told_disconnected = False
        # A refusal of the audio stream turns it off for this feed: the camera
        # probably has no microphone, and asking again costs paced commands.
        self.audio = audio and codec is not LiveCodec.JPEG
        self._audio_worked = False
        self.stats = LiveFeedStats()
        self._idle_timeout = idle_timeout
        self._backoff = backoff
        self._subscribers: set[_Subscriber] = set()
        # The current GOP (with the audio received since its keyframe).
        self._gop: list[FeedItem] = []
        self._task: asyncio.Task[None] | None = None
        self._idle_handle: asyncio.TimerHandle | None = None
        self._closed = False
        # Timestamp continuity across reconnects.
        self._offset: int | None = None
        self._last_ts: int | None = None
        self._frame_ticks = _DEFAULT_FRAME_TICKS
        self._last_at = 0.0  # loop time of the last picture
        self._audio_next: int | None = None  # timestamp of the next audio frame
        self._failing = False
        # JPEG feeds (codec JPEG) keep only the latest picture, for snapshots.
        self._jpeg: JpegFrame | None = None
        self._jpeg_at = 0.0
        self._jpeg_arrived = asyncio.Event()
        # Replaced by a new event at every picture: each MJPEG viewer waits on
        # the one current when it asked, so no viewer can clear another's wake-up.
        self._next_jpeg = asyncio.Event()
        self._snapshot_waiters = 0  # snapshot callers and MJPEG viewers
        # Set by retry_now() to cut a reconnection wait short.
        self._retry_now = asyncio.Event()

    @property
    def running(self) -> bool:
        """Whether the feed holds (or is trying to hold) a recorder connection."""
        return self._task is not None and not self._task.done()

    @property
    def subscribers(self) -> int:
        """How many viewers read this feed now."""
        return len(self._subscribers)

    @property
    def failing(self) -> bool:
        """Whether the last attempt to stream failed and no picture came since."""
        return self._failing

    @property
    def camera_disconnected(self) -> bool:
        """Whether the recorder reports this feed's camera disconnected (no START is sent)."""
        return self._connections.reported_disconnected(self.channel)

    def latest_jpeg(self) -> tuple[bytes, float] | None:
        """The last good picture of a JPEG feed and its age in seconds, kept across stops."""
        if self._jpeg is None:
            return None
        return self._jpeg.data, asyncio.get_running_loop().time() - self._jpeg_at

    def latest_keyframe(self) -> AccessUnit | None:
        """The keyframe that starts the current GOP, while the feed streams."""
        first = self._gop[0] if self._gop else None
        return first if isinstance(first, AccessUnit) and first.keyframe else None

    async def subscribe(self) -> AsyncGenerator[FeedItem]:
        """Yield this camera's pictures (and audio), starting with the current GOP, until closed.

        Audio frames come only from a feed with ``audio=True``.
        """
        if self._closed or self.camera_disconnected:
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
        if self.camera_disconnected:
            return None
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

    async def jpeg_frames(self) -> AsyncGenerator[bytes]:
        """Yield the pictures of a JPEG feed as they arrive (MJPEG), until closed.

        A viewer slower than the camera skips pictures instead of queueing
        them: it always gets the newest. The first is the latest picture if
        it is still fresh, so a viewer joining a running feed starts at once.
        """
        if self._closed or self.camera_disconnected:
            return
        loop = asyncio.get_running_loop()
        self._snapshot_waiters += 1
        self._cancel_idle_stop()
        self._ensure_running()
        try:
            shown: JpegFrame | None = None
            if self._jpeg is not None and loop.time() - self._jpeg_at <= 2.0:
                shown = self._jpeg
                yield shown.data
            while not self._closed and not self.camera_disconnected:
                if self._jpeg is shown or self._jpeg is None:
                    await self._next_jpeg.wait()
                    continue
                shown = self._jpeg
                yield shown.data
        finally:
            self._snapshot_waiters -= 1
            self._keep_alive_for_snapshots()

    def keep_trying(self) -> None:
        """Connect (or keep retrying) for the idle timeout, without waiting for a picture."""
        if self._closed:
            return
        self._ensure_running()
        self._keep_alive_for_snapshots()

    def _keep_alive_for_snapshots(self) -> None:
        if not self._subscribers and not self._snapshot_waiters:
            self._schedule_idle_stop()

    def close_now(self) -> None:
        """Mark a feed that never ran closed (its owner stopped): nothing will start."""
        if self.running:
            raise RuntimeError("a running feed is closed with close()")
        self._closed = True

    async def close(self) -> None:
        """End every subscription and the recorder connection."""
        self._closed = True
        for subscriber in self._subscribers:
            subscriber.end()
        self._next_jpeg.set()  # MJPEG viewers see the feed closed
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
        # The last JPEG stays: it is served, with its age, while a fresh one comes.
        self._gop.clear()

    async def _run(self) -> None:
        attempt = 0
        while not self._closed:
            if not self._connections.may_start(self.channel):
                if self.camera_disconnected:
                    self._give_up_disconnected()
                    return
                # A 503 made the camera suspect: the next status settles it.
                await self._connections.wait_until_settled(self.channel)
                continue
            if self._told_disconnected:
                _LOGGER.info("Camera %d is connected again: live stream resumes", self.channel)
                self._told_disconnected = False
            received = self.stats.access_units
            try:
                await self._stream_once()
            except _StartRefusedError as err:
                _LOGGER.debug(
                    "Live START of camera %d refused (%s); waiting for the recorder's status"
                    " to tell whether the camera or the recorder is the cause",
                    self.channel,
                    err.__cause__,
                )
                self._failing = True
                await self._connections.wait_until_settled(self.channel)
                if self.camera_disconnected:
                    continue  # said so at the top of the loop, once
                _LOGGER.warning(
                    "Live stream of camera %d: the recorder is busy (503); retrying",
                    self.channel,
                )
            except RecorderFullError as err:
                # No login into a full recorder: the session said so once for
                # every stream; a status poll that shows room retries at once.
                _LOGGER.debug("Live stream of camera %d waits for a session: %s", self.channel, err)
                self._failing = True
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
            await self._wait_to_retry(delay)

    def retry_now(self) -> None:
        """The recorder answers again (a poll works after failing): end a reconnection wait now.

        Without it a feed that failed through a 503 storm would sit out the
        rest of its backoff (up to 30 s) after the recorder recovered. Only a
        failing feed listens: a healthy one keeps its pace.
        """
        if self._failing:
            self._retry_now.set()

    async def _wait_to_retry(self, delay: float) -> None:
        """Sleep ``delay`` seconds before the next attempt, or until :meth:`retry_now`."""
        try:
            async with asyncio.timeout(delay):
                await self._retry_now.wait()
        except TimeoutError:
            pass
        self._retry_now.clear()

    def _give_up_disconnected(self) -> None:
        """The camera is reported disconnected: end the viewers, send nothing until it is back."""
        if not self._told_disconnected:
            _LOGGER.info(
                "Camera %d is disconnected (the recorder reports it): no live stream"
                " until a status poll says it is back",
                self.channel,
            )
            self._told_disconnected = True
        self._failing = True
        for subscriber in self._subscribers:
            subscriber.end()
        arrived, self._next_jpeg = self._next_jpeg, asyncio.Event()
        arrived.set()  # MJPEG viewers see the camera gone
        self._gop.clear()

    async def _stream_once(self) -> None:
        # The lease's UID is logged in and set up (hdrctl SCREEN=16X) by the
        # session, once per login: on a kept UID the START is the only command.
        async with self.client.lease(UidPurpose.LIVE, channel=self.channel) as lease:
            self.stats.connections += 1
            self._offset = None  # rebase on the first picture of this connection
            self._audio_next = None
            audio: asyncio.Task[None] | None = None
            started = False
            try:
                async with AsyncExitStack() as stack:
                    response = await self._start(stack, lease)
                    started = True
                    items = await stack.enter_async_context(
                        aclosing(iter_live_body(response.content.iter_any()))
                    )
                    # The START was accepted: now the recorder takes audio on this UID.
                    if self.audio:
                        audio = asyncio.get_running_loop().create_task(
                            self._stream_audio(lease), name=f"ipro_nvr live audio {self.channel}"
                        )
                    async for item in items:
                        if isinstance(item, AccessUnit):
                            self._publish(item)
                        elif isinstance(item, JpegFrame):
                            self._publish_jpeg(item)
            finally:
                if audio is not None:
                    audio.cancel()
                    with suppress(asyncio.CancelledError):
                        await audio
                # Tell the recorder we are done with these streams (audio, then
                # the video it depends on). Not after a refused START, which
                # started nothing, nor when the feed closes or an idle stop
                # cancels it on a UID about to be logged out (the logout ends
                # them); a kept UID stays logged in, so it gets its STOP.
                # Nobody waits for a STOP: it goes after the people waiting.
                task = asyncio.current_task()
                cancelled = task is not None and task.cancelling() > 0
                if started and not self._closed and (lease.kept or not cancelled):
                    with suppress(NvrError, aiohttp.ClientError, TimeoutError):
                        if audio is not None:
                            await self.client.send_on(
                                lease,
                                urls.live_stop(self.channel, LiveCodec.AUDIO),
                                priority=Priority.NORMAL,
                            )
                        await self.client.send_on(
                            lease,
                            urls.live_stop(self.channel, self.codec),
                            priority=Priority.NORMAL,
                        )

    async def _start(self, stack: AsyncExitStack, lease: Lease) -> aiohttp.ClientResponse:
        """``push.cgi`` START on the lease; a 503 makes the camera suspect."""
        request = urls.live_start(self.channel, self.codec)
        # A person waits on a video start (the live view is blank until then); a
        # JPEG feed serves snapshots, and a tile shows its last picture meanwhile.
        priority = Priority.DEFERRABLE if self.codec is LiveCodec.JPEG else Priority.USER
        try:
            return await stack.enter_async_context(
                self.client.stream(
                    request, lease=lease, priority=priority, read_timeout=READ_TIMEOUT
                )
            )
        except RecorderFullError:
            raise  # no login was sent: neither the camera nor a 503 to blame
        except RecorderBusyError as err:
            self._connections.suspect(self.channel)
            raise _StartRefusedError(str(err)) from err

    async def _stream_audio(self, lease: Lease) -> None:
        """Read the audio stream beside the video until it fails or is cancelled.

        An audio stream that ran and broke is started again (the video may
        well go on). A refusal before audio ever worked turns audio off for
        this feed (no microphone, most likely); a later one waits for the
        video's reconnection, which starts audio again.
        """
        while self.audio:
            frames = 0
            error: Exception | None = None
            try:
                async with (
                    self.client.stream(
                        urls.live_start(self.channel, LiveCodec.AUDIO),
                        lease=lease,
                        read_timeout=READ_TIMEOUT,
                        renew_refused=False,
                    ) as response,
                    aclosing(iter_live_body(response.content.iter_any())) as items,
                ):
                    async for item in items:
                        if isinstance(item, AudioFrame):
                            frames += 1
                            self._publish_audio(item)
            except (NvrError, MediaFormatError, aiohttp.ClientError, TimeoutError) as err:
                error = err
            if not frames:
                self.stats.audio_refused += 1
                if self._audio_worked:
                    # It worked before: the UID is probably gone with the video,
                    # whose reconnection starts audio again.
                    _LOGGER.debug("Live audio of camera %d refused: %s", self.channel, error)
                    return
                self.audio = False
                _LOGGER.warning(
                    "Camera %d gives no live audio (%s); video goes on without it",
                    self.channel,
                    error or "empty stream",
                )
                return
            self._audio_worked = True
            _LOGGER.debug("Live audio of camera %d interrupted: %s", self.channel, error)
            self._audio_next = None  # re-anchor the restarted audio on the video clock
            await asyncio.sleep(self._backoff[0])

    def _publish(self, unit: AccessUnit) -> None:
        if self._failing:
            _LOGGER.info("Live stream of camera %d is back", self.channel)
            self._failing = False
        unit = self._rebased(unit)
        self._last_at = asyncio.get_running_loop().time()
        self.stats.access_units += 1
        if unit.keyframe:
            self._gop = [unit]
        else:
            self._cache(unit)
        self._offer(unit)

    def _cache(self, item: FeedItem) -> None:
        if self._gop and len(self._gop) < MAX_CACHED_GOP:
            self._gop.append(item)

    def _offer(self, item: FeedItem) -> None:
        for subscriber in self._subscribers:
            if not subscriber.offer(item):
                self.stats.dropped_for_slow_subscribers += 1

    def _publish_audio(self, frame: AudioFrame) -> None:
        """Stamp ``frame`` in the video clock and hand it out.

        The recorder's audio parts carry no timestamp. Each frame follows the
        previous one by its duration; the first is placed at the video
        clock's estimate of "now" (last picture + time since it arrived), so
        sound and picture that arrive together play together.
        """
        if self._last_ts is None:
            return  # no picture yet, so no clock to place audio in
        if frame.codec is AudioCodec.AAC_LC:
            samples = float(_AAC_FRAME_SAMPLES)
        else:
            samples = len(frame.data) * _SAMPLES_PER_BYTE[frame.codec]
        duration = max(1, round(samples * _CLOCK_RATE / frame.sample_rate))
        elapsed = asyncio.get_running_loop().time() - self._last_at
        now = self._last_ts + round(elapsed * _CLOCK_RATE)
        timestamp = self._audio_next
        if timestamp is None or now - timestamp > _AUDIO_MAX_DRIFT:
            # First frame, or audio fell behind (a stall): start again at "now".
            timestamp = now if timestamp is None else max(now, timestamp)
        elif timestamp - now > _AUDIO_MAX_DRIFT:
            return  # a burst running ahead of the picture: drop rather than drift
        self._audio_next = timestamp + duration
        self.stats.audio_frames += 1
        timed = TimedAudio(frame, timestamp, duration)
        self._cache(timed)
        self._offer(timed)

    def _publish_jpeg(self, frame: JpegFrame) -> None:
        self._jpeg = frame
        self._jpeg_at = asyncio.get_running_loop().time()
        self._jpeg_arrived.set()
        arrived, self._next_jpeg = self._next_jpeg, asyncio.Event()
        arrived.set()

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
