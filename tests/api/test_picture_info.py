"""Picture information (spec 7.1) and camera control on the live UID (spec 4.1.1), against
the simulator's real live streams."""

from __future__ import annotations

import asyncio
import datetime as dt

from custom_components.ipro_nvr.api import JpegFeed, NvrClient, PictureInfo, VideoFeed
from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator.server import RunningSimulator

CAMERA_AHEAD = dt.timedelta(minutes=10)


def _command(query: str) -> str:
    return next(part for part in query.split("&") if part.startswith("CMD="))


async def _picture_info(feed: VideoFeed, pictures: int = 3) -> PictureInfo:
    stream = feed.subscribe()
    seen = 0
    async with asyncio.timeout(20):
        async for _ in stream:
            seen += 1
            if seen >= pictures:
                break
    await stream.aclose()
    info = feed.picture_info
    assert info is not None
    return info


async def test_video_pictures_tell_both_clocks_and_the_frame_rate(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Camera 2's own clock runs ten minutes ahead; camera 1's agrees with the recorder."""
    simulator.config.camera_clock_offsets[2] = CAMERA_AHEAD
    right = VideoFeed(client, 1, idle_timeout=0.2, backoff=(0.05,))
    ahead = VideoFeed(client, 2, idle_timeout=0.2, backoff=(0.05,))
    try:
        good = await _picture_info(right)
        off = await _picture_info(ahead)
    finally:
        await right.close()
        await ahead.close()
    assert good.frame_rate == simulator.config.live_fps
    assert good.utc_offset == simulator.config.utc_offset
    for info in (good, off):
        assert info.recorder_clock_offset is not None
        assert abs(info.recorder_clock_offset) < dt.timedelta(seconds=30)
    assert good.camera_clock_offset is not None
    assert abs(good.camera_clock_offset) < dt.timedelta(seconds=30)
    assert off.camera_clock_offset is not None
    assert abs(off.camera_clock_offset - CAMERA_AHEAD) < dt.timedelta(seconds=30)
    local = good.recorder_local_time
    assert local is not None
    assert local.utcoffset() == simulator.config.utc_offset


async def test_jpeg_pictures_take_the_camera_time_from_the_camera_block(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    simulator.config.camera_clock_offsets[3] = -CAMERA_AHEAD
    feed = JpegFeed(client, 3, idle_timeout=0.2, backoff=(0.05,))
    try:
        assert await asyncio.wait_for(feed.jpeg(wait=10), 20) is not None
        info = feed.picture_info
    finally:
        await feed.close()
    assert info is not None
    assert info.camera_clock_offset is not None
    assert abs(info.camera_clock_offset + CAMERA_AHEAD) < dt.timedelta(seconds=30)
    assert info.recorder_time is not None


async def test_camera_control_goes_on_the_live_uid_while_one_streams(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Spec 4.1.1: the channel's live UID when it streams, the command UID otherwise."""
    await client.validate()
    await client.ptz_stop(5)  # nothing streams camera 5 yet: the command UID
    feed = VideoFeed(client, 5, idle_timeout=30, backoff=(0.05,))
    try:
        stream = feed.subscribe()
        async with asyncio.timeout(20):
            await anext(stream)
        await client.go_to_preset(5, 2)
        await client.aux(6, 1, "OPEN")  # camera 6 does not stream: the command UID
        await stream.aclose()
    finally:
        await feed.close()
    live_uid = simulator.journal.by_cgi(Cgi.PUSH)[0].uid
    command_uid = simulator.journal.by_cgi(Cgi.DIRECTCTRL)[0].uid
    assert live_uid is not None
    assert command_uid not in (None, live_uid)
    camctl = simulator.journal.by_cgi(Cgi.CAMCTL)
    assert [(_command(e.query), e.uid) for e in camctl] == [
        ("CMD=PRESET", live_uid),
        ("CMD=AUX1", command_uid),
    ]
    assert simulator.simulator.ptz_state(5).current_preset == 2
    assert simulator.simulator.ptz_state(6).aux == {1: True}
    assert simulator.journal.violations == []


async def test_camera_control_falls_back_when_the_live_uid_is_refused(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A live UID the recorder forgot: the command still goes out, on the command UID."""
    await client.validate()
    feed = VideoFeed(client, 7, idle_timeout=30, backoff=(5.0,))
    try:
        stream = feed.subscribe()
        async with asyncio.timeout(20):
            await anext(stream)
        live_uid = simulator.journal.by_cgi(Cgi.PUSH)[0].uid
        assert live_uid is not None
        simulator.uids.release(live_uid, simulator.config.clock())
        await client.go_to_preset(7, 3)
        await stream.aclose()
    finally:
        await feed.close()
    camctl = simulator.journal.by_cgi(Cgi.CAMCTL)
    assert [e.uid == live_uid for e in camctl] == [True, False]
    assert simulator.simulator.ptz_state(7).current_preset == 3
