"""G.711/G.726 live audio transcoded to AAC-LC in a viewer's MPEG-TS (``TsMuxer``).

Fed with the simulator's encoded tone (the bytes a recorder's audio parts
carry) on the video's 90 kHz clock, as the live feed stamps it; the muxer's
TS is decoded with PyAV.
"""

from __future__ import annotations

import io
import itertools
import logging
import random

import av
import numpy as np
import pytest

from custom_components.ipro_nvr.api.media import (
    AudioCodec,
    AudioFrame,
    TimedAudio,
    VideoCodec,
    aac_audio_specific_config,
)
from custom_components.ipro_nvr.live import audio_transcoder
from custom_components.ipro_nvr.live.audio_transcoder import AacTranscoder
from custom_components.ipro_nvr.live.ts_muxer import TsMuxer
from nvr_simulator.video import G711, G711_ALAW, G726, cached_narrowband_clip
from tests.integration.test_ts_muxer import _pictures

_CODECS = {G711: AudioCodec.G711, G711_ALAW: AudioCodec.G711_ALAW, G726: AudioCodec.G726}
_PART_TICKS = 1800  # 20 ms
_PICTURE_TICKS = 9000  # 10 fps
_ORIGIN = 5_000_000


def _parts(codec: str, channel: int = 1) -> list[bytes]:
    """20 ms parts of the simulator's tone for ``channel``, one loop (2 s)."""
    clip = cached_narrowband_clip(codec, channel)
    size = clip.bytes_per_second // 50
    return [clip.data[i : i + size] for i in range(0, len(clip.data), size)]


def _timed(codec: AudioCodec, data: bytes, timestamp: int) -> TimedAudio:
    samples = len(data) * (2 if codec is AudioCodec.G726 else 1)
    return TimedAudio(AudioFrame(codec, data, 8000), timestamp, samples * 90_000 // 8000)


def _stream(muxer: TsMuxer, seconds: float, audio: list[TimedAudio], start: int = 0) -> list[bytes]:
    """Mux ``seconds`` of pictures from ``start`` with the audio due before each next picture.

    The audio muxed is taken off the front of ``audio``.
    """
    chunks: list[bytes] = []
    for unit in _pictures(round(seconds * 10), _ORIGIN + start):
        chunks.append(muxer.mux(unit))
        while audio and audio[0].timestamp < unit.timestamp + _PICTURE_TICKS:
            chunks.append(muxer.mux_audio(audio.pop(0)))
    return chunks


def _decoded_audio(data: bytes) -> tuple[list[av.AudioFrame], float]:
    """The audio frames of a TS capture and the time of its last picture (seconds)."""
    with av.open(io.BytesIO(data), format="mpegts") as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        assert stream.profile == "LC"
        frames = list(container.decode(audio=0))
    with av.open(io.BytesIO(data), format="mpegts") as container:
        last_picture = max(float(f.time or 0) for f in container.decode(video=0))
    return frames, last_picture


def _samples(frames: list[av.AudioFrame], start: float, end: float) -> np.ndarray:
    """The decoded samples of the frames that start within ``[start, end)`` seconds."""
    return np.concatenate(
        [f.to_ndarray()[0] for f in frames if f.time is not None and start <= f.time < end]
    )


def _dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum)) * rate / len(samples)


