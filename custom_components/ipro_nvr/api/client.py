"""The client of one i-PRO network video recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
import ssl
import time
from types import TracebackType
from typing import Any, Self

import aiohttp

from . import urls
from .control import CameraControl
from .download import DownloadedFile, DownloadSink, receive_download
from .errors import InvalidArgumentError
from .media.multipart import boundary_from_content_type
from .models import CameraStatus, LogKind, LogList, RecordedTime
from .parsers import parse_camera_status, parse_log_list, parse_recorded_time
from .recorder_time import RecorderZone
from .scheduler import Deadline, Priority, Scheduler, Urgency
from .session import DEFAULT_UID_BUDGET, Lease, RecorderSession, UidPurpose
from .spec import SPEC_PACING, PacingPolicy
from .transport import Transport
from .urls import AuxAction, DownloadKind, FocusAction, IrisAction, PtzSteps, Request

_MAX_PORT = 65535
# Seconds a download may stay silent: a recorder may take a while to prepare an MP4.
DOWNLOAD_READ_TIMEOUT = 60.0
# A download waits this long for a playback UID while the budget is spent
# (a clip being played, live streams): a browser waits that long for a video.
DOWNLOAD_UID_WAIT = 20.0
# A full 1000-entry log list is under 100 kB and parses in milliseconds. A text
# answer far larger than any real one is parsed in a worker thread instead, where
# even a hostile one (up to the transport's limit) cannot hold up the event loop.
INLINE_PARSE_LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class _LargeBody:
    """A body left for a worker thread to parse (see ``INLINE_PARSE_LIMIT``)."""

    body: bytes


def _stop(channel: int) -> Request:
    # Every axis at speed 0, as the spec's sequence (4.1.1) ends a move.
    return urls.pan_tilt_zoom(channel, pan=0, tilt=0, zoom=0)


class NvrClient:
    """Talks to one recorder: status, disks, logs, camera control, any request of :mod:`.urls`.

    Every request is paced per recorder (:mod:`.scheduler`; pass the same
    ``scheduler`` to every client of one recorder in a process), carries a UID
    when it needs one (:mod:`.session`), and fails with an exception of
    :mod:`.errors`. Use it as an async context manager, or call :meth:`close`:
    closing logs out every UID the client holds.
    """

    def __init__(
        self,
        host: str,
        *,
        username: str,
        password: str,
        port: int | None = None,
        use_https: bool = False,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
        pacing: PacingPolicy = SPEC_PACING,
        scheduler: Scheduler | None = None,
        uid_budget: int = DEFAULT_UID_BUDGET,
        request_timeout: float = 10.0,
        default_tz: tzinfo = UTC,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(host, str) or not host.strip():
            raise InvalidArgumentError("host must not be empty")
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= _MAX_PORT
        ):
            raise InvalidArgumentError(f"port={port!r} outside 1..{_MAX_PORT}")
        if not request_timeout > 0:
            raise InvalidArgumentError("request_timeout must be positive")
        # One pacing queue per recorder: a scheduler given by the caller is
        # shared with every other client of the recorder (its pacing then
        # applies, not ``pacing``); closing this client closes only its handle.
        self._scheduler = (
            scheduler.share() if scheduler is not None else Scheduler(pacing, clock=clock)
        )
        self._host = host.strip()
        self._transport = Transport(
            self._host,
            username=username,
            password=password,
            port=port,
            use_https=use_https,
            verify_ssl=verify_ssl,
            ssl_context=ssl_context,
            session=session,
            request_timeout=request_timeout,
            on_send=lambda request: self._scheduler.sent(request.lane),
        )
        self._session = RecorderSession(
            self._transport, self._scheduler, uid_budget=uid_budget, clock=clock
        )
        self._control = CameraControl(self._send_control)
        self._default_tz = default_tz
        # Channels the recorder reports (the width of a playback MASK), from the
        # latest status answer.
        self._channel_count: int | None = None
        # The recorder's standard offset and summer-time flag, as the most
        # recent log entry printed them (see recorder_time.local_to_aware).
        self._zone: tuple[datetime, timedelta, bool] | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self, *, within: float | None = None) -> None:
        """Stop timed camera moves, log out every UID, close an own HTTP session.

        ``within``: give up the paced logouts after that many seconds (Home
        Assistant stopping); UIDs left expire on the recorder by themselves.
        """
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    # Before the logout: a camera in a timed move gets its stop.
                    await self._control.close()
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            await self._session.close(within=remaining)
        finally:
            await self._transport.close()

    # -- properties -----------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The recorder's address, e.g. ``https://192.0.2.10:443``, no trailing slash."""
        return self._transport.base_url

    @property
    def host(self) -> str:
        """The recorder's host name or address, as configured."""
        return self._host

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the client logs in no more)."""
        return self._session.closed

    @property
    def uids_in_use(self) -> int:
        """How many UIDs the client holds on the recorder."""
        return self._session.uids_in_use

    @property
    def channel_count(self) -> int | None:
        """How many channels the latest status listed (the width of a playback MASK)."""
        return self._channel_count

    @property
    def recorder_full(self) -> bool:
        """Whether a login was refused because the recorder's sessions were all in use,
        and no status answer since has shown a free one."""
        return self._session.recorder_full

    @property
    def pacing(self) -> PacingPolicy:
        """The pacing policy the client keeps."""
        return self._scheduler.pacing

    @property
    def clock(self) -> Callable[[], float]:
        """The pacing queue's clock, on which a request's ``due`` is given."""
        return self._scheduler.clock

    @property
    def recorder_zone(self) -> RecorderZone:
        """How recorder local times are read: the standard offset from the latest log
        entry, else the default time zone given to the client."""
        return self._zone[1] if self._zone is not None else self._default_tz

    @property
    def recorder_summer_time(self) -> bool:
        """The summer-time flag of the latest log entry (False before any)."""
        return self._zone[2] if self._zone is not None else False

    def assume_recorder_zone(self, utc_offset: timedelta, summer_time: bool) -> None:
        """Read recorder times in this standard offset until a log entry tells one
        (the zone a log poll learnt before a restart: no log entry read yet)."""
        if self._zone is None:
            self._zone = (datetime.min.replace(tzinfo=UTC), utc_offset, summer_time)

    # -- recorder information -------------------------------------------------

    async def validate(self) -> CameraStatus:
        """Read the camera status and log in: proves address, credentials and protocol.

        The status first (it takes no UID, spec 5.3.1): its session counts let the
        login be refused (:class:`RecorderFullError`) rather than evict another client.
        """
        status = await self.get_camera_status(priority=Priority.USER)
        await self._session.ensure_command_uid(Priority.USER)
        return status

    async def get_camera_status(
        self, *, priority: Priority = Priority.NORMAL, due: float | Deadline | None = None
    ) -> CameraStatus:
        """Camera connection states and UID counts (``as_getinfo.cgi?FILE=2``).

        The counts also feed the session's login gate: no login while the
        recorder's sessions are all in use (:class:`RecorderFullError`).
        ``due`` (here and in the other reads): on :attr:`clock`, when the
        request's turn is promoted at the latest (see ``Scheduler.turn``).
        """
        status = await self._request_parsed(
            urls.camera_connection_info(), parse_camera_status, priority, due
        )
        self._session.note_uid_counts(status.used_uid, status.max_uid)
        if status.channel_count:
            self._channel_count = status.channel_count
        return status

    async def get_disks(self, *, priority: Priority = Priority.NORMAL) -> RecordedTime:
        """Disk capacities and recording periods (``recordedtime.cgi``).

        The answer has no zone: times are read in :attr:`recorder_zone`.
        """
        recorded, _answer = await self.get_disks_and_answer(priority=priority)
        return recorded

    async def get_disks_and_answer(
        self, *, priority: Priority = Priority.NORMAL, due: float | Deadline | None = None
    ) -> tuple[RecordedTime, bytes]:
        """:meth:`get_disks` and the answer's body, whose times can be read again
        (``parse_recorded_time``) once a log entry has told the recorder's zone."""
        zone = self.recorder_zone

        def parse(body: bytes) -> tuple[RecordedTime, bytes]:
            return parse_recorded_time(body, zone=zone), body

        return await self._request_parsed(urls.recorded_time(), parse, priority, due)

    async def get_error_log(
        self, *, priority: Priority = Priority.NORMAL, due: float | Deadline | None = None
    ) -> LogList:
        """The error log, oldest entry first."""
        return await self._log(LogKind.ERROR, priority, due)

    async def get_event_log(
        self, *, priority: Priority = Priority.NORMAL, due: float | Deadline | None = None
    ) -> LogList:
        """The event log, oldest entry first."""
        return await self._log(LogKind.EVENT, priority, due)

    async def _log(
        self, kind: LogKind, priority: Priority, due: float | Deadline | None
    ) -> LogList:
        def parse(body: bytes) -> LogList:
            return parse_log_list(body, kind=kind)

        log = await self._request_parsed(urls.log_list(kind), parse, priority, due)
        self._learn_zone(log)
        return log

    async def _request_parsed[T](
        self,
        request: Request,
        parse: Callable[[bytes], T],
        priority: Priority,
        due: float | Deadline | None = None,
    ) -> T:
        """Send ``request`` and parse its answer: in the loop when small, else in a thread.

        A large body that turns out malformed is not retried after a new login as
        a small one is (see ``RecorderSession.request``): it is no stale-UID page.
        """

        def parse_small(body: bytes) -> T | _LargeBody:
            return _LargeBody(body) if len(body) > INLINE_PARSE_LIMIT else parse(body)

        result = await self._session.request(request, parse_small, priority=priority, due=due)
        if isinstance(result, _LargeBody):
            return await asyncio.to_thread(parse, result.body)
        return result

    def _learn_zone(self, log: LogList) -> None:
        latest = log.latest
        if latest is None:
            return
        if self._zone is None or latest.time >= self._zone[0]:
            self._zone = (latest.time, latest.utc_offset, latest.summer_time)

    # -- camera control (spec 4) ----------------------------------------------
    # Arguments are checked (InvalidArgumentError) before anything is sent; any
    # command to a camera first ends a timed move of that camera (see .control).

    async def ptz_move(
        self,
        channel: int,
        *,
        pan: int | None = None,
        tilt: int | None = None,
        zoom: int | None = None,
        steps: PtzSteps = PtzSteps.STEPS_16,
        duration: float | None = None,
    ) -> None:
        """Pan (+ right), tilt (+ down) and/or zoom (+ tele) at the given speeds.

        Without ``duration`` one command is sent: the camera moves for about
        2 s. With it, the move is repeated until ``duration`` seconds have
        passed and then always followed by a stop.
        """
        move = urls.pan_tilt_zoom(channel, pan=pan, tilt=tilt, zoom=zoom, steps=steps)
        if duration is None:
            await self._control.send(channel, move)
            return
        await self._control.hold(channel, move, _stop(channel), duration)

    async def ptz_stop(self, channel: int) -> None:
        """Stop pan, tilt and zoom (``PAN=0&TILT=0&ZOOM=0``, spec 4.1.1)."""
        await self._control.send(channel, _stop(channel))

    async def center_on(self, channel: int, x: int, y: int) -> None:
        """Bring grid point (``x``, ``y``), 0..32, to the centre: (0, 0) is top right."""
        await self._control.send(channel, urls.center_on(channel, x, y))

    async def focus(self, channel: int, action: FocusAction | str) -> None:
        """Focus far, near, or back to auto-focus (spec 4.2.4)."""
        await self._control.send(channel, urls.focus(channel, action))

    async def iris(self, channel: int, action: IrisAction | str) -> None:
        """Open or close the iris, or reset it to its default (spec 4.2.5)."""
        await self._control.send(channel, urls.iris(channel, action))

    async def store_preset(self, channel: int, number: int) -> None:
        """Store the camera's position as preset ``number``, 1..256 (spec 4.2.6)."""
        await self._control.send(channel, urls.store_preset(channel, number))

    async def go_to_preset(self, channel: int, number: int) -> None:
        """Move the camera to preset ``number``, 1..256 (spec 4.2.7)."""
        await self._control.send(channel, urls.go_to_preset(channel, number))

    async def aux(self, channel: int, output: int, action: AuxAction | str) -> None:
        """Open or close the camera's AUX ``output``, 1..8 (spec 4.2.8)."""
        await self._control.send(channel, urls.aux(channel, output, action))

    # -- any request ----------------------------------------------------------

    async def send(self, request: Request, *, priority: Priority = Priority.USER) -> bytes:
        """Send a request built by :mod:`.urls` on the shared command UID; return the body.

        For commands whose answer the spec does not define (camera control,
        playback control...): a refused UID is renewed and the command retried
        once; a body that is not text counts as a failure.
        """
        return await self._session.command(request, priority=priority)

    async def _send_control(self, channel: int, request: Request) -> bytes:
        """A camera-control command: on the channel's live UID when one streams it (spec 4.1.1)."""
        return await self._session.camera_control(channel, request, priority=Priority.USER)

    def on_recorder_room(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when a status answer shows a free session after
        :attr:`recorder_full` (a refused login): streams waiting for one retry then."""
        self._session.on_room = callback

    def keep_uids(self, purpose: UidPurpose, count: int) -> None:
        """Keep ``count`` stream UIDs logged in and set up ahead of use, in the background
        (``count`` in all: those kept already count).

        A live stream on one then starts with its ``push.cgi`` START alone
        (see :meth:`RecorderSession.keep_uids`).
        """
        self._session.keep_uids(purpose, count)

    def prepare_uid(
        self, purpose: UidPurpose, *, idle: float, priority: Priority = Priority.NORMAL
    ) -> None:
        """Log in a spare stream UID ahead of a stream that is likely soon, in the background.

        The stream then skips its login (one paced command, 3 s); the spare is
        logged out after ``idle`` seconds without a stream (see
        :meth:`RecorderSession.prepare_uid`). ``priority``: of its login.
        """
        self._session.prepare_uid(purpose, idle=idle, priority=priority)

    def lease(
        self,
        purpose: UidPurpose,
        *,
        channel: int | Collection[int],
        priority: Priority = Priority.USER,
        wait: float = 0.0,
        exclusive: bool = False,
    ) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Lend a UID for a live or playback stream (see :meth:`RecorderSession.lease`)."""
        return self._session.lease(
            purpose, channel=channel, priority=priority, wait=wait, exclusive=exclusive
        )

    async def acquire(
        self,
        purpose: UidPurpose,
        *,
        channel: int | Collection[int],
        priority: Priority = Priority.USER,
        wait: float = 0.0,
        exclusive: bool = False,
    ) -> Lease:
        """Take a lease held past one block (a playback session); give it back with
        :meth:`release`."""
        return await self._session.acquire(
            purpose, channel=channel, priority=priority, wait=wait, exclusive=exclusive
        )

    async def release(self, lease: Lease) -> None:
        """Give back a lease from :meth:`acquire`; a UID whose last lease ends is logged out."""
        await self._session.release(lease)

    async def send_on(
        self, lease: Lease, request: Request, *, priority: Priority = Priority.USER
    ) -> bytes:
        """Send a command carrying the leased UID (``hdrctl``, ``push.cgi`` STOP...)."""
        return await self._session.command(request, priority=priority, lease=lease)

    def stream(
        self,
        request: Request,
        *,
        lease: Lease | None = None,
        priority: Priority | Urgency = Priority.USER,
        read_timeout: float | None = None,
        renew_refused: bool = True,
    ) -> contextlib.AbstractAsyncContextManager[aiohttp.ClientResponse]:
        """Send a request and yield its response for incremental reading (live, download).

        ``renew_refused=False``: a refusal raises at once instead of renewing the UID.
        """
        return self._session.stream(
            request,
            lease=lease,
            priority=priority,
            read_timeout=read_timeout,
            renew_refused=renew_refused,
        )

    # -- download (spec 6.3) ---------------------------------------------------

    async def download(
        self,
        channel: int,
        start: datetime,
        end: datetime,
        kind: DownloadKind | str = DownloadKind.MP4,
        *,
        sink: DownloadSink,
        priority: Priority = Priority.USER,
        read_timeout: float = DOWNLOAD_READ_TIMEOUT,
        uid_wait: float = DOWNLOAD_UID_WAIT,
        lease: Lease | None = None,
    ) -> list[DownloadedFile]:
        """Download the recording of ``channel`` from ``start`` to ``end`` into ``sink``.

        ``start`` and ``end`` are aware instants on whole minutes of the
        recorder's clock, at most one hour apart (longer periods are the
        caller's to split; InvalidArgumentError before anything is sent). They
        are sent in the recorder's local time (:attr:`recorder_zone`). The
        download runs on a playback UID of its own, waiting up to ``uid_wait``
        seconds for one when the UID budget is spent (other streams end), or on
        ``lease`` (a playback lease of the caller's: several downloads in a
        row on one UID, one login). Raises NoRecordingError,
        CodecNotCompatibleError, DownloadBusyError or DownloadInterruptedError
        (see :mod:`.download`); on any failure or cancellation the sink is
        aborted, so nothing half-written is left.
        """
        request = urls.download(
            channel,
            start,
            end,
            kind,
            zone=self.recorder_zone,
            summer_time=self.recorder_summer_time,
        )
        async with contextlib.AsyncExitStack() as held:
            if lease is None:
                own = self.lease(
                    UidPurpose.PLAYBACK, channel=channel, priority=priority, wait=uid_wait
                )
                lease = await held.enter_async_context(own)
            response = await held.enter_async_context(
                self.stream(request, lease=lease, priority=priority, read_timeout=read_timeout)
            )
            boundary = boundary_from_content_type(response.headers.get("Content-Type"))
            return await receive_download(response.content.iter_any(), sink, boundary=boundary)

    # -- diagnostics ----------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Pacing queues, UID counts and ages: no host, UID, password or nonce."""
        return {
            "transport": dict(self._transport.diagnostics()),
            "pacing": {
                "command_interval_s": self._scheduler.pacing.command_interval,
                "camera_control_interval_s": self._scheduler.pacing.camera_control_interval,
            },
            "scheduler": self._scheduler.snapshot(),
            "session": self._session.diagnostics(),
            "recorder_zone": str(self.recorder_zone),
        }
