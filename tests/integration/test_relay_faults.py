"""The relay with audio, with H.265, and through recorder faults, decoded with PyAV.

Each test reads the relay's MPEG-TS URL directly (faster than HLS) while the
simulator misbehaves, then decodes everything one viewer received: the stream
must go on by itself, and its timestamps must only grow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
import io
import itertools
import time

import aiohttp
import av
import numpy as np
import pytest

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.api.urls import LiveCodec
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator.server import RunningSimulator


class _Viewer:
    """One relay viewer that keeps reading in the background."""

    def __init__(self, url: str) -> None:
        self.data = bytearray()
        self.first_chunk_after: float | None = None
        self._url = url
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        started = time.monotonic()
        async with aiohttp.ClientSession() as session, session.get(self._url) as response:
            assert response.status == 200
            async for chunk in response.content.iter_any():
                if self.first_chunk_after is None:
                    self.first_chunk_after = time.monotonic() - started
                self.data += chunk

    async def wait_for(self, size: int) -> None:
        """Wait (at most 20 s) until ``size`` bytes in all have arrived."""
        async with asyncio.timeout(20):
            while len(self.data) < size:
                if self._task.done():
                    self._task.result()  # raises what ended the read
                    pytest.fail("the relay ended the stream")
                await asyncio.sleep(0.02)

    async def stop(self) -> bytes:
        """Stop reading; return everything received."""
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        return bytes(self.data)


def _decode(data: bytes) -> tuple[list[av.VideoFrame], list[av.AudioFrame]]:
    """Decode every picture and audio frame of a TS capture (cut off at the end)."""
    video: list[av.VideoFrame] = []
    audio: list[av.AudioFrame] = []
    with av.open(io.BytesIO(data), format="mpegts") as container, suppress(av.FFmpegError):
        streams = [container.streams.video[0], *container.streams.audio[:1]]
        for packet in container.demux(streams):
            for frame in packet.decode():
                (video if isinstance(frame, av.VideoFrame) else audio).append(frame)
    return video, audio


async def _until(condition: Callable[[], bool], timeout: float = 20) -> None:  # noqa: ASYNC109
    """Wait until ``condition`` holds (state of the feed or the simulator)."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling another component's state
            await asyncio.sleep(0.02)


def _strictly_growing(values: list[int | None]) -> bool:
    return all(a is not None and b is not None and a < b for a, b in itertools.pairwise(values))


async def _watch_through(
    simulator: RunningSimulator,
    client: NvrClient,
    fault: Callable[[], Awaitable[None]],
) -> list[av.VideoFrame]:
    """Watch camera 1, cause ``fault`` mid-stream, watch on; return the decoded pictures."""
    relay = StreamRelay(client)
    try:
        feed = relay.feed(1)
        viewer = _Viewer(await relay.async_url(1))
        await viewer.wait_for(40_000)
        await fault()
        at_fault = len(viewer.data)
        before = feed.stats.access_units
        # Recovered: the feed reconnected and at least 15 new pictures flowed.
        await _until(lambda: feed.stats.connections >= 2 and feed.stats.access_units >= before + 15)
        received = len(viewer.data)
        await viewer.wait_for(received + 1)  # the viewer got them too
        data = await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()
    video, _audio = await asyncio.to_thread(_decode, data)
    before_fault, _audio = await asyncio.to_thread(_decode, data[:at_fault])
    # Pictures from before and well after the fault, in one viewer's stream.
    assert len(before_fault) >= 3
    assert len(video) >= len(before_fault) + 10
    assert _strictly_growing([f.pts for f in video])
    assert (video[-1].width, video[-1].height) == (320, 180)
    assert simulator.journal.violations == []
    return video


