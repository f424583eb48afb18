"""The shared live feed of one camera against the simulator's real video."""

from __future__ import annotations

import asyncio
import io
import itertools

import av

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.feeds import JpegFeed, VideoFeed
from custom_components.ipro_nvr.api.media import AccessUnit
from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator.server import RunningSimulator


async def _take(feed: VideoFeed, count: int) -> list[AccessUnit]:
    units: list[AccessUnit] = []
    stream = feed.subscribe()
    async for unit in stream:
        units.append(unit)
        if len(units) >= count:
            break
    await stream.aclose()
    return units


async def test_two_viewers_share_one_recorder_stream(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Two subscribers get the same pictures from a single push.cgi."""
    feed = VideoFeed(client, 1, idle_timeout=0.2, backoff=(0.05,))
    try:
        first, second = await asyncio.wait_for(
            asyncio.gather(_take(feed, 20), _take(feed, 20)), timeout=20
        )
        assert first[0].keyframe
        assert second[0].keyframe
        assert len(simulator.journal.by_cgi(Cgi.PUSH)) == 1
        timestamps = [u.timestamp for u in first]
        assert timestamps == sorted(set(timestamps))
        # A late viewer starts with the cached GOP, i.e. at a keyframe, at once.
        late = await asyncio.wait_for(_take(feed, 1), timeout=1)
        assert late[0].keyframe
    finally:
        await feed.close()
    assert not feed.running


async def test_feed_stops_when_idle_and_releases_its_uid(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """After the last viewer left and the idle time passed, the UID is logged out."""
    await client.validate()
    feed = VideoFeed(client, 2, idle_timeout=0.1, backoff=(0.05,))
    try:
        await asyncio.wait_for(_take(feed, 3), timeout=20)
        assert simulator.uids.active_count() == 2  # command UID + live UID
        for _ in range(100):
            if not feed.running:
                break
            await asyncio.sleep(0.05)
        assert not feed.running
        for _ in range(40):  # the logout is a paced command of its own
            if simulator.uids.active_count() == 1:
                break
            await asyncio.sleep(0.05)
        assert simulator.uids.active_count() == 1
    finally:
        await feed.close()


async def test_feed_recovers_after_the_uid_is_evicted(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The recorder forgets every UID mid-stream: the feed reconnects by itself and
    timestamps keep growing."""
    feed = VideoFeed(client, 3, idle_timeout=0.2, backoff=(0.05,))
    try:
        stream = feed.subscribe()
        seen: list[AccessUnit] = []
        async with asyncio.timeout(30):
            async for unit in stream:
                seen.append(unit)
                if len(seen) == 10:
                    simulator.uids.expire_all()
                if feed.stats.connections >= 2 and len(seen) > 30:
                    break
        await stream.aclose()
        timestamps = [u.timestamp for u in seen]
        assert all(b > a for a, b in itertools.pairwise(timestamps))
        assert feed.stats.connections >= 2
    finally:
        await feed.close()
    assert simulator.journal.violations == []


async def test_jpeg_feed_serves_snapshots_from_one_stream(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Snapshots come from one JPEG stream kept open between calls; each is a bare JPEG."""
    feed = JpegFeed(client, 1, idle_timeout=5)
    try:
        first = await feed.jpeg(wait=10)
        second = await feed.jpeg(wait=10)
        assert first is not None
        assert second is not None
        assert first.startswith(b"\xff\xd8")
        # Vendor blocks stripped: what is left decodes as a picture of the stream's size.
        with av.open(io.BytesIO(first), format="mjpeg") as container:
            frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (320, 180)
        starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
        assert len(starts) == 1
        assert "COMP=JPEG" in starts[0]
    finally:
        await feed.close()


async def test_mjpeg_viewers_share_one_jpeg_stream_and_end_with_the_feed(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Two MJPEG viewers get successive pictures from one push; closing the feed ends them."""
    feed = JpegFeed(client, 2, idle_timeout=5)

    async def watch(count: int) -> list[bytes]:
        pictures: list[bytes] = []
        async for picture in feed.jpeg_frames():
            pictures.append(picture)
            if len(pictures) == count:
                break
        return pictures

    try:
        first, second = await asyncio.wait_for(asyncio.gather(watch(4), watch(4)), timeout=20)
        for pictures in (first, second):
            assert all(p.startswith(b"\xff\xd8") for p in pictures)
        starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
        assert len(starts) == 1
        # A viewer still watching when the feed closes is let go, not left hanging.
        endless = asyncio.get_running_loop().create_task(watch(10_000))
        await asyncio.sleep(0.3)
    finally:
        await feed.close()
    assert len(await asyncio.wait_for(endless, timeout=2)) >= 1


async def test_a_jpeg_feed_that_works_again_retries_quickly_after_the_next_drop(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Pictures after a reconnection end the failing state and reset the backoff.

    Dropped twice: the second reconnection waits the first backoff step again
    (a working stream retries quickly), not the long second step.
    """
    feed = JpegFeed(client, 3, idle_timeout=30, backoff=(0.05, 600.0))
    try:
        for drops in range(3):
            await feed.jpeg(wait=10)
            async with asyncio.timeout(20):
                while feed.stats.connections < drops + 1 or feed.failing:
                    await asyncio.sleep(0.05)
                    await feed.jpeg(wait=1)
            if drops < 2:
                assert simulator.simulator.live.drop(3) >= 1
                for _ in range(400):  # until the drop is seen (20 s at most)
                    if feed.failing or feed.stats.connections >= drops + 2:
                        break
                    await asyncio.sleep(0.05)
        assert feed.stats.connections == 3
        assert not feed.failing
    finally:
        await feed.close()


async def test_a_subscriber_keeping_its_own_gop_spares_the_feed_a_copy(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """While the only subscriber keeps the GOP itself (the relay's TS broadcast), the
    feed keeps just the keyframe: a late subscriber starts at the next keyframe, not
    at the cached one, and the keyframe snapshot still has its picture."""
    feed = VideoFeed(client, 1, idle_timeout=0.2, backoff=(0.05,))
    keeper = feed.subscribe(keeps_gop=True)
    try:
        async with asyncio.timeout(20):
            seen: list[AccessUnit] = []
            async for unit in keeper:
                seen.append(unit)
                # A few pictures into a GOP that began while the keeper read.
                keyframes = [i for i, u in enumerate(seen) if u.keyframe]
                if len(keyframes) >= 2 and len(seen) - keyframes[-1] > 4:
                    break
            current_keyframe = seen[keyframes[-1]]
            assert feed.latest_keyframe() == current_keyframe
            late = await _take(feed, 1)
        assert late[0].keyframe
        assert late[0].timestamp > seen[-1].timestamp
    finally:
        await keeper.aclose()
        await feed.close()
