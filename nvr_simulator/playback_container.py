"""Writer of the playback containers (spec 3.3.1 video, 3.3.2 audio) from the recordings.

Only the byte format lives here; the handlers of ``camera.cgi`` and
``playaudio.cgi`` use it. The layouts are the simulator's reading of the
spec's garbled figures (every number big-endian):

Video (spec 3.3.1.1-3.3.1.3): chunk id ``0xFF15``/``0xFF16`` + u16 length of the
recorder-information TLVs (JPEG: ``FF D8 FF FE`` + u16 length), the TLVs
(spec 7.1.2: channel, codec, data size, time, frame time, frame count, frame
rate, image present, status, start code), 12 reserved bytes; per picture,
optionally camera-information TLVs (0x0011, 0x0012), then ``FF 06 00 44``, GOP
information (16 reserved, u32 end, {10 ms, TZ h, TZ m, TZ info}, u32 start,
{same}), PIC information (16 reserved, u32 time, u8 10 ms, 11 reserved),
``FF 05`` + u16 padding count, u32 data length + 16 reserved, the data, the
padding to 4 bytes; then zero padding to 4 KiB.

Audio (spec 3.3.2.1 G.711/G.726, 3.3.2.2 AAC-LC), header of 64 bytes (68 for
AAC, whose ``0xFF12`` block of length 0x3C is the spec's extra row):
``u16 0xFF03|0xFF13, u16 channel, u32 audio data size, [AAC: u16 0xFF12, u16
0x003C], u32 start, {reserved, TZ h, TZ m, TZ info}, u32 end, u32 reserved,
{TZ sign, TZ h, TZ m, summer}, {codec, 3 reserved}, u32 reserved, 28
reserved``; then the audio data. G.711/G.726 data is ``0x00`` + the stream; AAC
data is AU entries ``u16 0xFF14, u16 length of the whole entry, u8 padding, u8
AU info, u16 reserved, 0x00 + one frame [after a 4-byte AU header when AU info
is 1], zero padding to 4 bytes``. Then zero padding to 4 KiB.

Recorded pictures follow :mod:`.recordings`: frame ``n`` was taken at
2000-01-01 UTC + ``n / fps`` and shows picture ``n`` of the looped clip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import datetime as dt
import struct
from typing import Final

from custom_components.ipro_nvr.api.spec import (
    JPEG_VENDOR_BLOCK_ID,
    PLAYBACK_AUDIO_AAC,
    PLAYBACK_AUDIO_AAC_BLOCK,
    PLAYBACK_AUDIO_AAC_BLOCK_LENGTH,
    PLAYBACK_AUDIO_AU_IDS,
    PLAYBACK_AUDIO_G7XX,
    PLAYBACK_BODY_ALIGNMENT,
    PLAYBACK_CHUNK_H264,
    PLAYBACK_CHUNK_H265,
    PLAYBACK_CHUNK_RESERVED,
    PLAYBACK_PACKET_RESERVED,
    PLAYBACK_PADDING_ID,
    PLAYBACK_STREAM_HEADER,
    PLAYBACK_TZ_MINUS,
    PLAYBACK_TZ_SUMMER,
    PlaybackAudioCodec,
    RecorderCodec,
    RecorderInfoId,
    RecorderStatus,
)

from .video import H264, H265, VideoFormat, cached_jpeg_clip, cached_video_clip

JPEG: Final = "JPEG"
# Frame numbers count from here, as in :mod:`.recordings`.
RECORDING_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_UNIX_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_RECORDER_CODEC: Final = {H264: RecorderCodec.H264, H265: RecorderCodec.H265}
_CHUNK_ID: Final = {H264: PLAYBACK_CHUNK_H264, H265: PLAYBACK_CHUNK_H265}


@dataclass(frozen=True, slots=True)
class RecordedPicture:
    """One picture to write: Annex-B data (or a JPEG file) and its recorded time (UTC)."""

    data: bytes
    time: dt.datetime


@dataclass(frozen=True, slots=True)
class Zone:
    """The recorder's time zone as the containers carry it."""

    utc_offset: dt.timedelta = dt.timedelta(0)
    summer_time: bool = False

    def parts(self) -> tuple[bool, int, int]:
        """(minus, hours, minutes) of the offset."""
        minutes = int(self.utc_offset.total_seconds() // 60)
        return minutes < 0, abs(minutes) // 60, abs(minutes) % 60

    def tz_info(self) -> int:
        """The TZ info byte: bit 7 sign, bit 6 summer time (spec 3.3.1 *3)."""
        minus = self.parts()[0]
        return (PLAYBACK_TZ_MINUS if minus else 0) | (PLAYBACK_TZ_SUMMER if self.summer_time else 0)


def _seconds_ticks(when: dt.datetime) -> tuple[int, int]:
    delta = when - _UNIX_EPOCH
    return delta.days * 86_400 + delta.seconds, delta.microseconds // 10_000


def _tlv16(tlv_id: int, value: int) -> bytes:
    return struct.pack(">HHHH", tlv_id, 8, value, 0)


def _time_tlv(tlv_id: int, when: dt.datetime, zone: Zone) -> bytes:
    minus, hours, minutes = zone.parts()
    seconds = _seconds_ticks(when)[0]
    return struct.pack(">HHIBBBB", tlv_id, 12, seconds, minus, hours, minutes, zone.summer_time)


def _padded(data: bytes, alignment: int) -> bytes:
    return data + b"\x00" * (-len(data) % alignment)


def recorder_tlvs(
    codec: str,
    channel: int,
    pictures: Sequence[RecordedPicture],
    zone: Zone,
    *,
    frame_rate: float,
    status: RecorderStatus,
    speed: int,
) -> bytes:
    """The chunk's recorder-information TLVs (spec 7.1.1, the playback column)."""
    first = pictures[0].time
    tlvs = [_tlv16(RecorderInfoId.CAMERA_CHANNEL, channel)]
    if codec in _RECORDER_CODEC:
        tlvs.append(_tlv16(RecorderInfoId.CODEC, _RECORDER_CODEC[codec]))
    tlvs += [
        struct.pack(">HHI", RecorderInfoId.DATA_SIZE, 8, sum(len(p.data) for p in pictures)),
        _time_tlv(RecorderInfoId.TIME, first, zone),
        _tlv16(RecorderInfoId.FRAME_TIME, _seconds_ticks(first)[1]),
        _tlv16(RecorderInfoId.FRAME_COUNT, len(pictures)),
        _tlv16(RecorderInfoId.FRAME_RATE, round(frame_rate * 10)),
        _tlv16(RecorderInfoId.IMAGE_PRESENT, 1),
        struct.pack(">HHBBH", RecorderInfoId.STATUS, 8, status, speed, 0),
    ]
    if codec in _RECORDER_CODEC:
        tlvs.append(_tlv16(RecorderInfoId.START_CODE, 1))
    return b"".join(tlvs)


def camera_tlvs(when: dt.datetime, zone: Zone) -> bytes:
    """Camera-information TLVs of one picture (0x0011 time, 0x0012 its 10 ms)."""
    ticks = _seconds_ticks(when)[1]
    return _time_tlv(RecorderInfoId.CAMERA_TIME, when, zone) + _tlv16(
        RecorderInfoId.CAMERA_FRAME_TIME, ticks
    )


def _time_word(when: dt.datetime, zone: Zone) -> bytes:
    """u32 seconds + {10 ms, TZ hours, TZ minutes, TZ info} (spec 3.3.1 *3)."""
    seconds, ticks = _seconds_ticks(when)
    _, hours, minutes = zone.parts()
    return struct.pack(">IBBBB", seconds, ticks, hours, minutes, zone.tz_info())


def picture_record(
    picture: RecordedPicture, gop_start: dt.datetime, gop_end: dt.datetime, zone: Zone
) -> bytes:
    """One picture record: stream header, GOP and PIC information, packet, data, padding."""
    seconds, ticks = _seconds_ticks(picture.time)
    gop_info = bytes(16) + _time_word(gop_end, zone) + _time_word(gop_start, zone)
    pic_info = bytes(16) + struct.pack(">IB11x", seconds, ticks)
    padding = -len(picture.data) % 4
    return b"".join(
        (
            PLAYBACK_STREAM_HEADER,
            gop_info,
            pic_info,
            struct.pack(">HH", PLAYBACK_PADDING_ID, padding),
            struct.pack(">I", len(picture.data)),
            bytes(PLAYBACK_PACKET_RESERVED),
            picture.data,
            bytes(padding),
        )
    )


def video_container(
    codec: str,
    channel: int,
    pictures: Sequence[RecordedPicture],
    *,
    zone: Zone | None = None,
    frame_rate: float = 10.0,
    status: RecorderStatus = RecorderStatus.PLAYBACK,
    speed: int = 1,
    with_camera_info: bool = True,
) -> bytes:
    """A playback video body (spec 3.3.1) holding ``pictures`` (one GOP, or one JPEG)."""
    if not pictures:
        raise ValueError("a playback video body holds at least one picture")
    zone = zone or Zone()
    tlvs = recorder_tlvs(
        codec, channel, pictures, zone, frame_rate=frame_rate, status=status, speed=speed
    )
    if codec == JPEG:
        head = JPEG_VENDOR_BLOCK_ID + struct.pack(">H", len(tlvs))
    elif codec in _CHUNK_ID:
        head = struct.pack(">HH", _CHUNK_ID[codec], len(tlvs))
    else:
        raise ValueError(f"unknown codec {codec!r}")
    start, end = pictures[0].time, pictures[-1].time
    body = [head, tlvs, bytes(PLAYBACK_CHUNK_RESERVED)]
    for picture in pictures:
        if with_camera_info:
            body.append(camera_tlvs(picture.time, zone))
        body.append(picture_record(picture, start, end, zone))
    return _padded(b"".join(body), PLAYBACK_BODY_ALIGNMENT)


def frame_time(frame: int, fps: int) -> dt.datetime:
    """When recorded frame ``frame`` was taken (10 ms resolution, as the containers carry)."""
    return RECORDING_EPOCH + dt.timedelta(milliseconds=10 * (frame * 100 // fps))


def recorded_gop(
    codec: str, channel: int, fmt: VideoFormat, first_frame: int
) -> list[RecordedPicture]:
    """The GOP of the recordings that starts at frame ``first_frame`` (blocking: may encode).

    H.264/H.265: ``fmt.gop`` pictures from the keyframe at or before ``first_frame``;
    JPEG: the one picture ``first_frame`` (spec 3.1.1: one JPEG frame per request).
    """
    if codec == JPEG:
        images = cached_jpeg_clip(channel, fmt).images
        return [
            RecordedPicture(images[first_frame % len(images)], frame_time(first_frame, fmt.fps))
        ]
    clip = cached_video_clip(codec, channel, fmt)
    start = first_frame - first_frame % fmt.gop
    count = len(clip.pictures)
    return [
        RecordedPicture(clip.pictures[frame % count].annexb, frame_time(frame, fmt.fps))
        for frame in range(start, start + fmt.gop)
    ]


# -- audio ------------------------------------------------------------------------------


def _audio_times(start: dt.datetime, end: dt.datetime, zone: Zone) -> bytes:
    """Start, its zone word, end, reserved, the end's zone word (spec 3.3.2 *1, *2)."""
    minus, hours, minutes = zone.parts()
    return struct.pack(
        ">IBBBBIIBBBB",
        _seconds_ticks(start)[0],
        0,
        hours,
        minutes,
        zone.tz_info(),
        _seconds_ticks(end)[0],
        0,
        minus,
        hours,
        minutes,
        zone.summer_time,
    )


def g7xx_audio_container(
    channel: int,
    codec: PlaybackAudioCodec,
    data: bytes,
    start: dt.datetime,
    end: dt.datetime,
    *,
    zone: Zone | None = None,
) -> bytes:
    """A G.711/G.726 playback audio body (spec 3.3.2.1): 64-byte header, 0x00, the data."""
    zone = zone or Zone()
    audio = b"\x00" + data
    header = (
        struct.pack(">HHI", PLAYBACK_AUDIO_G7XX, channel, len(audio))
        + _audio_times(start, end, zone)
        + struct.pack(">B3xI28x", codec, 0)
    )
    return _padded(header + audio, PLAYBACK_BODY_ALIGNMENT)


def aac_entry(
    frame: bytes, *, au_header: bool = False, au_id: int = PLAYBACK_AUDIO_AU_IDS[0]
) -> bytes:
    """One AU entry of AAC-LC playback audio (spec 3.3.2.2 *3)."""
    payload = b"\x00" + (struct.pack(">HH", 16, len(frame) << 3) if au_header else b"") + frame
    padding = -len(payload) % 4
    length = 8 + len(payload) + padding
    head = struct.pack(">HHBBH", au_id, length, padding, 1 if au_header else 0, 0)
    return head + payload + bytes(padding)


def aac_audio_container(
    channel: int,
    frames: Sequence[bytes],
    start: dt.datetime,
    end: dt.datetime,
    *,
    zone: Zone | None = None,
    au_header: bool = False,
) -> bytes:
    """An AAC-LC playback audio body (spec 3.3.2.2): 68-byte header, then AU entries."""
    zone = zone or Zone()
    audio = b"".join(aac_entry(frame, au_header=au_header) for frame in frames)
    header = (
        struct.pack(">HHI", PLAYBACK_AUDIO_AAC, channel, len(audio))
        + struct.pack(">HH", PLAYBACK_AUDIO_AAC_BLOCK, PLAYBACK_AUDIO_AAC_BLOCK_LENGTH)
        + _audio_times(start, end, zone)
        + bytes(4 + 4 + 28)  # reserved (no codec byte for AAC), reserved, reserved
    )
    return _padded(header + audio, PLAYBACK_BODY_ALIGNMENT)


__all__ = [
    "JPEG",
    "RECORDING_EPOCH",
    "RecordedPicture",
    "Zone",
    "aac_audio_container",
    "aac_entry",
    "camera_tlvs",
    "frame_time",
    "g7xx_audio_container",
    "picture_record",
    "recorded_gop",
    "recorder_tlvs",
    "video_container",
]
