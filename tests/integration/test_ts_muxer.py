"""The MPEG-TS muxer's audio track, on the simulator's encoded pictures and AAC frames.

Home Assistant's stream worker keeps an audio track only when an audio packet
shows up among the first 20 packets; against a real recorder the audio stream
starts a pacing interval (3 s) after the video, so the track must be there
before the recorder's audio is.
"""

from __future__ import annotations

import io
import itertools

import av

from custom_components.ipro_nvr.api.live_feed import TimedAudio
from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioCodec,
    AudioFrame,
    ParameterSets,
    VideoCodec,
    join_annexb,
)
from custom_components.ipro_nvr.ts_muxer import TsMuxer
from nvr_simulator.video import H264, VideoFormat, cached_audio_clip, cached_video_clip

_TICKS_PER_PICTURE = 9000  # 10 fps


def _pictures(count: int, start: int = 0) -> list[AccessUnit]:
    clip = cached_video_clip(H264, 1, VideoFormat())
    return [
        AccessUnit(
            codec=VideoCodec.H264,
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


def test_audio_the_track_cannot_carry_is_skipped() -> None:
    """G.711 has no place in the AAC track (no re-encoding): counted, not muxed."""
    muxer = TsMuxer(VideoCodec.H264, audio=True)
    muxer.mux(_pictures(1)[0])
    g711 = TimedAudio(AudioFrame(AudioCodec.G711, b"\xff" * 160, 8000), 100, 1800)
    assert muxer.mux_audio(g711) == b""
    assert muxer.skipped_audio == 1
    muxer.close()


def test_without_audio_there_is_no_audio_track() -> None:
    """Audio off: video only, nothing held back."""
    muxer = TsMuxer(VideoCodec.H264)
    chunks = [muxer.mux(unit) for unit in _pictures(10)]
    assert all(chunks[1:])
    packets = _packets(b"".join([*chunks, muxer.close()]))
    assert {kind for kind, _dts in packets} == {"video"}