async def test_recovers_from_a_stream_dropped_mid_gop(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The recorder cuts the connection in the middle of a GOP; the viewer stays."""
    # 60 RTP parts is well into the second GOP, inside a picture.
    simulator.simulator.live.faults.drop_after_parts = 60
    simulator.simulator.live.faults.count = 1

    async def dropped() -> None:
        await _until(lambda: simulator.simulator.live.faults.applied >= 1, timeout=10)

    await _watch_through(simulator, client, dropped)
    assert simulator.simulator.live.faults.applied == 1


async def test_recovers_when_the_recorder_forgets_the_uid(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The recorder evicts every UID (as a restart would): a new login, the stream goes on."""

    async def evict() -> None:
        assert simulator.simulator.uids.expire_all() >= 1

    await _watch_through(simulator, client, evict)
    pushes = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert len(pushes) >= 2


async def test_recovers_when_the_camera_comes_back(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The camera drops off the recorder and returns; the viewer's stream resumes."""

    async def disconnect_and_return() -> None:
        assert simulator.simulator.live.disconnect_camera(1) == 1
        await asyncio.sleep(0.3)
        simulator.simulator.channel_states[1] = 1

    await _watch_through(simulator, client, disconnect_and_return)


async def test_h265_end_to_end_through_the_relay(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """With H.265 chosen, the recorder is asked for H265 and the viewer decodes HEVC."""
    relay = StreamRelay(client, lambda _channel: LiveCodec.H265)
    try:
        viewer = _Viewer(await relay.async_url(3))
        await viewer.wait_for(60_000)
        data = await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()
    video, audio = await asyncio.to_thread(_decode, data)
    assert len(video) >= 10
    assert audio == []
    assert _strictly_growing([f.pts for f in video])
    assert (video[0].width, video[0].height) == (320, 180)
    with av.open(io.BytesIO(data), format="mpegts") as container:
        assert container.streams.video[0].codec_context.name == "hevc"
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert len(starts) == 1
    assert "COMP=H265" in starts[0]


async def test_audio_is_muxed_into_the_same_stream(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """With audio on, AUDIO starts after the video on the same UID and the TS has AAC."""
    relay = StreamRelay(client, audio=True)
    try:
        feed = relay.feed(1)
        viewer = _Viewer(await relay.async_url(1))
        # Wait until real audio flows, then take a good second of it.
        await _until(lambda: feed.stats.audio_frames >= 10)
        await viewer.wait_for(len(viewer.data) + 60_000)
        # A viewer joining now starts from the cached GOP, audio included.
        late = _Viewer(await relay.async_url(1))
        await late.wait_for(30_000)
        late_data = await late.stop()
        data = await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()
    with av.open(io.BytesIO(late_data), format="mpegts") as container:
        first = [p.stream.type for p in itertools.islice(container.demux(), 20)]
    assert "audio" in first  # what Home Assistant's worker needs to keep the track
    video, audio = await asyncio.to_thread(_decode, data)
    assert len(video) >= 10
    assert len(audio) >= 20
    assert audio[0].sample_rate == 48_000
    # Not only the silence that fills in before the recorder's audio arrives:
    # the simulator's tone is in there.
    assert max(float(abs(frame.to_ndarray()).max()) for frame in audio) > 0.05
    assert _strictly_growing([f.pts for f in video])
    assert _strictly_growing([f.pts for f in audio])
    # Audio and picture share one clock: both tracks end within a second of each other.
    assert abs(float(video[-1].time or 0) - float(audio[-1].time or 0)) < 1.0
    pushes = simulator.journal.queries(Cgi.PUSH)
    starts = [q for q in pushes if "CMD=START" in q]
    assert [("COMP=AUDIO" in q) for q in starts] == [False, True]  # video first, then audio
    uids = {q.split("UID=")[1].split("&")[0] for q in starts}
    assert len(uids) == 1  # on the same UID
    stops = [q for q in pushes if "CMD=STOP" in q]
    assert sum("COMP=AUDIO" in q for q in stops) <= 1
    assert simulator.journal.violations == []


@pytest.mark.parametrize("codec", ["G711", "G711A", "G726"])
async def test_narrowband_audio_is_transcoded_into_the_same_stream(
    simulator: RunningSimulator, client: NvrClient, codec: str
) -> None:
    """A camera sending G.711 or G.726: the viewer's TS carries it as AAC, in step with video."""
    simulator.config.live_audio_codecs[1] = codec
    relay = StreamRelay(client, audio=True)
    try:
        feed = relay.feed(1)
        viewer = _Viewer(await relay.async_url(1))
        await _until(lambda: feed.stats.audio_frames >= 50)  # a second of 20 ms parts
        await viewer.wait_for(len(viewer.data) + 40_000)
        data = await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()
    with av.open(io.BytesIO(data), format="mpegts") as container:
        track = container.streams.audio[0]
        assert (track.codec_context.name, track.profile) == ("aac", "LC")
    video, audio = await asyncio.to_thread(_decode, data)
    assert len(video) >= 20
    assert {(f.sample_rate, f.layout.nb_channels) for f in audio} == {(48_000, 1)}
    assert _strictly_growing([f.pts for f in video])
    assert _strictly_growing([f.pts for f in audio])
    # The track is gapless from the first picture on and ends with the video.
    video_span = float(video[-1].time or 0) - float(video[0].time or 0)
    assert abs(sum(f.samples for f in audio) / 48_000 - video_span) < 0.5
    assert abs(float(video[-1].time or 0) - float(audio[-1].time or 0)) < 0.5
    # The last second is the simulator's tone of channel 1 (550 Hz), not silence.
    end = float(audio[-1].time or 0)
    tone = np.concatenate([f.to_ndarray()[0] for f in audio if float(f.time or 0) > end - 1.0])
    assert float(np.sqrt(np.mean(tone**2))) > 0.1  # a sine of amplitude 0.3: 0.21
    spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone))))
    assert abs(float(np.argmax(spectrum)) * 48_000 / len(tone) - 550) < 10
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert ["COMP=AUDIO" in q for q in starts] == [False, True]
    assert simulator.journal.violations == []


