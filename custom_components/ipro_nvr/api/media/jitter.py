"""A small jitter buffer: RTP datagrams back in sequence order, gaps given up after a delay.

Over HTTP the recorder's packets arrive in order; over UDP (spec 2.1) they may
come out of order or not at all. Packets that arrive ahead of a missing one
wait here, at most ``delay`` seconds (from the first one held) or until
``capacity`` packets or ``max_bytes`` are held; then the missing ones are given
up and the rest released in order. The depacketizer behind sees the gap in
the sequence numbers and conceals it as it does any loss: the damaged picture
and those after it are dropped until the next keyframe.

Nothing here reads a clock: the caller passes ``now`` and asks for
:meth:`JitterBuffer.due` packets at :attr:`JitterBuffer.deadline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .rtp import sequence_delta

# Defaults: a LAN reorders within a millisecond or two; 60 ms covers a loaded
# host's scheduling delay and still costs a viewer nothing noticeable.
DEFAULT_DELAY: Final = 0.06
# A 4K keyframe is about 2000 packets of 1400 bytes; the buffer need not hold
# a whole one (it only holds packets behind a gap), so a few hundred will do.
DEFAULT_CAPACITY: Final = 512
DEFAULT_MAX_BYTES: Final = 2 * 1024 * 1024
_SEQ_MASK: Final = 0xFFFF
# A sequence number this far from the expected one (or twice the capacity, if
# more) is no reordering: the sender started over (a new random start, spec 2.3.1).
_RESTART_DISTANCE: Final = 4096


@dataclass(slots=True)
class JitterStats:
    """Counters of one jitter buffer."""

    packets: int = 0
    # Packets that arrived ahead of a missing one (held, then released in order).
    held: int = 0
    # Packets behind the released sequence (their place was given up), dropped.
    late: int = 0
    duplicates: int = 0
    # Sequence numbers given up as lost.
    skipped: int = 0
    # Gaps given up early because the buffer was full.
    overflows: int = 0
    # Jumps too far to be reordering (a restarted sender): the buffer started over.
    resyncs: int = 0


class JitterBuffer:
    """Reorders the datagrams of one RTP stream by sequence number."""

    def __init__(
        self,
        *,
        delay: float = DEFAULT_DELAY,
        capacity: int = DEFAULT_CAPACITY,
        max_bytes: int = DEFAULT_MAX_BYTES,
        stats: JitterStats | None = None,
    ) -> None:
        if delay < 0 or capacity < 1 or max_bytes < 1:
            raise ValueError("jitter buffer delay, capacity and max_bytes must be positive")
        self.delay = delay
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.stats = stats if stats is not None else JitterStats()
        self._expected: int | None = None
        # Sequence number -> (datagram, arrival time), all ahead of _expected.
        self._held: dict[int, tuple[bytes, float]] = {}
        self._held_bytes = 0
        # Arrival of the oldest held packet (kept, not searched for at every packet).
        self._oldest: float | None = None

    @property
    def deadline(self) -> float | None:
        """When the oldest held packet has waited ``delay``; None when nothing is held."""
        return None if self._oldest is None else self._oldest + self.delay

    @property
    def held(self) -> int:
        """How many packets wait behind a gap."""
        return len(self._held)

    def reset(self) -> list[bytes]:
        """Release what is held, in order, and start over (a new stream)."""
        released = self._drain()
        self._expected = None
        return released

    def push(self, sequence: int, datagram: bytes, now: float) -> list[bytes]:
        """Take one datagram; return those now in order (often just this one)."""
        stats = self.stats
        stats.packets += 1
        sequence &= _SEQ_MASK
        if self._expected is None:
            self._expected = sequence
        delta = sequence_delta(sequence, self._expected)
        released: list[bytes] = []
        if abs(delta) >= max(_RESTART_DISTANCE, 2 * self.capacity):
            # Far outside any reordering window: the sender started over.
            stats.resyncs += 1
            released = self._drain()
            self._expected = sequence
            delta = 0
        elif delta < 0:
            stats.late += 1
            return []
        if sequence in self._held:
            stats.duplicates += 1
            return released
        if delta > 0:
            stats.held += 1
        self._held[sequence] = (datagram, now)
        self._held_bytes += len(datagram)
        if self._oldest is None:
            self._oldest = now
        released += self._release_run()
        while len(self._held) > self.capacity or self._held_bytes > self.max_bytes:
            stats.overflows += 1
            released += self._skip_gap()
        return released

    def due(self, now: float) -> list[bytes]:
        """Give up the gaps that waited ``delay``; return what that released, in order."""
        released: list[bytes] = []
        while (deadline := self.deadline) is not None and now >= deadline:
            released += self._skip_gap()
        return released

    # -- internals -------------------------------------------------------------------

    def _release_run(self) -> list[bytes]:
        """Release the held packets that follow on from the expected sequence number."""
        released: list[bytes] = []
        held = self._held
        expected = self._expected
        while expected in held:
            datagram, _ = held.pop(expected)
            self._held_bytes -= len(datagram)
            released.append(datagram)
            expected = (expected + 1) & _SEQ_MASK
        self._expected = expected
        if released:
            self._oldest = min((at for _, at in held.values()), default=None)
        return released

    def _skip_gap(self) -> list[bytes]:
        """Give up the missing packets before the first held one; release from there."""
        expected = self._expected
        if not self._held or expected is None:
            return []
        first = min(self._held, key=lambda sequence: sequence_delta(sequence, expected))
        self.stats.skipped += sequence_delta(first, expected)
        self._expected = first
        return self._release_run()

    def _drain(self) -> list[bytes]:
        released: list[bytes] = []
        while self._held:
            released += self._skip_gap()
        return released


__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_DELAY",
    "DEFAULT_MAX_BYTES",
    "JitterBuffer",
    "JitterStats",
]