@pytest.mark.parametrize("codec", [G711, G711_ALAW, G726])
def test_narrowband_audio_becomes_aac_on_the_video_clock(codec: str) -> None:
    """Silence until the recorder's audio arrives (1 s in), then the tone, in step with video."""
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    transcoder = muxer._transcoder
    assert transcoder is not None
    parts = _parts(codec)
    audio_start = 90_000
    audio = [
        _timed(_CODECS[codec], parts[i % len(parts)], _ORIGIN + t)
        for i, t in enumerate(range(audio_start, 4 * 90_000, _PART_TICKS))
    ]
    count = len(audio)
    chunks = _stream(muxer, 0.9, audio)
    assert not transcoder.encoder_open  # no narrowband frame yet, no encoder
    chunks += _stream(muxer, 3.1, audio, start=9 * _PICTURE_TICKS)
    assert transcoder.encoder_open
    chunks.append(muxer.close())
    assert not transcoder.encoder_open  # closed with the muxer
    assert not audio
    assert muxer.transcoded_audio == count
    assert muxer.skipped_audio == 0
    frames, last_picture = _decoded_audio(b"".join(chunks))
    assert {(f.sample_rate, f.layout.nb_channels) for f in frames} == {(48_000, 1)}
    times = [f.pts for f in frames]
    assert all(a is not None and b is not None and a < b for a, b in itertools.pairwise(times))
    # The track spans the video (4 s of pictures), no more and no less than 0.3 s off.
    duration = sum(f.samples for f in frames) / 48_000
    assert abs(duration - 4.0) < 0.3
    assert abs(float(frames[-1].time or 0) - last_picture) < 0.3
    # Silence before the audio arrived, the channel's tone (550 Hz) after it.
    assert np.abs(_samples(frames, 0.0, 0.9)).max() < 1e-3
    tone = _samples(frames, 1.5, 3.5)
    assert float(np.sqrt(np.mean(tone**2))) > 0.1  # a sine of amplitude 0.3: 0.21
    assert abs(_dominant_frequency(tone, 48_000) - 550) < 10


def test_a_gap_in_the_audio_starts_a_new_run_on_the_video_clock() -> None:
    """Audio stalls for 2 s and comes back later on the clock: silence between, no drift."""
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    parts = _parts(G711)
    first = range(0, 90_000, _PART_TICKS)
    second = range(3 * 90_000, 5 * 90_000, _PART_TICKS)
    audio = [
        _timed(AudioCodec.G711, parts[i % len(parts)], _ORIGIN + t)
        for i, t in enumerate(itertools.chain(first, second))
    ]
    data = b"".join([*_stream(muxer, 5.0, audio), muxer.close()])
    assert muxer.skipped_audio == 0
    frames, last_picture = _decoded_audio(data)
    assert abs(sum(f.samples for f in frames) / 48_000 - 5.0) < 0.3
    assert abs(float(frames[-1].time or 0) - last_picture) < 0.3
    assert float(np.abs(_samples(frames, 1.5, 2.8)).max()) < 0.01  # the gap: silence
    for start in (0.2, 3.2):
        tone = _samples(frames, start, start + 0.7)
        assert float(np.sqrt(np.mean(tone**2))) > 0.1
        assert abs(_dominant_frequency(tone, 48_000) - 550) < 15


@pytest.mark.parametrize("codec", list(_CODECS.values()))
def test_garbage_goes_through_without_an_error(
    codec: AudioCodec, caplog: pytest.LogCaptureFixture
) -> None:
    """Random bytes, odd sizes and empty frames: noise at worst, never an exception."""
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    transcoder = AacTranscoder(48_000)
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    chunks = [muxer.mux(_pictures(1, _ORIGIN)[0])]
    timestamp = _ORIGIN
    for size in [0, 1, 2, 3, 7, 160, 161, 4001, 0, 1, *range(40)]:
        frame = _timed(codec, rng.randbytes(size), timestamp)
        timestamp += frame.duration + rng.choice([0, 0, 0, 5000, -5000])
        packets = transcoder.transcode(frame)
        assert packets is not None
        assert all(data for data, _tick in packets)
        chunks.append(muxer.mux_audio(frame))
    chunks.append(muxer.close())
    assert transcoder.failures == 0
    transcoder.close()
    # Ours only: libav's own messages reach Python's logging once an earlier test's
    # stream component routed them there ("frames left in the queue" on close).
    ours = [r for r in caplog.records if r.name.startswith("custom_components.ipro_nvr")]
    assert not [r for r in ours if r.levelno >= logging.WARNING]
    with av.open(io.BytesIO(b"".join(chunks)), format="mpegts") as container:
        assert sum(1 for _frame in container.decode(audio=0)) > 0