async def test_refused_audio_leaves_the_video_and_its_uid_alone(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A camera without audio: video plays on, the UID is not renewed, audio is not retried."""
    simulator.simulator.live.faults.refuse_audio = True
    relay = StreamRelay(client, audio=True)
    try:
        feed = relay.feed(1)
        viewer = _Viewer(await relay.async_url(1))
        await _until(lambda: feed.stats.audio_refused == 1)
        await viewer.wait_for(len(viewer.data) + 60_000)
        data = await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()
    assert feed.audio is False
    assert feed.stats.connections == 1
    video, _audio = await asyncio.to_thread(_decode, data)
    assert len(video) >= 10
    assert _strictly_growing([f.pts for f in video])
    # The refusal was not taken for a lost UID: one login for the stream, no renewal.
    assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == 1
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert ["COMP=AUDIO" in q for q in starts] == [False, True]


@pytest.mark.parametrize("codec", [LiveCodec.H264, LiveCodec.H265])
async def test_snapshot_falls_back_to_the_live_keyframe(
    simulator: RunningSimulator, client: NvrClient, codec: LiveCodec
) -> None:
    """Without a JPEG stream, a snapshot is the watched video's keyframe; unwatched, none."""
    simulator.simulator.live.faults.refuse_jpeg = True
    relay = StreamRelay(client, lambda _channel: codec)
    try:
        # Nobody watches: no picture, and the snapshot did not start the video.
        assert await relay.async_snapshot(2, first_wait=1.0) is None
        await _until(lambda: relay.jpeg_feed(2).failing)  # refused, after a re-login
        assert not any("COMP=H26" in q for q in simulator.journal.queries(Cgi.PUSH))
        viewer = _Viewer(await relay.async_url(2))
        await viewer.wait_for(20_000)
        image = await relay.async_snapshot(2, first_wait=1.0)
        await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()
    assert image is not None
    assert image.startswith(b"\xff\xd8")
    with av.open(io.BytesIO(image), format="mjpeg") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)
    # The recorder was asked for JPEG (and refused): the fallback is a fallback.
    assert any("COMP=JPEG" in q for q in simulator.journal.queries(Cgi.PUSH))
