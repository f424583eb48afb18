"""The loopback MPEG-TS relay: real video from the simulator, decoded with PyAV."""

from __future__ import annotations

import asyncio
from contextlib import suppress
import io
import socket

import aiohttp
import av

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator.server import RunningSimulator


async def _read_ts(url: str, size: int) -> bytes:
    data = bytearray()
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "video/mp2t"
        async for chunk in response.content.iter_any():
            data += chunk
            if len(data) >= size:
                break
    return bytes(data)


def _decode(data: bytes) -> list[av.VideoFrame]:
    frames: list[av.VideoFrame] = []
    # The read ends in the middle of a packet, hence the suppress.
    with av.open(io.BytesIO(data), format="mpegts") as container, suppress(av.FFmpegError):
        frames.extend(container.decode(video=0))
    return frames


async def test_relay_serves_decodable_video_to_two_viewers_from_one_push(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Both viewers decode frames with growing timestamps; the recorder saw one push."""
    relay = StreamRelay(client)
    try:
        url = await relay.async_url(1)
        assert url.startswith("http://127.0.0.1:")
        first, second = await asyncio.wait_for(
            asyncio.gather(_read_ts(url, 150_000), _read_ts(url, 150_000)), timeout=30
        )
    finally:
        await relay.async_stop()
        await client.close()
    for data in (first, second):
        frames = await asyncio.to_thread(_decode, data)
        assert len(frames) >= 10
        assert (frames[0].width, frames[0].height) == (320, 180)
        pts = [f.pts for f in frames]
        assert pts == sorted(pts)
    assert len(simulator.journal.by_cgi(Cgi.PUSH)) <= 2  # START (+ STOP at the end)
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert len(starts) == 1
    assert simulator.uids.active_count() == 0


async def test_relay_refuses_a_wrong_token_and_listens_on_loopback_only(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Without the token there is nothing to see, and no other interface answers."""
    relay = StreamRelay(client)
    try:
        url = await relay.async_url(1)
        port = int(url.split(":")[2].split("/")[0])
        assert "auth=" in url
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/1.ts?auth=wrong") as response:
                assert response.status == 404
            async with session.get(f"http://127.0.0.1:{port}/1.ts") as response:
                assert response.status == 404
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 404
        assert _listening_addresses(port) == {"127.0.0.1"}
        assert simulator.journal.by_cgi(Cgi.PUSH) == []
    finally:
        await relay.async_stop()
        await client.close()


def _listening_addresses(port: int) -> set[str]:
    """Addresses on which something listens on TCP ``port`` (IPv4 and IPv6), from /proc."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:  # noqa: PTH123
            for line in lines.readlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
                    # /proc prints each 32-bit word in host (little-endian) order.
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                    found.add(socket.inet_ntop(family, words))
    return found
