"""What is wrong with the recorder right now, derived from its status and logs.

Shared by the "problem" binary sensor and the repairs so that both always
agree on what counts as a problem.
"""

from __future__ import annotations

from collections.abc import Iterable
import re

from custom_components.ipro_nvr.api import CameraStatus, ChannelState, LogEntry
from custom_components.ipro_nvr.api.log_events import LogEventType, classify_log_text

_DISK_NAME = re.compile(r"\b(MAIN-\d|EXT\d-\d|HDD\s*\d+)\b", re.IGNORECASE)


def channels_in_error(status: CameraStatus) -> list[int]:
    """Registered channels whose camera the recorder cannot reach."""
    return sorted(ch for ch, st in status.channels.items() if st is ChannelState.CONNECTION_ERROR)


def disk_name(text: str) -> str:
    """Name of the disk a log text is about (``"disk"`` when it names none)."""
    match = _DISK_NAME.search(text)
    return re.sub(r"\s+", " ", match.group(1).upper()) if match else "disk"


def active_disk_errors(error_log: Iterable[LogEntry]) -> dict[str, LogEntry]:
    """Disks whose latest error-log entry is an error, not a recovery."""
    latest: dict[str, LogEntry] = {}
    for entry in sorted(error_log, key=lambda e: e.time):
        text = entry.text.upper()
        if classify_log_text(entry.text).type is LogEventType.DISK_ERROR:
            latest[disk_name(entry.text)] = entry
        elif ("HDD" in text or "DISK" in text) and ("RECOVER" in text or "NORMAL" in text):
            latest.pop(disk_name(entry.text), None)
    return latest
