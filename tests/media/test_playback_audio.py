"""Playback audio containers (spec 3.3.2): the simulator's output and hand-made bodies."""

from __future__ import annotations

import contextlib
import datetime as dt
import struct

import av
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api.media import (
    AudioCodec,
    MediaFormatError,
    PlaybackAudioParser,
    parse_playback_audio,
    read_playback_audio,
)
from custom_components.ipro_nvr.api.spec import PlaybackAudioCodec
from nvr_simulator.playback_container import (
    Zone,
    aac_audio_container,
    aac_entry,
    g7xx_audio_container,
)
from nvr_simulator.video import G711, G726, cached_audio_clip, cached_narrowband_clip

from .helpers import achunks, split

START = dt.datetime(2024, 4, 24, 3, 30, tzinfo=dt.UTC)
END = START + dt.timedelta(seconds=1)
ZONE = Zone(dt.timedelta(hours=9), summer_time=False)


def test_aac_round_trip_and_decode() -> None:
    clip = cached_audio_clip(4)
    frames = clip.frames[:47]  # about one second at 48 kHz
    body = aac_audio_container(4, frames, START, END, zone=ZONE)
    assert len(body) % 4096 == 0
    audio = parse_playback_audio(body)
    assert audio.codec is AudioCodec.AAC_LC
    assert audio.channel == 4
    assert audio.sample_rate == 48000
    assert [f.data for f in audio.frames] == list(frames)
    assert audio.start.time == START
    assert audio.end.time == END
    assert audio.start.utc_offset == audio.end.utc_offset == dt.timedelta(hours=9)
    assert audio.au_reading == "entry"
    assert audio.frame_time(47) == START + dt.timedelta(seconds=47 * 1024 / 48000)
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = clip.extradata
    decoded = [f for frame in audio.frames for f in decoder.decode(av.Packet(frame.data))]
    assert sum(f.samples for f in decoded) >= 40 * 1024


@pytest.mark.parametrize(
    ("codec", "byte", "expected"),
    [
        (G711, PlaybackAudioCodec.G711, AudioCodec.G711),
        (G726, PlaybackAudioCodec.G726, AudioCodec.G726),
    ],
)
def test_narrowband_round_trip(codec: str, byte: PlaybackAudioCodec, expected: AudioCodec) -> None:
    clip = cached_narrowband_clip(codec, 2)
    data = clip.data[: clip.bytes_per_second]
    body = g7xx_audio_container(2, byte, data, START, END, zone=ZONE)
    audio = parse_playback_audio(body)
    assert audio.codec is expected
    assert audio.sample_rate == 8000
    assert [f.data for f in audio.frames] == [data]
    assert audio.frame_time(3) == START


def test_g711_law_chosen_by_the_caller() -> None:
    body = g7xx_audio_container(1, PlaybackAudioCodec.G711, b"\xd5" * 80, START, END)
    assert parse_playback_audio(body, g711=AudioCodec.G711_ALAW).codec is AudioCodec.G711_ALAW


def test_g7xx_data_ending_in_zero_bytes_keeps_them() -> None:
    data = b"\x11\x22" + bytes(6)
    body = g7xx_audio_container(1, PlaybackAudioCodec.G726, data, START, END)
    assert parse_playback_audio(body).frames[0].data == data


def test_g7xx_size_in_the_other_word_or_none() -> None:
    data = b"\x7f" * 100
    body = bytearray(g7xx_audio_container(1, PlaybackAudioCodec.G711, data, START, END))
    size = struct.unpack_from(">I", body, 4)[0]
    struct.pack_into(">I", body, 4, 0xFFFFFF)  # does not fit
    struct.pack_into(">I", body, 20, size)  # the reserved word after the end time
    assert parse_playback_audio(body).frames[0].data == data
    struct.pack_into(">I", body, 20, 0)
    assert parse_playback_audio(body).frames[0].data == data  # up to the zero padding


def _with_byte(body: bytes, offset: int, value: int) -> bytes:
    changed = bytearray(body)
    changed[offset] = value
    return bytes(changed)


