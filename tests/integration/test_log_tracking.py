"""New-entry detection across polls and the meaning of log texts (no network)."""

from __future__ import annotations

from collections import Counter
import datetime as dt
import random

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api import LogEntry, LogKind
from custom_components.ipro_nvr.api.log_events import LogEventType, classify_log_text
from custom_components.ipro_nvr.poll.log_tracker import LogTracker, entry_key
from custom_components.ipro_nvr.poll.problems import active_disk_errors

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
    """Earlier versions stored the content itself ("<time>|<text>"), repeated per copy."""
    old_format = ["2024-04-24T12:01:00+09:00|A", "2024-04-24T12:01:00+09:00|A"]
    tracker = LogTracker.from_keys(old_format)
    assert tracker.update([_entry(1, "A"), _entry(1, "A")]) == []
    assert len(tracker.update([_entry(1, "A")] * 3)) == 1
    assert tracker.keys() == [entry_key(_entry(1, "A"))] * 3
    assert len(entry_key(_entry(1, "A"))) == 16


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


@st.composite
def recorder_histories(draw: st.DrawFn) -> list[tuple[str, object]]:
    """A recorder's life as steps: entries written, polls seeing some of the log, restarts."""
    steps: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 25))):
        step = draw(st.sampled_from(["write", "write", "poll", "poll", "restart"]))
        if step == "write":
            steps.append(("write", draw(st.lists(st.sampled_from("ABC"), min_size=1, max_size=4))))
        elif step == "poll":
            # Whole, cut at either end, any subset (a list cut short), any order.
            how = draw(st.sampled_from(["whole", "head", "tail", "subset"]))
            steps.append(("poll", (how, draw(st.randoms(use_true_random=False)))))
        else:
            steps.append(("restart", None))
    return steps


@settings(max_examples=60, deadline=None)
@given(recorder_histories(), st.integers(3, 12))
def test_every_entry_fires_once_whatever_the_polls_show(
    steps: list[tuple[str, object]], capacity: int
) -> None:
    """Over any mix of writes, partial or reordered polls and restarts, an entry written
    after the first poll fires exactly once if some poll listed it, never otherwise."""
    log: list[LogEntry] = []
    second = 0
    tracker = LogTracker.from_keys(None)
    fired: Counter[str] = Counter()
    most_listed: Counter[str] = Counter()
    baseline: Counter[str] | None = None
    for kind, value in steps:
        if kind == "write":
            assert isinstance(value, list)
            for text in value:
                second += 1
                log.append(_at(second, text))
                # Sometimes a second identical entry in the same second.
                if text == "C" and (len(log) < 2 or log[-2].time != log[-1].time):
                    log.append(_at(second, text))
            del log[: max(0, len(log) - capacity)]  # the recorder's cap, oldest dropped
        elif kind == "poll":
            assert isinstance(value, tuple)
            view = _view(log, *value)
            listed = Counter(entry_key(e) for e in view)
            if baseline is None:
                baseline = listed
            for key, copies in listed.items():
                most_listed[key] = max(most_listed[key], copies)
            fired.update(entry_key(e) for e in tracker.update(view))
        else:
            tracker = LogTracker.from_keys(None if baseline is None else tracker.keys())
    expected = most_listed - (baseline or Counter())
    assert fired == expected


def _at(second: int, text: str) -> LogEntry:
    return LogEntry(
        kind=LogKind.EVENT,
        number=0,
        time=dt.datetime(2024, 4, 24, tzinfo=JST) + dt.timedelta(seconds=second),
        summer_time=False,
        text=text,
        utc_offset=dt.timedelta(hours=9),
    )


def _view(log: list[LogEntry], how: str, rng: random.Random) -> list[LogEntry]:
    if how == "head":
        view = log[: rng.randint(0, len(log))]
    elif how == "tail":
        view = log[rng.randint(0, len(log)) :]
    elif how == "subset":
        view = [entry for entry in log if rng.random() < 0.5]
    else:
        view = list(log)
    rng.shuffle(view)
    return view
