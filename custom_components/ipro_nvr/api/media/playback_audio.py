"""Playback audio bodies of ``playaudio.cgi`` (spec 3.3.2): about one second per body.

Header, the working reading of the spec's garbled figures (big-endian)::

    0   u16 0xFF03 (G.711/G.726) or 0xFF13 (AAC-LC), u16 camera channel
    4   u32 audio data size
    [8  u16 0xFF12, u16 length 0x003C: AAC-LC only; the rest shifts by 4]
    8   u32 start time (Unix epoch s); {reserved, TZ hours, TZ minutes, TZ info}
    16  u32 end time; u32 reserved
    24  {TZ sign, TZ hours, TZ minutes, summer time}
    28  u8 codec (0x00 G.726, 0x01 G.711; reserved for AAC), 3 reserved
    32  u32 reserved, 28 reserved
    64  audio data (68 for AAC-LC), then zero padding to 4 KiB

G.711/G.726 data is the elementary stream after one ``0x00`` byte (discarded
when present, spec 3.3.2.1 *4). AAC-LC data is a run of AU entries (spec
3.3.2.2 *3): ``u16 0xFF14`` (the text also says ``0xFF04``: both are taken),
u16 length, u8 padding size, u8 AU info (1: an AU header precedes the frame),
u16 reserved, the frame of 1024 samples (a leading ``0x00`` discarded), zero
padding to 4 bytes.

Tolerances: the data size is taken from offset 4, else from the reserved word
after the end time, else the data runs to the end of the body less its zero
padding. The AU entry length is read as counting the whole entry, else only
the frame, else the frame and its padding: the first reading whose walk lands
on every entry and ends on zero padding wins. Nothing else is guessed:
a body none of this fits raises :class:`~.errors.MediaFormatError`.

The parser takes chunks of any size (:meth:`PlaybackAudioParser.feed`) and
parses at :meth:`PlaybackAudioParser.finish`: one body is about a second of
audio (a few kilobytes), and the reading of the AU lengths is decided over
all of it. G.711 is taken as mu-law unless the caller says A-law (the spec
does not name the law; see :mod:`.audio`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
import datetime as dt
import struct
from typing import Final

from ..spec import (
    AUDIO_PART_PREFIX,
    PLAYBACK_AAC_FRAME_SAMPLES,
    PLAYBACK_AAC_SAMPLE_RATE,
    PLAYBACK_AUDIO_AAC,
    PLAYBACK_AUDIO_AAC_BLOCK,
    PLAYBACK_AUDIO_AU_IDS,
    PLAYBACK_AUDIO_G7XX,
    PLAYBACK_NARROWBAND_RATE,
    PlaybackAudioCodec,
)
from .audio import AudioCodec, AudioFrame
from .errors import MediaFormatError
from .playback_time import RecordedTime, recorded_time, zone

# About one second of 48 kHz AAC or 8 kHz G.711 is a few kilobytes.
DEFAULT_MAX_AUDIO_BODY: Final = 4 * 1024 * 1024

_HEAD = struct.Struct(">HHI")  # id, channel, data size
_AAC_BLOCK = struct.Struct(">HH")  # 0xFF12, length
# From the start time on: start, {reserved, TZ h, TZ m, TZ info}, end, reserved,
# {TZ sign, TZ h, TZ m, summer}, {codec, 3 reserved}.
_TIMES = struct.Struct(">I1xBBBIIBBBBB3x")
_G7XX_DATA_AT: Final = 64
_AAC_DATA_AT: Final = 68
_AU = struct.Struct(">HHBBH")  # id, length, padding size, AU info, reserved
_AU_HEADER_SIZE: Final = 4  # RFC 3640: AU-headers-length (16 bits) + one AU header
_CODECS: Final[dict[int, AudioCodec]] = {
    PlaybackAudioCodec.G726: AudioCodec.G726,
    PlaybackAudioCodec.G711: AudioCodec.G711,
}


@dataclass(frozen=True, slots=True)
class PlaybackAudio:
    """One playback audio body: its frames (the live path's type) and recorded span.

    AAC-LC gives one frame per AU entry (1024 samples each); G.711/G.726 one
    frame holding the whole stream. ``au_reading`` names the AU length reading
    that fitted (``entry``, ``frame``, ``frame+padding``; None for G.7xx).
    """

    channel: int
    codec: AudioCodec
    sample_rate: int
    start: RecordedTime
    end: RecordedTime
    frames: tuple[AudioFrame, ...]
    au_reading: str | None = None

    def frame_time(self, index: int) -> dt.datetime:
        """The recorded time of AAC frame ``index`` (the start for G.711/G.726)."""
        if self.codec is not AudioCodec.AAC_LC:
            return self.start.time
        samples = index * PLAYBACK_AAC_FRAME_SAMPLES
        return self.start.time + dt.timedelta(seconds=samples / self.sample_rate)


class PlaybackAudioParser:
    """Push-style parser of one playback audio body; see the module docstring."""

    def __init__(
        self, *, g711: AudioCodec = AudioCodec.G711, max_body_size: int = DEFAULT_MAX_AUDIO_BODY
    ) -> None:
        self._g711 = g711
        self._max = max_body_size
        self._buf = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next chunk of the body."""
        if len(self._buf) + len(data) > self._max:
            raise MediaFormatError(f"playback audio: body over {self._max} bytes")
        self._buf += data

    def finish(self) -> PlaybackAudio:
        """Parse the body fed so far (MediaFormatError when it is not an audio container)."""
        body = bytes(self._buf)
        self._buf.clear()
        return _parse(body, self._g711)


def _parse(body: bytes, g711: AudioCodec) -> PlaybackAudio:
    if len(body) < _HEAD.size:
        raise MediaFormatError("playback audio: body shorter than its header", body)
    header_id, channel, size = _HEAD.unpack_from(body)
    aac = header_id == PLAYBACK_AUDIO_AAC
    if header_id != PLAYBACK_AUDIO_G7XX and not aac:
        raise MediaFormatError("playback audio: no 0xFF03 or 0xFF13 header", body)
    times_at = _HEAD.size
    data_at = _G7XX_DATA_AT
    if aac:
        data_at = _AAC_DATA_AT
        if len(body) >= times_at + _AAC_BLOCK.size:
            block_id, _ = _AAC_BLOCK.unpack_from(body, times_at)
            if block_id == PLAYBACK_AUDIO_AAC_BLOCK:
                times_at += _AAC_BLOCK.size
    if len(body) < data_at:
        raise MediaFormatError(f"playback audio: {len(body)} bytes, the header needs {data_at}")
    (
        start_s,
        start_h,
        start_m,
        start_z,
        end_s,
        reserved_size,
        end_minus,
        end_h,
        end_m,
        end_summer,
        codec_byte,
    ) = _TIMES.unpack_from(body, times_at)
    start = recorded_time(start_s, 0, start_h, start_m, start_z)
    end = RecordedTime(
        recorded_time(end_s, 0, 0, 0, 0).time,
        zone(end_h, end_m, minus=end_minus == 1),
        end_summer == 1,
    )
    data = _data(body, data_at, (size, reserved_size))
    if aac:
        frames, reading = _aac_frames(data)
        return PlaybackAudio(
            channel, AudioCodec.AAC_LC, PLAYBACK_AAC_SAMPLE_RATE, start, end, frames, reading
        )
    codec = _CODECS.get(codec_byte)
    if codec is None:
        raise MediaFormatError(f"playback audio: unknown codec 0x{codec_byte:02x}")
    if codec is AudioCodec.G711:
        codec = g711
    stream = data.removeprefix(AUDIO_PART_PREFIX)
    if not stream:
        raise MediaFormatError("playback audio: no audio data")
    frame = AudioFrame(codec, stream, PLAYBACK_NARROWBAND_RATE)
    return PlaybackAudio(channel, codec, PLAYBACK_NARROWBAND_RATE, start, end, (frame,))


def _data(body: bytes, start: int, sizes: tuple[int, ...]) -> bytes:
    """The audio data: by the first size field that fits, else up to the zero padding."""
    for size in sizes:
        if 0 < size <= len(body) - start and not body[start + size :].strip(b"\x00"):
            return body[start : start + size]
    return body[start:].rstrip(b"\x00")


def _aac_frames(data: bytes) -> tuple[tuple[AudioFrame, ...], str]:
    for reading in _READINGS:
        frames = _walk(data, reading)
        if frames is not None:
            return frames, reading
    raise MediaFormatError("playback audio: AAC-LC AU entries do not add up", data)


_READINGS: Final = ("entry", "frame", "frame+padding")


def _walk(data: bytes, reading: str) -> tuple[AudioFrame, ...] | None:
    frames: list[AudioFrame] = []
    pos = 0
    size = len(data)
    while pos + _AU.size <= size:
        au_id, length, padding, au_info, _ = _AU.unpack_from(data, pos)
        if au_id not in PLAYBACK_AUDIO_AU_IDS:
            break
        if reading == "entry":
            frame_end, next_pos = pos + length - padding, pos + length
        elif reading == "frame":
            frame_end = pos + _AU.size + length
            next_pos = frame_end + padding
        else:
            frame_end, next_pos = pos + _AU.size + length - padding, pos + _AU.size + length
        frame_start = pos + _AU.size
        if frame_end <= frame_start or next_pos > size or data[frame_end:next_pos].strip(b"\x00"):
            return None
        frame = data[frame_start:frame_end].removeprefix(AUDIO_PART_PREFIX)
        if au_info == 1 and len(frame) > _AU_HEADER_SIZE:
            frame = frame[_AU_HEADER_SIZE:]
        if not frame:
            return None
        frames.append(AudioFrame(AudioCodec.AAC_LC, frame, PLAYBACK_AAC_SAMPLE_RATE))
        pos = next_pos
    if not frames or data[pos:].strip(b"\x00"):
        return None
    return tuple(frames)


def parse_playback_audio(
    body: bytes | bytearray | memoryview, *, g711: AudioCodec = AudioCodec.G711
) -> PlaybackAudio:
    """Parse a whole playback audio body."""
    return _parse(bytes(body), g711)


async def read_playback_audio(
    chunks: AsyncIterable[bytes], *, g711: AudioCodec = AudioCodec.G711
) -> PlaybackAudio:
    """Read a playback audio body arriving as ``chunks`` and parse it."""
    parser = PlaybackAudioParser(g711=g711)
    async for chunk in chunks:
        parser.feed(chunk)
    return parser.finish()


__all__ = [
    "DEFAULT_MAX_AUDIO_BODY",
    "PlaybackAudio",
    "PlaybackAudioParser",
    "parse_playback_audio",
    "read_playback_audio",
]
