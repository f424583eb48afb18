"""Which cameras the recorder can reach, as its status last said: the gate of every live start.

A ``push.cgi`` START for a camera the recorder cannot reach answers 503 and
costs a paced command (3 s of the recorder's one queue, spec 1.3) that every
other camera waits behind. So a live feed asks :class:`CameraConnections`
first: a camera the status (``as_getinfo.cgi``, ``CAM_CONNECT_xxCH``) reports
not connected gets no START until a later status says it is back.

A 503 on START is ambiguous (the camera gone, or the recorder busy): the
camera becomes *suspect*, nothing is retried for it, and a fresh status is
asked for (``on_suspect``); that status settles which it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .models import CameraStatus, ChannelState


class CameraConnections:
    """The recorder's latest word on each camera's connection, and the cameras held back."""

    def __init__(self) -> None:
        self._states: dict[int, ChannelState] = {}
        self._suspect: set[int] = set()
        self._changed = asyncio.Event()
        # Called with the channel when a START was refused with 503: ask for a fresh status.
        self.on_suspect: Callable[[int], None] | None = None

    def update(self, status: CameraStatus) -> None:
        """Take a fresh status from the recorder; it settles every suspect camera."""
        self._states = dict(status.channels)
        self._suspect.clear()
        self._wake()

    def state(self, channel: int) -> ChannelState | None:
        """What the latest status said about ``channel`` (None: no status yet, or not listed)."""
        return self._states.get(channel)

    def reported_disconnected(self, channel: int) -> bool:
        """Whether the latest status says the recorder cannot reach ``channel``'s camera."""
        state = self._states.get(channel)
        return state is not None and state is not ChannelState.NORMAL

    def may_start(self, channel: int) -> bool:
        """Whether a live START of ``channel`` may be sent now."""
        return not self.reported_disconnected(channel) and channel not in self._suspect

    def suspect(self, channel: int) -> None:
        """A START of ``channel`` was refused with 503: hold it back until the next status."""
        if channel in self._suspect:
            return
        self._suspect.add(channel)
        self._wake()
        if self.on_suspect is not None:
            self.on_suspect(channel)

    async def wait_until_settled(self, channel: int) -> None:
        """Return once a status has settled a suspect ``channel`` (at once if not suspect)."""
        while channel in self._suspect:
            changed = self._changed
            await changed.wait()

    def _wake(self) -> None:
        # A new event per change: every waiter wakes, none can clear another's wake-up.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