def test_a_failing_transcoder_is_logged_once_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A decoder that cannot open: every frame skipped, one warning, video and silence go on."""
    monkeypatch.setitem(
        audio_transcoder._DECODER_OPTIONS, AudioCodec.G726, {"bits_per_coded_sample": "9"}
    )
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    parts = _parts(G726)
    audio = [
        _timed(AudioCodec.G726, parts[i % len(parts)], _ORIGIN + t)
        for i, t in enumerate(range(0, 2 * 90_000, _PART_TICKS))
    ]
    count = len(audio)
    with caplog.at_level(logging.DEBUG, logger=audio_transcoder.__name__):
        data = b"".join([*_stream(muxer, 2.0, audio), muxer.close()])
    assert muxer.skipped_audio == count
    assert muxer.transcoded_audio == 0
    assert muxer._transcoder is not None
    assert muxer._transcoder.failures == 10  # then it gave up trying
    assert muxer._transcoder.gave_up
    warnings = [r for r in caplog.records if r.name == audio_transcoder.__name__]
    assert len(warnings) == 1
    assert "g726" in warnings[0].getMessage()
    frames, last_picture = _decoded_audio(data)
    assert last_picture > 1.8
    assert float(np.abs(np.concatenate([f.to_ndarray()[0] for f in frames])).max()) < 1e-3


def test_aac_the_track_cannot_carry_is_still_skipped() -> None:
    """AAC at another rate, or with ADTS headers, has no place in the 48 kHz track."""
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    muxer.mux(_pictures(1)[0])
    other_rate = TimedAudio(AudioFrame(AudioCodec.AAC_LC, b"\x21\x10", 16_000), 100, 5760)
    adts = TimedAudio(AudioFrame(AudioCodec.AAC_LC, b"\xff\xf1\x4c\x80", 48_000), 100, 1920)
    assert muxer.mux_audio(other_rate) == b""
    assert muxer.mux_audio(adts) == b""
    assert muxer.skipped_audio == 2
    assert muxer._transcoder is not None
    assert not muxer._transcoder.encoder_open
    muxer.close()


def test_transcoder_output_fits_the_tracks_config() -> None:
    """Raw AAC-LC frames a decoder reads with the track's 2-byte AudioSpecificConfig."""
    transcoder = AacTranscoder(48_000)
    packets: list[tuple[bytes, int]] = []
    for index, part in enumerate(_parts(G726) * 2):
        result = transcoder.transcode(_timed(AudioCodec.G726, part, 1000 + index * _PART_TICKS))
        assert result is not None
        packets += result
    packets += transcoder.flush()
    assert not transcoder.encoder_open
    # 4 s of input: 1024-sample frames (1920 ticks), priming first, from the input's time.
    assert len(packets) == 4 * 48_000 // 1024 + 2
    assert [tick for _data, tick in packets[:3]] == [1000 - 1920, 1000, 1000 + 1920]
    assert all(b - a == 1920 for (_a, a), (_b, b) in itertools.pairwise(packets))
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = aac_audio_specific_config(48_000)
    samples = np.concatenate(
        [f.to_ndarray()[0] for data, _tick in packets for f in decoder.decode(av.Packet(data))]
    )
    tone = samples[48_000:144_000]
    assert abs(_dominant_frequency(tone, 48_000) - 550) < 5


def test_the_transcoder_recovers_after_a_failure_and_follows_a_codec_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A frame FFmpeg refuses is skipped; the next opens a new pipeline, as a new codec does."""
    transcoder = AacTranscoder(48_000)
    refused = TimedAudio(AudioFrame(AudioCodec.G711, b"\xff" * 160, 0), 0, 1800)  # no rate
    assert transcoder.transcode(refused) is None
    assert transcoder.transcode(refused) is None
    assert (transcoder.failures, transcoder.gave_up) == (2, False)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    runs: list[list[int]] = []
    timestamp = 0
    for codec, name in [(AudioCodec.G711, G711), (AudioCodec.G726, G726)]:
        runs.append([])
        for index, part in enumerate(_parts(name)[:50]):
            frame = _timed(codec, part, timestamp)
            timestamp += frame.duration
            packets = transcoder.transcode(frame)
            assert packets is not None
            # The first G.726 frame drains the G.711 encoder (its own audio
            # stays in the new encoder, less than a frame): the G.711 run's end.
            run = runs[0] if index == 0 else runs[-1]
            run += [tick for _data, tick in packets]
    runs[-1] += [tick for _data, tick in transcoder.flush()]
    assert transcoder.failures == 2
    # Two runs of one second each, each with its own priming frame first, on the input's clock.
    for run, start in zip(runs, (0, 90_000), strict=True):
        assert len(run) == 48_000 // 1024 + 2
        assert run[0] == start - 1920
        assert all(b - a == 1920 for a, b in itertools.pairwise(run))
