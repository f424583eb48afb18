"""Figures for the poll path: parsing a full log list and finding new entries.

Run: .venv/bin/python -m benchmarks.poll_path
Prints the time to parse a 1000-entry event log (the recorder's cap) and to
compare it with the previous poll, the work the log coordinator does every poll.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from custom_components.ipro_nvr.api.parsers.loglist import parse_log_list
from custom_components.ipro_nvr.poll.log_tracker import LogTracker
from nvr_simulator.logs import LogEntry as SimEntry
from nvr_simulator.texts import LogKind as SimKind, loglist_body

ENTRIES = 1000
ROUNDS = 50


def _body(first: int) -> bytes:
    """A full list holding entries ``first`` .. ``first + ENTRIES - 1`` of one history."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    entries = [
        SimEntry(
            start + dt.timedelta(seconds=7 * i), summer_time=False, text=f"SITE(VMD)-{i % 16 + 1}"
        )
        for i in range(first, first + ENTRIES)
    ]
    text = loglist_body(SimKind.EVENT, entries, utc_offset=dt.timedelta(hours=9), wrap_width=100)
    return text.encode()


def _timed(fn: object, *args: object) -> float:
    samples = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        fn(*args)  # type: ignore[operator]
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def main() -> None:
    """Print the figures."""
    first, second = _body(0), _body(10)  # second poll: ten new entries, ten dropped
    parse_ms = _timed(parse_log_list, first)
    old, new = parse_log_list(first).entries, parse_log_list(second).entries

    def track() -> None:
        tracker = LogTracker.from_keys(None)
        tracker.update(old)
        assert len(tracker.update(new)) == 10

    track_ms = _timed(track)
    print(f"body size                    {len(first) / 1024:.1f} KiB ({ENTRIES} entries)")
    print(f"parse 1000-entry log list    {parse_ms:.2f} ms (median of {ROUNDS})")
    print(f"new-entry detection, 2 polls {track_ms:.2f} ms (median of {ROUNDS})")


if __name__ == "__main__":
    main()
