"""What a live stream says about its pictures (spec 7.1): times and frame rate.

Every live picture carries recorder-information TLVs: the recorder's time
(0x0007 with 0x000A), the camera's own time (0x0011 with 0x0012, spec 7.1.1
marks it for live video) and, from some recorders, the frame rate (0x0009).
:class:`PictureInfo` keeps the latest of them with the moment the picture
arrived, so a caller can compare both clocks with its own.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt

from .media import JpegFrame, RecorderInfo


@dataclass(frozen=True, slots=True)
class PictureInfo:
    """The latest live picture's times and frame rate, and when it arrived (UTC)."""

    received: dt.datetime
    recorder_time: dt.datetime | None = None
    camera_time: dt.datetime | None = None
    frame_rate: float | None = None
    # The recorder's zone as the TIME TLV gives it (standard offset, summer flag).
    utc_offset: dt.timedelta | None = None
    summer_time: bool | None = None

    @property
    def recorder_clock_offset(self) -> dt.timedelta | None:
        """How far ahead of the receiver's clock the recorder's is (network delay included)."""
        return None if self.recorder_time is None else self.recorder_time - self.received

    @property
    def camera_clock_offset(self) -> dt.timedelta | None:
        """How far ahead of the receiver's clock the camera's is (network delay included)."""
        return None if self.camera_time is None else self.camera_time - self.received

    @property
    def recorder_local_time(self) -> dt.datetime | None:
        """The recorder's time in its own zone (summer time included), when both are known."""
        if self.recorder_time is None or self.utc_offset is None:
            return None
        offset = self.utc_offset + (dt.timedelta(hours=1) if self.summer_time else dt.timedelta())
        return self.recorder_time.astimezone(dt.timezone(offset))


def picture_info(
    info: RecorderInfo | None,
    received: dt.datetime,
    *,
    camera_info: RecorderInfo | None = None,
    previous: PictureInfo | None = None,
) -> PictureInfo | None:
    """The :class:`PictureInfo` of a picture whose TLVs said ``info`` (and ``camera_info``).

    A picture without TLVs gives None; a frame rate the picture does not
    repeat is taken from ``previous`` (some recorders send it only now and then).
    """
    camera_time = camera_info.camera_time if camera_info is not None else None
    if info is None and camera_time is None:
        return None
    if info is not None and camera_time is None:
        camera_time = info.camera_time
    rate = info.frame_rate if info is not None else None
    if rate is None and previous is not None:
        rate = previous.frame_rate
    return PictureInfo(
        received=received,
        recorder_time=info.time if info is not None else None,
        camera_time=camera_time,
        frame_rate=rate,
        utc_offset=info.utc_offset if info is not None else None,
        summer_time=info.summer_time if info is not None else None,
    )


def jpeg_picture_info(
    frame: JpegFrame, received: dt.datetime, previous: PictureInfo | None = None
) -> PictureInfo | None:
    """:func:`picture_info` of a live JPEG picture (recorder block, then camera block)."""
    return picture_info(frame.info, received, camera_info=frame.camera_info, previous=previous)
