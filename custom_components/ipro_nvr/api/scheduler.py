"""Pacing of requests to one recorder, in lanes, by priority.

Spec 1.3 asks for at least 3 s between commands and about 0.2 s between camera
controls. It does not say whether per UID or per client; the stricter reading
is taken: per recorder, across every UID of the client. Each :class:`~.spec.Lane` is paced on
its own: a request may *start* once the lane's interval (plus a small safety
margin) has passed since the previous start in that lane; ``Lane.STREAM``
never waits. Within a lane, waiting requests are served by :class:`Priority`
(a person waiting before a keep-alive before a poll), first come first
served within a priority.

No request starves: one that has waited :data:`PROMOTE_AFTER` lane spacings
(a keep-alive about 9 s, a poll about 15 s with the spec's 3 s) is served
before anything that arrived after it, whatever its priority; but promoted
requests overtake a waiting request of higher priority one at a time, taking
turns with it. A person's request thus waits at most one
interval behind the promoted ones (a dashboard's idle feeds stop together:
seven STOPs once held a clip's download for 22 s), and a keep-alive still gets
through well inside the UID's lifetime.

A request may also carry its own deadline (``turn(..., due=t)``, on the
scheduler's clock): from ``t`` on it counts as promoted, whatever its priority
and however short its wait. A poll that is due thus gets the next turn (at most
one person's request between, by the alternation above) instead of waiting its
generic promotion: the log and status coordinators pass the time their poll
asks (Home Assistant's timer says it is due), so a poll's commands wait at
most a couple of spacings while cameras start. A :class:`Deadline` also holds a
poll asked early back to its time: it then takes the last turn that starts by
then, never an earlier one, and yields to people until it is
:data:`POLL_YIELD_SPACINGS` past its time (about two turns late). A login
made for such a request keeps its deadline (``Urgency.due``). Requests without
one keep the generic promotion; a deadline only ever advances it.

A request's priority may be raised while it waits (:class:`Urgency`): a
background login that a person starts waiting for is served as theirs.

One scheduler stands for one recorder. Every client of that recorder in the
process takes its turns from it through :meth:`Scheduler.share`: a handle on
the same lanes whose ``fail_waiting`` and ``close`` concern only its own
waiting requests, so one client closing never stalls or fails another's.

The margin covers what happens between our start and the recorder's arrival
time: a Digest challenge round trip, a TLS handshake, network jitter. The
recorder must never see two requests of a lane closer than the interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
import itertools
import time
from typing import Any, Final

from .errors import ClientClosedError
from .spec import Lane, PacingPolicy

# Safety margin added to a lane's interval: a share of it plus a fixed part.
MARGIN_RATIO = 0.05
MARGIN_FIXED = 0.005


class Priority(IntEnum):
    """Who is waiting for a request; higher values are served first."""

    # Deferrable, no deadline: snapshot (JPEG) stream starts, whose tiles show their last
    # picture meanwhile. Never promoted, so they never delay a live view's start.
    DEFERRABLE = -1
    BACKGROUND = 0  # polls
    NORMAL = 1  # keep-alives, logouts, stream stops: nobody waits, but they have deadlines
    # A person waits, glancing: a dashboard tile with no picture yet (it shows the
    # placeholder meanwhile) waits for its camera's first JPEG stream START.
    TILE = 2
    # A person waits for what they opened: a live video's START, a clip, playback,
    # PTZ, a config flow. Ahead of tiles: a camera clicked right after its dashboard
    # opened waited behind the START of every other tile (15 s for four).
    USER = 3


# Requests a person waits for (see Scheduler._eligible).
PEOPLE: Final = frozenset({Priority.TILE, Priority.USER})


# Lane spacings after which a waiting request is served before later arrivals.
PROMOTE_AFTER: Final[dict[Priority, float]] = {Priority.NORMAL: 3.0, Priority.BACKGROUND: 5.0}
# A held poll (``Deadline.not_before``) yields to a person until it is this many
# lane spacings past its time: a person's request of two steps (a login, then a
# clip's download or a camera's START) goes first, the poll at most about two
# turns late. Yielding one turn only, a poll at its time still went ahead of half
# the live views and clips opened in the browser tests (4 s more to wait).
POLL_YIELD_SPACINGS: Final = 2.0


@dataclass(frozen=True, slots=True)
class Deadline:
    """A scheduled poll's turn: held back until ``not_before``; with others waiting,
    it takes the last turn that starts by then (promoted from ``due`` on, ``due``
    before ``not_before``), never an earlier one."""

    due: float
    not_before: float | None = None


class Urgency:
    """A priority that may be raised while its request waits for its turn.

    ``due``: the request's own deadline, as ``Scheduler.turn(due=...)`` takes it
    (for a login made on behalf of a request that has one).
    """

    __slots__ = ("due", "on_raise", "priority")

    def __init__(self, priority: Priority, due: float | Deadline | None = None) -> None:
        self.priority = priority
        self.due = due
        # Told of every raise: the work this request waits for first (its UID's
        # login and setup) is raised with it.
        self.on_raise: Callable[[Priority], None] | None = None

    def raise_to(self, priority: Priority) -> None:
        """Serve the request at least at ``priority`` from now on."""
        self.priority = max(self.priority, priority)
        if self.on_raise is not None:
            self.on_raise(self.priority)


@dataclass(slots=True)
class _Waiter:
    urgency: Urgency
    sequence: int  # arrival order
    promote_at: float  # clock time after which it goes before later arrivals
    future: asyncio.Future[float]
    owner: Scheduler  # the handle it waits through
    # Before this clock time it is served only ahead of others waiting (Deadline).
    not_before: float = float("-inf")


@dataclass(slots=True)
class _LaneState:
    interval: float
    queue: list[_Waiter] = field(default_factory=list)
    last_start: float | None = None
    timer: asyncio.TimerHandle | None = None
    started: int = 0
    # The last turn went to a promoted request over a waiting one of higher priority.
    overtook: bool = False
    # The last turn went to a request no person waits for (a poll, a keep-alive).
    foreign: bool = False


class Scheduler:
    """Grants turns to start requests, one recorder's pacing rules in force."""

    def __init__(
        self,
        pacing: PacingPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pacing = pacing
        self._clock = clock
        self._lanes = {lane: _LaneState(pacing.interval(lane)) for lane in Lane}
        self._sequence = itertools.count()
        self._closed = False

    @property
    def pacing(self) -> PacingPolicy:
        """The pacing policy in force."""
        return self._pacing

    @property
    def clock(self) -> Callable[[], float]:
        """The clock turns are timed on (a request's ``due`` is given on it)."""
        return self._clock

    @staticmethod
    def spacing(interval: float) -> float:
        """The gap actually kept after a start: the interval plus the safety margin."""
        return interval + interval * MARGIN_RATIO + MARGIN_FIXED if interval > 0 else 0.0

    async def turn(
        self,
        lane: Lane,
        priority: Priority | Urgency = Priority.NORMAL,
        *,
        due: float | Deadline | None = None,
    ) -> float:
        """Wait until a request in ``lane`` may start; return the start time.

        The caller must send its request right away: the lane counts it as
        started. A cancelled waiter leaves the queue without consuming a turn.
        With an :class:`Urgency`, raising it later moves the waiting request up.
        ``due`` (this scheduler's clock): promoted from then on at the latest;
        a :class:`Deadline` may also hold the request back while nobody else waits.
        """
        if self._closed:
            raise ClientClosedError("the client is closed")
        state = self._lanes[lane]
        if state.interval <= 0:
            return self._start(state)
        urgency = priority if isinstance(priority, Urgency) else Urgency(priority)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        promote = PROMOTE_AFTER.get(urgency.priority)
        now = self._clock()
        spacing = self.spacing(state.interval)
        promote_at = float("inf") if promote is None else now + promote * spacing
        not_before = float("-inf")
        for deadline in (due, urgency.due):
            if isinstance(deadline, Deadline):
                if deadline.not_before is not None:
                    not_before = max(not_before, deadline.not_before)
                promote_at = min(promote_at, deadline.due)
            elif deadline is not None:
                promote_at = min(promote_at, deadline)
        state.queue.append(
            _Waiter(urgency, next(self._sequence), promote_at, future, self, not_before)
        )
        self._pump(lane)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Granted in the same loop iteration as the cancellation: the
                # turn is spent (nothing was sent, so the lane only waits longer).
                raise
            self._drop(state, future)
            self._pump(lane)
            raise
        # A busy event loop may resume the caller well after the grant: the
        # request starts now, so the next one is spaced from now.
        resumed = self._clock()
        if state.last_start is None or resumed > state.last_start:
            state.last_start = resumed
        return resumed

    def finished(self, lane: Lane) -> None:
        """The request started last in ``lane`` has its answer (or failed): space from now.

        The recorder saw that request by now at the latest, however late a busy
        event loop or a new connection made it arrive; spacing the next start
        from here keeps the interval at the recorder, not only at our end.
        """
        state = self._lanes[lane]
        if state.interval <= 0:
            return
        now = self._clock()
        if state.last_start is None or now > state.last_start:
            state.last_start = now
            if state.queue:
                self._pump(lane)  # the armed timer counted from the earlier start

    def share(self) -> Scheduler:
        """A handle on the same lanes for another client of the same recorder.

        Its turns are paced together with every other handle's (one queue per
        lane, one last start); its ``fail_waiting`` and ``close`` fail and
        refuse only the requests made through it.
        """
        handle = Scheduler(self._pacing, clock=self._clock)
        handle._lanes = self._lanes
        handle._sequence = self._sequence
        return handle

    def sent(self, lane: Lane) -> None:
        """A request of ``lane`` is leaving now: count the lane's spacing from now.

        A turn is granted before the request leaves; a Digest challenge round
        trip (a client's first request, a stale nonce) or a new connection
        delays its arrival at the recorder. Counting from the later moment
        keeps the next request of the lane the full interval behind it.
        """
        self.finished(lane)

    def _start(self, state: _LaneState) -> float:
        now = self._clock()
        state.last_start = now
        state.started += 1
        return now

    def _drop(self, state: _LaneState, future: asyncio.Future[float]) -> None:
        state.queue = [waiter for waiter in state.queue if waiter.future is not future]

    @staticmethod
    def _eligible(state: _LaneState, now: float, spacing: float) -> list[_Waiter]:
        """The waiters that may take the turn now.

        One held back (``Deadline.not_before`` still ahead) waits for its time:
        alone, until then; with others waiting, it takes the last turn that
        starts by its time (the next would come after it), once promoted,
        unless a person (:data:`PEOPLE`) waits: then people go first
        until it is :data:`POLL_YIELD_SPACINGS` past its time. So a
        scheduled poll asked early keeps its interval while the recorder is
        idle and while cameras start alike: taking a turn as soon as it was
        promoted, a log poll came every other command while a dashboard's
        cameras started (6 s apart instead of 15).
        """
        free = [waiter for waiter in state.queue if waiter.not_before <= now]
        if not free:
            return free
        held = [
            waiter
            for waiter in state.queue
            if now < waiter.not_before <= now + spacing and waiter.promote_at <= now
        ]
        if any(waiter.urgency.priority in PEOPLE for waiter in free):
            # A person first; a poll at (or just past) its time waits too, up to
            # POLL_YIELD_SPACINGS past it.
            yielding = [
                waiter
                for waiter in free
                if waiter.urgency.priority not in PEOPLE
                and now < waiter.not_before + POLL_YIELD_SPACINGS * spacing
            ]
            return [waiter for waiter in free if waiter not in yielding]
        return free + held if held else free

    @staticmethod
    def _next(state: _LaneState, now: float, candidates: list[_Waiter]) -> _Waiter:
        """The waiter to serve: the earliest promoted one, else by priority, then arrival.

        A promoted waiter never goes before one of higher priority twice in a
        row: after it overtook, the next turn is by priority. A held one whose
        time comes before the next turn takes this one, except from a person
        (a request of :data:`PEOPLE`, see :meth:`_eligible`). A person never
        waits through two turns in a row that were nobody's: after a poll or a
        keep-alive, a person waiting goes first, before any promoted request
        (a log poll's turn began as an event clip was clicked, then a status
        poll past its yield went too: 6.8 s to the clip's first picture).
        """
        best = min(candidates, key=lambda waiter: (-waiter.urgency.priority, waiter.sequence))
        chosen = Scheduler._choose(state, now, candidates, best)
        state.foreign = chosen.urgency.priority not in PEOPLE
        return chosen

    @staticmethod
    def _choose(state: _LaneState, now: float, candidates: list[_Waiter], best: _Waiter) -> _Waiter:
        if state.foreign and best.urgency.priority in PEOPLE:
            state.overtook = False
            return best
        last_call = [waiter for waiter in candidates if waiter.not_before > now]
        if last_call:  # (no person waits: see _eligible)
            first = min(last_call, key=lambda waiter: waiter.sequence)
            state.overtook = first.urgency.priority < best.urgency.priority
            return first
        promoted = [waiter for waiter in candidates if waiter.promote_at <= now]
        if promoted and not state.overtook:
            first = min(promoted, key=lambda waiter: waiter.sequence)
            state.overtook = first.urgency.priority < best.urgency.priority
            return first
        state.overtook = False
        return best

    def _pump(self, lane: Lane) -> None:
        """Grant the lane's next turn if it is due, else arm a timer for when it is."""
        state = self._lanes[lane]
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        # Queues hold a handful of waiters: a scan is cheaper than keeping a heap
        # whose priorities may change (Urgency, promotion).
        state.queue = [waiter for waiter in state.queue if not waiter.future.done()]
        if not state.queue:
            return
        now = self._clock()
        ready_at = (
            now if state.last_start is None else state.last_start + self.spacing(state.interval)
        )
        if now >= ready_at:
            candidates = self._eligible(state, now, self.spacing(state.interval))
            if not candidates:
                # Only requests held back: the first of them when its time comes
                # (another request arriving meanwhile pumps again).
                self._arm(lane, min(waiter.not_before for waiter in state.queue) - now)
                return
            waiter = self._next(state, now, candidates)
            state.queue.remove(waiter)
            waiter.future.set_result(self._start(state))
            if state.queue:
                self._arm(lane, self.spacing(state.interval))
            return
        self._arm(lane, ready_at - now)

    def _arm(self, lane: Lane, delay: float) -> None:
        state = self._lanes[lane]
        state.timer = asyncio.get_running_loop().call_later(delay, self._pump, lane)

    def fail_waiting(self) -> None:
        """Fail every request waiting through this handle with :class:`ClientClosedError`.

        The client is closing. New turns are still granted, so it can log out
        its UIDs; other handles' requests keep their places.
        """
        for state in self._lanes.values():
            kept: list[_Waiter] = []
            for waiter in state.queue:
                if waiter.owner is not self:
                    kept.append(waiter)
                elif not waiter.future.done():
                    waiter.future.set_exception(ClientClosedError("the client is closed"))
            state.queue = kept
            if not kept and state.timer is not None:
                state.timer.cancel()
                state.timer = None

    def close(self) -> None:
        """Refuse new turns, fail every waiting request and stop every timer."""
        self._closed = True
        self.fail_waiting()

    def queue_length(self, lane: Lane) -> int:
        """How many requests wait in ``lane``."""
        return sum(1 for waiter in self._lanes[lane].queue if not waiter.future.done())

    def snapshot(self) -> dict[str, Any]:
        """Queue lengths and last start times (seconds ago) per lane, for diagnostics."""
        now = self._clock()
        return {
            lane.value: {
                "interval_s": state.interval,
                "queued": self.queue_length(lane),
                "started": state.started,
                "last_start_s_ago": (
                    None if state.last_start is None else round(now - state.last_start, 3)
                ),
            }
            for lane, state in self._lanes.items()
        }
