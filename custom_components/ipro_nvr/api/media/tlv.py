"""Recorder-information TLVs (spec 7.1), found in RTP header extensions, JPEG
vendor blocks and playback containers.

Each TLV is ``u16 id, u16 length, data`` (big-endian), where ``length`` counts
the whole TLV including its 4-byte header. Unknown ids are skipped by their
length; a known id whose data is too short for its fields is ignored (and its id
listed in :attr:`RecorderInfo.ignored_ids`). Only structural damage (a length
below 4 or past the end) raises :class:`~.errors.MediaFormatError`. Zero bytes
after the last TLV are padding (a header extension is a whole number of 32-bit
words).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import datetime as dt
from operator import itemgetter
import struct
from typing import Final

from ..spec import (
    TLV_HEADER_SIZE,
    RecorderCodec,
    RecorderInfoId,
    RecorderStatus,
)
from .errors import MediaFormatError

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_HEADER = struct.Struct(">HH")
_TIME = struct.Struct(">IBBBB")
_STATUS = struct.Struct(">BB")
_TICK: Final = dt.timedelta(milliseconds=10)
_SUMMER_SHIFT: Final = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class RecorderInfo:
    """What the recorder-information TLVs of one picture (or chunk) say; None: absent.

    ``time`` is the recorder's time stamp as an aware UTC datetime, its 10 ms
    part (0x000A) included; ``utc_offset`` is the recorder's standard time zone
    and ``summer_time`` its summer-time flag, so the recorder's wall-clock time
    is :attr:`local_time`. ``codec`` is a :class:`RecorderCodec` when known, else
    the raw number. ``frame_rate`` is in images per second (the TLV holds ten times that).
    """

    channel: int | None = None
    codec: RecorderCodec | int | None = None
    data_size: int | None = None
    time: dt.datetime | None = None
    utc_offset: dt.timedelta | None = None
    summer_time: bool | None = None
    frame_count: int | None = None
    frame_rate: float | None = None
    image_present: bool | None = None
    status: RecorderStatus | int | None = None
    speed: int | None = None
    camera_time: dt.datetime | None = None
    start_code: bool | None = None
    long_term_reference_p: int | None = None
    idr_show: int | None = None
    # Ids not in spec 7.1.1, and known ids skipped because their data was too short.
    unknown_ids: tuple[int, ...] = ()
    ignored_ids: tuple[int, ...] = ()

    @property
    def local_time(self) -> dt.datetime | None:
        """``time`` in the recorder's zone (summer time included), when both are known."""
        if self.time is None or self.utc_offset is None:
            return None
        offset = self.utc_offset + (_SUMMER_SHIFT if self.summer_time else dt.timedelta(0))
        return self.time.astimezone(dt.timezone(offset))


def tlv_spans(data: bytes | bytearray | memoryview) -> list[tuple[int, int, int]]:
    """Return ``(id, start, end)`` of every TLV value in ``data``; raise on structural damage.

    The one place the TLV structure is checked: :func:`iter_tlvs` reads through
    it, and the live depacketizer calls it alone (through
    :class:`TlvStructureCheck`) to vouch for TLVs it decodes only when asked
    (:attr:`~.access_unit.AccessUnit.info`).
    """
    size = len(data)
    spans: list[tuple[int, int, int]] = []
    pos = 0
    while pos < size:
        tlv_id = length = 0
        if size - pos >= TLV_HEADER_SIZE:
            tlv_id, length = _HEADER.unpack_from(data, pos)
        if not (tlv_id or length):  # no room for a header, or a zero one
            if not bytes(data[pos:]).strip(b"\x00"):
                break  # zero padding to the end
            raise MediaFormatError(f"recorder information: stray bytes at offset {pos}", data[pos:])
        if length < TLV_HEADER_SIZE or pos + length > size:
            raise MediaFormatError(
                f"recorder information: TLV 0x{tlv_id:04x} of length {length} at offset {pos} "
                f"does not fit in {size} bytes",
                data[pos:],
            )
        spans.append((tlv_id, pos + TLV_HEADER_SIZE, pos + length))
        pos += length
    return spans


