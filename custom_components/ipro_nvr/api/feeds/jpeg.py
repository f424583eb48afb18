"""The live JPEG stream of one camera, for snapshots and MJPEG viewers.

A :class:`JpegFeed` is a :class:`~.feed.Feed` of ``push.cgi`` JPEG (spec
2.2) that keeps only the latest picture. A dashboard refreshing its picture
every few seconds costs the recorder one stream, not one login and
``push.cgi`` per picture; the last good picture stays across stops and is
served, with its age, while a fresh one comes. Given a recorder's
:class:`~.last_pictures.LastPictures`, it also stays across the feed itself: a
new feed (a reloaded config entry's) starts from the last picture of its
predecessor instead of nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
import datetime as dt
from typing import TYPE_CHECKING, Final, Unpack

from .. import urls
from ..media import JpegFrame, LiveItem
from ..picture_info import jpeg_picture_info
from ..scheduler import Priority, Urgency
from ..urls import LiveCodec, Request
from .feed import Feed, FeedOptions, FeedStats
from .last_pictures import LastPictures

if TYPE_CHECKING:
    from ..client import NvrClient

# A picture at most this old is shown at once to an MJPEG viewer joining.
_MJPEG_FRESH_AGE: Final = 2.0


class JpegFeed(Feed):
    """The shared live JPEG pictures of one camera channel."""

    # A person waits on a video start (the live view is blank until then); a
    # JPEG feed serves snapshots, and a tile shows its last picture meanwhile.
    # A tile with no picture at all waits like a live view (see hurry()).
    start_priority = Priority.DEFERRABLE

    def __init__(
        self,
        client: NvrClient,
        channel: int,
        *,
        pictures: LastPictures | None = None,
        **options: Unpack[FeedOptions],
    ) -> None:
        """Prepare the feed; nothing connects before the first picture is asked for.

        ``pictures``: the recorder's last pictures, shared with the feeds
        before and after this one (each picture is kept there too).
        """
        super().__init__(client, channel, stats=FeedStats(), **options)
        self.codec = LiveCodec.JPEG
        self._pictures = pictures
        self._jpeg: JpegFrame | None = None
        self._jpeg_at = 0.0
        self._jpeg_arrived = asyncio.Event()
        # Replaced by a new event at every picture: each MJPEG viewer waits on
        # the one current when it asked, so no viewer can clear another's wake-up.
        self._next_jpeg = asyncio.Event()
        self._waiters = 0  # snapshot callers and MJPEG viewers
        # Someone waits for a first picture: the START goes as a person's request.
        self._hurried = False
        self._urgency: Urgency | None = None  # the START being queued, if any

    def latest_jpeg(self) -> tuple[bytes, float] | None:
        """The last good picture and its age in seconds, kept across stops."""
        self._take_last_picture()
        if self._jpeg is None:
            return None
        return self._jpeg.data, asyncio.get_running_loop().time() - self._jpeg_at

    def hurry(self) -> None:
        """Someone waits for this camera's first picture (a dashboard tile shows none).

        The START, queued or next, goes as a person's request (a tile's, after
        what people opened) instead of behind every setup command and poll;
        once a picture came, restarts are deferrable again (the tile shows the
        last picture meanwhile).
        """
        if self._jpeg is not None:
            return
        self._hurried = True
        if self._urgency is not None:
            self._urgency.raise_to(Priority.TILE)

    def _take_last_picture(self) -> None:
        """With no picture of its own yet, start from the recorder's last one (its age kept)."""
        if self._jpeg is not None or self._pictures is None:
            return
        last = self._pictures.get(self.channel, asyncio.get_running_loop().time())
        if last is not None:
            data, self._jpeg_at = last
            self._jpeg = JpegFrame(data)

    async def jpeg(self, *, wait: float, max_age: float = 2.0) -> bytes | None:
        """The latest JPEG: a fresh one at once, else the next to arrive.

        The feed stays connected for the idle timeout after the call, so a
        dashboard refreshing its picture every few seconds costs the recorder
        one stream, not one login and ``push.cgi`` per picture.
        """
        if self._closed:
            return None
        self._take_last_picture()
        loop = asyncio.get_running_loop()
        if self._jpeg is not None and loop.time() - self._jpeg_at <= max_age:
            self._release()
            return self._jpeg.data
        if self.camera_disconnected:
            return None
        self._waiters += 1
        self._acquire()
        try:
            self._jpeg_arrived.clear()
            async with asyncio.timeout(wait):
                await self._jpeg_arrived.wait()
        except TimeoutError:
            return None
        finally:
            self._waiters -= 1
            self._release()
        return self._jpeg.data if self._jpeg is not None else None

    async def jpeg_frames(self) -> AsyncGenerator[bytes]:
        """Yield the pictures as they arrive (MJPEG), until closed.

        A viewer slower than the camera skips pictures instead of queueing
        them: it always gets the newest. The first is the latest picture if
        it is still fresh, so a viewer joining a running feed starts at once.
        """
        if self._closed or self.camera_disconnected:
            return
        loop = asyncio.get_running_loop()
        self._waiters += 1
        self._acquire()
        try:
            shown: JpegFrame | None = None
            if self._jpeg is not None and loop.time() - self._jpeg_at <= _MJPEG_FRESH_AGE:
                shown = self._jpeg
                yield shown.data
            while not self._closed and not self.camera_disconnected:
                if self._jpeg is shown or self._jpeg is None:
                    await self._next_jpeg.wait()
                    continue
                shown = self._jpeg
                yield shown.data
        finally:
            self._waiters -= 1
            self._release()

    # -- the Feed hooks ------------------------------------------------------------

    def _start_urgency(self) -> Urgency:
        self._urgency = Urgency(Priority.TILE if self._hurried else self.start_priority)
        return self._urgency

    def _start_request(self) -> Request:
        return urls.live_start(self.channel, LiveCodec.JPEG)

    def _stop_requests(self) -> Sequence[Request]:
        return [urls.live_stop(self.channel, LiveCodec.JPEG)]

    def _in_use(self) -> bool:
        return self._waiters > 0

    def _end_readers(self) -> None:
        self._next_jpeg.set()  # MJPEG viewers see the feed closed

    def _camera_gone(self) -> None:
        arrived, self._next_jpeg = self._next_jpeg, asyncio.Event()
        arrived.set()  # MJPEG viewers see the camera gone

    def _on_item(self, item: LiveItem) -> None:
        if isinstance(item, JpegFrame):
            self._publish(item)

    def _publish(self, frame: JpegFrame) -> None:
        # A picture shows the stream works: the failing state ends, and the next
        # interruption retries at the first backoff step, not a grown one.
        self._mark_working()
        self._hurried = False
        self._jpeg = frame
        info = jpeg_picture_info(frame, dt.datetime.now(dt.UTC), self._picture_info)
        if info is not None:
            self._picture_info = info
        self._jpeg_at = asyncio.get_running_loop().time()
        if self._pictures is not None:
            self._pictures.keep(self.channel, frame.data, self._jpeg_at)
        self._jpeg_arrived.set()
        arrived, self._next_jpeg = self._next_jpeg, asyncio.Event()
        arrived.set()
