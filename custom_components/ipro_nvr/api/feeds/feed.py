"""The connection core that every shared recorder stream builds on.

A :class:`Feed` holds at most one streaming request (``push.cgi`` START) for
its channel. It starts when the first reader arrives and stops a while after
the last one left, so a dashboard that re-opens a stream does not pay for
START and STOP (paced commands, spec 1.3) each time. Its UID comes from a
lease: a kept UID, logged in and set up ahead, makes a start one command. It
reconnects with backoff when the recorder drops the stream, and a good poll
after a failed one (:meth:`Feed.retry_now`) cuts a reconnection wait short.

No START goes out for a camera the recorder reports disconnected
(:class:`~..connections.CameraConnections`): the feed ends its readers and
waits for a status that says the camera is back. A START refused with 503
holds the camera back until a fresh status says whether the camera or the
recorder was the cause.

Transport: the HTTP(S) multipart body of spec 2.2, or, for a feed given
:class:`~..udp_live.UdpSettings` whose kind RTP carries (video, spec 2.1),
RTP over UDP to a port bound for the connection. When nothing arrives over
UDP within a few seconds (NAT, a firewall, a container without host
networking), the feed says so once and falls back to HTTP multipart on the
same UID, for good, and so does every feed sharing its settings (without a
word more, and without its own wait); a feed that finds no free port in the
range falls back alone.

What a feed does with the stream's items is its subclass's business:
:class:`~.video.VideoFeed` keeps a GOP for its subscribers and an audio
clock, :class:`~.jpeg.JpegFeed` the latest picture for snapshots and MJPEG.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import AsyncExitStack, aclosing, suppress
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, ClassVar, Final, TypedDict, Unpack

import aiohttp

from ..connections import CameraConnections
from ..errors import NotSupportedError, NvrError, RecorderBusyError, RecorderFullError
from ..media import LiveItem, MediaFormatError, iter_live_body
from ..picture_info import PictureInfo
from ..scheduler import Priority, Urgency
from ..session import Lease, UidPurpose
from ..udp_live import NoUdpDataError, UdpLiveConnection, UdpSettings
from ..udp_receiver import UdpPortUnavailableError
from ..urls import LiveCodec, Request

if TYPE_CHECKING:
    from ..client import NvrClient

_LOGGER = logging.getLogger(__name__)

# How long a feed stays connected after its last reader left.
DEFAULT_IDLE_TIMEOUT: Final = 30.0
# Waits between reconnection attempts; the last one repeats.
DEFAULT_BACKOFF: Final = (1.0, 2.0, 5.0, 10.0, 30.0)
# A stream body that sends nothing for this long is considered dead.
READ_TIMEOUT: Final = 10.0
# A read this large may have more right behind it (a keyframe arriving): the
# next read follows at once, with no pause (see paced_chunks).
_BURST_READ: Final = 64 * 1024


class _StartRefusedError(NvrError):
    """push.cgi START answered 503: the camera is unreachable or the recorder busy."""


class FeedOptions(TypedDict, total=False):
    """How a feed reconnects and stops, and whom it asks about its camera."""

    idle_timeout: float  # seconds connected after the last reader left
    backoff: tuple[float, ...]  # waits between reconnection attempts; the last repeats
    connections: CameraConnections | None  # the recorder's camera states, shared
    udp: UdpSettings | None  # receive RTP over UDP (spec 2.1) when the feed's kind allows


@dataclass(slots=True)
class FeedStats:
    """Counters for diagnostics and tests."""

    connections: int = 0


class Feed(ABC):
    """One recorder stream of a channel, shared by every reader, with its lifecycle."""

    # The UID kind the stream is leased on.
    purpose: ClassVar[UidPurpose] = UidPurpose.LIVE
    # The START's place in the recorder's pacing queue.
    start_priority: ClassVar[Priority] = Priority.USER
    # Seconds the body is left to gather between reads once the stream keeps
    # up (see paced_chunks); 0: every arrival is read at once.
    read_interval: ClassVar[float] = 0.0

    def __init__(
        self, client: NvrClient, channel: int, *, stats: FeedStats, **options: Unpack[FeedOptions]
    ) -> None:
        """Prepare the feed; nothing connects before the first reader.

        ``udp``: receive RTP over UDP (when the feed's kind allows) instead of HTTP.
        """
        self.client = client
        self.channel = channel
        self.stats = stats
        connections = options.get("connections")
        self._connections = connections if connections is not None else CameraConnections()
        self._told_disconnected = False
        self._idle_timeout = options.get("idle_timeout", DEFAULT_IDLE_TIMEOUT)
        self._backoff = options.get("backoff", DEFAULT_BACKOFF)
        self._task: asyncio.Task[None] | None = None
        self._idle_handle: asyncio.TimerHandle | None = None
        self._closed = False
        # close(send_stop=True): the client stays logged in (handed over), so a
        # running stream gets its STOP instead of ending with its UID's logout.
        self._stop_on_close = False
        self._streaming = False  # a START accepted, its stream not ended
        self._failing = False
        # Items that marked the stream as working (see _mark_working); a
        # connection that delivered some resets the backoff.
        self._working_items = 0
        # Set by retry_now() to cut a reconnection wait short.
        self._retry_now = asyncio.Event()
        # The latest picture's times and frame rate (spec 7.1), kept across stops.
        self._picture_info: PictureInfo | None = None
        udp = options.get("udp")
        self._udp = udp if self._udp_codec() is not None else None

    # -- what a kind of feed provides --------------------------------------------

    @abstractmethod
    def _start_request(self) -> Request:
        """The request that starts the stream on the leased UID."""

    @abstractmethod
    def _stop_requests(self) -> Sequence[Request]:
        """The commands that end what the last connection started, in order."""

    @abstractmethod
    def _in_use(self) -> bool:
        """Whether a reader still wants the stream (else the idle stop may end it)."""

    @abstractmethod
    def _on_item(self, item: LiveItem) -> None:
        """Take one item of the stream."""

    @abstractmethod
    def _end_readers(self) -> None:
        """Wake every reader with the end of the feed (it is closing)."""

    @abstractmethod
    def _camera_gone(self) -> None:
        """The camera is reported disconnected: end the readers and drop cached pictures."""

    def _start_urgency(self) -> Priority | Urgency:
        """The START's place in the queue (an :class:`Urgency` may be raised while it waits)."""
        return self.start_priority

    def _udp_codec(self) -> LiveCodec | None:
        """The ``COMP`` to stream over RTP/UDP; None: this kind goes over HTTP only."""
        return None

    async def _on_started_udp(  # noqa: B027 - an optional hook
        self, lease: Lease, connection: UdpLiveConnection
    ) -> None:
        """The RTP/UDP START was accepted and data arrives (audio may go to the port)."""

    def _on_connect(self) -> None:  # noqa: B027 - an optional hook
        """A new connection begins (before its START)."""

    async def _on_started(self, lease: Lease) -> None:  # noqa: B027 - an optional hook
        """The START was accepted: the stream runs on ``lease``."""

    async def _on_disconnect(self) -> None:  # noqa: B027 - an optional hook
        """The connection ends (before its STOP commands)."""

    def _on_stopped(self) -> None:  # noqa: B027 - an optional hook
        """The feed stopped (idle or closed): drop what a later start must not show."""

    # -- state ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the feed holds (or is trying to hold) a recorder connection."""
        return self._task is not None and not self._task.done()

    @property
    def transport(self) -> str:
        """``"udp"`` while the feed receives RTP over UDP, else ``"http"``."""
        udp = self._udp
        return "udp" if udp is not None and not udp.verdict.blocked else "http"

    @property
    def streaming(self) -> bool:
        """Whether a START of this feed was accepted and its stream has not ended."""
        return self._streaming

    @property
    def failing(self) -> bool:
        """Whether the last attempt to stream failed and no picture came since."""
        return self._failing

    @property
    def camera_disconnected(self) -> bool:
        """Whether the recorder reports this feed's camera disconnected (no START is sent)."""
        return self._connections.reported_disconnected(self.channel)

    @property
    def picture_info(self) -> PictureInfo | None:
        """The latest picture's recorder and camera times and frame rate (spec 7.1)."""
        return self._picture_info

    def _mark_working(self) -> None:
        """An item shows the stream works: end the failing state and count it."""
        if self._failing:
            _LOGGER.info("Live stream of camera %d is back", self.channel)
            self._failing = False
        self._working_items += 1

    # -- lifecycle -----------------------------------------------------------------

    def keep_trying(self) -> None:
        """Connect (or keep retrying) for the idle timeout, without waiting for a picture."""
        if self._closed:
            return
        self._ensure_running()
        self._release()

    def close_now(self) -> None:
        """Mark a feed that never ran closed (its owner stopped): nothing will start."""
        if self.running:
            raise RuntimeError("a running feed is closed with close()")
        self._closed = True

    async def close(self, *, send_stop: bool = False) -> None:
        """End every reader and the recorder connection.

        ``send_stop``: the client stays logged in (handed over to another
        owner), so a running stream gets its STOP (spec 2.2.2.2) first.
        """
        self._closed = True
        self._stop_on_close = send_stop
        self._end_readers()
        self._cancel_idle_stop()
        await self._stop()

    def _acquire(self) -> None:
        """A reader arrived: no idle stop, and connect if not yet."""
        self._cancel_idle_stop()
        self._ensure_running()

    def _release(self) -> None:
        """A reader left: start the idle countdown when it was the last."""
        if not self._in_use():
            self._schedule_idle_stop()

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
        if not self._in_use():
            await self._stop()

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        self._on_stopped()

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
            received = self._working_items
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
            if self._working_items > received:
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
        """The camera is reported disconnected: end the readers, send nothing until it is back."""
        if not self._told_disconnected:
            _LOGGER.info(
                "Camera %d is disconnected (the recorder reports it): no live stream"
                " until a status poll says it is back",
                self.channel,
            )
            self._told_disconnected = True
        self._failing = True
        self._camera_gone()

    async def _stream_once(self) -> None:
        # The lease's UID is logged in and set up (hdrctl SCREEN=16X) by the
        # session, once per login: on a kept UID the START is the only command.
        async with self.client.lease(self.purpose, channel=self.channel) as lease:
            self.stats.connections += 1
            self._on_connect()
            udp = self._udp
            if udp is not None and not udp.verdict.blocked and await self._stream_udp(lease, udp):
                return
            await self._stream_http(lease)

    async def _stream_http(self, lease: Lease) -> None:
        """One stream as a multipart body (spec 2.2) on ``lease``."""
        started = False
        try:
            async with AsyncExitStack() as stack:
                response = await self._start(stack, lease)
                started = self._streaming = True
                items = await stack.enter_async_context(aclosing(self._items(response)))
                await self._on_started(lease)
                async for item in items:
                    self._on_item(item)
        finally:
            self._streaming = False
            await self._on_disconnect()
            # Tell the recorder we are done with these streams. Not after a
            # refused START, which started nothing, nor when the feed closes
            # or an idle stop cancels it on a UID about to be logged out (the
            # logout ends them); a kept UID stays logged in, so it gets its
            # STOP. Nobody waits for a STOP: it goes after the people waiting.
            if started and self._may_stop(lease):
                await self._send_stops(lease, self._stop_requests())

    def _may_stop(self, lease: Lease) -> bool:
        """Whether the STOPs go out (not when the logout of the lease's UID ends the streams)."""
        task = asyncio.current_task()
        cancelled = task is not None and task.cancelling() > 0
        if self._closed:
            return self._stop_on_close
        return lease.kept or not cancelled

    async def _send_stops(
        self, lease: Lease, requests: Sequence[Request], priority: Priority = Priority.NORMAL
    ) -> None:
        with suppress(NvrError, aiohttp.ClientError, TimeoutError):
            for request in requests:
                await self.client.send_on(lease, request, priority=priority)

    async def _stream_udp(self, lease: Lease, settings: UdpSettings) -> bool:
        """One stream as RTP over UDP (spec 2.1); False: nothing came, use HTTP instead."""
        codec = self._udp_codec()
        if codec is None:  # pragma: no cover - _udp is only set for kinds RTP carries
            return False
        connection = UdpLiveConnection(self.client, lease, self.channel, codec, settings)
        fall_back = False
        try:
            try:
                await connection.open(priority=self.start_priority)
            except RecorderFullError:
                raise
            except RecorderBusyError as err:
                self._connections.suspect(self.channel)
                raise _StartRefusedError(str(err)) from err
            except (NoUdpDataError, UdpPortUnavailableError, NotSupportedError) as err:
                if isinstance(err, UdpPortUnavailableError):
                    self._udp = None  # this feed only: the range is full now
                    told = False
                else:  # the network (or the recorder) does not do it: every feed
                    told = settings.verdict.blocked
                    settings.verdict.blocked = True
                    settings.verdict.reason = str(err)
                if not told:
                    _LOGGER.warning(
                        "Camera %d: %s; live video falls back to HTTP multipart",
                        self.channel,
                        err,
                    )
                fall_back = True
                # The HTTP START follows on this UID: the recorder must be told at
                # once that the UDP stream is over (one video stream per camera).
                await self._send_stops(lease, connection.stop_requests(), Priority.USER)
                return False
            await self._on_started_udp(lease, connection)
            self._streaming = True
            async with aclosing(connection.items(idle_timeout=READ_TIMEOUT)) as items:
                async for item in items:
                    self._on_item(item)
        finally:
            self._streaming = False
            if not fall_back:
                await self._on_disconnect()
                if connection.video_started and self._may_stop(lease):
                    await self._send_stops(lease, connection.stop_requests())
            await connection.aclose()
        return True

    def _items(self, response: aiohttp.ClientResponse) -> AsyncGenerator[LiveItem]:
        """The items of the stream's body (a live multipart body, spec 2.2.1)."""
        chunks: AsyncIterator[bytes] = response.content.iter_any()
        if self.read_interval > 0 and response.connection is not None:
            transport = response.connection.transport
            if transport is not None:
                chunks = paced_chunks(chunks, transport, self.read_interval)
        return iter_live_body(chunks)

    async def _start(self, stack: AsyncExitStack, lease: Lease) -> aiohttp.ClientResponse:
        """The START on the lease; a 503 makes the camera suspect."""
        try:
            return await stack.enter_async_context(
                self.client.stream(
                    self._start_request(),
                    lease=lease,
                    priority=self._start_urgency(),
                    read_timeout=READ_TIMEOUT,
                )
            )
        except RecorderFullError:
            raise  # no login was sent: neither the camera nor a 503 to blame
        except RecorderBusyError as err:
            self._connections.suspect(self.channel)
            raise _StartRefusedError(str(err)) from err


async def paced_chunks(
    chunks: AsyncIterator[bytes], transport: asyncio.BaseTransport, interval: float
) -> AsyncGenerator[bytes]:
    """``chunks``, with the socket left alone for ``interval`` s after a read that caught up.

    Read as it arrives, a live body wakes the event loop, the HTTP client and
    the feed's task for every picture (more than a third of a relayed
    camera's CPU time went into those wakeups). Paused meanwhile, the kernel
    gathers a few pictures, which then take one read and one pass through the
    depacketizer and the relay: at the cost of that much latency, which Home
    Assistant's HLS stream (segments of a second or more) does not notice. A
    large read means the recorder is sending faster than that (a keyframe):
    the next read follows at once.
    """
    async for chunk in chunks:
        yield chunk
        if len(chunk) < _BURST_READ and isinstance(transport, asyncio.ReadTransport):
            if not transport.is_reading():
                continue  # paused by the HTTP client's own flow control: its call
            transport.pause_reading()
            try:
                await asyncio.sleep(interval)
            finally:
                if not transport.is_closing():
                    transport.resume_reading()
