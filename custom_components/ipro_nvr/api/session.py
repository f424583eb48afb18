"""Our session with one recorder: its UIDs, their lifetimes, and every request that needs one.

Rules of the spec (1.3, 6.1, 6.2) this module keeps:

* A UID comes from ``dlogin.cgi?UID=-1`` and dies 90 s after the last command
  that carried it, or when a 17th login on the recorder evicts it.
* One UID may carry up to 16 live streams or up to 16 playbacks, never two of
  the same camera, and never live and playback at once.

How the client uses UIDs (the *budget*, default 3, at most 16):

* one shared **command** UID for polls, camera control and keep-alives,
  always reserved in the budget;
* **leases** for live and playback streams: ``async with session.lease(
  UidPurpose.LIVE, channel=3) as lease`` puts the stream on a UID of that
  purpose that does not carry camera 3 yet, logging in a new UID when none
  fits. When the budget is spent, :class:`UidBudgetExhaustedError` is raised at
  once (a caller that wants to wait can retry; a silent wait would hide a
  stream left open). When a UID's last lease ends it is logged out;
* **kept** UIDs (:meth:`RecorderSession.keep_uids`): stream UIDs logged in
  ahead, in the background, and kept alive until the session closes, so that
  starting a stream costs one command instead of three. Leases prefer them.
* **spare** UIDs (:meth:`RecorderSession.prepare_uid`): a stream UID logged in
  ahead when a stream is likely soon (a person browsing recordings), and kept
  for a while after its last lease ends, so that the next stream skips the
  login; it is logged out once idle that long, or to make room in the budget.
  A spare UID gets no keep-alive: it is logged out before it would need one.

A live UID is set up with ``hdrctl.cgi?SCREEN=16X`` once per login (spec
2.2.1: login, ``hdrctl``, then any number of ``push.cgi`` START/STOP), right
after the login and before any lease uses it; a re-login sets it up again.

A UID is kept alive with ``status.cgi`` only when it would otherwise expire
(idle for more than its lifetime minus a margin); one internal task sleeps until
the next such deadline. When a command fails because its UID is refused, or
answers 200 without the expected content, the session logs in again once,
retries once, then raises (the spec defines no error answer, spec 6.1). Every UID is logged
out on :meth:`RecorderSession.close`, including one whose login was in flight
or whose requester was cancelled: a UID that the recorder may have issued is
always either held by a slot or listed as unclaimed until it is logged out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Coroutine
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
import logging
import time
from typing import Any

import aiohttp

from . import urls
from .errors import (
    AuthenticationError,
    CannotConnectError,
    ClientClosedError,
    ConnectionDroppedError,
    InvalidArgumentError,
    MalformedResponseError,
    NvrError,
    RecorderFullError,
    UidBudgetExhaustedError,
    UidCommandNotSupportedError,
    UidError,
)
from .models import Uid
from .parsers import check_acknowledgement, parse_camera_status, parse_login
from .scheduler import Deadline, Priority, Scheduler, Urgency
from .spec import MAX_CHANNELS, MAX_STREAMS_PER_UID, MAX_UIDS, UID_LIFETIME
from .transport import NOT_SUPPORTED_STATUSES, Transport
from .urls import Request

_LOGGER = logging.getLogger(__name__)

DEFAULT_UID_BUDGET = 3
# After a failed keep-alive, wait this share of the lifetime before trying again,
# so an unreachable recorder is not hammered.
_KEEPALIVE_RETRY_RATIO = 0.1
# The recorder's session counts (as_getinfo FILE=2) are trusted this long for
# the login gate: a status poll interval (60 s by default) plus slack. Older
# counts, or none, do not stop a login (see RecorderSession.note_uid_counts).
UID_COUNTS_MAX_AGE = 90.0


class UidPurpose(StrEnum):
    """What a UID is used for."""

    COMMAND = "command"
    LIVE = "live"
    PLAYBACK = "playback"


def _not_supported(err: NvrError) -> UidCommandNotSupportedError | None:
    """What a UID request's refusal on a fresh UID means, when it means "not supported".

    A 404 or 501 that survives a new login is no stale UID: the recorder
    lacks the CGI, which callers tell by :class:`NotSupportedError`.
    """
    if isinstance(err, UidError) and err.status in NOT_SUPPORTED_STATUSES:
        return UidCommandNotSupportedError(str(err), status=err.status)
    return None


def _setup_request(purpose: UidPurpose) -> Request | None:
    """The command that readies a new UID of ``purpose``, sent once per login."""
    return urls.live_setup() if purpose is UidPurpose.LIVE else None


@dataclass(eq=False, slots=True)
class _Slot:
    """One UID the client holds, or a place for one while it logs in."""

    purpose: UidPurpose
    uid: Uid | None = None
    issued_at: float = 0.0
    last_used: float = 0.0
    # Channels streamed on this UID, and how many leases share it.
    channels: set[int] = field(default_factory=set)
    leases: int = 0
    # Bumped at every (re-)login: a stream owner learns its UID changed.
    generation: int = 0
    # Its last lease ended and its logout is under way: not leasable, still counted.
    retiring: bool = False
    # Kept logged in (and alive) while the session runs, with or without leases.
    kept: bool = False
    # Held by one lease alone: a playback's PLAYCMDs act on every channel of its
    # UID's MASK (spec 3.2.3), so a second stream on it would be paused with it.
    exclusive: bool = False
    # A spare: stays logged in this long without leases (prepare_uid), then retires.
    spare_for: float = 0.0
    # When an idle spare retires (clock time), and the timer that retires it.
    idle_until: float = 0.0
    idle_timer: asyncio.TimerHandle | None = None
    # The generation whose setup command (hdrctl SCREEN=16X for live) was sent.
    prepared: int = 0
    # The priority of the login or setup under way, which a requester raises.
    urgency: Urgency | None = None
    # The highest priority of the requesters waiting for its login and setup: the
    # next step goes at it (a stream waiting behind a background warm-up's lock
    # must not have that warm-up log in and set up in the background).
    wanted: Priority | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def ready(self) -> bool:
        """Logged in, and set up for its purpose on this login."""
        return self.uid is not None and (
            self.prepared == self.generation or _setup_request(self.purpose) is None
        )


@dataclass(frozen=True, slots=True)
class UidUsage:
    """A UID as diagnostics show it: never the UID itself."""

    purpose: UidPurpose
    age_s: float
    idle_s: float
    streams: int
    logins: int


class Lease:
    """A UID lent to a live or playback stream of some channels.

    :attr:`uid` is the slot's current UID: after a transparent re-login it
    changes and :attr:`generation` grows, which tells a stream owner that the
    recorder forgot the state it set up (``SCREEN=16X``, ``MASK``...).
    """

    __slots__ = ("_released", "_slot", "channels", "purpose")

    def __init__(self, slot: _Slot, channels: frozenset[int]) -> None:
        self._slot = slot
        self._released = False
        self.purpose = slot.purpose
        self.channels = channels

    @property
    def uid(self) -> Uid:
        """The UID to send with this stream's commands."""
        if self._slot.uid is None:
            raise UidError("the leased UID is being renewed")
        return self._slot.uid

    @property
    def generation(self) -> int:
        """How many times the leased slot logged in."""
        return self._slot.generation

    @property
    def kept(self) -> bool:
        """Whether the UID stays logged in after the lease (a kept UID)."""
        return self._slot.kept

    def __repr__(self) -> str:
        return f"Lease({self.purpose}, channels={sorted(self.channels)})"


