"""Live streams as RTP over UDP (spec 2.1) from the simulator to the client's receiver.

Real datagrams on 127.0.0.1: the simulator sends to the port the START names;
the receiver reorders, depacketizes and hands out pictures and audio frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
import itertools
import logging
import socket

import av
import numpy as np
import pytest

from custom_components.ipro_nvr.api import NvrClient, urls
from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    AudioCodec,
    AudioFrame,
    LiveItem,
    aac_audio_specific_config,
    iter_live_body,
)
from custom_components.ipro_nvr.api.session import Lease, UidPurpose
from custom_components.ipro_nvr.api.udp_live import (
    NoUdpDataError,
    UdpLiveConnection,
    UdpSettings,
)
from custom_components.ipro_nvr.api.udp_receiver import (
    RtpUdpReceiver,
    UdpPortUnavailableError,
    local_address_towards,
)
from custom_components.ipro_nvr.api.urls import LiveCodec
from nvr_simulator.server import RunningSimulator
from nvr_simulator.video import VideoFormat, cached_audio_clip, cached_video_clip

FMT = VideoFormat()  # what the default SimulatorConfig streams
LOOPBACK = "127.0.0.1"


def _free_ports(count: int) -> range:
    """A run of ``count`` ports that were free a moment ago (the kernel picks the start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        start = int(probe.getsockname()[1])
    return range(start, start + count)


@asynccontextmanager
async def _receiver(**options: object) -> AsyncIterator[RtpUdpReceiver]:
    receiver = RtpUdpReceiver(sources={LOOPBACK}, **options)  # type: ignore[arg-type]
    await receiver.bind(LOOPBACK, range(40000, 40100))
    try:
        yield receiver
    finally:
        await receiver.aclose()


@asynccontextmanager
async def _streaming(
    client: NvrClient, channel: int, port: int, *comps: LiveCodec
) -> AsyncIterator[Lease]:
    """START the given streams to ``port`` on a live UID; STOP them on the way out."""
    async with client.lease(UidPurpose.LIVE, channel=channel) as lease:
        for comp in comps:
            await client.send_on(lease, urls.live_start(channel, comp, rtp_port=port))
        try:
            yield lease
        finally:
            for comp in reversed(comps):
                await client.send_on(lease, urls.live_stop(channel, comp, rtp_port=port))


async def _read(
    receiver: RtpUdpReceiver, *, video: int = 0, audio: int = 0, limit: float = 10.0
) -> list[LiveItem]:
    """Read until ``video`` pictures and ``audio`` frames came."""
    items: list[LiveItem] = []
    async with asyncio.timeout(limit), aclosing(receiver.items(idle_timeout=5.0)) as stream:
        async for item in stream:
            items.append(item)
            pictures = sum(isinstance(i, AccessUnit) for i in items)
            frames = sum(isinstance(i, AudioFrame) for i in items)
            if pictures >= video and frames >= audio:
                break
    return items


def _decode(codec: LiveCodec, units: list[AccessUnit]) -> list[np.ndarray]:
    context = av.CodecContext.create("h264" if codec is LiveCodec.H264 else "hevc", "r")
    frames = [f for u in units for f in context.decode(av.Packet(u.data))]
    frames += context.decode(None)
    return [f.to_ndarray(format="rgb24") for f in frames]


@pytest.mark.parametrize(("codec", "channel"), [(LiveCodec.H264, 5), (LiveCodec.H265, 3)])
async def test_udp_stream_shows_the_same_pictures_as_http(
    simulator: RunningSimulator, client: NvrClient, codec: LiveCodec, channel: int
) -> None:
    # The same stream over HTTP first...
    async with client.lease(UidPurpose.LIVE, channel=channel) as lease:
        http_units: list[AccessUnit] = []
        async with (
            client.stream(urls.live_start(channel, codec), lease=lease) as response,
            aclosing(iter_live_body(response.content.iter_any())) as items,
        ):
            async for item in items:
                assert isinstance(item, AccessUnit)
                http_units.append(item)
                if len(http_units) == 12:
                    break
    # ...then over UDP.
    async with _receiver() as receiver, _streaming(client, channel, receiver.port or 0, codec):
        assert simulator.simulator.live.active()[0].port == receiver.port
        items = await _read(receiver, video=12)
    units = [i for i in items if isinstance(i, AccessUnit)]
    assert units[0].keyframe
    assert [u.data for u in units] == [u.data for u in http_units]
    clip = cached_video_clip(codec.value, channel, FMT)
    assert [u.data for u in units] == [p.annexb for p in clip.pictures[:12]]
    assert all(b.timestamp - a.timestamp == 9000 for a, b in itertools.pairwise(units))
    assert units[1].info is not None
    assert units[1].info.channel == channel
    via_udp, via_http = _decode(codec, units), _decode(codec, http_units)
    assert len(via_udp) == 12
    assert all(np.array_equal(a, b) for a, b in zip(via_udp, via_http, strict=True))
    stats = receiver.stats
    assert stats.live.video.lost_packets == 0
    assert stats.malformed == 0
    # STOP ended the simulator's stream.
    assert simulator.simulator.live.active() == []


async def test_reordered_datagrams_give_pictures_in_order(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    faults = simulator.simulator.live_udp.faults
    faults.reorder = 0.3
    faults.reorder_depth = 2
    # A generous window: a loaded test machine may stall the loop a little.
    async with (
        _receiver(jitter_delay=0.5) as receiver,
        _streaming(client, 1, receiver.port or 0, LiveCodec.H264),
    ):
        items = await _read(receiver, video=15)
    assert faults.reordered > 0
    units = [i for i in items if isinstance(i, AccessUnit)]
    clip = cached_video_clip("H264", 1, FMT)
    assert [u.data for u in units] == [p.annexb for p in clip.pictures[:15]]
    stats = receiver.stats
    assert stats.video_jitter.held > 0
    assert stats.video_jitter.skipped == 0
    assert stats.live.video.lost_packets == 0
    assert stats.live.video.late_packets == 0
    assert len(_decode(LiveCodec.H264, units)) == 15


async def test_lost_datagrams_are_concealed(
    simulator: RunningSimulator, client: NvrClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Every 40th datagram lost (a GOP is about 50): damaged pictures are dropped up to
    the next keyframe; what is handed out decodes, in order; stray garbage is a typed
    error, logged once."""
    simulator.simulator.live_udp.faults.drop_every = 40
    async with (
        _receiver(jitter_delay=0.05) as receiver,
        _streaming(client, 2, receiver.port or 0, LiveCodec.H264),
    ):
        port = receiver.port or 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stray:
            for garbage in (b"\x00" * 20, b"short", b"\x40" * 40):
                stray.sendto(garbage, (LOOPBACK, port))
        with caplog.at_level(logging.DEBUG):
            items = await _read(receiver, video=8, limit=15.0)
    units = [i for i in items if isinstance(i, AccessUnit)]
    stats = receiver.stats
    assert stats.live.video.lost_packets > 0
    assert stats.live.video.dropped_access_units > 0
    assert stats.video_jitter.skipped > 0
    assert units[0].keyframe
    # Only whole pictures of the loop, in order (the clip's pictures repeat every 2 s).
    clip = [p.annexb for p in cached_video_clip("H264", 2, FMT).pictures]
    indexes = [clip.index(u.data) for u in units]
    timestamps = [u.timestamp for u in units]
    assert timestamps == sorted(timestamps)
    assert len(indexes) == len(units)
    assert len(_decode(LiveCodec.H264, units)) == len(units)
    assert stats.malformed == 3
    told = [r for r in caplog.records if r.levelno >= logging.WARNING and "datagram" in r.message]
    assert len(told) == 1


@pytest.mark.parametrize("au_header", [True, False])
async def test_aac_audio_with_and_without_the_au_header(
    simulator: RunningSimulator, client: NvrClient, au_header: bool
) -> None:
    simulator.simulator.live_udp.faults.audio_au_header = au_header
    async with (
        _receiver() as receiver,
        _streaming(client, 1, receiver.port or 0, LiveCodec.H264, LiveCodec.AUDIO),
    ):
        items = await _read(receiver, video=3, audio=10)
    frames = [i for i in items if isinstance(i, AudioFrame)]
    assert {(f.codec, f.sample_rate) for f in frames} == {(AudioCodec.AAC_LC, 48_000)}
    # Exactly the encoder's frames: the AU header (if any) is gone.
    clip = cached_audio_clip(1)
    assert [f.data for f in frames[:10]] == list(clip.frames[:10])
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = aac_audio_specific_config(48_000)
    samples = sum(d.samples for f in frames for d in decoder.decode(av.Packet(f.data)))
    assert samples >= (len(frames) - 1) * 1024
    assert receiver.stats.bad_audio == 0


@pytest.mark.parametrize(
    ("codec", "parsed", "size"), [("G711", AudioCodec.G711, 160), ("G726", AudioCodec.G726, 80)]
)
async def test_narrowband_audio_over_udp(
    simulator: RunningSimulator, client: NvrClient, codec: str, parsed: AudioCodec, size: int
) -> None:
    """RTP does not name the codec: the receiver tells it from the timestamp steps."""
    simulator.config.live_audio_codecs = {2: codec}
    async with (
        _receiver() as receiver,
        _streaming(client, 2, receiver.port or 0, LiveCodec.H264, LiveCodec.AUDIO),
    ):
        items = await _read(receiver, video=1, audio=5)
    frames = [i for i in items if isinstance(i, AudioFrame)]
    assert {len(f.data) for f in frames} == {size}  # 20 ms at 8 kHz, no header stripped
    assert {(f.codec, f.sample_rate) for f in frames} == {(parsed, 8000)}


async def test_nothing_arrives_when_the_recorder_is_silent(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    simulator.simulator.live_udp.faults.silent = True
    async with (
        _receiver() as receiver,
        _streaming(client, 1, receiver.port or 0, LiveCodec.H264),
    ):
        assert not await receiver.wait_for_data(0.5)
        assert simulator.simulator.live.active()[0].pictures >= 2
    assert receiver.stats.datagrams == 0


async def test_ports_are_freed_and_reused() -> None:
    ports = _free_ports(3)
    async with AsyncExitStack() as stack:
        bound = []
        for _ in range(3):
            receiver = RtpUdpReceiver()
            stack.push_async_callback(receiver.aclose)
            bound.append(await receiver.bind(LOOPBACK, ports))
        assert bound == list(ports)  # each takes the next free port of the range
        with pytest.raises(UdpPortUnavailableError, match="no free UDP port"):
            await RtpUdpReceiver().bind(LOOPBACK, ports)
    # Closed: every port of the range can be bound again at once.
    again = RtpUdpReceiver()
    assert await again.bind(LOOPBACK, ports) == ports[0]
    await again.aclose()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, ports[0]))


async def test_datagrams_from_another_address_are_ignored() -> None:
    receiver = RtpUdpReceiver(sources={"192.0.2.7"})
    port = await receiver.bind(LOOPBACK, _free_ports(1))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"\x80\x62" + bytes(30), (LOOPBACK, port))
        assert not await receiver.wait_for_data(0.3)
        assert receiver.stats.foreign == 1
    finally:
        await receiver.aclose()


def test_local_address_towards_the_recorder() -> None:
    assert local_address_towards(LOOPBACK) == LOOPBACK


async def test_connection_opens_streams_and_stops(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    settings = UdpSettings(ports=_free_ports(4), first_data_within=3.0)
    async with client.lease(UidPurpose.LIVE, channel=1) as lease:
        connection = UdpLiveConnection(client, lease, 1, LiveCodec.H264, settings)
        try:
            await connection.open()
            assert connection.port in settings.ports
            await connection.start_audio()
            items: list[LiveItem] = []
            async with aclosing(connection.items(idle_timeout=5.0)) as stream:
                async for item in stream:
                    items.append(item)
                    if {type(i) for i in items} == {AccessUnit, AudioFrame}:
                        break
            stops = connection.stop_requests()
            assert [r.query for r in stops] == [
                f"CAM=1&CMD=STOP&COMP=AUDIO&PORT={connection.port}",
                f"CAM=1&CMD=STOP&COMP=H264&PORT={connection.port}",
            ]
            for request in stops:
                await client.send_on(lease, request)
        finally:
            await connection.aclose()
    assert simulator.simulator.live.active() == []


async def test_connection_reports_when_nothing_arrives(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    simulator.simulator.live_udp.faults.silent = True
    settings = UdpSettings(ports=_free_ports(2), first_data_within=0.5)
    async with client.lease(UidPurpose.LIVE, channel=1) as lease:
        connection = UdpLiveConnection(client, lease, 1, LiveCodec.H264, settings)
        with pytest.raises(NoUdpDataError, match=r"within 0.5 s"):
            await connection.open()
        assert [r.query for r in connection.stop_requests()] == [
            f"CAM=1&CMD=STOP&COMP=H264&PORT={connection.port}"
        ]
        await connection.aclose()
    assert connection.receiver is not None
    assert connection.receiver.closed
