"""What is wrong with the recorder right now, derived from its status and logs.

Shared by the "problem" binary sensor and the repairs so that both always
agree on what counts as a problem. What a log entry means comes from the
client (:attr:`LogEntry.meaning`); this module only keeps the latest word per disk.
"""

from __future__ import annotations

from collections.abc import Iterable

from custom_components.ipro_nvr.api import CameraStatus, ChannelState, LogEntry


def channels_in_error(status: CameraStatus) -> list[int]:
    """Registered channels whose camera the recorder cannot reach."""
    return sorted(ch for ch, st in status.channels.items() if st is ChannelState.CONNECTION_ERROR)


def active_disk_errors(error_log: Iterable[LogEntry]) -> dict[str, LogEntry]:
    """Disks whose latest error-log entry is an error, not a recovery."""
    latest: dict[str, LogEntry] = {}
    for entry in sorted(error_log, key=lambda e: e.time):
        meaning = entry.meaning
        if meaning.disk is None:
            continue
        if meaning.recovered:
            latest.pop(meaning.disk, None)
        else:
            latest[meaning.disk] = entry
    return latest