class RecorderSession:
    """UIDs, keep-alives and re-login for one recorder, on top of the paced transport."""

    def __init__(
        self,
        transport: Transport,
        scheduler: Scheduler,
        *,
        uid_budget: int = DEFAULT_UID_BUDGET,
        clock: Callable[[], float] = time.monotonic,
        uid_lifetime: float = UID_LIFETIME,
        keepalive_margin: float | None = None,
        auto_keepalive: bool = True,
    ) -> None:
        if isinstance(uid_budget, bool) or not isinstance(uid_budget, int):
            raise InvalidArgumentError("uid_budget must be an integer")
        if not 1 <= uid_budget <= MAX_UIDS:
            raise InvalidArgumentError(f"uid_budget={uid_budget} outside 1..{MAX_UIDS}")
        self._transport = transport
        self._scheduler = scheduler
        self._budget = uid_budget
        self._clock = clock
        self._lifetime = uid_lifetime
        # Two thirds of the lifetime idle before a keep-alive: a third of it
        # (30 s by the spec) is left for the keep-alive to get through the queue.
        self._margin = uid_lifetime / 3 if keepalive_margin is None else keepalive_margin
        self._auto_keepalive = auto_keepalive
        self._command = _Slot(UidPurpose.COMMAND)
        self._stream_slots: list[_Slot] = []
        self.spares_used = 0  # leases that found a spare UID logged in already
        self._lease_lock = asyncio.Lock()
        # Set (and replaced) whenever a lease ends or a stream UID goes away,
        # so that acquire(wait=...) retries exactly when room may have appeared.
        self._room = asyncio.Event()
        # UIDs the recorder issued to us that no slot holds (yet): a login whose
        # requester was cancelled, a UID replaced after a garbled answer, a
        # logout that failed. Value: the UID and when it was last used.
        self._unclaimed: dict[str, tuple[Uid, float]] = {}
        # Logins and clean-up logouts, which close() lets finish first.
        self._background: set[asyncio.Task[Any]] = set()
        self._keepalive_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._keepalive_retry_at = 0.0
        self._closing = False
        self._close_task: asyncio.Task[None] | None = None
        self.logins = 0
        self.relogins = 0
        self.keepalives_sent = 0
        self._keepalive_failing = False
        # The login gate: the recorder's USEDUID and MAXUID, how many UIDs we
        # held then, and when they were read; logins sent and not yet answered.
        self._uid_counts: tuple[int, int, int, float] | None = None
        self._logins_in_flight = 0
        # Set when one of our UIDs was refused since the last counts: another
        # client's login may have evicted it, so those counts no longer tell
        # whether a login fits; the next login reads the status first.
        self._counts_doubtful = False
        self._counts_lock = asyncio.Lock()
        self.recorder_full = False
        # Called when a status shows a free session after a login was refused.
        self.on_room: Callable[[], None] | None = None

    # -- public surface -------------------------------------------------------

    @property
    def uid_budget(self) -> int:
        """How many UIDs the client may hold at once (the command UID included)."""
        return self._budget

    @property
    def uids_in_use(self) -> int:
        """How many UIDs the recorder has issued to us that are not logged out."""
        held = sum(1 for slot in self._slots() if slot.uid is not None)
        return held + len(self._live_unclaimed())

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closing

    def note_uid_counts(self, used: int | None, maximum: int | None) -> None:
        """Take the recorder's sessions in use and maximum from a status answer.

        Every login is first checked against them (spec 1.3: a login beyond the
        maximum evicts another client's UID): when the recorder is full, no
        login is sent and :class:`RecorderFullError` is raised. The client
        feeds every ``as_getinfo.cgi?FILE=2`` it parses, so the gate costs no
        command of its own; with no counts younger than
        :data:`UID_COUNTS_MAX_AGE` it lets the login through rather than spend
        a paced command (3 s) in front of the person waiting, unless the last
        counts said full: then only a status answer showing room reopens it.
        """
        if used is None or maximum is None:
            return
        self._uid_counts = (used, maximum, self.uids_in_use, self._clock())
        self._counts_doubtful = False
        if self.recorder_full and used < maximum:
            self.recorder_full = False
            _LOGGER.info("The recorder has a free session again")
            self._signal_room()  # a stream waiting in acquire(wait=...) retries now
            if self.on_room is not None:
                self.on_room()
            idle = [slot for slot in self._stream_slots if slot.kept and slot.uid is None]
            if idle and not self._closing:
                self._spawn(self._warm(idle))

    def _check_room(self) -> None:
        """Refuse a login into a full recorder (never evict another client)."""
        if self._uid_counts is None:
            return
        used, maximum, ours_then, seen_at = self._uid_counts
        if self._clock() - seen_at > UID_COUNTS_MAX_AGE and not self.recorder_full:
            return
        # Full stays full, however old the counts, until a status shows room.
        # Our own logins and logouts since that answer are known exactly.
        used += self.uids_in_use + self._logins_in_flight - ours_then
        if used < maximum:
            return
        if not self.recorder_full:
            self.recorder_full = True
            _LOGGER.warning(
                "All %d sessions of the recorder are in use; no new login (it would end "
                "another client's session) until one is free",
                maximum,
            )
        raise RecorderFullError(f"all {maximum} sessions of the recorder are in use")

    def _uid_lost(self) -> None:
        """One of our UIDs was refused: the recorder no longer counts it, but the
        client whose login evicted it may hold its place, so the gate's estimate of
        sessions in use stays where it was until the next status answer."""
        if self._uid_counts is not None:
            used, maximum, ours_then, seen_at = self._uid_counts
            self._uid_counts = (used, maximum, ours_then - 1, seen_at)
        self._counts_doubtful = True

    async def _read_counts(self, priority: Priority) -> None:
        """After a UID was refused, read the recorder's sessions in use before a login.

        A UID we did not give up is gone: it expired, the recorder restarted, or
        other clients' logins evicted it. In the last case the recorder is full,
        and a login now would evict one of theirs (spec 1.3); one status command
        tells. Concurrent logins share the one read; a status that cannot be read
        lets the login go ahead, as without counts.
        """
        async with self._counts_lock:
            if not self._counts_doubtful:
                return
            self._counts_doubtful = False
            try:
                body = await self._send(urls.camera_connection_info(), None, priority)
                status = parse_camera_status(body)
            except NvrError as err:
                _LOGGER.debug("Sessions in use not read before a login: %s", err)
                return
            self.note_uid_counts(status.used_uid, status.max_uid)

    async def ensure_command_uid(self, priority: Priority = Priority.NORMAL) -> None:
        """Log in the shared command UID unless it is held already."""
        await self._command_uid(priority)

    def keep_uids(self, purpose: UidPurpose, count: int) -> None:
        """Keep ``count`` UIDs of ``purpose`` logged in, set up and alive until close
        (in all: kept UIDs there already count, only the missing ones are added).

        They are logged in (and, for live, set up with ``hdrctl``) in the
        background at :attr:`Priority.NORMAL`, one after the other (not
        lower: a live view opened while snapshots keep the queue busy would
        wait for both commands); a stream that needs one meanwhile raises
        that work, its setup command included, to its own priority. A
        failure is logged and left to the first lease, which logs in again.
        """
        self._check_open()
        if purpose not in (UidPurpose.LIVE, UidPurpose.PLAYBACK):
            raise InvalidArgumentError(f"kept UIDs are for live or playback, not {purpose}")
        # A client handed over from an unloading entry to its next setup has
        # some already, and a setup asks for the first before the others.
        count -= sum(1 for slot in self._stream_slots if slot.kept and slot.purpose is purpose)
        if count <= 0:
            return
        if len(self._stream_slots) + count + 1 > self._budget:
            raise UidBudgetExhaustedError(
                f"{count} kept {purpose} UIDs do not fit the budget of {self._budget}"
            )
        slots = [_Slot(purpose, kept=True) for _ in range(count)]
        self._stream_slots[:0] = slots  # first in line for leases
        self._spawn(self._warm(slots))

    def prepare_uid(
        self, purpose: UidPurpose, *, idle: float, priority: Priority = Priority.NORMAL
    ) -> None:
        """Have a UID of ``purpose`` logged in for a stream that is likely to start soon.

        Nothing is sent when an idle UID of that purpose is there already (its
        idle time starts again) or the budget has no room. Otherwise a spare
        UID is logged in in the background at ``priority`` (a stream that
        needs it meanwhile raises the login to its own priority).
        A spare is logged out after ``idle`` seconds without leases (also
        after its last lease ends), at most two thirds of a UID's lifetime so
        that it never needs a keep-alive, or as soon as a stream of another
        purpose needs its place in the budget.
        """
        self._check_open()
        if purpose not in (UidPurpose.LIVE, UidPurpose.PLAYBACK):
            raise InvalidArgumentError(f"spare UIDs are for live or playback, not {purpose}")
        idle = min(idle, self._lifetime - self._margin)
        for slot in self._stream_slots:
            if slot.purpose is purpose and not slot.retiring and not slot.leases:
                if slot.spare_for:
                    slot.spare_for = max(slot.spare_for, idle)
                    self._arm_idle(slot)
                return  # an idle UID of this purpose is there (or being logged in)
        if len(self._stream_slots) + 1 >= self._budget:
            return
        slot = _Slot(purpose, spare_for=idle)
        self._stream_slots.append(slot)
        self._arm_idle(slot)
        self._spawn(self._warm([slot], priority))

    def _arm_idle(self, slot: _Slot) -> None:
        """(Re)start the timer that retires an idle spare ``slot``."""
        now = self._clock()
        until = now + slot.spare_for
        if slot.uid is not None:
            # Logged out before a keep-alive would be due (prepare_uid caps spare_for).
            until = min(until, slot.last_used + self._lifetime - self._margin)
        slot.idle_until = max(slot.idle_until, until)
        if slot.idle_timer is not None:
            slot.idle_timer.cancel()
        slot.idle_timer = asyncio.get_running_loop().call_later(
            max(slot.idle_until - now, 0.0), self._idle_spare_due, slot
        )

    def _idle_spare_due(self, slot: _Slot) -> None:
        slot.idle_timer = None
        if slot.leases or slot.retiring or self._closing or slot not in self._stream_slots:
            return  # in use (its release arms the timer again), or gone
        if slot.lock.locked() or self._clock() < slot.idle_until:
            self._arm_idle(slot)  # its login is under way, or it was used meanwhile
            return
        slot.retiring = True
        self._spawn(self._retire(slot))

    async def _make_room(self) -> bool:
        """Log out an idle spare UID to free its place in the budget; False when none."""
        for slot in self._stream_slots:
            if slot.spare_for and not slot.leases and not slot.retiring:
                slot.retiring = True  # no lease takes it from now on
                if slot.idle_timer is not None:
                    slot.idle_timer.cancel()
                    slot.idle_timer = None
                async with slot.lock:
                    pass  # a login under way lands first: its UID is logged out too
                await asyncio.shield(self._spawn(self._retire(slot)))
                return True
        return False

    async def _warm(self, slots: list[_Slot], priority: Priority = Priority.NORMAL) -> None:
        for slot in slots:
            if slot.retiring or slot not in self._stream_slots:
                continue  # a spare given up before its login began: nothing to log in
            try:
                await self._current_uid(slot, priority)
            except ClientClosedError:
                return
            except NvrError as err:
                _LOGGER.debug("Could not log in a kept %s UID ahead of use: %s", slot.purpose, err)

    async def request[T](
        self,
        request: Request,
        parse: Callable[[bytes], T],
        *,
        priority: Priority = Priority.NORMAL,
        lease: Lease | None = None,
        due: float | Deadline | None = None,
    ) -> T:
        """Send ``request`` paced, with a UID when it needs one, and return ``parse(body)``.

        A UID request that is refused (:class:`UidError`) or answers something
        ``parse`` rejects (:class:`MalformedResponseError`) is retried once
        after a new login; the second failure is raised. ``due``: the
        scheduler's deadline for the request's own turn (``Scheduler.turn``).
        """
        return await self._request(request, parse, priority, self._slot_of(lease), due=due)

    async def _request[T](
        self,
        request: Request,
        parse: Callable[[bytes], T],
        priority: Priority,
        slot: _Slot,
        *,
        prepare: bool = True,
        due: float | Deadline | None = None,
    ) -> T:
        self._check_open()
        if not request.needs_uid:
            return parse(await self._send(request, None, priority, due=due))
        for attempt in range(2):
            uid = await self._current_uid(slot, priority, prepare=prepare, due=due)
            try:
                return parse(await self._send(request, uid, priority, slot, due=due))
            except (UidError, MalformedResponseError) as err:
                if attempt:
                    if (unsupported := _not_supported(err)) is not None:
                        raise unsupported from err
                    raise
                _LOGGER.info("%s failed (%s); logging in again", request.cgi, err)
                await self._renew(
                    slot, uid, priority, release_old=isinstance(err, MalformedResponseError)
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def command(
        self, request: Request, *, priority: Priority = Priority.NORMAL, lease: Lease | None = None
    ) -> bytes:
        """Send a command whose answer the spec does not define; return its body."""

        def acknowledged(body: bytes) -> bytes:
            check_acknowledgement(body)
            return body

        return await self.request(request, acknowledged, priority=priority, lease=lease)

    async def camera_control(
        self, channel: int, request: Request, *, priority: Priority = Priority.USER
    ) -> bytes:
        """Send a camera-control command for ``channel``; return its body.

        Spec 4.1.1 recommends the UID that streams the channel live: while one
        of ours does, the command goes on it (not renewed when refused: the
        stream owns that UID); otherwise, or when it is refused, on the
        command UID.
        """
        self._check_open()
        slot = self._live_slot(channel)
        if slot is not None and slot.uid is not None:
            try:
                body = await self._send(request, slot.uid, priority, slot)
            except UidError as err:
                _LOGGER.debug("%s refused on the live UID (%s): command UID", request.cgi, err)
            else:
                check_acknowledgement(body)
                return body
        return await self.command(request, priority=priority)

    def _live_slot(self, channel: int) -> _Slot | None:
        """The ready live UID that streams ``channel`` now, if any."""
        for slot in self._stream_slots:
            if (
                slot.purpose is UidPurpose.LIVE
                and channel in slot.channels
                and not slot.retiring
                and slot.ready
            ):
                return slot
        return None

    @contextlib.asynccontextmanager
    async def stream(
        self,
        request: Request,
        *,
        priority: Priority | Urgency = Priority.USER,
        lease: Lease | None = None,
        read_timeout: float | None = None,
        renew_refused: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send ``request`` paced and yield its response for incremental reading.

        With an :class:`Urgency`, raising it while the request waits for its
        turn moves it up (a snapshot someone starts waiting for).

        Used by live streams (``push.cgi ... INTERNETMODE=ON``) and downloads.
        A refused UID is renewed and the request retried once, as for
        :meth:`request`, unless ``renew_refused`` is False: a second stream on
        a leased UID (live audio after video) must not log that UID out from
        under the first when the recorder merely refuses the second.
        The response is closed on exit.
        """
        self._check_open()
        response = await self._open_stream(request, priority, lease, read_timeout, renew_refused)
        try:
            yield response
        finally:
            response.close()

    @contextlib.asynccontextmanager
    async def lease(
        self,
        purpose: UidPurpose,
        *,
        channel: int | Collection[int],
        priority: Priority = Priority.USER,
        wait: float = 0.0,
        exclusive: bool = False,
    ) -> AsyncIterator[Lease]:
        """Lend a UID for a live or playback stream of ``channel`` (one or several).

        Raises :class:`UidBudgetExhaustedError` when no UID can take the stream
        and the budget allows no new one: at once, or after waiting up to
        ``wait`` seconds for another lease to end. An ``exclusive`` lease gets a
        UID of its own, which no other lease shares while it is held.
        """
        lease = await self.acquire(
            purpose, channel=channel, priority=priority, wait=wait, exclusive=exclusive
        )
        try:
            yield lease
        finally:
            await self.release(lease)

    async def acquire(
        self,
        purpose: UidPurpose,
        *,
        channel: int | Collection[int],
        priority: Priority = Priority.USER,
        wait: float = 0.0,
        exclusive: bool = False,
    ) -> Lease:
        """Take a lease (see :meth:`lease`); give it back with :meth:`release`."""
        self._check_open()
        if purpose not in (UidPurpose.LIVE, UidPurpose.PLAYBACK):
            raise InvalidArgumentError(f"leases are for live or playback, not {purpose}")
        channels = _channels(channel)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            room = self._room  # before trying: a release during the try sets it
            try:
                return await self._acquire_once(purpose, channels, priority, exclusive)
            except (UidBudgetExhaustedError, RecorderFullError):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await room.wait()
                self._check_open()

    async def _acquire_once(
        self, purpose: UidPurpose, channels: frozenset[int], priority: Priority, exclusive: bool
    ) -> Lease:
        async with self._lease_lock:
            # A UID that is logged in and set up first: the stream starts with one command.
            for slot in sorted(self._stream_slots, key=lambda slot: not slot.ready):
                if (
                    slot.purpose is purpose
                    and not slot.retiring
                    and not (exclusive and slot.leases)
                    and not slot.exclusive
                    and not slot.channels & channels
                    and len(slot.channels) + len(channels) <= MAX_STREAMS_PER_UID
                ):
                    if slot.spare_for and not slot.leases and slot.uid is not None:
                        self.spares_used += 1
                    slot.channels |= channels
                    slot.leases += 1
                    return Lease(slot, channels)
            # The command UID is always reserved, so streams get budget - 1.
            if len(self._stream_slots) + 1 >= self._budget and not await self._make_room():
                raise UidBudgetExhaustedError(
                    f"all {self._budget} UIDs of the budget are in use; cannot start a "
                    f"{purpose} stream of channel(s) {sorted(channels)}"
                )
            self._check_room()  # before the slot exists: a refusal frees no room
            slot = _Slot(purpose, channels=set(channels), leases=1, exclusive=exclusive)
            self._stream_slots.append(slot)
            try:
                async with slot.lock:
                    await self._login(priority, slot)
            except BaseException:
                # A UID that arrived while the client closed stays listed for close().
                if slot.uid is None:
                    self._stream_slots.remove(slot)
                    self._signal_room()
                raise
            return Lease(slot, channels)

    async def release(self, lease: Lease) -> None:
        """Give a lease back; a UID whose last lease ends is logged out."""
        slot = lease._slot  # noqa: SLF001 - Lease is this module's own type
        async with self._lease_lock:
            if lease._released:  # noqa: SLF001
                return
            lease._released = True  # noqa: SLF001
            slot.channels -= lease.channels
            slot.leases -= 1
            slot.exclusive = slot.exclusive and slot.leases > 0
            self._signal_room()
            if slot.leases > 0 or slot.retiring or slot.kept:
                return
            if slot.spare_for and not self._closing:
                self._arm_idle(slot)  # stays for the next stream a while
                return
            slot.retiring = True
        # Shielded: a cancelled stream must still give its UID back.
        task = self._spawn(self._retire(slot))
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    def usage(self) -> list[UidUsage]:
        """Every UID held, described without the UID itself."""
        now = self._clock()
        return [
            UidUsage(
                purpose=slot.purpose,
                age_s=round(now - slot.issued_at, 3),
                idle_s=round(now - slot.last_used, 3),
                streams=len(slot.channels),
                logins=slot.generation,
            )
            for slot in self._slots()
            if slot.uid is not None
        ]

    def diagnostics(self) -> dict[str, Any]:
        """UID counts, ages and counters for diagnostics: never a UID."""
        return {
            "uid_budget": self._budget,
            "uids_in_use": self.uids_in_use,
            "uid_lifetime_s": self._lifetime,
            "keepalive_after_idle_s": self._lifetime - self._margin,
            "uids": [
                {
                    "purpose": usage.purpose.value,
                    "age_s": usage.age_s,
                    "idle_s": usage.idle_s,
                    "streams": usage.streams,
                    "logins": usage.logins,
                }
                for usage in self.usage()
            ],
            "logins": self.logins,
            "relogins": self.relogins,
            "keepalives_sent": self.keepalives_sent,
        }

    # -- keep-alive -----------------------------------------------------------

    def keep_alive_due(self) -> list[UidPurpose]:
        """The purposes of the UIDs that need a keep-alive now (idle too long)."""
        return [slot.purpose for slot in self._due_slots()]

    async def send_due_keepalives(self) -> int:
        """Send ``status.cgi`` for every UID that would otherwise expire; return how many.

        A failed keep-alive is logged and does not stop the others; the next
        attempt then waits a tenth of the lifetime, so an unreachable recorder
        is not hammered.
        """
        sent = 0
        failed = False
        for slot in self._due_slots():
            if not self._in_service(slot):
                continue  # its last lease ended while an earlier keep-alive was sent
            try:
                # Nobody waits for it, but it has a deadline: it goes before
                # polls, after a person, and the scheduler promotes it before it
                # can starve (a third of the lifetime is left for it).
                await self._request(
                    urls.keep_alive(), check_acknowledgement, Priority.NORMAL, slot, prepare=False
                )
            except ClientClosedError:
                raise
            except NvrError as err:
                # Once per outage at warning level; repeats would only flood the log.
                log = _LOGGER.debug if self._keepalive_failing else _LOGGER.warning
                log("Keep-alive of a %s UID failed: %s", slot.purpose, err)
                failed = True
                continue
            self.keepalives_sent += 1
            sent += 1
        if self._keepalive_failing and not failed and sent:
            _LOGGER.info("Keep-alives succeed again")
        self._keepalive_failing = failed or (self._keepalive_failing and not sent)
        if failed:
            self._keepalive_retry_at = self._clock() + self._lifetime * _KEEPALIVE_RETRY_RATIO
        return sent

    def _in_service(self, slot: _Slot) -> bool:
        return slot.uid is not None and (
            slot is self._command or (slot in self._stream_slots and not slot.retiring)
        )

    def _due_slots(self) -> list[_Slot]:
        now = self._clock()
        return [
            slot
            for slot in self._slots()
            if slot.uid is not None
            and not slot.retiring
            and not (slot.spare_for and not slot.leases)  # an idle spare retires instead
            and now - slot.last_used >= self._lifetime - self._margin
        ]

    def _next_keepalive_in(self) -> float | None:
        deadlines = [
            slot.last_used + self._lifetime - self._margin
            for slot in self._slots()
            if slot.uid is not None
            and not slot.retiring
            and not (slot.spare_for and not slot.leases)
        ]
        if not deadlines:
            return None
        earliest = max(min(deadlines), self._keepalive_retry_at)
        return max(earliest - self._clock(), 0.0)

    async def _keepalive_loop(self) -> None:
        """The one task that sleeps until the next keep-alive deadline, then sends it."""
        while not self._closing:
            delay = self._next_keepalive_in()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self._wake.clear()
            if self.closed:  # close() may have begun while we slept
                return
            try:
                await self.send_due_keepalives()
            except ClientClosedError:
                return

    def _start_keepalive(self) -> None:
        if self._auto_keepalive and self._keepalive_task is None and not self._closing:
            self._keepalive_task = asyncio.get_running_loop().create_task(
                self._keepalive_loop(), name="ipro_nvr keep-alive"
            )
        self._wake.set()

    # -- close ----------------------------------------------------------------

    async def close(self, *, within: float | None = None) -> None:
        """Log out every UID and stop the keep-alive task; safe to call twice.

        ``within``: give up the (paced) logouts after that many seconds, as
        when Home Assistant stops; the UIDs left expire by themselves (90 s).
        """
        if self._close_task is None:
            self._closing = True
            for slot in self._stream_slots:
                if slot.idle_timer is not None:
                    slot.idle_timer.cancel()
                    slot.idle_timer = None
            self._close_task = asyncio.get_running_loop().create_task(self._shutdown(within))
        await asyncio.shield(self._close_task)

    async def _shutdown(self, within: float | None) -> None:
        try:
            async with asyncio.timeout(within):
                await self._log_out_all()
        except TimeoutError:
            _LOGGER.debug(
                "Closing within %s s: %d UID(s) left to expire by themselves",
                within,
                self.uids_in_use,
            )
            for task in set(self._background):
                task.cancel()  # logins in flight: the UIDs they may bring expire too
        for slot in self._slots():
            slot.uid = None
        self._unclaimed.clear()
        self._scheduler.close()

    async def _log_out_all(self) -> None:
        # Requests still waiting for their turn will never be sent.
        self._scheduler.fail_waiting()
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive_task
        # A login in flight may bring a UID back: let it land before logging out.
        if self._background:
            _done, pending = await asyncio.wait(
                set(self._background), timeout=2 * self._transport.request_timeout
            )
            for task in pending:
                task.cancel()
        now = self._clock()
        # A UID idle for its whole lifetime is gone already: no paced logout for it.
        uids = [
            slot.uid
            for slot in self._slots()
            if slot.uid is not None and now - slot.last_used < self._lifetime
        ]
        uids += self._live_unclaimed()
        failed = 0
        for index, uid in enumerate(uids):
            try:
                if await self._logout(uid, Priority.USER, shutdown=True):
                    self._forget(uid)
                else:
                    failed += 1
            except CannotConnectError as err:
                # The recorder does not answer (gone, or stopping with us): the
                # others would fail too, each a paced turn later; they expire.
                _LOGGER.debug("Logout failed (%s); not trying the other UIDs", err)
                failed += len(uids) - index
                break
        if failed:
            _LOGGER.warning("%d UID(s) could not be logged out; they expire by themselves", failed)

    # -- internals ------------------------------------------------------------

    def _slots(self) -> list[_Slot]:
        return [self._command, *self._stream_slots]

    def _check_open(self) -> None:
        if self._closing:
            raise ClientClosedError("the client is closed")

    def _slot_of(self, lease: Lease | None) -> _Slot:
        if lease is None:
            return self._command
        slot = lease._slot  # noqa: SLF001 - Lease is this module's own type
        if lease._released or slot.retiring or slot not in self._stream_slots:  # noqa: SLF001
            raise InvalidArgumentError("the lease was released")
        return slot

    async def _command_uid(self, priority: Priority) -> Uid:
        return await self._current_uid(self._command, priority)

    async def _current_uid(
        self,
        slot: _Slot,
        priority: Priority,
        *,
        prepare: bool = True,
        due: float | Deadline | None = None,
    ) -> Uid:
        if slot.uid is not None and (slot.ready or not prepare):
            return slot.uid
        slot.wanted = _at_least(priority, slot.wanted)  # the steps not begun yet
        if slot.urgency is not None:
            slot.urgency.raise_to(priority)  # a login or setup under way: now ours too
        async with slot.lock:
            # Another request may have logged in while this one waited for the lock.
            # A login for a request with a deadline keeps it (a poll's UID).
            uid = slot.uid if slot.uid is not None else await self._login(priority, slot, due)
            if prepare and not slot.ready:
                uid = await self._prepare(slot, priority)
            if slot.ready:
                slot.wanted = None
            return uid

    @staticmethod
    def _raise_slot_work(slot: _Slot, priority: Priority) -> None:
        """A requester waiting for ``slot``'s login or setup now waits at ``priority``."""
        if slot.uid is not None and slot.ready:
            return
        slot.wanted = _at_least(priority, slot.wanted)
        if slot.urgency is not None:
            slot.urgency.raise_to(priority)

    async def _prepare(self, slot: _Slot, priority: Priority) -> Uid:
        """Send the slot's setup command for its current login (its lock held)."""
        setup = _setup_request(slot.purpose)
        for attempt in range(2):
            uid = slot.uid if slot.uid is not None else await self._login(priority, slot)
            if setup is None:
                return uid
            urgency = slot.urgency = Urgency(_at_least(priority, slot.wanted))
            try:
                check_acknowledgement(await self._send(setup, uid, urgency, slot))
            except (UidError, MalformedResponseError) as err:
                if attempt:
                    raise
                _LOGGER.info("%s failed (%s); logging in again", setup.cgi, err)
                slot.uid = None
                self._hold_unclaimed(uid, slot.last_used)
                self._spawn(self._release_unclaimed(uid, Priority.BACKGROUND))
                self.relogins += 1
                continue
            finally:
                slot.urgency = None
            slot.prepared = slot.generation
            return uid
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        request: Request,
        uid: Uid | None,
        priority: Priority | Urgency,
        slot: _Slot | None = None,
        *,
        shutdown: bool = False,
        due: float | Deadline | None = None,
    ) -> bytes:
        for attempt in range(2):
            await self._scheduler.turn(request.lane, priority, due=due)
            if self._closing and not shutdown:
                raise ClientClosedError("the client is closed")
            sent_at = self._clock()
            try:
                body = await self._transport.fetch(request, uid)
                break
            except ConnectionDroppedError:
                # A pooled connection the recorder had closed: sent once more,
                # on a turn of its own (never at once, spec 1.3).
                if attempt:
                    raise
                _LOGGER.debug("%s: connection dropped, sending again", request.describe())
            finally:
                self._scheduler.finished(request.lane)
        if slot is not None:
            # The recorder refreshed the UID when the command arrived, which was
            # after we sent it. A refused command refreshed nothing.
            slot.last_used = max(slot.last_used, sent_at)
        return body

    async def _open_stream(
        self,
        request: Request,
        priority: Priority | Urgency,
        lease: Lease | None,
        read_timeout: float | None,
        renew_refused: bool = True,
    ) -> aiohttp.ClientResponse:
        if not request.needs_uid:
            await self._scheduler.turn(request.lane, priority)
            self._check_open()
            try:
                return await self._transport.open_stream(request, None, read_timeout=read_timeout)
            finally:
                self._scheduler.finished(request.lane)
        slot = self._slot_of(lease)
        for attempt in range(2):
            level = priority.priority if isinstance(priority, Urgency) else priority
            if isinstance(priority, Urgency):
                # Raised while it waits for its UID's login or setup: so are they.
                priority.on_raise = lambda raised, slot=slot: self._raise_slot_work(slot, raised)
            try:
                uid = await self._current_uid(slot, level)
            finally:
                if isinstance(priority, Urgency):
                    priority.on_raise = None
            await self._scheduler.turn(request.lane, priority)
            self._check_open()
            sent_at = self._clock()
            try:
                try:
                    response = await self._transport.open_stream(
                        request, uid, read_timeout=read_timeout
                    )
                finally:
                    self._scheduler.finished(request.lane)
            except UidError as err:
                if attempt:
                    if (unsupported := _not_supported(err)) is not None:
                        raise unsupported from err
                    raise
                if not renew_refused:
                    raise
                _LOGGER.info("%s failed (%s); logging in again", request.cgi, err)
                await self._renew(slot, uid, level, release_old=False)
            else:
                slot.last_used = max(slot.last_used, sent_at)
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _renew(
        self, slot: _Slot, failed: Uid, priority: Priority, *, release_old: bool
    ) -> None:
        """Replace ``slot``'s UID ``failed`` by a new login, unless someone did already."""
        async with slot.lock:
            if slot.uid is not None and slot.uid != failed:
                return  # a concurrent request renewed it while we waited
            if slot.uid == failed:
                slot.uid = None
                if release_old:
                    # A garbled answer does not prove the UID dead: release it
                    # in the background, it stays listed until then.
                    self._hold_unclaimed(failed, slot.last_used)
                    self._spawn(self._release_unclaimed(failed, Priority.BACKGROUND))
                else:
                    self._uid_lost()
            self.relogins += 1
            try:
                await self._login(priority, slot)
            except AuthenticationError:
                if not release_old:
                    # The refusal was the password's (changed on the recorder), not
                    # the UID's: the recorder may still hold it. Listed, it is logged
                    # out when the client closes (a reauthentication reloads it).
                    self._hold_unclaimed(failed, slot.last_used)
                raise
            if not slot.ready:
                await self._prepare(slot, priority)

    async def _login(
        self, priority: Priority, slot: _Slot, due: float | Deadline | None = None
    ) -> Uid:
        """Log in and put the new UID in ``slot`` (whose lock the caller holds)."""
        self._check_open()
        if self._counts_doubtful:
            await self._read_counts(priority)
        self._check_room()
        urgency = slot.urgency = Urgency(_at_least(priority, slot.wanted), due)
        task = self._spawn(self._login_exchange(urgency))
        self._logins_in_flight += 1
        task.add_done_callback(self._login_landed)
        try:
            uid = await asyncio.shield(task)
        except asyncio.CancelledError:
            # The recorder may issue the UID anyway: the task releases it.
            task.add_done_callback(self._release_abandoned)
            raise
        finally:
            slot.urgency = None
        # Claim it: from unclaimed into the slot in one step, no await between,
        # so close() always finds it in one place or the other.
        self._forget(uid)
        now = self._clock()
        slot.uid, slot.issued_at, slot.last_used = uid, now, now
        slot.generation += 1
        self.logins += 1
        self._check_open()
        self._start_keepalive()
        return uid

    async def _login_exchange(self, priority: Priority | Urgency) -> Uid:
        body = await self._send(urls.login(), None, priority)
        uid = parse_login(body)
        # Listed before anyone can be cancelled, so close() will find it.
        self._hold_unclaimed(uid)
        _LOGGER.debug("Logged in: %s", uid)
        return uid

    def _login_landed(self, _task: asyncio.Task[Uid]) -> None:
        self._logins_in_flight -= 1

    def _release_abandoned(self, task: asyncio.Task[Uid]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        uid = task.result()
        if uid.value in self._unclaimed and not self._closing:
            self._spawn(self._release_unclaimed(uid, Priority.NORMAL))

    def _hold_unclaimed(self, uid: Uid, last_used: float | None = None) -> None:
        self._unclaimed[uid.value] = (uid, self._clock() if last_used is None else last_used)

    def _forget(self, uid: Uid) -> None:
        self._unclaimed.pop(uid.value, None)

    def _live_unclaimed(self) -> list[Uid]:
        """Unclaimed UIDs the recorder may still know (younger than a lifetime)."""
        now = self._clock()
        return [uid for uid, used in self._unclaimed.values() if now - used < self._lifetime]

    async def _release_unclaimed(self, uid: Uid, priority: Priority) -> None:
        if await self._logout(uid, priority):
            self._forget(uid)

    async def _retire(self, slot: _Slot) -> None:
        """Log out a slot whose last lease ended, then drop it."""
        uid = slot.uid
        if uid is None or self._closing:
            # Closing: close() logs out every slot's UID itself.
            if uid is None:
                self._stream_slots.remove(slot)
            return
        released = await self._logout(uid, Priority.NORMAL)
        if not released:
            # Not lost: listed for close(), or until the recorder forgets it.
            self._hold_unclaimed(uid, slot.last_used)
        slot.uid = None
        if slot in self._stream_slots:
            self._stream_slots.remove(slot)
        self._signal_room()

    def _signal_room(self) -> None:
        self._room.set()
        self._room = asyncio.Event()

    async def _logout(self, uid: Uid, priority: Priority, *, shutdown: bool = False) -> bool:
        """Log ``uid`` out; True when the recorder no longer knows it."""
        try:
            await self._send(urls.logout(), uid, priority, shutdown=shutdown)
        except UidError:
            self._uid_lost()
            return True  # expired or evicted already: gone either way
        except CannotConnectError:
            if shutdown:
                raise  # _log_out_all gives up the rest
            _LOGGER.debug("Logout of %s failed: the recorder does not answer", uid)
            return False
        except NvrError as err:
            _LOGGER.debug("Logout of %s failed: %s", uid, err)
            return False
        _LOGGER.debug("Logged out: %s", uid)
        return True

    def _spawn[T](self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


def _channels(channel: int | Collection[int]) -> frozenset[int]:
    values = [channel] if isinstance(channel, int) else list(channel)
    if not values:
        raise InvalidArgumentError("a lease needs at least one channel")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CHANNELS:
            raise InvalidArgumentError(f"channel {value!r} outside 1..{MAX_CHANNELS}")
    if len(set(values)) != len(values) or len(values) > MAX_STREAMS_PER_UID:
        raise InvalidArgumentError("a lease takes up to 16 distinct channels")
    return frozenset(values)


def _at_least(priority: Priority, wanted: Priority | None) -> Priority:
    """``priority``, or ``wanted`` when a requester waiting for the same work wants more."""
    return priority if wanted is None else max(priority, wanted)
