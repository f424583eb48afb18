"""Synthetic camera pictures and sound, encoded once per process with PyAV.

The sound is a sine tone of each channel's own pitch, as AAC-LC (48 kHz) or as
narrowband G.711 (mu-law or A-law) or G.726-32k (8 kHz, packed little-endian
as RTP's ``G726-32``: FFmpeg's ``adpcm_g726le``).

Each channel shows its own picture: a background colour of its own, the channel
number as eight blocks along the top (binary, most significant bit left, white
for 1) and a square moving left to right once per loop over a faint fixed
texture (so that keyframes are large enough to be fragmented). The clip is
``loop_seconds`` long and is repeated for as long as a stream runs; every GOP
starts with an IDR picture (H.264) or an IDR/IRAP picture (H.265, closed GOP),
so the loop can restart at any GOP.

Encoding happens at first use, off the event loop (:func:`video_clip` and
friends run the encoder in a worker thread), and is cached per process. Each
H.264/H.265 picture is kept as its NAL units (without start codes); keyframes
carry AUD, parameter sets and an SEI before the slices, as spec 2.3.1 draws.

Only ``custom_components.ipro_nvr.api.spec`` may be imported from the
integration: the simulator's NAL splitting is its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import colorsys
from dataclasses import dataclass
import fractions
import math
import threading
import time
from typing import Any, Final

H264: Final = "H264"
H265: Final = "H265"

AAC_SAMPLE_RATE: Final = 48_000
AAC_FRAME_SAMPLES: Final = 1024
# Live audio codecs (SimulatorConfig.live_audio_codec).
AAC: Final = "AAC"
G711: Final = "G711"  # mu-law
G711_ALAW: Final = "G711A"
G726: Final = "G726"  # 32 kbit/s
AUDIO_CODECS: Final = frozenset({AAC, G711, G711_ALAW, G726})
NARROWBAND_RATE: Final = 8000
# FFmpeg's encoder of each narrowband codec, and its bytes per second.
_NARROWBAND_ENCODERS: Final = {
    G711: ("pcm_mulaw", 8000),
    G711_ALAW: ("pcm_alaw", 8000),
    G726: ("adpcm_g726le", 4000),
}

_START_CODE: Final = b"\x00\x00\x00\x01"
_SHORT_START_CODE: Final = b"\x00\x00\x01"
# An SEI "user data unregistered" message naming the simulator, added to keyframes
# the encoder wrote without one. No zero bytes: no emulation prevention needed.
_SEI_UUID: Final = bytes(range(0x11, 0x21))
_SEI_TEXT: Final = b"ipro-nvr-simulator"
_CODE_BITS: Final = 8  # channel number blocks along the top of the picture


@dataclass(frozen=True, slots=True)
class VideoFormat:
    """What to encode; also the cache key (with codec and channel)."""

    width: int = 320
    height: int = 180
    fps: int = 10
    gop_seconds: float = 1.0
    loop_seconds: float = 2.0

    @property
    def gop(self) -> int:
        """Pictures per GOP."""
        return max(1, round(self.fps * self.gop_seconds))

    @property
    def pictures(self) -> int:
        """Pictures in the loop: a whole number of GOPs."""
        gops = max(1, round(self.fps * self.loop_seconds / self.gop))
        return gops * self.gop


@dataclass(frozen=True, slots=True)
class EncodedPicture:
    """One coded picture: its NAL units (without start codes) and whether it is a keyframe."""

    nals: tuple[bytes, ...]
    keyframe: bool

    @property
    def annexb(self) -> bytes:
        """The picture as Annex-B with 4-byte start codes."""
        return _START_CODE + _START_CODE.join(self.nals)


@dataclass(frozen=True, slots=True)
class VideoClip:
    """An encoded loop of H.264 or H.265 pictures."""

    codec: str
    channel: int
    format: VideoFormat
    pictures: tuple[EncodedPicture, ...]
    encode_seconds: float


@dataclass(frozen=True, slots=True)
class JpegClip:
    """An encoded loop of JPEG pictures (bare JPEG files)."""

    channel: int
    format: VideoFormat
    images: tuple[bytes, ...]
    encode_seconds: float


@dataclass(frozen=True, slots=True)
class AudioClip:
    """An encoded loop of raw AAC-LC frames (no ADTS), mono, 1024 samples each."""

    channel: int
    sample_rate: int
    frames: tuple[bytes, ...]
    # The encoder's AudioSpecificConfig, for decoders.
    extradata: bytes
    frequency: float
    encode_seconds: float


@dataclass(frozen=True, slots=True)
class NarrowbandClip:
    """An encoded loop of 8 kHz mono G.711 or G.726-32k audio, one continuous byte stream.

    The loop is a whole number of 10 ms blocks and of tone cycles, so it
    repeats seamlessly; for G.726 the encoder's state at the loop's end is
    the one it started with (the second of two encoded loops is kept).
    """

    codec: str
    channel: int
    sample_rate: int
    data: bytes
    bytes_per_second: int
    frequency: float
    encode_seconds: float


# -- the cache ------------------------------------------------------------------

_cache: dict[tuple[object, ...], Any] = {}
_cache_lock = threading.Lock()


def _cached[T](key: tuple[object, ...], build: Callable[[], T]) -> T:
    with _cache_lock:
        hit: T | None = _cache.get(key)
        if hit is None:
            hit = build()
            _cache[key] = hit
        return hit


async def _get[T](key: tuple[object, ...], build: Callable[[], T]) -> T:
    hit: T | None = _cache.get(key)
    if hit is not None:
        return hit
    return await asyncio.to_thread(_cached, key, build)


def encode_seconds_total() -> float:
    """Seconds spent encoding in this process so far (for reports and benchmarks)."""
    return sum(getattr(value, "encode_seconds", 0.0) for value in list(_cache.values()))


def cached_video_clip(codec: str, channel: int, fmt: VideoFormat) -> VideoClip:
    """The clip of ``channel`` in ``codec`` (``H264``/``H265``), encoded at first use (blocking)."""
    return _cached(("video", codec, channel, fmt), lambda: encode_video(codec, channel, fmt))


def cached_jpeg_clip(channel: int, fmt: VideoFormat) -> JpegClip:
    """The JPEG clip of ``channel``, encoded at first use (blocking)."""
    return _cached(("jpeg", channel, fmt), lambda: encode_jpeg(channel, fmt))


def cached_audio_clip(channel: int, seconds: float = 2.0) -> AudioClip:
    """The AAC-LC clip of ``channel`` (a tone of its own), encoded at first use (blocking)."""
    return _cached(("audio", channel, seconds), lambda: encode_audio(channel, seconds))


def cached_narrowband_clip(codec: str, channel: int, seconds: float = 2.0) -> NarrowbandClip:
    """The G.711/G.726 clip of ``channel`` (``G711``, ``G711A``, ``G726``), encoded at first use."""
    key = ("narrowband", codec, channel, seconds)
    return _cached(key, lambda: encode_narrowband(codec, channel, seconds))


async def video_clip(codec: str, channel: int, fmt: VideoFormat) -> VideoClip:
    """:func:`cached_video_clip`, encoding in a worker thread when not cached yet."""
    return await _get(("video", codec, channel, fmt), lambda: encode_video(codec, channel, fmt))


async def jpeg_clip(channel: int, fmt: VideoFormat) -> JpegClip:
    """:func:`cached_jpeg_clip`, encoding in a worker thread when not cached yet."""
    return await _get(("jpeg", channel, fmt), lambda: encode_jpeg(channel, fmt))


async def audio_clip(channel: int, seconds: float = 2.0) -> AudioClip:
    """:func:`cached_audio_clip`, encoding in a worker thread when not cached yet."""
    return await _get(("audio", channel, seconds), lambda: encode_audio(channel, seconds))


async def narrowband_clip(codec: str, channel: int, seconds: float = 2.0) -> NarrowbandClip:
    """:func:`cached_narrowband_clip`, encoding in a worker thread when not cached yet."""
    key = ("narrowband", codec, channel, seconds)
    return await _get(key, lambda: encode_narrowband(codec, channel, seconds))


# -- pictures -------------------------------------------------------------------


def channel_colour(channel: int) -> tuple[int, int, int]:
    """The background colour of ``channel`` (RGB), well apart for neighbouring channels."""
    hue = (channel * 0.381966) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.75, 0.8)
    return round(red * 255), round(green * 255), round(blue * 255)


def code_blocks(fmt: VideoFormat) -> list[tuple[int, int, int]]:
    """Where the channel-number blocks are: (left, top, size), most significant bit first."""
    size = max(4, min(fmt.width // (_CODE_BITS * 2), fmt.height // 6))
    return [(size // 2 + bit * size * 2, size // 2, size) for bit in range(_CODE_BITS)]


def _frames(channel: int, fmt: VideoFormat) -> list[Any]:
    """The RGB pictures of the loop, as numpy arrays (height, width, 3)."""
    import numpy as np

    width, height, count = fmt.width, fmt.height, fmt.pictures
    rng = np.random.default_rng(channel)
    texture = rng.integers(-12, 13, (height, width, 1), dtype=np.int16)
    base = np.clip(np.array(channel_colour(channel), dtype=np.int16) + texture, 0, 255)
    base = base.astype(np.uint8)
    for bit, (x, y, block) in enumerate(code_blocks(fmt)):
        on = (channel >> (_CODE_BITS - 1 - bit)) & 1
        base[y : y + block, x : x + block] = 255 if on else 0
    size = max(8, height // 4)
    top = (height - size) // 2
    frames = []
    for index in range(count):
        frame = base.copy()
        left = round((width - size) * index / count)
        frame[top : top + size, left : left + size] = (255, 255, 255)
        frame[top + 2 : top + size - 2, left + 2 : left + size - 2] = (16, 16, 16)
        frames.append(frame)
    return frames


def _split_annexb(data: bytes) -> list[bytes]:
    nals = []
    start = data.find(_SHORT_START_CODE)
    while start >= 0:
        begin = start + 3
        start = data.find(_SHORT_START_CODE, begin)
        nal = (data[begin:start] if start >= 0 else data[begin:]).rstrip(b"\x00")
        if nal:
            nals.append(nal)
    return nals


def _sei(codec: str) -> bytes:
    header = b"\x06" if codec == H264 else bytes((39 << 1, 1))  # H.265 prefix SEI
    payload = _SEI_UUID + _SEI_TEXT
    return header + bytes((5, len(payload))) + payload + b"\x80"


def _nal_type(codec: str, nal: bytes) -> int:
    return nal[0] & 0x1F if codec == H264 else (nal[0] >> 1) & 0x3F


def _with_sei(codec: str, nals: list[bytes]) -> list[bytes]:
    """Make a keyframe read AUD, parameter sets, SEI, slices (spec 2.3.1's figure)."""
    sei_type, parameter_types = (6, {7, 8}) if codec == H264 else (39, {32, 33, 34})
    types = [_nal_type(codec, nal) for nal in nals]
    if sei_type in types:
        return nals
    last_parameter = max((i for i, t in enumerate(types) if t in parameter_types), default=0)
    return [*nals[: last_parameter + 1], _sei(codec), *nals[last_parameter + 1 :]]


def encode_video(codec: str, channel: int, fmt: VideoFormat) -> VideoClip:
    """Encode the loop of ``channel`` (blocking; see :func:`video_clip`)."""
    import av

    started = time.perf_counter()
    gop = fmt.gop
    context: Any = av.CodecContext.create("libx264" if codec == H264 else "libx265", "w")
    context.width = fmt.width
    context.height = fmt.height
    context.pix_fmt = "yuv420p"
    context.time_base = fractions.Fraction(1, fmt.fps)
    context.framerate = fractions.Fraction(fmt.fps, 1)
    if codec == H264:
        # Two slices per picture (so pictures have several slice NAL units), one thread.
        params = f"aud=1:keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:slices=2:threads=1"
        context.options = {"preset": "ultrafast", "tune": "zerolatency", "x264-params": params}
    elif codec == H265:
        params = (
            f"open-gop=0:keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1"
            ":aud=1:frame-threads=1:log-level=error"
        )
        context.options = {"preset": "ultrafast", "tune": "zerolatency", "x265-params": params}
    else:
        raise ValueError(f"unknown codec {codec!r}")
    packets: list[tuple[bytes, bool]] = []
    for index, image in enumerate(_frames(channel, fmt)):
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        packets += [(bytes(p), bool(p.is_keyframe)) for p in context.encode(frame)]
    packets += [(bytes(p), bool(p.is_keyframe)) for p in context.encode(None)]
    pictures = []
    for data, keyframe in packets:
        nals = _split_annexb(data)
        pictures.append(
            EncodedPicture(tuple(_with_sei(codec, nals) if keyframe else nals), keyframe)
        )
    if len(pictures) != fmt.pictures or not pictures[0].keyframe:
        raise RuntimeError(f"{codec} encoder gave {len(pictures)} pictures, not {fmt.pictures}")
    return VideoClip(codec, channel, fmt, tuple(pictures), time.perf_counter() - started)


def encode_jpeg(channel: int, fmt: VideoFormat) -> JpegClip:
    """Encode the loop of ``channel`` as JPEG pictures (blocking; see :func:`jpeg_clip`)."""
    import av

    started = time.perf_counter()
    context: Any = av.CodecContext.create("mjpeg", "w")
    context.width = fmt.width
    context.height = fmt.height
    context.pix_fmt = "yuvj420p"
    context.time_base = fractions.Fraction(1, fmt.fps)
    images: list[bytes] = []
    for index, image in enumerate(_frames(channel, fmt)):
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuvj420p")
        frame.pts = index
        images += [bytes(p) for p in context.encode(frame)]
    images += [bytes(p) for p in context.encode(None)]
    return JpegClip(channel, fmt, tuple(images), time.perf_counter() - started)


def encode_audio(channel: int, seconds: float = 2.0) -> AudioClip:
    """Encode a sine tone of ``channel`` as raw AAC-LC frames (blocking)."""
    import numpy as np

    started = time.perf_counter()
    rate = AAC_SAMPLE_RATE
    frames = math.ceil(seconds * rate / AAC_FRAME_SAMPLES)
    samples = frames * AAC_FRAME_SAMPLES
    cycles = tone_cycles(channel, rate, samples)
    frequency = cycles * rate / samples
    tone = (0.3 * np.sin(2 * np.pi * cycles * np.arange(samples) / samples)).astype(np.float32)
    context, out = _encode_mono(
        "aac", tone, rate, sample_format="fltp", bit_rate=64_000, block=AAC_FRAME_SAMPLES
    )
    extradata = bytes(context.extradata or b"")
    return AudioClip(channel, rate, tuple(out), extradata, frequency, time.perf_counter() - started)


def _encode_mono(
    encoder_name: str, samples: Any, rate: int, *, sample_format: str, bit_rate: int, block: int
) -> tuple[Any, list[bytes]]:
    """Encode mono ``samples`` (a numpy array) in blocks; return the context and the packets."""
    import av

    context: Any = av.CodecContext.create(encoder_name, "w")
    context.sample_rate = rate
    context.layout = "mono"
    context.format = sample_format
    context.bit_rate = bit_rate
    context.time_base = fractions.Fraction(1, rate)
    out: list[bytes] = []
    for start in range(0, len(samples), block):
        frame = av.AudioFrame.from_ndarray(
            samples[None, start : start + block], format=sample_format, layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = start
        out += [bytes(p) for p in context.encode(frame)]
    out += [bytes(p) for p in context.encode(None)]
    return context, out


def tone_cycles(channel: int, rate: int, samples: int) -> int:
    """Cycles of ``channel``'s tone in a loop of ``samples``: whole, so it loops without a click."""
    return round((440.0 + 110.0 * (channel % 8)) * samples / rate)


def encode_narrowband(codec: str, channel: int, seconds: float = 2.0) -> NarrowbandClip:
    """Encode ``channel``'s tone as 8 kHz G.711 or G.726-32k (blocking)."""
    import numpy as np

    started = time.perf_counter()
    encoder_name, bytes_per_second = _NARROWBAND_ENCODERS[codec]
    rate = NARROWBAND_RATE
    block = rate // 100  # 10 ms
    samples = max(1, round(seconds * 100)) * block
    cycles = tone_cycles(channel, rate, samples)
    frequency = cycles * rate / samples
    loop = np.round(0.3 * 32767 * np.sin(2 * np.pi * cycles * np.arange(samples) / samples))
    tone = np.tile(loop.astype(np.int16), 2)  # two loops: keep the second
    _context, out = _encode_mono(
        encoder_name, tone, rate, sample_format="s16", bit_rate=bytes_per_second * 8, block=block
    )
    data = b"".join(out)
    loop_bytes = samples * bytes_per_second // rate
    if len(data) != 2 * loop_bytes:
        raise ValueError(f"{encoder_name} gave {len(data)} bytes for {2 * samples} samples")
    return NarrowbandClip(
        codec,
        channel,
        rate,
        data[loop_bytes:],
        bytes_per_second,
        frequency,
        time.perf_counter() - started,
    )
