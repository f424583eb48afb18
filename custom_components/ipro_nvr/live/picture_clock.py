"""The clocks a live stream reports (spec 7.1), as Home Assistant shows them.

Every live picture carries the recorder's time and the camera's own time
(:class:`~.api.PictureInfo`). The camera entity shows them with the frame rate,
diagnostics list them, and a camera whose clock is further than
:data:`CAMERA_CLOCK_TOLERANCE` from Home Assistant's raises a repair: its
time stamps (and whatever it decides by time, such as schedules) are wrong.
Only pictures received lately count; a camera that streams nothing keeps
whatever was found last.
"""

from __future__ import annotations

from collections.abc import Mapping
import datetime as dt
from typing import Any, Final

from custom_components.ipro_nvr.api import PictureInfo

# A camera clock this far from Home Assistant's raises a repair. Wide enough
# for network delay, buffering and a recorder that syncs its cameras hourly.
CAMERA_CLOCK_TOLERANCE: Final = dt.timedelta(minutes=2)
# Picture information older than this says nothing about the clocks now.
PICTURE_INFO_MAX_AGE: Final = dt.timedelta(minutes=5)

ATTR_RECORDER_TIME: Final = "recorder_time"
ATTR_CAMERA_TIME: Final = "camera_time"
ATTR_FRAME_RATE: Final = "frame_rate"
ATTR_CAMERA_CLOCK_OFFSET: Final = "camera_clock_offset_s"
# Times change with every picture: kept out of the recorder's history.
UNRECORDED_ATTRIBUTES: Final = frozenset({ATTR_RECORDER_TIME, ATTR_CAMERA_TIME})


def _seconds(offset: dt.timedelta | None) -> int | None:
    return None if offset is None else round(offset.total_seconds())


def picture_attributes(info: PictureInfo | None) -> dict[str, Any]:
    """The camera entity's attributes from its latest live picture (empty before one)."""
    if info is None:
        return {}
    recorder_time = info.recorder_local_time or info.recorder_time
    return {
        ATTR_RECORDER_TIME: recorder_time.isoformat() if recorder_time else None,
        ATTR_CAMERA_TIME: info.camera_time.isoformat() if info.camera_time else None,
        ATTR_FRAME_RATE: info.frame_rate,
        ATTR_CAMERA_CLOCK_OFFSET: _seconds(info.camera_clock_offset),
    }


def picture_diagnostics(info: PictureInfo) -> dict[str, Any]:
    """One channel's picture information for diagnostics."""
    return {
        "received": info.received.isoformat(),
        "recorder_time": info.recorder_time.isoformat() if info.recorder_time else None,
        "recorder_utc_offset_s": _seconds(info.utc_offset),
        "recorder_summer_time": info.summer_time,
        "camera_time": info.camera_time.isoformat() if info.camera_time else None,
        "frame_rate": info.frame_rate,
        "recorder_clock_offset_s": _seconds(info.recorder_clock_offset),
        "camera_clock_offset_s": _seconds(info.camera_clock_offset),
    }


def camera_clock_findings(
    infos: Mapping[int, PictureInfo | None], now: dt.datetime
) -> dict[int, dt.timedelta | None]:
    """Per channel with fresh camera time: its clock offset when too far, else None.

    Channels without a recent picture carrying the camera's time are left out:
    nothing is known about them now.
    """
    findings: dict[int, dt.timedelta | None] = {}
    for channel, info in infos.items():
        if info is None or now - info.received > PICTURE_INFO_MAX_AGE:
            continue
        offset = info.camera_clock_offset
        if offset is None:
            continue
        findings[channel] = offset if abs(offset) > CAMERA_CLOCK_TOLERANCE else None
    return findings
