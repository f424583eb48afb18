"""Camera control (spec chapter 4): one command at a time per camera, and timed moves.

An i-PRO camera keeps moving for about 2 s after one ``directctrl.cgi``
command (spec 4.2.1) and then stops by itself. A move that should last longer
is a *hold*: the move is sent again every :data:`MOVE_REPEAT_INTERVAL` seconds,
well inside those 2 s so the motion never pauses, and the hold always ends
with a stop (``PAN=0&TILT=0&ZOOM=0``), whether it ran its course, a command in
between failed, or its caller was cancelled.

A hold is ended early by any other command to the same camera: the hold sends
its stop first and the new command goes out after it, so a stop can never
overtake the command it was meant to precede (a user pressing "stop" during a
timed move, or choosing a preset, gets exactly that).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import logging
import math

from .errors import InvalidArgumentError, NvrError
from .urls import Request

_LOGGER = logging.getLogger(__name__)

# Spec 4.2.1/4.2.2: "i-PRO cameras continue to operate for approximately 2
# seconds with one command".
MOVE_HOLD = 2.0
# How often a hold re-sends its move. Read at every hold (tests shorten it).
MOVE_REPEAT_INTERVAL = 1.5

# Sends one request to a channel's camera (on its live UID when one streams it).
type Send = Callable[[int, Request], Awaitable[bytes]]


@dataclass(eq=False, slots=True)
class _Hold:
    """A timed move under way on one camera."""

    # Set to end the hold before its time (another command, or the client closing).
    end: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once the hold's stop has been sent (or has failed).
    finished: asyncio.Event = field(default_factory=asyncio.Event)


def check_duration(duration: object) -> float:
    """Return ``duration`` as seconds, or raise :class:`InvalidArgumentError`."""
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        raise InvalidArgumentError("duration must be a number of seconds")
    if not math.isfinite(duration) or duration <= 0:
        raise InvalidArgumentError(f"duration={duration} must be positive")
    return float(duration)


class CameraControl:
    """Sends camera-control requests for :class:`~.client.NvrClient`, per camera.

    ``send`` sends one request for a channel (paced in the camera-control
    lane, user priority) on the channel's live UID or the command UID.
    Requests are built and checked by :mod:`.urls` before they reach this class.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._holds: dict[int, _Hold] = {}
        # Stops sent on behalf of a cancelled hold keep running to the end.
        self._stops: set[asyncio.Task[bytes]] = set()

    async def send(self, channel: int, request: Request) -> None:
        """Send one command to ``channel``'s camera, after ending any hold on it."""
        await self._end_hold(channel)
        await self._send(channel, request)

    async def hold(self, channel: int, move: Request, stop: Request, duration: float) -> None:
        """Move for ``duration`` seconds, then stop; see the module documentation.

        Returns once the stop has been sent. Raises the first error of a move
        (after the stop went out), else the stop's error.
        """
        duration = check_duration(duration)
        await self._end_hold(channel)
        hold = _Hold()
        self._holds[channel] = hold
        try:
            try:
                await self._repeat(channel, hold, move, duration)
            except BaseException:
                # The move's error (or the cancellation) is what the caller
                # needs to see; a failing stop is only logged.
                await self._stop(channel, stop, quiet=True)
                raise
            await self._stop(channel, stop, quiet=False)
        finally:
            if self._holds.get(channel) is hold:
                del self._holds[channel]
            hold.finished.set()

    async def close(self) -> None:
        """End every hold (each sends its stop) and wait until they have."""
        holds = list(self._holds.values())
        for hold in holds:
            hold.end.set()
        for hold in holds:
            await hold.finished.wait()
        if self._stops:
            await asyncio.gather(*self._stops, return_exceptions=True)

    async def _end_hold(self, channel: int) -> None:
        # A loop, not an if: while we waited, another caller may have started a
        # new hold on this camera; the command arriving last wins.
        while (hold := self._holds.get(channel)) is not None:
            hold.end.set()
            await hold.finished.wait()

    async def _repeat(self, channel: int, hold: _Hold, move: Request, duration: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration
        await self._send(channel, move)
        while (remaining := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, MOVE_REPEAT_INTERVAL)):
                    await hold.end.wait()
            if hold.end.is_set() or deadline - loop.time() <= 0:
                return
            await self._send(channel, move)

    async def _stop(self, channel: int, stop: Request, *, quiet: bool) -> None:
        # Shielded: a second cancellation of the caller must not lose the stop;
        # the task then finishes on its own (close() waits for it).
        task = asyncio.ensure_future(self._send(channel, stop))
        self._stops.add(task)
        task.add_done_callback(self._stop_done)
        try:
            await asyncio.shield(task)
        except NvrError as err:
            if not quiet:
                raise
            # Not fatal: the camera stops by itself about 2 s after the last move.
            _LOGGER.warning("Could not stop the camera after a timed move: %s", err)

    def _stop_done(self, task: asyncio.Task[bytes]) -> None:
        self._stops.discard(task)
        # Retrieve the outcome of a stop nobody awaits any more (its caller was
        # cancelled), so it is logged here rather than as "never retrieved".
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.debug("Stop after a timed move failed: %s", err)
