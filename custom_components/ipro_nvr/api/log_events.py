"""Meaning of recorder log texts: which camera, and what kind of event.

The spec leaves the log texts to the product manuals. The forms below are the
ones i-PRO recorders write (``SITE(VMD)-2``: motion detected by camera 2;
``CAM 3 COMMUNICATION ERROR``); anything else is kept as ``other`` with its raw
text, so an unknown message is never lost, only less specific.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re

_SOURCE_EVENT = re.compile(
    r"^\s*(?P<source>[A-Z]+)\s*\(\s*(?P<what>[A-Z ]+?)\s*\)\s*-\s*(?P<num>\d{1,3})\s*$"
)
_CAM_TEXT = re.compile(r"^\s*CAM(?:ERA)?\s*(?P<num>\d{1,3})\b\s*(?P<rest>.*)$", re.IGNORECASE)
_DISK_TEXT = re.compile(r"\b(?:HDD|DISK|MAIN-\d|EXT\d-\d)\b", re.IGNORECASE)


class LogEventType(StrEnum):
    """Kinds of log entries an automation can tell apart."""

    MOTION = "motion"
    ALARM = "alarm"
    TERMINAL_ALARM = "terminal_alarm"
    COMMAND_ALARM = "command_alarm"
    COMMUNICATION_ERROR = "communication_error"
    COMMUNICATION_RECOVERED = "communication_recovered"
    DISK_ERROR = "disk_error"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class LogEventMeaning:
    """What a log text says: its type and, when it names one, the camera channel."""

    type: LogEventType
    channel: int | None


def classify_log_text(text: str) -> LogEventMeaning:  # noqa: PLR0911 - one return per kind
    """Return the type and camera channel a recorder log text refers to."""
    if match := _SOURCE_EVENT.match(text):
        source, what, num = match["source"], match["what"].replace(" ", ""), int(match["num"])
        if source == "TRM":
            # Alarm input terminals on the recorder's back: not a camera.
            return LogEventMeaning(LogEventType.TERMINAL_ALARM, None)
        if source == "COM":
            return LogEventMeaning(LogEventType.COMMAND_ALARM, None)
        if what == "VMD":
            return LogEventMeaning(LogEventType.MOTION, num)
        if what == "ALARM":
            return LogEventMeaning(LogEventType.ALARM, num)
        return LogEventMeaning(LogEventType.OTHER, num)
    if match := _CAM_TEXT.match(text):
        rest = match["rest"].upper()
        channel = int(match["num"])
        if "RECOVER" in rest:
            return LogEventMeaning(LogEventType.COMMUNICATION_RECOVERED, channel)
        if "COMMUNICATION" in rest or "ERROR" in rest:
            return LogEventMeaning(LogEventType.COMMUNICATION_ERROR, channel)
        return LogEventMeaning(LogEventType.OTHER, channel)
    if _DISK_TEXT.search(text) and "ERROR" in text.upper():
        return LogEventMeaning(LogEventType.DISK_ERROR, None)
    return LogEventMeaning(LogEventType.OTHER, None)
