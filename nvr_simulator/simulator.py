"""The state of one simulated recorder and the path every request takes through it."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import TYPE_CHECKING

from aiohttp import web

from .auth import DigestAuthenticator
from .context import CgiContext, CgiHandler, HandlerSpec
from .disks import DiskSlot, default_disks
from .faults import MALFORMED_BODY, FaultAction, Faults
from .handlers import register_default_handlers
from .live import EndReason, LiveState, register_live_handlers
from .live_udp import UdpLive
from .logs import LogBook, LogEntry, LogTexts, seed_history
from .pacing import PacingJournal
from .playback import PlaybackState, register_playback_handlers
from .ptz import PtzState
from .query import BadRequestError, Query
from .recordings import RecordingState, register_recording_handlers
from .responses import error_response, raw_response
from .uids import UidTable

if TYPE_CHECKING:
    from custom_components.ipro_nvr.api.spec import Cgi

    from .config import SimulatorConfig

# Default camera states (SimulatorConfig.channel_states empty): every camera
# normal except this one, in connection error, when there are enough cameras.
DEFAULT_FAILED_CHANNEL = 4


def default_channel_states(cameras: int) -> dict[int, int]:
    """Return the default overrides: channel 4 in connection error when cameras >= 4."""
    return {DEFAULT_FAILED_CHANNEL: 2} if cameras >= DEFAULT_FAILED_CHANNEL else {}


class Simulator:
    """Everything one simulated recorder knows; reachable as ``app[SIMULATOR_KEY]``.

    Tests read and change this state directly: ``uids``, ``journal``,
    ``faults``, ``channel_states``, ``disks``, ``events``/``errors`` (via
    ``add_event``/``add_error``), ``ptz``, ``live`` (the live streams, see
    ``nvr_simulator.live``), ``live_udp`` (their RTP/UDP form, ``nvr_simulator.live_udp``),
    ``recordings`` (``nvr_simulator.recordings``) and ``playback`` (``nvr_simulator.playback``).
    Nothing here is global, so several simulators can run in one process.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.uids = UidTable(config)
        self.uids.hold_for_others(config.other_clients)
        self.journal = PacingJournal(config)
        self.faults = Faults(uids=self.uids)
        self.auth = DigestAuthenticator(config)
        # Set when the server shuts down: long waits (slow_response, and later
        # endless streams) end at once, so nothing outlives the simulator.
        self.closing = asyncio.Event()
        # Not for security: a reproducible history for a given config.seed.
        self._rng = random.Random(config.seed)  # noqa: S311
        now = config.wall_clock()
        self.started_at = now
        # Channel -> CAM_CONNECT state for channels that differ from the rule
        # "1 for 1..cameras, 0 above"; tests may change it live.
        self.channel_states: dict[int, int] = dict(config.channel_states) or (
            default_channel_states(config.cameras)
        )
        self.disks: list[DiskSlot] = default_disks(now)
        self.events = LogBook(config.log_capacity)
        self.errors = LogBook(config.log_capacity)
        cameras = [ch for ch in range(1, config.max_channels + 1) if self.channel_state(ch) != 0]
        failed = [ch for ch in cameras if self.channel_state(ch) == 2]
        events, errors = seed_history(
            self._rng, now, cameras=cameras, failed_cameras=failed, summer_time=config.summer_time
        )
        self.events.extend(events)
        self.errors.extend(errors)
        self._event_texts = LogTexts(self._rng, cameras)
        # Spontaneous events accrue from start-up on (see tick()).
        self._next_event_at: dt.datetime | None = (
            now + dt.timedelta(seconds=config.event_interval) if config.event_interval > 0 else None
        )
        self.ptz: dict[int, PtzState] = {}
        self._handlers: dict[Cgi, HandlerSpec] = {}
        register_default_handlers(self)
        # Live streams (hdrctl.cgi SCREEN=16X, push.cgi): see nvr_simulator.live.
        self.live = LiveState(self)
        register_live_handlers(self)
        # The RTP/UDP form of push.cgi (PORT): see nvr_simulator.live_udp.
        self.live_udp = UdpLive(self)
        # Recordings and their download (httpdl.cgi): see nvr_simulator.recordings.
        self.recordings = RecordingState(self)
        register_recording_handlers(self)
        # Playback (hdrctl.cgi MASK/PLAYCMD, camera.cgi, playaudio.cgi): see nvr_simulator.playback.
        self.playback = PlaybackState(self)
        register_playback_handlers(self)

    # -- handlers -----------------------------------------------------------

    def register(self, cgi: Cgi, handler: CgiHandler, *, needs_uid: bool = True) -> None:
        """Serve ``cgi`` with ``handler`` (replacing any previous one).

        With ``needs_uid`` the request's UID is checked (403 when not live) and
        its lifetime refreshed before the handler runs.
        """
        self._handlers[cgi] = HandlerSpec(handler, needs_uid)

    def handler(self, cgi: Cgi) -> CgiHandler | None:
        """The handler serving ``cgi`` (None: it answers 501)."""
        spec = self._handlers.get(cgi)
        return None if spec is None else spec.handler

    def unregister(self, cgi: Cgi) -> None:
        """Stop serving ``cgi``: it then answers 501, like a CGI not simulated yet."""
        self._handlers.pop(cgi, None)

    async def handle(self, cgi: Cgi, request: web.Request) -> web.StreamResponse:
        """Answer an authenticated GET of ``cgi``: journal, faults, UID check, handler."""
        now = self.config.clock()
        # The raw target keeps the query exactly as sent, repeated names included.
        raw_query = request.raw_path.partition("?")[2]
        query = Query.parse(raw_query)
        uids = query.getall("UID")
        self.journal.record(cgi, raw_query, uids[0] if uids else None, now)
        self.tick()
        action = self.faults.take(cgi)
        if action is not None:
            faulted = await self._apply_fault(action, request)
            if faulted is not None:
                return faulted
        spec = self._handlers.get(cgi)
        if spec is None:
            return error_response(501, f"{cgi} is not simulated yet")
        try:
            uid = query.get("UID")
            if spec.needs_uid and not self.uids.touch(uid, now):
                return self._invalid_uid(uid)
            response = await spec.handler(CgiContext(self, request, cgi, query, uid, now))
        except BadRequestError as exc:
            return error_response(400, str(exc))
        if action is not None and action.after_handler:
            return await self._cut_answer(action, request, response)
        return response

    def _invalid_uid(self, uid: str | None) -> web.Response:
        """The answer to a command whose UID is not live (``config.invalid_uid_status``)."""
        status = self.config.invalid_uid_status
        response = error_response(status, f"UID {uid!r} is not valid (unknown or expired)")
        if status == 401:
            # A 401 comes with a fresh challenge, as from a recorder's web server.
            for challenge in self.auth.challenges():
                response.headers.add("WWW-Authenticate", challenge)
        return response

    async def _apply_fault(
        self, action: FaultAction, request: web.Request
    ) -> web.StreamResponse | None:
        if action.slow_response > 0:
            await self.sleep(action.slow_response)
        if action.drop_connection:
            if request.transport is not None:
                # abort(): no answer and no orderly TLS shutdown, like a crash.
                request.transport.abort()
            # aiohttp cannot write this to the aborted connection and drops it quietly.
            return error_response(503, "connection dropped")
        if action.busy:
            return error_response(503, "recorder busy (simulated)")
        if action.malformed_body:
            return raw_response(MALFORMED_BODY)
        return None

    @staticmethod
    async def _cut_answer(
        action: FaultAction, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """Apply ``drop_mid_response`` or ``truncate_body`` to a handler's complete answer."""
        if not isinstance(response, web.Response) or response.prepared:
            return response  # a stream: see nvr_simulator.live's switches
        body = response.body if isinstance(response.body, bytes) else b""
        if action.drop_mid_response:
            cut = web.StreamResponse(status=response.status, headers=response.headers)
            cut.content_length = len(body)
            await cut.prepare(request)
            await cut.write(body[: len(body) // 2])
            if request.transport is not None:
                # The promised length never arrives: the client must see a broken answer.
                request.transport.abort()
            # aiohttp cannot end this body on the aborted connection and lets it go quietly.
            return cut
        fraction = min(max(action.truncate_body or 0.0, 0.0), 1.0)
        response.body = body[: int(len(body) * fraction)]
        return response

    # -- time ---------------------------------------------------------------

    async def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``, or less if the simulator shuts down; True when not cut short."""
        try:
            async with asyncio.timeout(seconds):
                await self.closing.wait()
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        """Tell every waiting handler that the simulator is shutting down."""
        self.closing.set()
        self.live.close()

    def tick(self) -> None:
        """Let the event log grow up to the wall clock (``config.event_interval``).

        Driven lazily by requests, not by a background task, so nothing lingers.
        """
        interval = self.config.event_interval
        if interval <= 0:
            self._next_event_at = None
            return
        now = self.config.wall_clock()
        step = dt.timedelta(seconds=interval)
        if self._next_event_at is None:
            self._next_event_at = now + step
            return
        # After a long pause only the last log_capacity events could be kept anyway.
        behind = (now - self._next_event_at) / step
        if behind > self.config.log_capacity:
            self._next_event_at += step * int(behind - self.config.log_capacity)
        while self._next_event_at <= now:
            self.events.add(
                LogEntry(
                    self._next_event_at.replace(microsecond=0),
                    self.config.summer_time,
                    self._event_texts.event(),
                )
            )
            self._next_event_at += step

    def reboot(self, *, clock_jump: dt.timedelta = dt.timedelta(0), renumber: int = 0) -> None:
        """Restart the recorder, as far as its clients can tell.

        Every session (other clients' too) and every live stream is gone, the
        error log gets a ``POWER ON``, the log lists are renumbered by
        ``renumber`` more positions and the wall clock moves by ``clock_jump``
        (a clock set anew at start-up: negative sets it back).
        """
        self.uids.expire_all()
        for stream in self.live.streams:
            stream.request_stop(EndReason.UID_GONE)
        self.faults.log_number_offset += renumber
        if clock_jump:
            before = self.config.wall_clock
            self.config.wall_clock = lambda: before() + clock_jump
        self.add_error("POWER ON")

    # -- recorder state -----------------------------------------------------

    def channel_state(self, channel: int) -> int:
        """CAM_CONNECT state of ``channel``: 0 not registered, 1 normal, 2 error."""
        default = 1 if 1 <= channel <= self.config.cameras else 0
        return self.channel_states.get(channel, default)

    def channel_state_list(self) -> list[int]:
        """The states of channels 1..max_channels, in order."""
        return [self.channel_state(ch) for ch in range(1, self.config.max_channels + 1)]

    def ptz_state(self, channel: int) -> PtzState:
        """The camera-control state of ``channel`` (created on first use)."""
        return self.ptz.setdefault(channel, PtzState())

    def _entry(self, text: str, when: dt.datetime | None, summer_time: bool | None) -> LogEntry:
        when = self.config.wall_clock() if when is None else when
        if when.tzinfo is None:
            raise ValueError("log times must be timezone-aware (UTC)")
        summer = self.config.summer_time if summer_time is None else summer_time
        return LogEntry(when.astimezone(dt.UTC).replace(microsecond=0), summer, text)

    def add_event(
        self, text: str, when: dt.datetime | None = None, *, summer_time: bool | None = None
    ) -> LogEntry:
        """Add an event-log entry (default: now, current summer-time flag)."""
        entry = self._entry(text, when, summer_time)
        self.events.add(entry)
        return entry

    def add_error(
        self, text: str, when: dt.datetime | None = None, *, summer_time: bool | None = None
    ) -> LogEntry:
        """Add an error-log entry (default: now, current summer-time flag)."""
        entry = self._entry(text, when, summer_time)
        self.errors.add(entry)
        return entry
