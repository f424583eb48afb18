"""New-entry detection across polls and the meaning of log texts (no network)."""

from __future__ import annotations

import datetime as dt

import pytest

from custom_components.ipro_nvr.api import LogEntry, LogKind
from custom_components.ipro_nvr.api.log_events import LogEventType, classify_log_text
from custom_components.ipro_nvr.log_tracker import LogTracker
from custom_components.ipro_nvr.problems import active_disk_errors

JST = dt.timezone(dt.timedelta(hours=9))


def _entry(minute: int, text: str, number: int = 1) -> LogEntry:
    return LogEntry(
        kind=LogKind.EVENT,
        number=number,
        time=dt.datetime(2024, 4, 24, 12, minute, tzinfo=JST),
        summer_time=False,
        text=text,
        utc_offset=dt.timedelta(hours=9),
    )


def test_first_poll_replays_nothing_then_reports_only_new() -> None:
    """History present at the first poll is not replayed; later arrivals are, in time order."""
    tracker = LogTracker.from_keys(None)
    assert tracker.update([_entry(1, "SITE(VMD)-1"), _entry(2, "SITE(VMD)-2")]) == []
    # Renumbered list, newest first, with two new entries.
    new = tracker.update(
        [
            _entry(4, "SITE(VMD)-3", 1),
            _entry(3, "SITE(VMD)-1", 2),
            _entry(2, "SITE(VMD)-2", 3),
            _entry(1, "SITE(VMD)-1", 4),
        ]
    )
    assert [e.text for e in new] == ["SITE(VMD)-1", "SITE(VMD)-3"]
    assert [e.time.minute for e in new] == [3, 4]


def test_identical_entries_in_one_second_are_each_reported() -> None:
    """Two identical entries at the same time count twice, not once."""
    tracker = LogTracker.from_keys(None)
    tracker.update([_entry(1, "SITE(VMD)-1")])
    new = tracker.update([_entry(1, "SITE(VMD)-1"), _entry(1, "SITE(VMD)-1")])
    assert len(new) == 1


def test_persisted_position_survives_restart() -> None:
    """A tracker restored from its keys reports only what came after."""
    tracker = LogTracker.from_keys(None)
    tracker.update([_entry(1, "A")])
    restored = LogTracker.from_keys(tracker.keys())
    assert [e.text for e in restored.update([_entry(1, "A"), _entry(2, "B")])] == ["B"]


def test_capped_list_dropping_old_entries_reports_no_ghosts() -> None:
    """When the oldest entries fall off the 1000-entry list nothing is reported for them."""
    tracker = LogTracker.from_keys(None)
    tracker.update([_entry(m, f"E{m}") for m in range(10)])
    new = tracker.update([_entry(m, f"E{m}") for m in range(3, 12)])
    assert [e.text for e in new] == ["E10", "E11"]


def test_a_short_list_does_not_make_the_missing_entries_new_later() -> None:
    """A list that came back cut (the newest 3 of 40) then whole: only the real arrival fires."""
    tracker = LogTracker.from_keys(None)
    history = [_entry(m, f"E{m}") for m in range(40)]
    tracker.update(history)
    assert tracker.update(history[-3:]) == []
    new = tracker.update([*history, _entry(45, "NEW")])
    assert [e.text for e in new] == ["NEW"]
    # The same through a restart: the memory is persisted, not only the last poll.
    tracker.update(history[:5])
    restored = LogTracker.from_keys(tracker.keys())
    assert restored.update([*history, _entry(45, "NEW")]) == []


def test_memory_is_bounded_oldest_sighting_first() -> None:
    """Beyond its capacity the tracker forgets what it saw first, never what is listed now."""
    tracker = LogTracker.from_keys(None, capacity=10)
    for start in (0, 4, 8):
        tracker.update([_entry(m, f"E{m}") for m in range(start, start + 4)])
    keys = tracker.keys()
    assert len(keys) == 10
    assert not any(k.endswith(("|E0", "|E1")) for k in keys)
    # A list longer than the capacity is remembered whole.
    long_list = [_entry(m, f"L{m}") for m in range(30)]
    tracker.update(long_list)
    assert tracker.update(long_list) == []


def test_keys_persisted_by_earlier_versions_are_read() -> None:
    """The stored form (keys of the last poll, repeated per copy) is unchanged."""
    old_format = ["2024-04-24T12:01:00+09:00|A", "2024-04-24T12:01:00+09:00|A"]
    tracker = LogTracker.from_keys(old_format)
    assert tracker.update([_entry(1, "A"), _entry(1, "A")]) == []
    assert len(tracker.update([_entry(1, "A")] * 3)) == 1
    assert tracker.keys() == [old_format[0]] * 3


@pytest.mark.parametrize(
    ("text", "kind", "channel"),
    [
        ("SITE(VMD)-2", LogEventType.MOTION, 2),
        ("SITE(ALARM)-12", LogEventType.ALARM, 12),
        ("TRM(ALARM)-1", LogEventType.TERMINAL_ALARM, None),
        ("COM(ALARM)-5", LogEventType.COMMAND_ALARM, None),
        ("CAM 3 COMMUNICATION ERROR", LogEventType.COMMUNICATION_ERROR, 3),
        ("CAM 3 COMMUNICATION RECOVERED", LogEventType.COMMUNICATION_RECOVERED, 3),
        ("MAIN-2 HDD ERROR", LogEventType.DISK_ERROR, None),
        ("POWER ON", LogEventType.OTHER, None),
        ("", LogEventType.OTHER, None),
    ],
)
def test_classify_log_text(text: str, kind: LogEventType, channel: int | None) -> None:
    """Known texts map to their type and camera; unknown ones are kept as other."""
    meaning = classify_log_text(text)
    assert (meaning.type, meaning.channel) == (kind, channel)


def test_disk_error_clears_on_recovery() -> None:
    """A disk is in error until a later entry says it recovered."""
    log = [_entry(1, "MAIN-2 HDD ERROR"), _entry(2, "MAIN-3 HDD ERROR")]
    assert sorted(active_disk_errors(log)) == ["MAIN-2", "MAIN-3"]
    log.append(_entry(3, "MAIN-2 HDD RECOVERED"))
    assert sorted(active_disk_errors(log)) == ["MAIN-3"]
