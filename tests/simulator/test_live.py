"""Live streams over HTTP, end to end: push.cgi through the client's multipart reader and
depacketizer, then decoded with PyAV.

The simulator runs on a fake monotonic clock (UID lifetimes) but streams in real
time, so each test reads about a second of video at most.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from contextlib import AsyncExitStack, aclosing
import datetime as dt
import itertools

import aiohttp
import av
import numpy as np
import pytest

from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioCodec,
    AudioFrame,
    JpegFrame,
    LiveDepacketizer,
    LiveItem,
    MultipartReader,
    aac_audio_specific_config,
    iter_live_body,
)
from custom_components.ipro_nvr.api.spec import Cgi, Lane, RecorderCodec, RecorderStatus
from nvr_simulator import FakeClock, SimulatorConfig, run_simulator
from nvr_simulator.live import EndReason
from nvr_simulator.server import RunningSimulator
from nvr_simulator.video import VideoFormat, cached_video_clip, channel_colour, code_blocks

from .conftest import WALL_START
from .helpers import PASSWORD, USERNAME, get, login

FMT = VideoFormat()  # what the default SimulatorConfig streams


def push(uid: str, cam: int, comp: str, cmd: str = "START") -> str:
    """The push.cgi target as the spec writes it (STOP without INTERNETMODE)."""
    mode = "&INTERNETMODE=ON" if cmd == "START" else ""
    return f"/cgi-bin/push.cgi?UID={uid}&CAM={cam}&CMD={cmd}&COMP={comp}{mode}"


async def live_uid(client: aiohttp.ClientSession) -> str:
    """Log in and set the UID up for live streaming (hdrctl SCREEN=16X)."""
    uid = await login(client)
    status, body = await get(client, f"/cgi-bin/hdrctl.cgi?UID={uid}&SCREEN=16X&PC=AS60")
    assert status == 200, body
    return uid


async def read(
    response: aiohttp.ClientResponse,
    *,
    seconds: float | None = None,
    count: int | None = None,
    live: LiveDepacketizer | None = None,
    reader: MultipartReader | None = None,
    limit: float = 5.0,
) -> list[LiveItem]:
    """Read items until ``seconds`` after the first one, ``count`` items, or the body's end."""
    items: list[LiveItem] = []
    loop = asyncio.get_running_loop()
    first: float | None = None
    async with (
        asyncio.timeout(limit),
        aclosing(
            iter_live_body(response.content.iter_any(), reader=reader, depacketizer=live)
        ) as stream,
    ):
        async for item in stream:
            items.append(item)
            first = loop.time() if first is None else first
            if seconds is not None and loop.time() - first >= seconds:
                break
            if count is not None and len(items) >= count:
                break
    return items


def decode(codec: str, units: list[AccessUnit]) -> list[av.VideoFrame]:
    context = av.CodecContext.create("h264" if codec == "H264" else "hevc", "r")
    frames: list[av.VideoFrame] = []
    for unit in units:
        frames += context.decode(av.Packet(unit.data))
    frames += context.decode(None)
    return frames


def channel_in_picture(image: np.ndarray) -> int:
    """Read the channel number from the blocks along the top of a decoded picture."""
    value = 0
    for left, top, size in code_blocks(FMT):
        centre = image[
            top + size // 4 : top + 3 * size // 4, left + size // 4 : left + 3 * size // 4
        ]
        value = value << 1 | int(centre.mean() > 128)
    return value