class TlvStructureCheck:
    """Whether TLVs are sound as :func:`tlv_spans` checks them, remembering the last layout.

    A recorder sends the same TLVs with every picture, only their values
    change: when ``data`` has the last sound TLVs' size, the same length
    fields at the same offsets and the same zero padding, its walk is that
    one's, and one comparison answers (about a tenth of a walk: this runs once
    per picture of every live stream).
    """

    __slots__ = ("_layout", "_layout_of", "_size")

    def __init__(self) -> None:
        self._size = -1
        # The length fields and the padding of the last sound TLVs, and how to pick them.
        self._layout_of: Callable[[bytes], object] = itemgetter(slice(0))
        self._layout: object = None

    def sound(self, data: bytes) -> bool:
        """Whether :func:`tlv_spans` takes ``data`` (False where it raises)."""
        if len(data) == self._size and self._layout_of(data) == self._layout:
            return True
        try:
            spans = tlv_spans(data)
        except MediaFormatError:
            return False
        fields = [slice(start - 2, start) for _id, start, _end in spans]
        # The padding after the last TLV (zero bytes), or nothing.
        fields.append(slice(spans[-1][2] if spans else 0, None))
        self._layout_of = itemgetter(*fields)
        self._layout = self._layout_of(data)
        self._size = len(data)
        return True


def iter_tlvs(data: bytes | bytearray | memoryview) -> Iterator[tuple[int, memoryview]]:
    """Yield ``(id, value)`` for every TLV of ``data`` (value without its header).

    The structure is checked first: damage anywhere raises before any TLV is yielded.
    """
    view = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
    for tlv_id, start, end in tlv_spans(view):
        yield tlv_id, view[start:end]


def _time(value: memoryview) -> tuple[dt.datetime, dt.timedelta | None, bool]:
    seconds, sign, hours, minutes, summer = _TIME.unpack_from(value)
    when = dt.datetime.fromtimestamp(seconds, dt.UTC)
    offset: dt.timedelta | None = None
    if sign in (0, 1) and hours <= 23 and minutes <= 59:
        offset = dt.timedelta(hours=hours, minutes=minutes) * (-1 if sign else 1)
    return when, offset, summer == 1


def parse_recorder_info(data: bytes | bytearray | memoryview) -> RecorderInfo:
    """Parse the TLVs of ``data`` into a :class:`RecorderInfo`."""
    # Keyed by the plain id: an IntEnum member finds the same entry. Dictionaries
    # rather than enum calls: this runs once per picture of every live stream.
    values: dict[int, memoryview] = {}
    unknown: list[int] = []
    ignored: list[int] = []
    for tlv_id, value in iter_tlvs(data):
        needed = _NEEDED_BY_ID.get(tlv_id)
        if needed is None:
            unknown.append(tlv_id)
            continue
        if len(value) < needed:
            ignored.append(tlv_id)
            continue
        values[tlv_id] = value  # the last one of an id wins

    def u16(kind: int) -> int | None:
        value = values.get(kind)
        return None if value is None else int(_U16.unpack_from(value)[0])

    when: dt.datetime | None = None
    offset: dt.timedelta | None = None
    summer: bool | None = None
    if (time_value := values.get(RecorderInfoId.TIME)) is not None:
        when, offset, summer = _time(time_value)
        if (ticks := u16(RecorderInfoId.FRAME_TIME)) is not None:
            when += _TICK * min(ticks, 99)
    camera_time: dt.datetime | None = None
    if (camera_value := values.get(RecorderInfoId.CAMERA_TIME)) is not None:
        camera_time = _time(camera_value)[0]
        if (ticks := u16(RecorderInfoId.CAMERA_FRAME_TIME)) is not None:
            camera_time += _TICK * min(ticks, 99)
    status: int | None = None
    speed: int | None = None
    if (status_value := values.get(RecorderInfoId.STATUS)) is not None:
        status, speed = _STATUS.unpack_from(status_value)
    size_value = values.get(RecorderInfoId.DATA_SIZE)
    codec = u16(RecorderInfoId.CODEC)
    rate = u16(RecorderInfoId.FRAME_RATE)
    image = u16(RecorderInfoId.IMAGE_PRESENT)
    start_code = u16(RecorderInfoId.START_CODE)
    return RecorderInfo(
        channel=u16(RecorderInfoId.CAMERA_CHANNEL),
        codec=None if codec is None else _CODECS.get(codec, codec),
        data_size=None if size_value is None else int(_U32.unpack_from(size_value)[0]),
        time=when,
        utc_offset=offset,
        summer_time=summer,
        frame_count=u16(RecorderInfoId.FRAME_COUNT),
        frame_rate=None if rate is None else rate / 10,
        image_present=None if image is None else image != 0,
        status=None if status is None else _STATUSES.get(status, status),
        speed=speed,
        camera_time=camera_time,
        start_code=None if start_code is None else start_code != 0,
        long_term_reference_p=u16(RecorderInfoId.LONG_TERM_REFERENCE_P),
        idr_show=u16(RecorderInfoId.IDR_SHOW),
        unknown_ids=tuple(unknown),
        ignored_ids=tuple(ignored),
    )


