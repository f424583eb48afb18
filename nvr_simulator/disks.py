"""Disk slots as ``recordedtime.cgi`` reports them (spec 5.2.1)."""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt

# Every slot the recorder lists, in its order: MAIN-1..9, then EXT1-1..EXT5-9.
SLOT_NAMES: tuple[str, ...] = tuple(f"MAIN-{n}" for n in range(1, 10)) + tuple(
    f"EXT{unit}-{n}" for unit in range(1, 6) for n in range(1, 10)
)


@dataclass(slots=True)
class DiskSlot:
    """One disk slot; tests may change any field of a running simulator's disks.

    ``capacity_gb`` None means an empty slot. ``oldest`` None means a disk without
    recordings. ``recording`` True makes the newest time follow the wall clock
    (the recorder is writing to this disk now); otherwise ``newest`` is used.
    """

    name: str
    capacity_gb: int | None = None
    remain_gb: int | None = None
    # Printed right after the capacity, e.g. "(R)"; the spec does not say what
    # it means, only that it is there.
    flag: str = ""
    oldest: dt.datetime | None = None
    newest: dt.datetime | None = None
    recording: bool = False


def default_disks(now: dt.datetime) -> list[DiskSlot]:
    """Return a realistic set of slots for a recorder whose clock reads ``now`` (UTC).

    MAIN-1 is recording now (flagged ``(R)``); MAIN-2 is full with older
    recordings; MAIN-3 started recording a few days ago and still does;
    MAIN-4 is installed but holds no recording; every other slot is empty.
    """
    now = now.replace(microsecond=0)
    disks = {name: DiskSlot(name) for name in SLOT_NAMES}
    disks["MAIN-1"] = DiskSlot(
        "MAIN-1",
        capacity_gb=4001,
        remain_gb=1529,
        flag="(R)",
        oldest=now - dt.timedelta(days=40, hours=2, minutes=30),
        recording=True,
    )
    disks["MAIN-2"] = DiskSlot(
        "MAIN-2",
        capacity_gb=4001,
        remain_gb=12,
        oldest=now - dt.timedelta(days=95, hours=7),
        newest=now - dt.timedelta(days=40, hours=2, minutes=31, seconds=4),
    )
    disks["MAIN-3"] = DiskSlot(
        "MAIN-3",
        capacity_gb=2000,
        remain_gb=1811,
        oldest=now - dt.timedelta(days=3, hours=5, minutes=12),
        recording=True,
    )
    disks["MAIN-4"] = DiskSlot("MAIN-4", capacity_gb=4001, remain_gb=3710)
    return list(disks.values())
