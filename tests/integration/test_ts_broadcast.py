"""One MPEG-TS per camera, shared by the relay's viewers: where a viewer starts, and a stalled one.

The relay muxes each camera once and writes the same bytes to every viewer; a
new viewer starts with the current GOP's TS, from the PAT before its keyframe.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
import io
import socket

import aiohttp
import av
import pytest
import yarl

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.media import VideoCodec
from custom_components.ipro_nvr.live import ts_broadcast
from custom_components.ipro_nvr.live.relay import StreamRelay
from custom_components.ipro_nvr.live.ts_broadcast import keyframe_start
from custom_components.ipro_nvr.live.ts_muxer import TsMuxer
from nvr_simulator.server import RunningSimulator

from .test_ts_muxer import _pictures

_PAT = b"\x47\x40\x00"


def _first_frames(data: bytes, count: int) -> list[av.VideoFrame]:
    frames: list[av.VideoFrame] = []
    # A capture may end in the middle of a packet, hence the suppress.
    with av.open(io.BytesIO(data), format="mpegts") as container, suppress(av.FFmpegError):
        for frame in container.decode(video=0):
            frames.append(frame)
            if len(frames) == count:
                break
    return frames


@pytest.mark.parametrize("codec", [VideoCodec.H264, VideoCodec.H265])
@pytest.mark.parametrize("audio", [False, True])
def test_a_viewer_may_start_at_the_pat_before_each_keyframe(codec: VideoCodec, audio: bool) -> None:
    """Each keyframe muxed is found (audio interleaved or not), at a PAT; it decodes from there."""
    pictures = _pictures(90, codec=codec)
    muxer = TsMuxer(codec, audio=audio)
    stream = bytearray()
    starts: list[int] = []
    due = 0
    for picture in pictures:
        data = muxer.mux(picture)
        due += picture.keyframe
        if due and (start := keyframe_start(data, len(stream))) is not None:
            starts.append(len(stream) + start)
            due -= 1
        stream += data
    stream += muxer.close()
    keyframes = sum(picture.keyframe for picture in pictures)
    assert keyframes >= 3
    # The last one may still be held by the interleaver when the muxing stops.
    assert keyframes - 1 <= len(starts) <= keyframes
    for start in starts:
        assert start % 188 == 0
        assert stream.startswith(_PAT, start)
        frames = _first_frames(bytes(stream[start:]), 3)
        assert len(frames) == 3
        assert frames[0].key_frame
    # P-frames alone hold no start.
    assert keyframe_start(bytes(stream[starts[0] + 188 * 64 : starts[1]]), 0) is None


def _keyframe_starts(stream: bytes) -> int:
    count, position = 0, 0
    while (start := keyframe_start(stream[position:], position)) is not None:
        count += 1
        position += start + 188 * 8  # past the keyframe's tables and first packet
    return count


async def _read(url: str, size: int) -> bytes:
    data = bytearray()
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        async for chunk in response.content.iter_any():
            data += chunk
            if len(data) >= size:
                break
    return bytes(data)


async def test_a_late_viewer_joins_the_same_stream_at_its_current_gop(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The second viewer's bytes are the first one's from a PAT on: one muxer, not two."""
    relay = StreamRelay(client)
    first = bytearray()
    try:
        url = await relay.async_url(1)

        async def read_first() -> None:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                async for chunk in response.content.iter_any():
                    first.extend(chunk)

        reader = asyncio.get_running_loop().create_task(read_first())
        async with asyncio.timeout(30):
            # The first viewer is into its second GOP: the second one starts later.
            while _keyframe_starts(bytes(first)) < 2:  # noqa: ASYNC110 - the first one's bytes
                await asyncio.sleep(0.05)
            second = await _read(url, 60_000)
            # The first viewer has read past what the second one got.
            while first.find(second[:60_000]) < 0:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        reader.cancel()
        with suppress(asyncio.CancelledError):
            await reader
    finally:
        await relay.async_stop()
        await client.close()
    assert second.startswith(_PAT)
    assert first.find(second[:60_000]) > 0  # joined later, from the same bytes
    frames = await asyncio.to_thread(_first_frames, second, 2)
    assert frames
    assert frames[0].key_frame


async def test_a_stalled_viewer_is_cut_at_its_backlog_and_the_others_go_on(
    simulator: RunningSimulator, client: NvrClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A viewer that stops reading holds at most its backlog cap; another keeps receiving."""
    cap = 40_000
    monkeypatch.setattr(ts_broadcast, "VIEWER_BACKLOG_BYTES", cap)
    monkeypatch.setattr(ts_broadcast, "_DIRECT_WRITE_LIMIT", 0)
    relay = StreamRelay(client)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.setblocking(False)
    try:
        url = yarl.URL(await relay.async_url(1))
        loop = asyncio.get_running_loop()
        await loop.sock_connect(stalled, (url.host, url.port))
        await loop.sock_sendall(
            stalled, f"GET {url.raw_path_qs} HTTP/1.1\r\nHost: {url.host}\r\n\r\n".encode()
        )
        # The stalled viewer never reads; the other one reads a good while.
        async with asyncio.timeout(60):
            data = await _read(str(url), 400_000)
            broadcast = relay._broadcasts[1]
            # The reader left (seen at the next write); the stalled one stays.
            while len(broadcast._viewers) != 1:  # noqa: ASYNC110 - polling the relay's state
                await asyncio.sleep(0.05)
            (viewer,) = broadcast._viewers
            # The kernel would take megabytes for it first: a small send buffer.
            sock = viewer._transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            while not viewer.resync:
                assert viewer.pending_bytes <= cap
                await asyncio.sleep(0.05)
            assert viewer.pending_bytes <= cap
            assert not viewer.ended
    finally:
        stalled.close()
        await relay.async_stop()
        await client.close()
    frames = await asyncio.to_thread(_first_frames, data, 10)
    assert len(frames) == 10
