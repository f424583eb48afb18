"""Fuzzing of the relay's muxer and audio transcoder with hostile pictures and audio.

What reaches :class:`TsMuxer` comes from the recorder: pictures whose bytes
are anything, timestamps that repeat or step back after a reconnect, audio
frames of any codec with any data. The muxer and the transcoder must skip
what they cannot carry (counting it) and never raise PyAV's errors or a raw
``ValueError`` into the relay's viewer loop.
"""

from __future__ import annotations

from hypothesis import example, given, strategies as st

from custom_components.ipro_nvr.api.errors import NvrError
from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioCodec,
    AudioFrame,
    MediaFormatError,
    ParameterSets,
    TimedAudio,
    VideoCodec,
    parse_audio_part,
)
from custom_components.ipro_nvr.live.audio_transcoder import AacTranscoder
from custom_components.ipro_nvr.live.ts_muxer import AAC_SAMPLE_RATE, TsMuxer

from .budget import fuzz_settings
from .strategies import audio_part

_START = b"\x00\x00\x00\x01"
_NALS = (
    b"\x09\xf0",
    b"\x67\x42\xc0\x1e\xd9\x00",
    b"\x68\xce\x3c\x80",
    b"\x65\x88\x84\x00",
    b"\x41\x9a\x00",
    b"\x40\x01\x0c",
    b"\x42\x01\x01",
    b"\x26\x01\xaf",
)


@st.composite
def access_units(draw: st.DrawFn, codec: VideoCodec) -> list[AccessUnit]:
    """Pictures with Annex-B-ish data and timestamps that mostly grow."""
    units: list[AccessUnit] = []
    timestamp = draw(st.integers(0, 1 << 40))
    for _ in range(draw(st.integers(1, 12))):
        timestamp += draw(st.sampled_from((3600, 3600, 3600, 0, -3600, 1, 90_000 * 60, -(1 << 33))))
        nals = draw(st.lists(st.one_of(st.sampled_from(_NALS), st.binary(max_size=24)), max_size=4))
        data = draw(st.one_of(st.just(_START + _START.join(nals)), st.binary(max_size=48)))
        units.append(
            AccessUnit(
                codec=codec,
                timestamp=timestamp,
                keyframe=draw(st.booleans()),
                data=data,
                parameter_sets=ParameterSets(),
            )
        )
    return units


@st.composite
def timed_audio(draw: st.DrawFn, around: int) -> TimedAudio:
    """An audio frame from a hostile part (or built directly), timed near ``around``."""
    content_type, body = draw(audio_part())
    try:
        frame = parse_audio_part(content_type, body)
    except MediaFormatError:
        frame = AudioFrame(
            draw(st.sampled_from(list(AudioCodec))),
            draw(st.binary(max_size=64)),
            draw(st.sampled_from((8000, AAC_SAMPLE_RATE, 16000))),
        )
    timestamp = around + draw(st.integers(-3 * 90_000, 3 * 90_000))
    return TimedAudio(frame, timestamp, draw(st.integers(0, 9000)))


@fuzz_settings(40)
@given(st.data(), st.sampled_from(list(VideoCodec)), st.booleans())
def test_ts_muxer_skips_what_it_cannot_mux(
    data: st.DataObject, codec: VideoCodec, audio: bool
) -> None:
    """Hostile pictures and audio give TS bytes or are skipped; close always works."""
    muxer = TsMuxer(codec, audio=audio)
    out = b""
    try:
        for unit in data.draw(access_units(codec)):
            out += muxer.mux(unit)
            for _ in range(data.draw(st.integers(0, 2))):
                out += muxer.mux_audio(data.draw(timed_audio(unit.timestamp)))
    except NvrError:
        pass
    finally:
        out += muxer.close()
    assert len(out) % 188 == 0  # whole TS packets only


@fuzz_settings(40)
@given(st.lists(st.tuples(audio_part(), st.integers(-90_000, 90_000)), max_size=8))
@example([(("audio/g.726-32k", b"\x00"), 0), (("audio/g.711", b"\x00\xff"), 0)])
def test_transcoder_returns_frames_or_none(parts: list[tuple[tuple[str, bytes], int]]) -> None:
    """Hostile G.711/G.726 parts give AAC frames or None (skipped), never an exception."""
    transcoder = AacTranscoder(AAC_SAMPLE_RATE)
    timestamp = 0
    for (content_type, body), step in parts:
        try:
            frame = parse_audio_part(content_type, body)
        except MediaFormatError:
            continue
        timestamp += step
        packets = transcoder.transcode(TimedAudio(frame, timestamp, 1800))
        if frame.codec is AudioCodec.AAC_LC:
            assert packets is None  # AAC is copied by the muxer, never transcoded
        for data, _tick in packets or []:
            assert data
    for data, _tick in transcoder.flush():
        assert data


def test_ts_muxer_skips_empty_and_repeated_pictures() -> None:
    """Found by fuzzing: FFmpeg's errors for these escaped ``mux`` into the relay."""
    muxer = TsMuxer(VideoCodec.H264)
    empty = AccessUnit(VideoCodec.H264, 0, True, _START, ParameterSets())
    assert muxer.mux(empty) == b""  # nothing to mux first (FFmpeg: "Invalid data")
    unit = AccessUnit(VideoCodec.H264, 3600, True, _START + _NALS[3], ParameterSets())
    out = muxer.mux(unit)
    assert muxer.mux(unit) == b""  # the same time again (FFmpeg: "Invalid argument")
    assert muxer.skipped_video == 2
    later = AccessUnit(VideoCodec.H264, 7200, False, _START + _NALS[4], ParameterSets())
    out += muxer.mux(later) + muxer.close()
    assert muxer.skipped_video == 2
    assert out
    assert len(out) % 188 == 0


def test_ts_muxer_skips_an_empty_aac_frame() -> None:
    """Found by fuzzing: an empty AAC frame made FFmpeg raise out of ``mux_audio``."""
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    muxer.mux(AccessUnit(VideoCodec.H264, 0, True, _START + _NALS[3], ParameterSets()))
    silent = TimedAudio(AudioFrame(AudioCodec.AAC_LC, b"", AAC_SAMPLE_RATE), 0, 1920)
    assert muxer.mux_audio(silent) == b""
    assert muxer.skipped_audio == 1
    assert len(muxer.close()) % 188 == 0
