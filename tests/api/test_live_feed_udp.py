"""The shared video feed over RTP/UDP (spec 2.1), and its fallback to HTTP multipart."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import socket

import pytest

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.feeds import FeedItem, VideoFeed
from custom_components.ipro_nvr.api.media import AccessUnit, TimedAudio
from custom_components.ipro_nvr.api.session import UidPurpose
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.api.udp_live import UdpSettings
from nvr_simulator.server import RunningSimulator
from nvr_simulator.video import VideoFormat, cached_video_clip

LOOPBACK = "127.0.0.1"


def _free_ports(count: int) -> range:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        start = int(probe.getsockname()[1])
    return range(start, start + count)


async def _take(feed: VideoFeed, pictures: int, audio: int = 0) -> list[FeedItem]:
    items: list[FeedItem] = []
    stream = feed.subscribe()
    async with asyncio.timeout(20):
        async for item in stream:
            items.append(item)
            units = sum(isinstance(i, AccessUnit) for i in items)
            frames = sum(isinstance(i, TimedAudio) for i in items)
            if units >= pictures and frames >= audio:
                break
    await stream.aclose()
    return items


async def test_feed_streams_over_udp_with_audio(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    client.keep_uids(UidPurpose.LIVE, 1)  # as the integration does: STOPs, no logout
    ports = _free_ports(4)
    feed = VideoFeed(
        client, 1, audio=True, idle_timeout=0.1, backoff=(0.05,), udp=UdpSettings(ports=ports)
    )
    try:
        assert feed.transport == "udp"
        items = await _take(feed, pictures=10, audio=5)
        units = [i for i in items if isinstance(i, AccessUnit)]
        assert units[0].keyframe
        clip = cached_video_clip("H264", 1, VideoFormat())
        assert [u.data for u in units[:10]] == [p.annexb for p in clip.pictures[:10]]
        audio = [i for i in items if isinstance(i, TimedAudio)]
        assert len(audio) >= 5
        assert all(b.timestamp > a.timestamp for a, b in itertools.pairwise(audio))
        assert feed.transport == "udp"
        starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
        port = int(re.findall(r"PORT=(\d+)", starts[0])[0])
        assert port in ports
        assert [re.sub(r"UID=\d+&", "", q) for q in starts] == [
            f"CAM=1&CMD=START&COMP=H264&PORT={port}",
            f"CAM=1&CMD=START&COMP=AUDIO&PORT={port}",
        ]
        # The idle stop sends the STOPs with the port and lets the port go.
        async with asyncio.timeout(10):
            while feed.running or simulator.simulator.live.active():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        stops = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=STOP" in q]
        assert [re.sub(r"UID=\d+&", "", q) for q in stops] == [
            f"CAM=1&CMD=STOP&COMP=AUDIO&PORT={port}",
            f"CAM=1&CMD=STOP&COMP=H264&PORT={port}",
        ]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((LOOPBACK, port))  # free again
    finally:
        await feed.close()


async def test_feed_falls_back_to_http_when_nothing_arrives(
    simulator: RunningSimulator, client: NvrClient, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.simulator.live_udp.faults.silent = True
    feed = VideoFeed(
        client,
        2,
        idle_timeout=0.2,
        backoff=(0.05,),
        udp=UdpSettings(ports=_free_ports(2), first_data_within=0.5),
    )
    try:
        with caplog.at_level(logging.INFO, logger="custom_components.ipro_nvr"):
            items = await _take(feed, pictures=5)
        assert all(isinstance(i, AccessUnit) for i in items)
        assert items[0].keyframe  # type: ignore[union-attr]
        assert feed.transport == "http"
        queries = [re.sub(r"UID=\d+&", "", q) for q in simulator.journal.queries(Cgi.PUSH)]
        assert [re.sub(r"PORT=\d+", "PORT=p", q) for q in queries[:3]] == [
            "CAM=2&CMD=START&COMP=H264&PORT=p",
            "CAM=2&CMD=STOP&COMP=H264&PORT=p",
            "CAM=2&CMD=START&COMP=H264&INTERNETMODE=ON",
        ]
        told = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(told) == 1
        assert "falls back to HTTP multipart" in told[0].getMessage()
        assert "within 0.5 s" in told[0].getMessage()
    finally:
        await feed.close()


async def test_feed_falls_back_when_no_port_is_free(
    simulator: RunningSimulator, client: NvrClient, caplog: pytest.LogCaptureFixture
) -> None:
    ports = _free_ports(1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((LOOPBACK, ports[0]))
        feed = VideoFeed(client, 3, idle_timeout=0.2, backoff=(0.05,), udp=UdpSettings(ports=ports))
        try:
            with caplog.at_level(logging.WARNING, logger="custom_components.ipro_nvr"):
                items = await _take(feed, pictures=2)
            assert isinstance(items[0], AccessUnit)
            assert feed.transport == "http"
            assert all("PORT" not in q for q in simulator.journal.queries(Cgi.PUSH))
            (told,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert "no free UDP port" in told.getMessage()
        finally:
            await feed.close()


async def test_feeds_sharing_settings_fall_back_together_with_one_warning(
    simulator: RunningSimulator, client: NvrClient, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.simulator.live_udp.faults.silent = True
    settings = UdpSettings(ports=_free_ports(4), first_data_within=0.5)
    feeds = [
        VideoFeed(client, channel, idle_timeout=0.2, backoff=(0.05,), udp=settings)
        for channel in (1, 2)
    ]
    try:
        with caplog.at_level(logging.WARNING, logger="custom_components.ipro_nvr"):
            first = await _take(feeds[0], pictures=2)
            second = await _take(feeds[1], pictures=2)
        assert isinstance(first[0], AccessUnit)
        assert isinstance(second[0], AccessUnit)
        assert settings.verdict.blocked
        assert [feed.transport for feed in feeds] == ["http", "http"]
        # The second feed did not try UDP once the first had found it blocked.
        assert not [q for q in simulator.journal.queries(Cgi.PUSH) if "CAM=2&" in q and "PORT" in q]
        assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    finally:
        for feed in feeds:
            await feed.close()
