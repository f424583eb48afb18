"""Parser of ``as_getinfo.cgi?FILE=2``: camera connection states and UID counts (spec 5.3.1).

The answer is ``KEY=value`` lines, normally framed by ``<HTML>``/``</HTML>``::

    CAM_CONNECT_01CH=1
    ...
    CAM_CONNECT_128CH=0
    MAXUID=16
    USEDUID=1

Tolerated: missing frame, CRLF or LF, blank lines, spaces around keys and
values, keys we do not know (a newer firmware may add some), any channel
count. Refused: values that are not the numbers the spec allows, an answer
with none of the keys we need, and an answer that opens its ``<HTML>`` frame
but never closes it: it was cut short, and the cameras it does not list would
be taken for unregistered (their devices removed).
"""

from __future__ import annotations

import re
from types import MappingProxyType

from ..errors import MalformedResponseError
from ..models import CameraStatus, ChannelState
from .text import decode_text, is_tag_line, split_lines

_WHAT = "camera connection info"
# Two digits below 100 (01..99), then 100..128; be lenient on the width.
_CHANNEL_KEY = re.compile(r"^CAM_CONNECT_(\d{1,3})CH$", re.ASCII)
_NUMBER = re.compile(r"^\d{1,6}$", re.ASCII)
_STATES = frozenset(state.value for state in ChannelState)


def parse_camera_status(body: bytes) -> CameraStatus:
    """Return the camera states and UID counts in ``body``."""
    text = decode_text(body, _WHAT)
    channels: dict[int, ChannelState] = {}
    counts: dict[str, int] = {}
    # The frame of spec 5.3.1's example: whether its open and close tags were seen.
    opened = closed = False
    for raw_line in split_lines(text):
        line = raw_line.strip()
        if not line:
            continue
        if is_tag_line(line):
            if line[1:].lstrip().startswith("/"):
                closed = True
            else:
                opened = True
            continue
        key, sep, value = line.partition("=")
        if not sep:
            # A stray line without '=' carries no information we use.
            continue
        key, value = key.strip().upper(), value.strip()
        if match := _CHANNEL_KEY.match(key):
            channel = int(match[1])
            if channel < 1:
                raise MalformedResponseError(f"{_WHAT}: channel {channel}", body=body)
            channels[channel] = _state(value, body)
        elif key in ("MAXUID", "USEDUID"):
            counts[key] = _count(key, value, body)
    if opened and not closed:
        raise MalformedResponseError(f"{_WHAT}: cut short (no closing tag)", body=body)
    if not channels and not counts:
        raise MalformedResponseError(f"{_WHAT}: no CAM_CONNECT, MAXUID or USEDUID", body=body)
    return CameraStatus(
        channels=MappingProxyType(dict(sorted(channels.items()))),
        max_uid=counts.get("MAXUID"),
        used_uid=counts.get("USEDUID"),
    )


def _state(value: str, body: bytes) -> ChannelState:
    if not _NUMBER.match(value) or int(value) not in _STATES:
        raise MalformedResponseError(f"{_WHAT}: camera state {value!r}", body=body)
    return ChannelState(int(value))


def _count(key: str, value: str, body: bytes) -> int:
    if not _NUMBER.match(value):
        raise MalformedResponseError(f"{_WHAT}: {key}={value!r}", body=body)
    return int(value)
