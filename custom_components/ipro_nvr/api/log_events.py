"""Meaning of recorder log texts: what kind of event, which camera or disk, recovered or not.

The spec leaves the log texts to the product manuals (spec 5.1 gives only the
list format). The forms below are the ones i-PRO recorders write
(``SITE(VMD)-2``: motion detected by camera 2; ``CAM 3 COMMUNICATION ERROR``;
``MAIN-2 HDD ERROR``); anything else is kept as ``other`` with its raw text, so
an unknown message is never lost, only less specific. This module is the one
place that reads log texts: everything else takes :attr:`LogEntry.meaning
<.models.LogEntry.meaning>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
import re

# The words in the parentheses are separated by single runs of spaces, so no two
# quantifiers can share a blank: "[A-Z ]+?" next to "\s*" made a text such as
# "TRM(" and 2000 blanks cost 9 s of the event loop (cubic backtracking).
_SOURCE_EVENT = re.compile(
    r"^\s*(?P<source>[A-Z]+)\s*\(\s*(?P<what>[A-Z]+(?: +[A-Z]+)*)\s*\)\s*-\s*(?P<num>\d{1,3})\s*$"
)
_CAM_TEXT = re.compile(r"^\s*CAM(?:ERA)?\s*(?P<num>\d{1,3})\b\s*(?P<rest>.*)$", re.IGNORECASE)
_DISK_TEXT = re.compile(r"\b(?:HDD|DISK|MAIN-\d|EXT\d-\d)\b", re.IGNORECASE)
_DISK_NAME = re.compile(r"\b(MAIN-\d|EXT\d-\d|HDD\s*\d+)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


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
    """What a log text says.

    ``type`` and, when it names one, the camera ``channel``. ``disk`` names the
    disk of a disk error or of a disk's recovery (``"disk"`` when the text
    names none); ``recovered`` says the entry reports that something works
    again (a camera's communication, a disk).
    """

    type: LogEventType
    channel: int | None
    disk: str | None = None
    recovered: bool = False


# Log texts repeat (a camera's motion, over and over): each is read once.
@lru_cache(maxsize=4096)
def classify_log_text(text: str) -> LogEventMeaning:
    """Return what a recorder log text means: type, camera, disk, recovered or not."""
    meaning = _type_and_channel(text)
    if meaning.type is LogEventType.DISK_ERROR:
        return LogEventMeaning(meaning.type, meaning.channel, disk=_disk_name(text))
    upper = text.upper()
    if ("HDD" in upper or "DISK" in upper) and ("RECOVER" in upper or "NORMAL" in upper):
        return LogEventMeaning(meaning.type, meaning.channel, disk=_disk_name(text), recovered=True)
    if meaning.type is LogEventType.COMMUNICATION_RECOVERED:
        return LogEventMeaning(meaning.type, meaning.channel, recovered=True)
    return meaning


def _disk_name(text: str) -> str:
    """Name of the disk a log text is about (``"disk"`` when it names none)."""
    match = _DISK_NAME.search(text)
    return _SPACES.sub(" ", match.group(1).upper()) if match else "disk"


def _type_and_channel(text: str) -> LogEventMeaning:  # noqa: PLR0911 - one return per kind
    """The type and camera channel a recorder log text refers to."""
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
