"""Pacing of requests to one recorder, in lanes, by priority.

Spec 1.3 asks for at least 3 s between commands and about 0.2 s between camera
controls. The rule is applied per recorder, across every UID of the client
(NOTES "Pacing", the stricter reading). Each :class:`~.spec.Lane` is paced on
its own: a request may *start* once the lane's interval (plus a small safety
margin) has passed since the previous start in that lane; ``Lane.STREAM``
never waits. Within a lane, waiting requests are served by :class:`Priority`
(a user's PTZ press before a keep-alive before a poll), first come first
served within a priority.

The margin covers what happens between our start and the recorder's arrival
time: a Digest challenge round trip, a TLS handshake, network jitter. The
recorder must never see two requests of a lane closer than the interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
import heapq
import itertools
import time
from typing import Any

from .errors import ClientClosedError
from .spec import Lane, PacingPolicy

# Safety margin added to a lane's interval: a share of it plus a fixed part.
MARGIN_RATIO = 0.05
MARGIN_FIXED = 0.005


class Priority(IntEnum):
    """Who is waiting for a request; higher values are served first."""

    BACKGROUND = 0  # polls
    NORMAL = 1  # anything not on a user's behalf and not a poll
    USER = 2  # a person is waiting: PTZ, stream start, config flow, keep-alive of a stream


@dataclass(order=True, slots=True)
class _Waiter:
    # Heap order: highest priority first, then arrival order.
    sort_key: tuple[int, int]
    future: asyncio.Future[float] = field(compare=False)


@dataclass(slots=True)
class _LaneState:
    interval: float
    queue: list[_Waiter] = field(default_factory=list)
    last_start: float | None = None
    timer: asyncio.TimerHandle | None = None
    started: int = 0


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

    @staticmethod
    def spacing(interval: float) -> float:
        """The gap actually kept after a start: the interval plus the safety margin."""
        return interval + interval * MARGIN_RATIO + MARGIN_FIXED if interval > 0 else 0.0

    async def turn(self, lane: Lane, priority: Priority = Priority.NORMAL) -> float:
        """Wait until a request in ``lane`` may start; return the start time.

        The caller must send its request right away: the lane counts it as
        started. A cancelled waiter leaves the queue without consuming a turn.
        """
        if self._closed:
            raise ClientClosedError("the client is closed")
        state = self._lanes[lane]
        if state.interval <= 0:
            return self._start(state)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        heapq.heappush(state.queue, _Waiter((-int(priority), next(self._sequence)), future))
        self._pump(lane)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Granted in the same loop iteration as the cancellation: the
                # turn is spent (nothing was sent, so the lane only waits longer).
                raise
            self._drop(state, future)
            self._pump(lane)
            raise

    def sent(self, lane: Lane) -> None:
        """A request of ``lane`` went out now: the lane's interval counts from here.

        A turn is counted when it is granted, but the request may leave later: after a
        busy event loop got to it, or as the resend answering a Digest challenge (a
        round trip after the turn), and only that resend reaches the recorder's
        handler. Counting from the later time keeps the gap the recorder sees.
        """
        state = self._lanes[lane]
        if state.interval <= 0 or state.last_start is None:
            return
        state.last_start = max(state.last_start, self._clock())
        if state.queue:
            self._pump(lane)  # re-arm the timer from the new start

    def _start(self, state: _LaneState) -> float:
        now = self._clock()
        state.last_start = now
        state.started += 1
        return now

    def _drop(self, state: _LaneState, future: asyncio.Future[float]) -> None:
        state.queue = [waiter for waiter in state.queue if waiter.future is not future]
        heapq.heapify(state.queue)

    def _pump(self, lane: Lane) -> None:
        """Grant the lane's next turn if it is due, else arm a timer for when it is."""
        state = self._lanes[lane]
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        while state.queue and state.queue[0].future.done():
            heapq.heappop(state.queue)  # cancelled waiters
        if not state.queue or self._closed:
            return
        now = self._clock()
        ready_at = (
            now if state.last_start is None else state.last_start + self.spacing(state.interval)
        )
        if now >= ready_at:
            waiter = heapq.heappop(state.queue)
            waiter.future.set_result(self._start(state))
            if state.queue:
                self._arm(lane, self.spacing(state.interval))
            return
        self._arm(lane, ready_at - now)

    def _arm(self, lane: Lane, delay: float) -> None:
        state = self._lanes[lane]
        state.timer = asyncio.get_running_loop().call_later(delay, self._pump, lane)

    def fail_waiting(self) -> None:
        """Fail every waiting request with :class:`ClientClosedError` (the client is closing).

        New turns are still granted, so the closing client can log out its UIDs.
        """
        for state in self._lanes.values():
            for waiter in state.queue:
                if not waiter.future.done():
                    waiter.future.set_exception(ClientClosedError("the client is closed"))
            state.queue.clear()
            if state.timer is not None:
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