@pytest.mark.parametrize(("codec", "channel"), [("H264", 5), ("H265", 3)])
async def test_video_stream_decodes(
    sim: RunningSimulator, client: aiohttp.ClientSession, codec: str, channel: int
) -> None:
    uid = await live_uid(client)
    live = LiveDepacketizer()
    reader = MultipartReader()
    async with client.get(push(uid, channel, codec)) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=myboundary"
        assert sim.simulator.live.active_per_channel() == {channel: 1}
        items = await read(response, seconds=1.0, live=live, reader=reader)
    units = [i for i in items if isinstance(i, AccessUnit)]
    assert len(units) == len(items)
    # Real time: one picture at once, then ten per second.
    assert 9 <= len(units) <= 13
    assert units[0].keyframe
    assert [b.timestamp - a.timestamp for a, b in itertools.pairwise(units)] == [9000] * (
        len(units) - 1
    )
    # Byte-exact over HTTP too: the stream starts at the first picture of the loop.
    clip = cached_video_clip(codec, channel, FMT)
    assert [u.data for u in units] == [p.annexb for p in clip.pictures[: len(units)]]
    assert live.stats.video.lost_packets == 0
    assert reader.stats.garbage_bytes == 0
    # Recorder information in the header extension.
    info = units[1].info
    assert info is not None
    assert info.channel == channel
    assert info.codec == (RecorderCodec.H264 if codec == "H264" else RecorderCodec.H265)
    assert info.status is RecorderStatus.LIVE
    assert info.frame_rate == 10.0
    assert info.time == WALL_START + dt.timedelta(seconds=0.1)
    assert info.utc_offset == dt.timedelta(hours=9)
    # Decodable, at the encoded size, showing the channel and the motion.
    frames = decode(codec, units)
    assert len(frames) == len(units)
    assert {(f.width, f.height) for f in frames} == {(320, 180)}
    images = [f.to_ndarray(format="rgb24") for f in frames]
    assert {channel_in_picture(i) for i in images} == {channel}
    corner = images[0][-30:-10, 10:60].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - np.array(channel_colour(channel))).max() < 30
    middle = [i[80:100].astype(int) for i in images[:5]]
    assert all(np.abs(a - b).mean() > 1 for a, b in itertools.pairwise(middle))
    # Leaving the loop closed the connection: the recorder notices at its next picture.
    await _until(lambda: not sim.simulator.live.streams)
    assert sim.simulator.live.ended[0].end_reason is EndReason.CLIENT_GONE


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (at most 2 s) until the simulator's state satisfies ``condition``."""
    async with asyncio.timeout(2.0):
        while not condition():  # noqa: ASYNC110 - polling another component's state
            await asyncio.sleep(0.02)