@dataclass(frozen=True, slots=True)
class PlaybackState:
    """What the recorder reports about a playback (spec 7.1.2 status, 0x0007/0x000A time).

    ``status`` is the operation (play, reverse, fast forward, pause, step ...),
    ``speed`` the fast-forward/rewind step (1-8; None when undefined, 0x00),
    ``time`` the recorded time of the picture (UTC) with the recorder's zone.
    """

    status: RecorderStatus | int | None = None
    speed: int | None = None
    time: dt.datetime | None = None
    utc_offset: dt.timedelta | None = None
    summer_time: bool | None = None

    @property
    def reverse(self) -> bool:
        """Whether the recorder plays backwards (reverse playback, fast reverse, previous image)."""
        return self.status in _REVERSE_STATUSES

    @property
    def paused(self) -> bool:
        """Whether the picture stands still (pause, or a single step)."""
        return self.status in _STILL_STATUSES

    @property
    def local_time(self) -> dt.datetime | None:
        """``time`` in the recorder's zone (summer time included), when both are known."""
        return RecorderInfo(
            time=self.time, utc_offset=self.utc_offset, summer_time=self.summer_time
        ).local_time


def playback_state(info: RecorderInfo) -> PlaybackState:
    """The playback state of a picture's (or a chunk's) recorder information."""
    return PlaybackState(
        status=info.status,
        speed=info.speed or None,
        time=info.time,
        utc_offset=info.utc_offset,
        summer_time=info.summer_time,
    )


_REVERSE_STATUSES: Final = frozenset(
    {RecorderStatus.REVERSE_PLAYBACK, RecorderStatus.FAST_REVERSE, RecorderStatus.PREVIOUS_IMAGE}
)
_STILL_STATUSES: Final = frozenset(
    {RecorderStatus.PAUSE, RecorderStatus.NEXT_IMAGE, RecorderStatus.PREVIOUS_IMAGE}
)

# Data bytes each known TLV needs (spec 7.1.2).
_NEEDED: Final[dict[RecorderInfoId, int]] = {
    RecorderInfoId.CAMERA_CHANNEL: 2,
    RecorderInfoId.CODEC: 2,
    RecorderInfoId.DATA_SIZE: 4,
    RecorderInfoId.TIME: _TIME.size,
    RecorderInfoId.FRAME_COUNT: 2,
    RecorderInfoId.FRAME_RATE: 2,
    RecorderInfoId.FRAME_TIME: 2,
    RecorderInfoId.IMAGE_PRESENT: 2,
    RecorderInfoId.STATUS: _STATUS.size,
    RecorderInfoId.CAMERA_TIME: _TIME.size,
    RecorderInfoId.CAMERA_FRAME_TIME: 2,
    RecorderInfoId.START_CODE: 2,
    RecorderInfoId.LONG_TERM_REFERENCE_P: 2,
    RecorderInfoId.IDR_SHOW: 2,
}
# Every known id (by its number) and the data bytes it needs.
_NEEDED_BY_ID: Final[dict[int, int]] = {int(kind): _NEEDED.get(kind, 0) for kind in RecorderInfoId}
# Raw numbers to their enum members (an unknown number stays a number).
_CODECS: Final[dict[int, RecorderCodec]] = {int(codec): codec for codec in RecorderCodec}
_STATUSES: Final[dict[int, RecorderStatus]] = {int(status): status for status in RecorderStatus}

__all__ = [
    "PlaybackState",
    "RecorderInfo",
    "TlvStructureCheck",
    "iter_tlvs",
    "parse_recorder_info",
    "playback_state",
    "tlv_spans",
]
