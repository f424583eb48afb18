"""The MPEG-TS muxer's audio track, on the simulator's encoded pictures and AAC frames.

Home Assistant's stream worker keeps an audio track only when an audio packet
shows up among the first 20 packets; against a real recorder the audio stream
starts a pacing interval (3 s) after the video, so the track must be there
before the recorder's audio is.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path
import subprocess
import sys
import textwrap

import av
import pytest

from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioCodec,
    AudioFrame,
    ParameterSets,
    TimedAudio,
    VideoCodec,
    join_annexb,
)
from custom_components.ipro_nvr.live.ts_muxer import TsMuxer
from nvr_simulator.video import H264, H265, VideoFormat, cached_audio_clip, cached_video_clip

_TICKS_PER_PICTURE = 9000  # 10 fps
_SIMULATOR_CODECS = {VideoCodec.H264: H264, VideoCodec.H265: H265}
_DECODER_NAMES = {VideoCodec.H264: "h264", VideoCodec.H265: "hevc"}
_REPO = Path(__file__).resolve().parents[2]


def _pictures(count: int, start: int = 0, codec: VideoCodec = VideoCodec.H264) -> list[AccessUnit]:
    clip = cached_video_clip(_SIMULATOR_CODECS[codec], 1, VideoFormat())
    return [
        AccessUnit(
            codec=codec,
            timestamp=start + index * _TICKS_PER_PICTURE,
            keyframe=clip.pictures[index % len(clip.pictures)].keyframe,
            data=join_annexb(clip.pictures[index % len(clip.pictures)].nals),
            parameter_sets=ParameterSets(),
        )
        for index in range(count)
    ]


def _packets(data: bytes) -> list[tuple[str, int]]:
    """(track type, dts) of every packet of a TS capture, in file order."""
    with av.open(io.BytesIO(data), format="mpegts") as container:
        if container.streams.audio:
            assert container.streams.audio[0].profile == "LC"  # Home Assistant requires one
        return [(p.stream.type, p.dts) for p in container.demux() if p.size and p.dts is not None]


def test_audio_track_shows_up_before_the_recorders_audio_does() -> None:
    """Three seconds of video without audio: silence fills the track from the start."""
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    origin = 123_456_789
    chunks = [muxer.mux(unit) for unit in _pictures(30, origin)]
    # The interleaver may hold a picture back while waiting for audio, but
    # not for long: output flows picture by picture.
    assert sum(1 for chunk in chunks if chunk) >= 25
    clip = cached_audio_clip(1)
    late = origin + 30 * _TICKS_PER_PICTURE - 45_000  # the recorder's audio, half a second old
    for index, frame in enumerate(clip.frames[:20]):
        chunks.append(
            muxer.mux_audio(
                TimedAudio(AudioFrame(AudioCodec.AAC_LC, frame, 48_000), late + index * 1920, 1920)
            )
        )
    chunks.append(muxer.close())
    packets = _packets(b"".join(chunks))
    assert "audio" in [kind for kind, _dts in packets[:20]]
    for kind in ("video", "audio"):
        times = [dts for track, dts in packets if track == kind]
        assert all(a < b for a, b in itertools.pairwise(times)), kind
    # Silence up to the last picture, then the recorder's 20 frames.
    assert sum(1 for kind, _dts in packets if kind == "audio") > 100


def test_without_audio_there_is_no_audio_track() -> None:
    """Audio off: video only, nothing held back."""
    muxer = TsMuxer(VideoCodec.H264)
    chunks = [muxer.mux(unit) for unit in _pictures(10)]
    assert all(chunks[1:])
    packets = _packets(b"".join([*chunks, muxer.close()]))
    assert {kind for kind, _dts in packets} == {"video"}


@pytest.mark.parametrize("codec", [VideoCodec.H264, VideoCodec.H265])
def test_no_encoder_is_opened(codec: VideoCodec, capfd: pytest.CaptureFixture[str]) -> None:
    """The muxer copies encoded packets: no codec of its streams is an encoder.

    An encoder per viewer (libx264/libx265) cost memory, threads and CPU, and
    libx265 printed its banner and "encoded 0 frames" on the console (file
    descriptor 2, past Python's logging) for every H.265 viewer.
    """
    muxer = TsMuxer(codec, audio=True)
    chunks = [muxer.mux(unit) for unit in _pictures(10, codec=codec)]
    contexts = [stream.codec_context for stream in muxer._container.streams]
    assert [context.type for context in contexts] == ["video", "audio"]
    assert not any(context.is_encoder for context in contexts)
    # The AAC encoder of G.711/G.726 audio opens only when such audio arrives.
    assert muxer._transcoder is not None
    assert not muxer._transcoder.encoder_open
    chunks.append(muxer.close())
    assert "x265" not in capfd.readouterr().err
    data = b"".join(chunks)
    with av.open(io.BytesIO(data), format="mpegts") as container:
        assert container.streams.video[0].codec_context.name == _DECODER_NAMES[codec]
        assert sum(1 for _frame in container.decode(video=0)) == 10
    with av.open(io.BytesIO(data), format="mpegts") as container:
        assert sum(1 for _frame in container.decode(audio=0)) > 0


# Muxers of both codecs, with and without audio (copied AAC, transcoded
# G.711 with its decoder and encoder open), dropped without close().
_DROP_SCRIPT = textwrap.dedent(
    """
    import gc

    from custom_components.ipro_nvr.api.media import TimedAudio
    from custom_components.ipro_nvr.api.media import AudioCodec, AudioFrame, VideoCodec
    from custom_components.ipro_nvr.live.ts_muxer import TsMuxer, silent_aac_frame
    from tests.integration.test_ts_muxer import _pictures

    TsMuxer(VideoCodec.H264, audio=True)  # nothing muxed
    gc.collect()
    aac = AudioFrame(AudioCodec.AAC_LC, silent_aac_frame(), 48_000)
    g711 = AudioFrame(AudioCodec.G711, bytes(range(256)) * 3, 8000)
    for codec in (VideoCodec.H264, VideoCodec.H265):
        for audio in (None, aac, g711):
            muxer = TsMuxer(codec, audio=audio is not None)
            for unit in _pictures(10, codec=codec):
                muxer.mux(unit)
                if audio is not None:
                    muxer.mux_audio(TimedAudio(audio, unit.timestamp, 8640))
            if audio is g711:
                assert muxer._transcoder.encoder_open
            del muxer
            gc.collect()
    print("survived", flush=True)
    """
)


def test_dropping_an_unclosed_muxer_is_safe() -> None:
    """A muxer dropped without close() must not take the process down.

    PyAV frees an unclosed output container's I/O context (when the cycle
    collector clears it) before the container's own finalizer writes the
    trailer through it: a segfault or glibc's "corrupted size vs. prev_size".
    It runs in a child process, since the failure is a crash.
    """
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _DROP_SCRIPT],
        cwd=_REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "survived"
