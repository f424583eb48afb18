"""Hand each camera's live video to Home Assistant's stream component.

The recorder does not speak RTSP: it sends RTP packets inside an endless HTTP
multipart body. Home Assistant's stream component (PyAV/FFmpeg) and go2rtc read
URLs, so each config entry runs a tiny HTTP server bound to 127.0.0.1 on an
ephemeral port that serves every camera as MPEG-TS at
``http://127.0.0.1:<port>/<channel>.ts?auth=<token>``. The random token keeps
other local processes out (Home Assistant's stream component redacts an
``auth`` parameter in its logs); the loopback binding keeps the network out. Behind it,
one :class:`VideoFeed` per camera holds the single recorder connection that
every viewer shares (one :class:`JpegFeed` per camera the one for snapshots).
With audio on, each viewer's MPEG-TS also carries the camera's audio as AAC
(G.711/G.726 transcoded, see :class:`TsMuxer`).

A camera the recorder reports disconnected is refused at once (503): its feed
sends nothing until a status poll says it is back. Snapshots are served from
the last good picture when a fresh one is not there within a second, so a
dashboard never waits behind the recorder's paced queue (see
:meth:`StreamRelay.async_snapshot`); the last pictures outlive the relay (a
:class:`LastPictures` per recorder), so a reloaded entry's tiles show them at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import secrets
from typing import Any, Protocol

from aiohttp import HttpVersion11, web

from custom_components.ipro_nvr.api import (
    MAX_CHANNELS,
    AccessUnit,
    CameraConnections,
    JpegFeed,
    LastPictures,
    LiveCodec,
    NvrClient,
    PictureInfo,
    UdpSettings,
    VideoFeed,
)
from custom_components.ipro_nvr.const import (
    CONF_LIVE_AUDIO,
    CONF_LIVE_TRANSPORT,
    CONF_UDP_PORT_MAX,
    CONF_UDP_PORT_MIN,
    DEFAULT_LIVE_AUDIO,
    DEFAULT_LIVE_TRANSPORT,
    DEFAULT_UDP_PORT_MAX,
    DEFAULT_UDP_PORT_MIN,
    LIVE_TRANSPORT_UDP,
    LOGGER,
)

from .camera_codecs import camera_live_codec, video_codec
from .keyframe_snapshot import keyframe_to_jpeg
from .ts_broadcast import TsBroadcast

RELAY_HOST = "127.0.0.1"
# A snapshot waits this long for a fresh picture before it serves the last good
# one; the fresh one keeps coming and is there for the next request.
SNAPSHOT_STALE_WAIT = 1.0
# With no picture at all yet, it waits for the first one, but returns before
# Home Assistant gives up on the camera (10 s) so the request never hangs.
SNAPSHOT_FIRST_WAIT = 5.0
# At most this many snapshots wait for a camera's first picture at once; the
# others are answered at once (the placeholder) while their START is queued. A
# browser opens six connections to Home Assistant: the pictures of a dashboard's
# further tiles wait in its queue behind the waiting ones, and the frontend
# shows a picture broken that has not loaded 10 s after it asked (its refresh
# interval), time in the browser's queue included.
SNAPSHOT_FIRST_WAITERS = 3
# A picture at most this old counts as fresh.
SNAPSHOT_FRESH_AGE = 2.0


class StreamRelay:
    """A loopback MPEG-TS server for the cameras of one recorder."""

    def __init__(
        self,
        client: NvrClient,
        codec_for: Callable[[int], LiveCodec] | None = None,
        *,
        audio: bool = False,
        connections: CameraConnections | None = None,
        udp: UdpSettings | None = None,
        pictures: LastPictures | None = None,
        jpeg_feeds: Mapping[int, JpegFeed] | None = None,
    ) -> None:
        """Prepare the relay; the server starts on the first URL asked for.

        ``udp``: the video feeds receive RTP over UDP (falling back to HTTP).
        ``pictures``: the recorder's last pictures, kept beyond this relay (a
        reload's next relay serves them while its first STARTs are queued).
        ``jpeg_feeds``: JPEG feeds of ``client`` a previous relay handed over
        (see :meth:`async_hand_over`), running on with their pictures.
        """
        self._client = client
        self._codec_for = codec_for or (lambda _channel: LiveCodec.H264)
        self._audio = audio
        self._udp = udp
        self._pictures = pictures
        self.connections = connections if connections is not None else CameraConnections()
        self._token = secrets.token_urlsafe(32)
        self._feeds: dict[int, VideoFeed] = {}
        self._jpeg_feeds: dict[int, JpegFeed] = dict(jpeg_feeds or {})
        self._broadcasts: dict[int, TsBroadcast] = {}
        self._first_waits = 0  # snapshots waiting for a camera's first picture
        self._runner: web.AppRunner | None = None
        self._stopped = False
        self._port: int | None = None
        self._start_lock = asyncio.Lock()

    @classmethod
    def from_options(
        cls,
        client: NvrClient,
        options: Mapping[str, Any],
        connections: CameraConnections | None = None,
        pictures: LastPictures | None = None,
        jpeg_feeds: Mapping[int, JpegFeed] | None = None,
    ) -> StreamRelay:
        """A relay with the live codecs, audio and transport chosen in a config entry's options."""
        udp = None
        if options.get(CONF_LIVE_TRANSPORT, DEFAULT_LIVE_TRANSPORT) == LIVE_TRANSPORT_UDP:
            first = int(options.get(CONF_UDP_PORT_MIN, DEFAULT_UDP_PORT_MIN))
            last = int(options.get(CONF_UDP_PORT_MAX, DEFAULT_UDP_PORT_MAX))
            udp = UdpSettings(ports=range(first, max(first, last) + 1))
        return cls(
            client,
            lambda channel: video_codec(camera_live_codec(options, channel)),
            audio=bool(options.get(CONF_LIVE_AUDIO, DEFAULT_LIVE_AUDIO)),
            connections=connections,
            udp=udp,
            pictures=pictures,
            jpeg_feeds=jpeg_feeds,
        )

    def feed(self, channel: int) -> VideoFeed:
        """The shared live feed of ``channel`` (created on first use; closed once stopped)."""
        if (feed := self._feeds.get(channel)) is None:
            feed = self._feeds[channel] = VideoFeed(
                self._client,
                channel,
                self._codec_for(channel),
                audio=self._audio,
                connections=self.connections,
                udp=self._udp,
            )
            if self._stopped:
                feed.close_now()
        return feed

    def _broadcast(self, channel: int) -> TsBroadcast:
        if (broadcast := self._broadcasts.get(channel)) is None:
            broadcast = self._broadcasts[channel] = TsBroadcast(
                self.feed(channel), audio=self._audio
            )
        return broadcast

    def picture_infos(self) -> dict[int, PictureInfo | None]:
        """Per channel with a feed: its latest picture's times and frame rate (spec 7.1).

        The live video feed's when it has one, else the JPEG feed's (snapshots, MJPEG).
        """
        infos: dict[int, PictureInfo | None] = {}
        for channel in sorted({*self._feeds, *self._jpeg_feeds}):
            candidates = [
                feed.picture_info
                for feed in (self._feeds.get(channel), self._jpeg_feeds.get(channel))
                if feed is not None and feed.picture_info is not None
            ]
            infos[channel] = max(candidates, key=lambda info: info.received, default=None)
        return infos

    def jpeg_feed(self, channel: int) -> JpegFeed:
        """The shared JPEG feed of ``channel`` for snapshots and MJPEG (created on first use)."""
        if (feed := self._jpeg_feeds.get(channel)) is None:
            feed = self._jpeg_feeds[channel] = JpegFeed(
                self._client, channel, connections=self.connections, pictures=self._pictures
            )
            if self._stopped:
                feed.close_now()
        return feed

    async def async_snapshot(
        self,
        channel: int,
        *,
        stale_wait: float = SNAPSHOT_STALE_WAIT,
        first_wait: float = SNAPSHOT_FIRST_WAIT,
    ) -> bytes | None:
        """A JPEG of ``channel`` from its JPEG feed, which stays open a while for the next.

        A fresh picture is served at once. Else the feed (re)starts and the
        call waits ``stale_wait`` seconds for a fresh one, then serves the last
        good picture while the fresh one keeps coming; with no picture yet it
        waits up to ``first_wait``, unless :data:`SNAPSHOT_FIRST_WAITERS` wait
        already: then it answers None at once and the feed starts meanwhile.
        With no picture to show, the START goes as a person's request (a tile
        waits for it), not behind the setup commands and polls. The last good
        picture may be the recorder's from before a reload (``pictures``).
        When the JPEG stream fails and the camera's live video is being
        watched, the keyframe of its current GOP is decoded instead. A
        snapshot never starts the video stream on its own, and nothing is
        started for a camera reported disconnected.
        """
        jpeg_feed = self.jpeg_feed(channel)
        latest = jpeg_feed.latest_jpeg()
        if jpeg_feed.camera_disconnected:
            return latest[0] if latest is not None else None
        if jpeg_feed.failing and (keyframe := self._live_keyframe(channel)) is not None:
            jpeg_feed.keep_trying()  # the JPEG stream may come back
            return await self._decoded(keyframe)
        if latest is None:
            # Nothing to show meanwhile: its START goes ahead of setup work and polls.
            jpeg_feed.hurry()
        if latest is None and self._first_waits >= SNAPSHOT_FIRST_WAITERS:
            jpeg_feed.keep_trying()  # its START queues; a later request gets the picture
            return None
        if latest is not None:
            picture = await jpeg_feed.jpeg(wait=stale_wait, max_age=SNAPSHOT_FRESH_AGE)
        else:
            self._first_waits += 1
            try:
                picture = await jpeg_feed.jpeg(wait=first_wait, max_age=SNAPSHOT_FRESH_AGE)
            finally:
                self._first_waits -= 1
        if picture is not None:
            return picture
        if jpeg_feed.failing and (keyframe := self._live_keyframe(channel)) is not None:
            return await self._decoded(keyframe)
        latest = jpeg_feed.latest_jpeg()
        return latest[0] if latest is not None else None

    async def async_prefetch_snapshots(self, channels: Iterable[int]) -> None:
        """Fetch a first picture of each connected camera, one after the other.

        Run once after setup: a dashboard opened later shows every tile at
        once (the last good picture, then fresh ones), instead of waiting a
        ``push.cgi`` START per camera, 3 s apart, beyond Home Assistant's
        10 s. One camera at a time, so a person's request waits behind at
        most one of them.
        """
        for channel in channels:
            if self._stopped:
                return
            feed = self.jpeg_feed(channel)
            if self.connections.may_start(channel) and feed.latest_jpeg() is None:
                await feed.jpeg(wait=SNAPSHOT_FIRST_WAIT)

    def retry_now(self) -> None:
        """The recorder answers again: every failing feed retries now, not after its backoff."""
        for feed in (*self._feeds.values(), *self._jpeg_feeds.values()):
            feed.retry_now()

    def retry_after_good_polls(self, *pollers: Poller) -> Callable[[], None]:
        """Call :meth:`retry_now` when a poll of ``pollers`` works after one failed.

        Without it a live stream that failed through an outage (a 503 storm)
        would sit out the rest of its backoff (up to 30 s) after the recorder
        recovered. Only the change from failing to working counts: a poll that
        works while live starts keep being refused must not turn the feeds'
        backoff into a retry at every poll. Returns the undo.
        """

        def _listen(poller: Poller) -> Callable[[], None]:
            healthy = poller.last_update_success

            # Coordinators call their listeners in the event loop.
            def _polled() -> None:
                nonlocal healthy
                was_healthy, healthy = healthy, poller.last_update_success
                if healthy and not was_healthy:
                    self.retry_now()

            return poller.async_add_listener(_polled)

        removers = [_listen(poller) for poller in pollers]

        def _remove() -> None:
            for remove in removers:
                remove()

        return _remove

    def _live_keyframe(self, channel: int) -> AccessUnit | None:
        video = self._feeds.get(channel)
        return video.latest_keyframe() if video is not None else None

    @staticmethod
    async def _decoded(keyframe: AccessUnit) -> bytes | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, keyframe_to_jpeg, keyframe)

    async def async_url(self, channel: int) -> str:
        """URL at which ``channel`` is served as MPEG-TS (starts the server once)."""
        async with self._start_lock:
            if self._runner is None:
                await self._start()
        return f"http://{RELAY_HOST}:{self._port}/{channel}.ts?auth={self._token}"

    @property
    def video_streams(self) -> int:
        """How many video feeds have a recorder stream running (a START accepted)."""
        return sum(feed.streaming for feed in self._feeds.values())

    async def async_hand_over(self) -> dict[int, JpegFeed]:
        """Stop serving and hand the JPEG feeds over, running, to the client's next owner.

        The client stays logged in: the video feeds get their STOPs (one paced
        command each, see :attr:`video_streams`); the JPEG feeds keep their
        streams and pictures for the next relay of the same client.
        """
        self._stopped = True
        runner, self._runner = self._runner, None
        feeds, self._jpeg_feeds = self._jpeg_feeds, {}
        await asyncio.gather(*(feed.close(send_stop=True) for feed in self._feeds.values()))
        if runner is not None:
            await runner.cleanup()
        return feeds

    async def async_stop(self) -> None:
        """Stop serving and close every feed: retries end, viewers are let go at once.

        No STOP is sent for the streams: closing the client logs their UIDs out.
        """
        self._stopped = True
        runner, self._runner = self._runner, None
        feeds = [*self._feeds.values(), *self._jpeg_feeds.values()]
        # Feeds first: their subscribers end, so the server's handlers return
        # (and Home Assistant's stream workers reading them see the end).
        await asyncio.gather(*(feed.close() for feed in feeds))
        if runner is not None:
            await runner.cleanup()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/{channel:[0-9]+}.ts", self._serve)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, RELAY_HOST, 0)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if not secrets.compare_digest(request.query.get("auth", ""), self._token):
            raise web.HTTPNotFound
        if channel_in_range(request.match_info["channel"]) is None:
            raise web.HTTPNotFound  # no such camera: say so now, not with an endless empty body
        channel = int(request.match_info["channel"])
        if self._runner is None or self.connections.reported_disconnected(channel):
            # Stopping, or the recorder cannot reach the camera: say so at once
            # rather than hold the reader (Home Assistant's stream waits 30 s).
            raise web.HTTPServiceUnavailable
        broadcast = self._broadcast(channel)
        response = web.StreamResponse(
            headers={"Content-Type": "video/mp2t", "Cache-Control": "no-store"}
        )
        if request.version >= HttpVersion11:
            # Said explicitly: the broadcast frames the chunks it writes itself.
            response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            await broadcast.serve(request, response)
        except ConnectionError as err:
            # The viewer went away (Home Assistant stopped the stream).
            LOGGER.debug("Relay viewer of camera %d left: %r", channel, err)
        return response


def channel_in_range(text: str) -> int | None:
    """The channel named by ``text`` (digits), None outside the spec's 1..128 (spec 5.3).

    Checked on the text first: a path of 5000 digits is no int to convert.
    """
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_CHANNELS)):
        return None
    channel = int(text)
    return channel if 1 <= channel <= MAX_CHANNELS else None


class Poller(Protocol):
    """What :meth:`StreamRelay.retry_after_good_polls` needs of a data update coordinator."""

    @property
    def last_update_success(self) -> bool:
        """Whether the last poll worked."""

    def async_add_listener(self, update_callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``update_callback`` after every poll; return the undo."""