def _aac_body(entries: bytes) -> bytes:
    head = struct.pack(">HHI", 0xFF13, 1, len(entries)) + struct.pack(">HH", 0xFF12, 0x3C)
    head += struct.pack(">IBBBBIIBBBB", 1713929400, 0, 9, 0, 0, 1713929401, 0, 0, 9, 0, 0)
    head += bytes(36)
    assert len(head) == 68
    return head + entries + bytes(-(len(head) + len(entries)) % 4096)


@pytest.mark.parametrize("reading", ["entry", "frame", "frame+padding"])
def test_every_au_length_reading(reading: str) -> None:
    frames = [b"\x01\x02\x03", b"\x21" * 9, b"\x44" * 4]
    entries = b""
    for index, frame in enumerate(frames):
        payload = b"\x00" + frame
        padding = -len(payload) % 4
        length = {
            "entry": 8 + len(payload) + padding,
            "frame": len(payload),
            "frame+padding": len(payload) + padding,
        }[reading]
        au_id = 0xFF04 if index == 1 else 0xFF14  # the spec names both
        entries += struct.pack(">HHBBH", au_id, length, padding, 0, 0) + payload + bytes(padding)
    audio = parse_playback_audio(_aac_body(entries))
    assert [f.data for f in audio.frames] == frames
    assert audio.au_reading == reading
    assert audio.start.utc_offset == dt.timedelta(hours=9)


def test_au_header_is_removed() -> None:
    entries = aac_entry(b"\x01\x40\x20", au_header=True) + aac_entry(b"\x05\x06")
    audio = parse_playback_audio(_aac_body(entries))
    assert [f.data for f in audio.frames] == [b"\x01\x40\x20", b"\x05\x06"]


async def test_read_in_chunks_of_any_size() -> None:
    body = aac_audio_container(3, [b"\x01" * 50, b"\x02" * 51], START, END)
    for size in (1, 5, 64, 4096):
        audio = await read_playback_audio(achunks(split(body, range(0, len(body), size))))
        assert [f.data for f in audio.frames] == [b"\x01" * 50, b"\x02" * 51]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\x03\x00\x01",
        b"\xff\x03" + bytes(30),  # header cut short
        b"\xff\x99" + bytes(100),  # unknown header id
        g7xx_audio_container(1, PlaybackAudioCodec.G711, b"", START, END),  # no data
        _with_byte(g7xx_audio_container(1, PlaybackAudioCodec.G711, b"\x01", START, END), 28, 7),
        _aac_body(b"\xff\x14\x00\x30" + bytes(8)),  # AU length past the data
        _aac_body(b"\x12\x34\x56\x78" * 4),  # no AU entry
        _aac_body(aac_entry(b"\x01\x02") + b"\x99" * 4),  # garbage after the entries
    ],
    ids=range(9),
)
def test_malformed_audio_raises(body: bytes) -> None:
    """Bodies: empty, short, header cut, unknown id, no data, unknown codec, bad AU entries."""
    with pytest.raises(MediaFormatError):
        parse_playback_audio(body)


def test_body_over_the_limit_raises() -> None:
    parser = PlaybackAudioParser(max_body_size=100)
    parser.feed(bytes(60))
    with pytest.raises(MediaFormatError):
        parser.feed(bytes(60))


_VALID_AAC = aac_audio_container(1, [b"\x01" * 30, b"\x02" * 31, b"\x03" * 5], START, END)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6),
    st.integers(0, len(_VALID_AAC)),
)
def test_fuzz_audio_raises_only_media_errors(flips: list[tuple[int, int]], size: int) -> None:
    body = bytearray(_VALID_AAC)
    for index, value in flips:
        body[index] = value
    try:
        audio = parse_playback_audio(bytes(body[:size]))
    except MediaFormatError:
        return
    assert all(frame.data for frame in audio.frames)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([b"", b"\xff\x03\x00\x01", b"\xff\x13\x00\x01"]))
def test_fuzz_random_audio_bytes(noise: bytes, head: bytes) -> None:
    with contextlib.suppress(MediaFormatError):
        parse_playback_audio(head + noise)