async def test_jpeg_stream(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    uid = await live_uid(client)
    async with client.get(push(uid, 2, "JPEG")) as response:
        assert response.status == 200
        items = await read(response, count=3)
    assert all(isinstance(i, JpegFrame) for i in items)
    frames = [i for i in items if isinstance(i, JpegFrame)]
    for frame in frames:
        assert frame.blocks == 2
        assert frame.info is not None
        assert frame.info.channel == 2
        assert frame.camera_info is not None
        assert frame.camera_info.camera_time is not None
        (picture,) = av.CodecContext.create("mjpeg", "r").decode(av.Packet(frame.data))
        assert (picture.width, picture.height) == (320, 180)
    assert channel_in_picture(picture.to_ndarray(format="rgb24")) == 2


async def test_jpeg_length_not_counting_itself(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    sim.config.live_jpeg_length_counts_itself = False
    sim.config.live_jpeg_camera_block = False
    uid = await live_uid(client)
    async with client.get(push(uid, 1, "JPEG")) as response:
        (frame,) = await read(response, count=1)
    assert isinstance(frame, JpegFrame)
    assert frame.blocks == 1
    assert frame.info is not None
    assert frame.info.channel == 1


async def test_audio_needs_video_first(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    uid = await live_uid(client)
    status, _ = await get(client, push(uid, 1, "AUDIO"))
    assert status == 409
    async with AsyncExitStack() as stack:
        video = await stack.enter_async_context(client.get(push(uid, 1, "H264")))
        assert video.status == 200
        # Audio of another camera is still refused: the video must be of the same camera.
        assert (await get(client, push(uid, 2, "AUDIO")))[0] == 409
        audio = await stack.enter_async_context(client.get(push(uid, 1, "AUDIO")))
        assert audio.status == 200
        assert (await get(client, push(uid, 1, "AUDIO")))[0] == 409  # one audio stream
        items = await read(audio, seconds=0.5)
    frames = [i for i in items if isinstance(i, AudioFrame)]
    assert len(frames) == len(items)
    # Real time: 48000 / 1024 frames per second.
    assert 20 <= len(frames) <= 30
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = aac_audio_specific_config(frames[0].sample_rate)
    samples = sum(d.samples for f in frames for d in decoder.decode(av.Packet(f.data)))
    assert samples >= (len(frames) - 1) * 1024


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    """The frequency (Hz) of the strongest component of ``samples``."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum)) * rate / len(samples)


def tone_share(samples: np.ndarray, rate: int, frequency: float) -> float:
    """The share of the energy of ``samples`` within 10 Hz of ``frequency``."""
    power = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    hertz = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(power[np.abs(hertz - frequency) <= 10].sum() / power.sum())


# Simulator codec, the codec the client reads from the content type, FFmpeg's decoder.
_NARROWBAND = [
    ("G711", AudioCodec.G711, "pcm_mulaw"),
    ("G711A", AudioCodec.G711_ALAW, "pcm_alaw"),
    ("G726", AudioCodec.G726, "adpcm_g726le"),
]


@pytest.mark.parametrize(("codec", "parsed", "decoder_name"), _NARROWBAND)
async def test_narrowband_audio(
    sim: RunningSimulator,
    client: aiohttp.ClientSession,
    codec: str,
    parsed: AudioCodec,
    decoder_name: str,
) -> None:
    """A camera set to G.711/G.726 sends it in real time, 20 ms a part; others stay AAC."""
    sim.config.live_audio_codecs = {2: codec}
    uid = await live_uid(client)
    async with AsyncExitStack() as stack:
        for channel in (1, 2):
            video = await stack.enter_async_context(client.get(push(uid, channel, "H264")))
            assert video.status == 200
        other = await stack.enter_async_context(client.get(push(uid, 1, "AUDIO")))
        (aac,) = await read(other, count=1)
        audio = await stack.enter_async_context(client.get(push(uid, 2, "AUDIO")))
        assert audio.status == 200
        items = await read(audio, seconds=1.0)
    assert isinstance(aac, AudioFrame)
    assert aac.codec is AudioCodec.AAC_LC
    frames = [i for i in items if isinstance(i, AudioFrame)]
    assert len(frames) == len(items)
    assert {(f.codec, f.sample_rate) for f in frames} == {(parsed, 8000)}
    per_part = 80 if codec == "G726" else 160  # 20 ms at 32 or 64 kbit/s
    assert {len(f.data) for f in frames} == {per_part}
    assert 45 <= len(frames) <= 60  # real time: one part at once, then 50 a second
    decoder = av.CodecContext.create(decoder_name, "r")
    decoder.sample_rate = 8000
    decoder.layout = "mono"
    decoder.options = {"bits_per_coded_sample": "4"} if codec == "G726" else {}
    pcm = np.concatenate(
        [d.to_ndarray()[0] for f in frames for d in decoder.decode(av.Packet(f.data))]
    )
    assert len(pcm) == 160 * len(frames)
    tone = pcm[-8000:].astype(np.float64) / 32768
    assert 0.15 < np.sqrt(np.mean(tone**2)) < 0.25  # a sine of amplitude 0.3
    assert abs(dominant_frequency(tone, 8000) - 660) < 5  # channel 2's tone
    assert tone_share(tone, 8000, 660) > 0.99
    if codec == "G726":
        # The other packing (ITU-T I.366.2, FFmpeg's adpcm_g726) distorts the tone.
        wrong = av.CodecContext.create("adpcm_g726", "r")
        wrong.sample_rate = 8000
        wrong.layout = "mono"
        wrong.options = {"bits_per_coded_sample": "4"}
        noise = np.concatenate(
            [d.to_ndarray()[0] for f in frames for d in wrong.decode(av.Packet(f.data))]
        )
        assert tone_share(noise[-8000:].astype(np.float64), 8000, 660) < 0.95


async def test_per_uid_rules_and_errors(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    live = sim.simulator.live
    uid = await login(client)
    assert (await get(client, push(uid, 1, "H264")))[0] == 409  # no hdrctl SCREEN=16X yet
    assert not live.is_set_up(uid)
    uid = await live_uid(client)
    other = await live_uid(client)
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(client.get(push(uid, 1, "H264")))
        assert first.status == 200
        # One video stream per camera per UID, whatever the codec; the first goes on.
        for comp in ("H264", "H265", "JPEG"):
            assert (await get(client, push(uid, 1, comp)))[0] == 409
        second_camera = await stack.enter_async_context(client.get(push(uid, 2, "H265")))
        assert second_camera.status == 200
        # Another UID may watch the same camera: two viewers of channel 1.
        other_viewer = await stack.enter_async_context(client.get(push(other, 1, "JPEG")))
        assert other_viewer.status == 200
        assert live.active_per_channel() == {1: 2, 2: 1}
        assert [s.comp for s in live.active(channel=1)] == ["H264", "JPEG"]
        assert len(await read(first, count=2)) == 2
    assert live.started_total == 3
    assert live.refused_total == 4


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("CAM=9&CMD=START&COMP=H264&INTERNETMODE=ON", 400),  # 8 cameras
        ("CAM=4&CMD=START&COMP=H264&INTERNETMODE=ON", 503),  # channel 4: connection error
        ("CAM=1&CMD=START&COMP=MPEG4&INTERNETMODE=ON", 400),
        ("CAM=1&CMD=START&COMP=H264&INTERNETMODE=OFF", 400),
        ("CAM=1&CMD=START&COMP=H264", 400),
        ("CAM=1&CMD=START&COMP=JPEG&PORT=5000", 400),  # JPEG is not offered over RTP
        ("CAM=1&CMD=START&COMP=H264&PORT=0", 400),
        ("CAM=1&CMD=START&COMP=H264&INTERNETMODE=ON&PORT=5000", 400),
        ("CAM=1&CMD=PAUSE&COMP=H264", 400),
        ("CAM=x&CMD=START&COMP=H264&INTERNETMODE=ON", 400),
    ],
)
async def test_push_refusals(
    sim: RunningSimulator, client: aiohttp.ClientSession, query: str, status: int
) -> None:
    uid = await live_uid(client)
    assert (await get(client, f"/cgi-bin/push.cgi?UID={uid}&{query}"))[0] == status
    assert sim.simulator.live.streams == []
    assert (await get(client, f"/cgi-bin/push.cgi?UID=123&{query}"))[0] == 403


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("SCREEN=16X&PC=AS60", 200),
        ("SCREEN=4X&PC=AS60", 400),
        ("SCREEN=16X", 400),
        ("SCREEN=16X&PC=AS60&MASK=1", 400),
        ("PC=AS60&MASK=1000", 400),  # playback (nvr_simulator.playback): one digit a channel
    ],
)
async def test_hdrctl_live_setup(
    sim: RunningSimulator, client: aiohttp.ClientSession, query: str, status: int
) -> None:
    uid = await login(client)
    assert (await get(client, f"/cgi-bin/hdrctl.cgi?UID={uid}&{query}"))[0] == status
    assert sim.simulator.live.is_set_up(uid) is (status == 200)


async def test_stop_ends_the_stream(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    live = sim.simulator.live
    uid = await live_uid(client)
    assert (await get(client, push(uid, 1, "H264", "STOP")))[0] == 200  # nothing to stop
    assert live.unmatched_stops == 1
    async with client.get(push(uid, 1, "H264")) as response:
        assert len(await read(response, count=2)) == 2
        assert (await get(client, push(uid, 1, "H265", "STOP")))[0] == 200  # another COMP
        assert live.active_per_channel() == {1: 1}
        assert (await get(client, push(uid, 1, "H264", "STOP")))[0] == 200
        rest = await read(response, limit=1.0)  # ends by itself: the body is complete
        assert len(rest) <= 1
    assert [s.end_reason for s in live.ended] == [EndReason.STOPPED]
    assert live.streams == []
    # START and STOP are commands; the body itself is not journaled again.
    pushes = sim.journal.by_cgi(Cgi.PUSH)
    assert len(pushes) == 4
    assert {e.lane for e in pushes} == {Lane.COMMAND}


@pytest.mark.parametrize("how", ["expire", "logout", "evict"])
async def test_stream_ends_with_its_uid(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock, how: str
) -> None:
    uid = await live_uid(client)
    async with client.get(push(uid, 1, "H265")) as response:
        assert len(await read(response, count=1)) == 1
        if how == "expire":
            clock.advance(90.0)
        elif how == "logout":
            assert (await get(client, f"/cgi-bin/logout.cgi?UID={uid}"))[0] == 200
        else:
            sim.faults.expire_uids()
        await read(response, limit=1.0)
    assert [s.end_reason for s in sim.simulator.live.ended] == [EndReason.UID_GONE]


@pytest.mark.parametrize("how", ["disconnect_camera", "channel_state"])
async def test_stream_ends_when_the_camera_disconnects(
    sim: RunningSimulator, client: aiohttp.ClientSession, how: str
) -> None:
    live = sim.simulator.live
    uid = await live_uid(client)
    async with AsyncExitStack() as stack:
        video = await stack.enter_async_context(client.get(push(uid, 1, "H264")))
        audio = await stack.enter_async_context(client.get(push(uid, 1, "AUDIO")))
        untouched = await stack.enter_async_context(client.get(push(uid, 2, "JPEG")))
        assert {video.status, audio.status, untouched.status} == {200}
        assert len(await read(video, count=1)) == 1
        if how == "disconnect_camera":
            assert live.disconnect_camera(1) == 2
        else:
            sim.simulator.channel_states[1] = 2
        await read(video, limit=1.0)
        await read(audio, limit=1.0)
        assert live.active_per_channel() == {2: 1}
        assert (await get(client, push(uid, 1, "H264")))[0] == 503
    reasons = {s.comp: s.end_reason for s in live.ended}
    assert reasons["H264"] is EndReason.CAMERA_DISCONNECTED
    assert reasons["AUDIO"] is EndReason.CAMERA_DISCONNECTED


async def test_stream_ends_when_the_simulator_closes() -> None:
    config = SimulatorConfig(username=USERNAME, password=PASSWORD)
    middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
    loop = asyncio.get_running_loop()
    simulator_stack = AsyncExitStack()
    nvr = await simulator_stack.enter_async_context(run_simulator(config))
    try:
        async with aiohttp.ClientSession(base_url=nvr.url, middlewares=(middleware,)) as client:
            uid = await live_uid(client)
            async with client.get(push(uid, 1, "H264")) as response:
                assert len(await read(response, count=1)) == 1
                closing = loop.time()
                shutdown = asyncio.create_task(simulator_stack.aclose())
                # The body ends (a TimeoutError here would fail the test); aiohttp may
                # also see the connection close under it.
                with contextlib.suppress(aiohttp.ClientError):
                    await read(response, limit=2.0)
                await shutdown
    finally:
        await simulator_stack.aclose()
    assert loop.time() - closing < 1.5
    assert [s.end_reason for s in nvr.simulator.live.ended] == [EndReason.CLOSED]


async def test_client_disconnect_frees_the_camera(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    live = sim.simulator.live
    uid = await live_uid(client)
    async with client.get(push(uid, 1, "JPEG")) as response:
        assert len(await read(response, count=1)) == 1
    await _until(lambda: not live.streams)
    assert live.ended[0].end_reason is EndReason.CLIENT_GONE
    async with client.get(push(uid, 1, "JPEG")) as response:
        assert response.status == 200


async def test_fault_drops_the_stream_mid_gop(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    sim.config.live_mtu = 300  # P pictures span several packets too
    uid = await live_uid(client)
    # How many packets the first (IDR) picture takes, from an undisturbed stream.
    probe = LiveDepacketizer()
    async with client.get(push(uid, 1, "H264")) as response:
        assert len(await read(response, count=1, live=probe)) == 1
    assert (await get(client, push(uid, 1, "H264", "STOP")))[0] == 200
    await _until(lambda: not sim.simulator.live.streams)
    clip = cached_video_clip("H264", 1, FMT)
    # P pictures take 3 or more packets of 300 bytes, so 5 more parts end inside one.
    assert min(len(p.annexb) for p in clip.pictures[1:4]) > 2 * 300
    cut = probe.stats.parts + 5
    live_faults = sim.simulator.live.faults
    live_faults.drop_after_parts = cut
    live_faults.count = 1
    depacketizer = LiveDepacketizer()
    items: list[LiveItem] = []

    async def read_into_items(response: aiohttp.ClientResponse) -> None:
        async with aclosing(
            iter_live_body(response.content.iter_any(), depacketizer=depacketizer)
        ) as stream:
            # One at a time: the items before the cut must survive the error.
            async for item in stream:
                items.append(item)  # noqa: PERF401

    async with client.get(push(uid, 1, "H264")) as response:
        with pytest.raises(aiohttp.ClientPayloadError):
            await asyncio.wait_for(read_into_items(response), 5.0)
    assert depacketizer.stats.parts == cut
    dropped = sim.simulator.live.ended[-1]
    assert (dropped.end_reason, dropped.parts) == (EndReason.DROPPED, cut)
    assert live_faults.applied == 1
    # Every whole picture sent is delivered, exactly; the one cut short is not.
    assert 2 <= len(items) == dropped.pictures < 5
    assert [i.data for i in items if isinstance(i, AccessUnit)] == [
        p.annexb for p in clip.pictures[: len(items)]
    ]
    # count=1: the next stream is not cut.
    async with client.get(push(uid, 1, "H264")) as response:
        assert len(await read(response, count=12)) == 12


async def test_rtp_wrap_over_http(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    sim.config.live_initial_sequence = 65530
    sim.config.live_initial_timestamp = (1 << 32) - 9000 * 3
    uid = await live_uid(client)
    depacketizer = LiveDepacketizer()
    async with client.get(push(uid, 6, "H265")) as response:
        items = await read(response, count=7, live=depacketizer)
    units = [i for i in items if isinstance(i, AccessUnit)]
    assert [u.timestamp for u in units] == [(1 << 32) + 9000 * (i - 3) for i in range(7)]
    clip = cached_video_clip("H265", 6, FMT)
    assert [u.data for u in units] == [p.annexb for p in clip.pictures[:7]]
    assert depacketizer.stats.video.lost_packets == 0
    assert depacketizer.stats.video.late_packets == 0


async def test_rtp_over_udp(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    """push.cgi with PORT (spec 2.1): 200 at once, then datagrams to that port from the
    recorder's address; the same rules as over HTTP; STOP ends the stream."""
    loop = asyncio.get_running_loop()
    received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    class Collect(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            received.put_nowait((data, addr))

    transport, _ = await loop.create_datagram_endpoint(Collect, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        uid = await live_uid(client)
        udp = f"/cgi-bin/push.cgi?UID={uid}&CAM=1&CMD=START&COMP=%s&PORT={port}"
        assert (await get(client, udp % "AUDIO"))[0] == 409  # audio after video, as over HTTP
        status, body = await get(client, udp % "H264")
        assert status == 200, body
        (stream,) = sim.simulator.live.active()
        assert stream.port == port
        assert (await get(client, udp % "H264"))[0] == 409  # one video stream per camera
        assert (await get(client, udp % "AUDIO"))[0] == 200
        kinds: set[int] = set()
        async with asyncio.timeout(5):
            while kinds != {97, 98}:
                data, addr = await received.get()
                assert addr[0] == "127.0.0.1"
                assert data[0] >> 6 == 2
                kinds.add(data[1] & 0x7F)
        for comp in ("AUDIO", "H264"):
            stop = f"/cgi-bin/push.cgi?UID={uid}&CAM=1&CMD=STOP&COMP={comp}&PORT={port}"
            assert (await get(client, stop))[0] == 200
        await _until(lambda: not sim.simulator.live.streams)
        assert {s.end_reason for s in sim.simulator.live.ended} == {EndReason.STOPPED}
    finally:
        transport.close()
