"""The live video of one camera, shared by every viewer.

A :class:`VideoFeed` is a :class:`~.feed.Feed` of ``push.cgi`` H.264/H.265
(spec 2.2). It rebases timestamps so that they keep growing across
reconnects, and new subscribers first get the current GOP (keyframe onwards),
so their picture starts at once.

With ``audio=True`` the feed also starts ``push.cgi ... COMP=AUDIO`` on the
same UID once the video stream runs (the recorder accepts audio only after
video on one UID, spec 2.2.1.1) and hands out :class:`~..media.TimedAudio`
frames stamped in the video's 90 kHz clock, so a muxer can put both in one
stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing, suppress
from dataclasses import dataclass
import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Final, Unpack

import aiohttp

from .. import urls
from ..errors import NvrError
from ..media import (
    AccessUnit,
    AudioCodec,
    AudioFrame,
    LiveItem,
    MediaFormatError,
    TimedAudio,
    iter_live_body,
)
from ..picture_info import PictureInfo, picture_info
from ..session import Lease
from ..udp_live import UdpLiveConnection
from ..urls import LiveCodec, Request
from .feed import READ_TIMEOUT, Feed, FeedOptions, FeedStats

if TYPE_CHECKING:
    from ..client import NvrClient

_LOGGER = logging.getLogger(__name__)

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


type FeedItem = AccessUnit | TimedAudio


@dataclass(slots=True)
class VideoFeedStats(FeedStats):
    """Counters for diagnostics and tests."""

    access_units: int = 0
    audio_frames: int = 0
    audio_refused: int = 0
    dropped_for_slow_subscribers: int = 0


class _Subscriber:
    __slots__ = ("keeps_gop", "queue", "resync")

    def __init__(self, backlog: list[FeedItem], *, keeps_gop: bool = False) -> None:
        # None marks the end of the feed. The whole backlog fits (it is capped
        # at MAX_CACHED_GOP): cutting it would lose the keyframe it starts with,
        # which a long GOP with audio frames in between would otherwise exceed.
        self.queue: asyncio.Queue[FeedItem | None] = asyncio.Queue(SUBSCRIBER_QUEUE + len(backlog))
        self.keeps_gop = keeps_gop
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


class VideoFeed(Feed):
    """The shared live video (and audio) of one camera channel."""

    stats: VideoFeedStats
    # A few pictures per read: a fifth of a second of latency for far fewer
    # wakeups per picture (see paced_chunks; relay CPU per stream-minute on
    # benchmarks.live_path: 1.7 s reading as it arrives, about 1.0 s at 0.1 s,
    # 0.7 s at 0.2 s).
    read_interval = 0.2

    def __init__(
        self,
        client: NvrClient,
        channel: int,
        codec: LiveCodec = LiveCodec.H264,
        *,
        audio: bool = False,
        **options: Unpack[FeedOptions],
    ) -> None:
        """Prepare the feed; nothing connects before the first subscriber.

        ``udp``: receive RTP over UDP (spec 2.1) instead of the multipart body.
        """
        if codec is LiveCodec.JPEG or codec is LiveCodec.AUDIO:
            raise ValueError(f"a video feed streams H.264 or H.265, not {codec}")
        self.codec = codec  # before the core asks _udp_codec()
        # The latest picture with recorder TLVs and when it came (see picture_info).
        self._info_unit: tuple[AccessUnit, float] | None = None
        super().__init__(client, channel, stats=VideoFeedStats(), **options)
        # A refusal of the audio stream turns it off for this feed: the camera
        # probably has no microphone, and asking again costs paced commands.
        self.audio = audio
        self._audio_worked = False
        self._audio_task: asyncio.Task[None] | None = None
        self._subscribers: set[_Subscriber] = set()
        # The current GOP (with the audio received since its keyframe); only its
        # keyframe while every subscriber keeps a GOP of its own (``_gop_whole``
        # False: a new subscriber then starts at the next keyframe).
        self._gop: list[FeedItem] = []
        self._gop_whole = True
        # Timestamp continuity across reconnects.
        self._offset: int | None = None
        self._last_ts: int | None = None
        self._frame_ticks = _DEFAULT_FRAME_TICKS
        self._last_at = 0.0  # loop time of the last picture
        self._audio_next: int | None = None  # timestamp of the next audio frame

    @property
    def subscribers(self) -> int:
        """How many viewers read this feed now."""
        return len(self._subscribers)

    def latest_keyframe(self) -> AccessUnit | None:
        """The keyframe that starts the current GOP, while the feed streams."""
        first = self._gop[0] if self._gop else None
        return first if isinstance(first, AccessUnit) and first.keyframe else None

    async def subscribe(self, *, keeps_gop: bool = False) -> AsyncGenerator[FeedItem]:
        """Yield this camera's pictures (and audio), starting with the current GOP, until closed.

        Audio frames come only from a feed with ``audio=True``. ``keeps_gop``: the
        subscriber keeps the current GOP itself (the relay's MPEG-TS broadcast, for
        its new viewers); while every subscriber does, the feed keeps only the
        keyframe rather than a second copy of the GOP, and a subscriber arriving
        in that GOP starts at the next keyframe.
        """
        if self._closed or self.camera_disconnected:
            return
        subscriber = _Subscriber(self._gop if self._gop_whole else [], keeps_gop=keeps_gop)
        subscriber.resync = not self._gop_whole
        self._subscribers.add(subscriber)
        self._acquire()
        try:
            while (unit := await subscriber.queue.get()) is not None:
                yield unit
        finally:
            self._subscribers.discard(subscriber)
            self._release()

    # -- the Feed hooks ------------------------------------------------------------

    def _start_request(self) -> Request:
        return urls.live_start(self.channel, self.codec)

    def _stop_requests(self) -> Sequence[Request]:
        # Audio first: the video stream it depends on ends after it.
        video = urls.live_stop(self.channel, self.codec)
        if self._audio_task is None:
            return [video]
        return [urls.live_stop(self.channel, LiveCodec.AUDIO), video]

    def _in_use(self) -> bool:
        return bool(self._subscribers)

    def _end_readers(self) -> None:
        for subscriber in self._subscribers:
            subscriber.end()

    def _camera_gone(self) -> None:
        self._end_readers()
        self._gop.clear()

    def _on_connect(self) -> None:
        self._offset = None  # rebase on the first picture of this connection
        self._audio_next = None
        self._audio_task = None

    async def _on_started(self, lease: Lease) -> None:
        # The START was accepted: now the recorder takes audio on this UID.
        if self.audio:
            self._audio_task = asyncio.get_running_loop().create_task(
                self._stream_audio(lease), name=f"ipro_nvr live audio {self.channel}"
            )

    async def _on_disconnect(self) -> None:
        if self._audio_task is not None:
            self._audio_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._audio_task

    def _on_stopped(self) -> None:
        # A later start begins a new GOP; the old one would show a stale picture.
        self._gop.clear()

    def _on_item(self, item: LiveItem) -> None:
        if isinstance(item, AccessUnit):
            self._publish(item)
        elif isinstance(item, AudioFrame):  # RTP/UDP: audio shares the video's port
            self._publish_audio(item)

    def _udp_codec(self) -> LiveCodec:
        return self.codec

    async def _on_started_udp(self, lease: Lease, connection: UdpLiveConnection) -> None:
        if self.audio:
            self._audio_task = asyncio.get_running_loop().create_task(
                self._start_udp_audio(connection), name=f"ipro_nvr live audio {self.channel}"
            )

    async def _start_udp_audio(self, connection: UdpLiveConnection) -> None:
        """Ask for audio to the video's port; a refusal turns audio off as over HTTP."""
        try:
            await connection.start_audio()
        except NvrError as err:
            self.stats.audio_refused += 1
            if self._audio_worked:
                _LOGGER.debug("Live audio of camera %d refused: %s", self.channel, err)
                return
            self.audio = False
            _LOGGER.warning(
                "Camera %d gives no live audio (%s); video goes on without it", self.channel, err
            )
            return
        self._audio_worked = True

    # -- audio ---------------------------------------------------------------------

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

    # -- publishing ------------------------------------------------------------------

    @property
    def picture_info(self) -> PictureInfo | None:
        """The latest picture's recorder and camera times and frame rate (spec 7.1)."""
        if self._info_unit is not None:
            unit, received = self._info_unit
            self._info_unit = None
            self._picture_info = picture_info(
                unit.info, dt.datetime.fromtimestamp(received, dt.UTC), previous=self._picture_info
            )
        return self._picture_info

    def _publish(self, unit: AccessUnit) -> None:
        self._mark_working()
        unit = self._rebased(unit)
        self._last_at = asyncio.get_running_loop().time()
        if unit.carries_info:
            # Decoding a picture's TLVs costs about as much as assembling it: keep
            # the latest one and decode it only when someone asks (picture_info).
            self._info_unit = (unit, time.time())
        self.stats.access_units += 1
        if unit.keyframe:
            self._gop = [unit]
            self._gop_whole = True
        else:
            self._cache(unit)
        self._offer(unit)

    def _cache(self, item: FeedItem) -> None:
        if self._subscribers and all(s.keeps_gop for s in self._subscribers):
            self._gop_whole = False
        if self._gop_whole and self._gop and len(self._gop) < MAX_CACHED_GOP:
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
        return unit.with_timestamp(timestamp)  # its recorder TLVs stay undecoded
