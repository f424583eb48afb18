"""What the recorder reports, as typed, immutable values.

The parsers in :mod:`.parsers` build these from the CGI text answers; nothing
here knows about HTTP or text formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from .log_events import LogEventMeaning, classify_log_text


@dataclass(frozen=True, slots=True)
class Uid:
    """A UID issued by the recorder.

    It is a live credential for anyone on the network, so its text form is
    masked: logging a ``Uid`` by mistake shows ``UID…42``; only :attr:`value`
    (used to build request URLs) holds the digits.
    """

    value: str

    def __repr__(self) -> str:
        return f"Uid({self.masked})"

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        """The last two digits, enough to tell UIDs apart in a log."""
        return f"UID…{self.value[-2:]}"


class ChannelState(IntEnum):
    """A camera channel's connection state (``CAM_CONNECT_xxCH``, spec 5.3.1)."""

    NOT_REGISTERED = 0
    NORMAL = 1
    CONNECTION_ERROR = 2


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """Answer of ``as_getinfo.cgi?FILE=2``: every channel's state and the UID counts.

    ``channels`` holds every channel the recorder listed (how many depends on
    the model). ``max_uid``/``used_uid`` are None when the recorder left them out.
    """

    channels: Mapping[int, ChannelState]
    max_uid: int | None
    used_uid: int | None

    @property
    def registered(self) -> tuple[int, ...]:
        """Channels with a camera registered, connected or not, in ascending order."""
        return tuple(
            sorted(ch for ch, st in self.channels.items() if st is not ChannelState.NOT_REGISTERED)
        )

    @property
    def connected(self) -> tuple[int, ...]:
        """Channels whose camera is registered and connected normally, ascending."""
        return tuple(sorted(ch for ch, st in self.channels.items() if st is ChannelState.NORMAL))

    @property
    def channel_count(self) -> int:
        """How many channels the recorder reports: the width of a playback MASK."""
        return max(self.channels, default=0)


@dataclass(frozen=True, slots=True)
class Disk:
    """One disk slot of ``recordedtime.cgi`` (spec 5.2.1).

    An empty slot has no capacity; a disk without recordings has no times.
    ``flags`` keeps markers printed after the capacity (``4001GB(R)`` gives
    ``("R",)``); the spec does not say what they mean.
    """

    slot: str
    capacity_gb: int | None
    remaining_gb: int | None
    flags: tuple[str, ...]
    oldest: datetime | None
    newest: datetime | None

    @property
    def present(self) -> bool:
        """Whether a disk sits in this slot."""
        return self.capacity_gb is not None

    @property
    def used_percent(self) -> float | None:
        """Share of the capacity in use, 0-100; None when unknown."""
        if not self.capacity_gb or self.remaining_gb is None:
            return None
        used = self.capacity_gb - min(self.remaining_gb, self.capacity_gb)
        return 100.0 * used / self.capacity_gb

    @property
    def has_recordings(self) -> bool:
        """Whether the disk holds any recording."""
        return self.oldest is not None or self.newest is not None


@dataclass(frozen=True, slots=True)
class RecordedTime:
    """Every disk slot the recorder listed, in its order."""

    disks: tuple[Disk, ...]

    @property
    def present(self) -> tuple[Disk, ...]:
        """The slots that hold a disk."""
        return tuple(disk for disk in self.disks if disk.present)

    @property
    def total_capacity_gb(self) -> int:
        """Sum of the capacities of every disk present."""
        return sum(disk.capacity_gb or 0 for disk in self.disks)

    @property
    def total_remaining_gb(self) -> int:
        """Sum of the remaining capacity of every disk present."""
        return sum(disk.remaining_gb or 0 for disk in self.disks if disk.present)

    @property
    def oldest(self) -> datetime | None:
        """The oldest recording on any disk."""
        return min((d.oldest for d in self.disks if d.oldest is not None), default=None)

    @property
    def newest(self) -> datetime | None:
        """The newest recording on any disk."""
        return max((d.newest for d in self.disks if d.newest is not None), default=None)


class LogKind(StrEnum):
    """The two log lists of ``loglist.cgi`` (spec 5.1)."""

    ERROR = "error"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line.

    ``time`` is aware: the recorder's wall-clock reading with the offset in
    force (standard offset, plus one hour in summer time). ``utc_offset`` is the
    zone's standard offset as printed (``GMT+09:00``). ``number`` is the entry's
    position in the list when it was read: the recorder renumbers entries as
    new ones arrive, so it identifies nothing; :attr:`content_key` does.
    """

    kind: LogKind
    number: int
    time: datetime
    summer_time: bool
    text: str
    utc_offset: timedelta

    @property
    def content_key(self) -> str:
        """A stable identity of the entry across polls: its time, zone and text.

        Two genuinely identical entries (same second, same text) share a key;
        callers that must tell them apart count keys (a multiset).
        """
        minutes = int(self.utc_offset.total_seconds() // 60)
        return f"{self.time.isoformat()}|{minutes:+d}|{self.text}"

    @property
    def meaning(self) -> LogEventMeaning:
        """What the entry's text says: type, camera, disk, recovered or not."""
        return classify_log_text(self.text)


@dataclass(frozen=True, slots=True)
class LogList:
    """One log list: the count the recorder declared and the entries, oldest first."""

    kind: LogKind
    declared_count: int
    entries: tuple[LogEntry, ...]

    @property
    def latest(self) -> LogEntry | None:
        """The most recent entry, if any."""
        return self.entries[-1] if self.entries else None
