"""The simulator's writer of the playback containers (spec 3.3), read at fixed offsets."""

from __future__ import annotations

import datetime as dt
import struct

from custom_components.ipro_nvr.api.spec import PlaybackAudioCodec, RecorderStatus
from nvr_simulator.playback_container import (
    JPEG,
    RECORDING_EPOCH,
    RecordedPicture,
    Zone,
    aac_audio_container,
    frame_time,
    g7xx_audio_container,
    recorded_gop,
    video_container,
)
from nvr_simulator.video import H264, H265, VideoFormat

T0 = dt.datetime(2024, 4, 24, 3, 30, 0, 250000, tzinfo=dt.UTC)
SECONDS = 1713929400
ZONE = Zone(dt.timedelta(hours=-5, minutes=-30), summer_time=True)


def _tlvs(data: bytes) -> dict[int, bytes]:
    found = {}
    pos = 0
    while pos < len(data):
        tlv_id, length = struct.unpack_from(">HH", data, pos)
        found[tlv_id] = data[pos + 4 : pos + length]
        pos += length
    return found


def test_video_layout() -> None:
    pictures = [
        RecordedPicture(b"\x00\x00\x00\x01\x65abc", T0),  # 8 bytes: no padding
        RecordedPicture(b"\x00\x00\x00\x01\x41abcde", T0 + dt.timedelta(milliseconds=100)),
    ]
    body = video_container(
        H264,
        7,
        pictures,
        zone=ZONE,
        status=RecorderStatus.REVERSE_PLAYBACK,
        speed=2,
        with_camera_info=False,
    )
    assert len(body) == 4096
    chunk_id, length = struct.unpack_from(">HH", body)
    assert chunk_id == 0xFF15
    tlvs = _tlvs(body[4 : 4 + length])
    assert struct.unpack(">H", tlvs[0x0004][:2]) == (7,)
    assert struct.unpack(">H", tlvs[0x0005][:2]) == (3,)
    assert struct.unpack(">I", tlvs[0x0006]) == (8 + 10,)
    assert struct.unpack(">IBBBB", tlvs[0x0007]) == (SECONDS, 1, 5, 30, 1)
    assert struct.unpack(">H", tlvs[0x000A][:2]) == (25,)
    assert struct.unpack(">H", tlvs[0x0008][:2]) == (2,)
    assert struct.unpack(">H", tlvs[0x0009][:2]) == (100,)
    assert tlvs[0x000D][:2] == bytes([0x03, 2])
    record = 4 + length + 12
    assert body[4 + length : record] == bytes(12)
    assert body[record : record + 4] == b"\xff\x06\x00\x44"
    gop = struct.unpack_from(">16xIBBBBIBBBB", body, record + 4)
    assert gop == (SECONDS, 35, 5, 30, 0xC0, SECONDS, 25, 5, 30, 0xC0)  # end, then start
    assert struct.unpack_from(">16xIB", body, record + 36) == (SECONDS, 25)
    assert struct.unpack_from(">HHI", body, record + 68) == (0xFF05, 0, 8)
    assert body[record + 76 : record + 92] == bytes(16)
    assert body[record + 92 : record + 100] == pictures[0].data
    second = record + 100
    assert body[second : second + 4] == b"\xff\x06\x00\x44"
    assert struct.unpack_from(">16xIB", body, second + 36) == (SECONDS, 35)
    assert struct.unpack_from(">HHI", body, second + 68) == (0xFF05, 2, 10)
    end = second + 92 + 10 + 2
    assert body[end - 2 :] == bytes(len(body) - end + 2)


def test_h265_and_jpeg_chunk_headers() -> None:
    picture = [RecordedPicture(b"\x00\x00\x00\x01\x26\x01", T0)]
    assert struct.unpack_from(">H", video_container(H265, 1, picture)) == (0xFF16,)
    jpeg = [RecordedPicture(b"\xff\xd8\xff\xd9", T0)]
    body = video_container(JPEG, 1, jpeg)
    assert body.startswith(b"\xff\xd8\xff\xfe")
    length = struct.unpack_from(">H", body, 4)[0]
    assert 0x0005 not in _tlvs(body[6 : 6 + length])  # no codec TLV for JPEG


def test_camera_information_precedes_each_record() -> None:
    body = video_container(H264, 1, [RecordedPicture(b"\x00\x00\x00\x01\x65", T0)], zone=ZONE)
    length = struct.unpack_from(">H", body, 2)[0]
    camera = 4 + length + 12
    tlvs = _tlvs(body[camera : camera + 20])
    assert struct.unpack(">IBBBB", tlvs[0x0011]) == (SECONDS, 1, 5, 30, 1)
    assert body[camera + 20 : camera + 24] == b"\xff\x06\x00\x44"


def test_recorded_gop_follows_the_recordings() -> None:
    fmt = VideoFormat()
    gop = recorded_gop(H264, 2, fmt, 25)  # frame 25 lies in the GOP of frames 20-29
    assert len(gop) == fmt.gop
    assert gop[0].time == RECORDING_EPOCH + dt.timedelta(seconds=2)
    assert [p.time for p in gop] == [frame_time(frame, fmt.fps) for frame in range(20, 30)]
    assert b"\x00\x00\x00\x01\x67" in gop[0].data  # an SPS: the GOP opens with a keyframe
    (single,) = recorded_gop(JPEG, 2, fmt, 25)
    assert single.time == frame_time(25, fmt.fps)
    assert single.data.startswith(b"\xff\xd8")


def test_g7xx_audio_layout() -> None:
    end = T0 + dt.timedelta(seconds=1)
    body = g7xx_audio_container(3, PlaybackAudioCodec.G726, b"\x12" * 4100, T0, end, zone=ZONE)
    assert len(body) == 8192
    assert struct.unpack_from(">HHI", body) == (0xFF03, 3, 4101)
    assert struct.unpack_from(">IBBBBIIBBBBB", body, 8) == (
        SECONDS,
        0,
        5,
        30,
        0xC0,
        SECONDS + 1,
        0,
        1,
        5,
        30,
        1,
        0x00,
    )
    assert body[64:66] == b"\x00\x12"


def test_aac_audio_layout() -> None:
    end = T0 + dt.timedelta(seconds=1)
    body = aac_audio_container(4, [b"\x01\x02\x03", b"\x21" * 4], T0, end)
    assert struct.unpack_from(">HHIHH", body) == (0xFF13, 4, 12 + 16, 0xFF12, 0x3C)
    assert struct.unpack_from(">I", body, 12) == (SECONDS,)
    entry = 68
    assert struct.unpack_from(">HHBBH", body, entry) == (0xFF14, 12, 0, 0, 0)
    assert body[entry + 8 : entry + 12] == b"\x00\x01\x02\x03"
    second = entry + 12
    assert struct.unpack_from(">HHBBH", body, second) == (0xFF14, 16, 3, 0, 0)
    assert body[second + 8 : second + 16] == b"\x00" + b"\x21" * 4 + bytes(3)
