"""The last good JPEG of each camera of one recorder, outliving the feeds that fetched it.

A :class:`~.jpeg.JpegFeed` keeps its latest picture while it lives; a client
closing (a config entry reloading after an option or entity change) drops its
feeds, and the next client's feeds would have nothing to show until their
first ``push.cgi`` START, queued behind the paced setup commands (3 s each,
spec 1.3). Given one :class:`LastPictures` per recorder, every feed writes its
pictures into it and a new feed serves the last one, with its true age, while
a fresh one is on its way.

Memory is bounded: one picture per channel, at most :data:`MAX_BYTES` in all
(the oldest go first), and a picture older than :data:`MAX_AGE` is not served.
"""

from __future__ import annotations

from typing import Final

# Pictures kept per recorder, in bytes (a few dozen cameras' worth of pictures).
MAX_BYTES: Final = 16 * 1024 * 1024
# A picture older than this (seconds) is not served any more: it would show a
# scene long gone. A reload takes seconds; a restart starts empty anyway.
MAX_AGE: Final = 300.0


class LastPictures:
    """The last good picture of each channel and when it arrived (on the caller's clock)."""

    def __init__(self, *, max_bytes: int = MAX_BYTES, max_age: float = MAX_AGE) -> None:
        """Keep at most ``max_bytes`` of pictures, serve none older than ``max_age`` s."""
        self._max_bytes = max_bytes
        self._max_age = max_age
        self._pictures: dict[int, tuple[bytes, float]] = {}
        self._bytes = 0

    @property
    def size(self) -> int:
        """Bytes of pictures held."""
        return self._bytes

    def keep(self, channel: int, data: bytes, at: float) -> None:
        """Remember ``data`` as ``channel``'s last good picture, arrived at ``at``."""
        self._drop(channel)
        self._pictures[channel] = (data, at)
        self._bytes += len(data)
        # Oldest first; the picture just kept stays even if it alone is too large.
        while self._bytes > self._max_bytes and len(self._pictures) > 1:
            oldest = min(
                (other for other in self._pictures if other != channel),
                key=lambda other: self._pictures[other][1],
            )
            self._drop(oldest)

    def get(self, channel: int, now: float) -> tuple[bytes, float] | None:
        """``channel``'s last picture and when it arrived, unless older than the bound."""
        kept = self._pictures.get(channel)
        if kept is None or now - kept[1] > self._max_age:
            return None
        return kept

    def clear(self) -> None:
        """Drop every picture (the recorder's entry is removed)."""
        self._pictures.clear()
        self._bytes = 0

    def _drop(self, channel: int) -> None:
        kept = self._pictures.pop(channel, None)
        if kept is not None:
            self._bytes -= len(kept[0])
