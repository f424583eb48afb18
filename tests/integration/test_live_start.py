"""What a camera start costs the recorder, and what is never asked of it.

Each test counts the commands in the simulator's journal: kept live UIDs are
logged in and set up (``hdrctl``) once, so a camera start is one ``push.cgi``
START; a camera the recorder reports disconnected gets no START at all; a
snapshot is served from the last good picture while a fresh one is slow.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
import io
import logging

import aiohttp
import av
from homeassistant.components.camera import async_get_image
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ipro_nvr as integration
from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api import NvrClient, Priority, UidPurpose
from custom_components.ipro_nvr.api.connections import CameraConnections
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from custom_components.ipro_nvr.const import DOMAIN
from custom_components.ipro_nvr.live import relay as relay_module
from custom_components.ipro_nvr.live.placeholder_picture import async_placeholder_picture
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator.server import RunningSimulator
from tests.conftest import TEST_PACING, assert_paced, record_sends


async def _until(condition: Callable[[], bool], timeout: float = 20) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling another component's state
            await asyncio.sleep(0.02)


class _Viewer:
    """Reads a relay URL in the background; records its status and byte count."""

    def __init__(self, url: str) -> None:
        self.status: int | None = None
        self.received = 0
        self.task = asyncio.get_running_loop().create_task(self._read(url))

    async def _read(self, url: str) -> None:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            self.status = response.status
            async for chunk in response.content.iter_any():
                self.received += len(chunk)

    async def stop(self) -> None:
        self.task.cancel()
        with suppress(asyncio.CancelledError):
            await self.task


def _starts(simulator: RunningSimulator, channel: int) -> list[str]:
    return [
        query
        for query in simulator.journal.queries(Cgi.PUSH)
        if f"CAM={channel}&" in query and "CMD=START" in query
    ]


async def test_kept_uids_make_a_camera_start_one_command(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Two kept live UIDs are logged in and set up once; then each camera costs one START."""
    journal = simulator.journal
    client.keep_uids(UidPurpose.LIVE, 2)
    relay = StreamRelay(client)
    viewers: list[_Viewer] = []
    try:
        await _until(lambda: len(journal.by_cgi(Cgi.HDRCTL)) == 2)
        for channel in (1, 2):
            before = len(journal.entries)
            viewer = _Viewer(await relay.async_url(channel))
            viewers.append(viewer)
            await _until(lambda viewer=viewer: viewer.received > 10_000)  # type: ignore[misc]
            assert [entry.cgi for entry in journal.entries[before:]] == [Cgi.PUSH]
        # A snapshot of a watched camera goes on the other kept UID: one START too.
        before = len(journal.entries)
        assert await relay.async_snapshot(1) is not None
        assert [entry.cgi for entry in journal.entries[before:]] == [Cgi.PUSH]
    finally:
        for viewer in viewers:
            await viewer.stop()
        await relay.async_stop()
        await client.close()
    assert len(journal.by_cgi(Cgi.LOGIN)) == 2
    assert Counter(entry.uid for entry in journal.by_cgi(Cgi.HDRCTL)).most_common(1)[0][1] == 1
    assert journal.violations == []
    assert simulator.uids.active_count() == 0


async def test_a_new_login_is_set_up_once_and_streams_resume(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The recorder forgets the kept UIDs mid-stream: one login and one hdrctl per new
    UID, every START on a UID set up before it."""
    journal = simulator.journal
    client.keep_uids(UidPurpose.LIVE, 2)
    relay = StreamRelay(client)
    viewer = _Viewer(await relay.async_url(3))
    try:
        await _until(lambda: viewer.received > 10_000)
        simulator.uids.expire_all()
        await _until(lambda: relay.feed(3).stats.connections >= 2)
        resumed_at = viewer.received
        await _until(lambda: viewer.received > resumed_at + 10_000)
    finally:
        await viewer.stop()
        await relay.async_stop()
        await client.close()
    set_up: set[str | None] = set()
    for entry in journal.entries:
        if entry.cgi is Cgi.HDRCTL:
            assert entry.uid not in set_up  # once per UID
            set_up.add(entry.uid)
        elif entry.cgi is Cgi.PUSH and "CMD=START" in entry.query:
            assert entry.uid in set_up
    assert len(set_up) == len(journal.by_cgi(Cgi.LOGIN))
    assert journal.violations == []


async def test_no_start_for_a_camera_reported_disconnected(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Camera 4 is disconnected in the recorder's status: the relay refuses it at once,
    a snapshot is None, and the recorder never sees a START for it."""
    assert simulator.simulator.channel_state(4) == 2
    connections = CameraConnections()
    connections.update(await client.get_camera_status())
    relay = StreamRelay(client, connections=connections)
    try:
        viewer = _Viewer(await relay.async_url(4))
        await viewer.task
        assert viewer.status == 503
        assert await relay.async_snapshot(4) is None
    finally:
        await relay.async_stop()
        await client.close()
    assert _starts(simulator, 4) == []


async def test_a_refused_start_waits_for_the_status_and_is_not_blamed_on_the_recorder(
    simulator: RunningSimulator, client: NvrClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Before any status, camera 4's START gets 503: no STOP, no retry, a status is asked
    for; the status says disconnected (logged once); when it is back, streaming starts."""
    caplog.set_level(logging.INFO, logger="custom_components.ipro_nvr")
    asked: list[int] = []
    connections = CameraConnections()
    connections.on_suspect = asked.append
    relay = StreamRelay(client, connections=connections)
    feed = relay.feed(4)
    viewer = _Viewer(await relay.async_url(4))
    try:
        await _until(lambda: asked == [4])
        # The feed's backoff is 1 s: a retry would have come in this time.
        await asyncio.sleep(1.5)
        assert len(_starts(simulator, 4)) == 1
        connections.update(await client.get_camera_status())
        await viewer.task  # the feed let its viewer go
        assert not feed.running
        simulator.simulator.channel_states[4] = 1
        connections.update(await client.get_camera_status())
        viewer = _Viewer(await relay.async_url(4))
        await _until(lambda: viewer.received > 10_000)
    finally:
        await viewer.stop()
        await relay.async_stop()
        await client.close()
    assert len(_starts(simulator, 4)) == 2
    # The refused START was not followed by a STOP.
    stops = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=STOP" in q]
    assert stops == []
    assert caplog.text.count("Camera 4 is disconnected") == 1
    assert "busy" not in caplog.text
    assert simulator.journal.violations == []


async def test_snapshot_is_the_last_good_picture_while_the_recorder_is_slow(
    simulator: RunningSimulator, client: NvrClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JPEG stream breaks and its restart is slow: the snapshot is the cached picture
    at once; the fresh one arrives later and is served next."""
    monkeypatch.setattr(relay_module, "SNAPSHOT_FRESH_AGE", 0.1)
    relay = StreamRelay(client)
    feed = relay.jpeg_feed(1)
    try:
        assert await relay.async_snapshot(1) is not None
        starts = len(_starts(simulator, 1))
        # The recorder forgets the UID (the stream ends) and answers commands late.
        simulator.faults.slow_response = 2.0
        simulator.faults.only = {Cgi.PUSH, Cgi.LOGIN}
        simulator.uids.expire_all()
        await asyncio.sleep(0.3)
        cached = feed.latest_jpeg()
        assert cached is not None
        assert cached[1] > 0.1  # stale by now
        picture = await relay.async_snapshot(1, stale_wait=0.1)
        assert picture == cached[0]
        # The fresh one keeps coming and is what the next snapshot gets.
        await _until(lambda: len(_starts(simulator, 1)) > starts)
        await _until(lambda: (latest := feed.latest_jpeg()) is not None and latest[1] < 0.1)
        simulator.faults.clear()
        assert await relay.async_snapshot(1, stale_wait=0.1) is not None
    finally:
        simulator.faults.clear()
        await relay.async_stop()
        await client.close()


async def test_only_a_few_snapshots_wait_for_a_first_picture(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Seven cameras without a picture yet: three snapshots wait for theirs, the others
    are answered at once (a browser's further tiles would wait in its queue beyond the
    frontend's 10 s) while their STARTs are queued; later snapshots get real pictures."""
    relay = StreamRelay(client)
    channels = [1, 2, 3, 5, 6, 7, 8]
    sends = record_sends(client)
    try:
        tasks = [
            asyncio.create_task(relay.async_snapshot(channel, first_wait=60))
            for channel in channels
        ]
        waiting = relay_module.SNAPSHOT_FIRST_WAITERS
        await asyncio.wait(tasks[waiting:])
        assert [task.result() for task in tasks[waiting:]] == [None] * (len(channels) - waiting)
        assert not any(task.done() for task in tasks[:waiting])
        pictures = await asyncio.gather(*tasks[:waiting])
        assert all(picture and picture.startswith(b"\xff\xd8") for picture in pictures)
        # The others' STARTs were queued: their pictures come without another request.
        await _until(lambda: all(relay.jpeg_feed(ch).latest_jpeg() for ch in channels), 60)
        for channel in channels:
            assert _starts(simulator, channel)
    finally:
        await relay.async_stop()
        await client.close()
    # A burst of STARTs: judged on the client's granted turns (the simulator's
    # arrival times carry the shared event loop's jitter on a loaded machine).
    assert_paced(sends, Lane.COMMAND, TEST_PACING)


def _camera_id(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
    )
    assert entity_id is not None
    return entity_id


async def test_a_camera_that_drops_off_is_unavailable_and_not_retried(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Camera 4 (disconnected) gets no START, not even for a snapshot. Camera 1 drops
    off while streaming: its refused START asks for a status, the entity turns
    unavailable and nothing is retried until a poll says it is back."""
    camera_4 = hass.states.get(_camera_id(hass, loaded_entry, 4))
    assert camera_4 is not None
    assert camera_4.state == STATE_UNAVAILABLE
    # Its tile shows the neutral placeholder picture, not a broken image.
    image = await async_get_image(hass, _camera_id(hass, loaded_entry, 4))
    assert image.content == await async_placeholder_picture(hass)
    with av.open(io.BytesIO(image.content), format="mjpeg") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (640, 360)
    assert _starts(simulator, 4) == []

    relay = loaded_entry.runtime_data.relay
    viewer = _Viewer(await relay.async_url(1))
    try:
        await _until(lambda: viewer.received > 10_000)
        simulator.simulator.live.disconnect_camera(1)
        await _until(lambda: len(_starts(simulator, 1)) == 2)  # refused with 503
        await asyncio.wait_for(viewer.task, 20)  # the feed let its viewer go
        await hass.async_block_till_done()
        camera_1 = hass.states.get(_camera_id(hass, loaded_entry, 1))
        assert camera_1 is not None
        assert camera_1.state == STATE_UNAVAILABLE
        assert not relay.feed(1).running
        # Back: the next poll makes it available, and a viewer streams again.
        simulator.simulator.channel_states[1] = 1
        await loaded_entry.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
        camera_1 = hass.states.get(_camera_id(hass, loaded_entry, 1))
        assert camera_1 is not None
        assert camera_1.state != STATE_UNAVAILABLE
        viewer = _Viewer(await relay.async_url(1))
        await _until(lambda: viewer.received > 10_000)
    finally:
        await viewer.stop()
    assert len(_starts(simulator, 1)) == 3
    assert simulator.journal.violations == []


async def test_home_assistant_stop_lets_viewers_go_and_bounds_the_logouts(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On stop the relay ends its viewers at once (Home Assistant's stream workers are
    not left reading) and paced logouts a recorder does not answer are given up, after
    the stop's own bound (not an unload's)."""
    monkeypatch.setattr(integration, "STOP_CLOSE_WITHIN", 0.5)
    monkeypatch.setattr(integration, "CLOSE_WITHIN", 60.0)
    relay = loaded_entry.runtime_data.relay
    feed = relay.feed(1)
    viewer = _Viewer(await relay.async_url(1))
    await _until(lambda: viewer.received > 10_000)
    # The recorder stops answering logouts: each would hold the stop for a minute.
    simulator.faults.slow_response = 60.0
    simulator.faults.only = {Cgi.LOGOUT}
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    # A guard against a hang, not a timing: unbounded, this waits for minutes.
    async with asyncio.timeout(15):
        await viewer.task
        await hass.async_block_till_done()
    assert not feed.running
    assert loaded_entry.runtime_data.client.uids_in_use == 0
    # Left to expire on the recorder by themselves (90 s).
    assert simulator.uids.active_count() > 0
    simulator.faults.clear()


async def test_first_snapshots_are_fetched_after_setup(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After setup every connected camera gets one JPEG START, one after the other (none
    for the disconnected camera 4), and both kept live UIDs are set up; a dashboard's
    snapshots then cost no command."""
    monkeypatch.setattr(integration, "PREFETCH_SNAPSHOTS", True)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    relay = config_entry.runtime_data.relay
    states = simulator.simulator.channel_states
    connected = sorted(ch for ch, state in states.items() if state == 1)
    assert 4 not in connected
    await _until(lambda: all(relay.jpeg_feed(ch).latest_jpeg() for ch in connected), 60)
    jpeg_starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "COMP=JPEG" in q]
    assert sorted(int(q.split("CAM=")[1].split("&")[0]) for q in jpeg_starts) == connected
    await _until(lambda: len(simulator.journal.by_cgi(Cgi.HDRCTL)) == 2)
    before = len(simulator.journal.entries)
    for channel in connected:
        assert await async_get_image(hass, _camera_id(hass, config_entry, channel))
    assert [e.cgi for e in simulator.journal.entries[before:] if e.cgi is Cgi.PUSH] == []
    assert _starts(simulator, 4) == []
    assert simulator.journal.violations == []
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


async def test_a_reloaded_entry_serves_the_last_picture_before_its_first_start(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An entry reloads (an option, an enabled entity) without its predecessor's client
    (live videos were running, their STOPs would hold the reload): its camera answers the
    first snapshot with the last picture the entry before it got, while its own START is
    still on the way; a fresh picture follows. Removing the entry drops the kept pictures."""
    monkeypatch.setattr(relay_module, "SNAPSHOT_FRESH_AGE", 0.1)
    monkeypatch.setattr(integration, "HANDOVER_MAX_STOPS", -1)
    loaded_entry = config_entry  # removed at the end: not the fixture that unloads it
    loaded_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    camera = _camera_id(hass, loaded_entry, 1)
    before = (await async_get_image(hass, camera)).content
    assert before.startswith(b"\xff\xd8")
    assert before != await async_placeholder_picture(hass)
    starts = len(_starts(simulator, 1))
    # The reloaded entry's START answers late: no picture of its own for a while.
    simulator.faults.slow_response = 3.0
    simulator.faults.only = {Cgi.PUSH}
    try:
        assert await hass.config_entries.async_reload(loaded_entry.entry_id)
        await hass.async_block_till_done()
        relay = loaded_entry.runtime_data.relay
        assert (await async_get_image(hass, camera)).content == before
        served_at = asyncio.get_running_loop().time()
        # Served although the new entry's START had not been answered.
        feed = relay.jpeg_feed(1)
        assert feed.stats.connections <= 1
        assert len(_starts(simulator, 1)) <= starts + 1
    finally:
        simulator.faults.clear()
    # The fresh picture follows without another request.
    loop = asyncio.get_running_loop()
    await _until(
        lambda: (latest := feed.latest_jpeg()) is not None and latest[1] < loop.time() - served_at
    )
    assert len(_starts(simulator, 1)) == starts + 1
    pictures = hass.data[client_factory.DATA_PICTURES]
    key = client_factory.recorder_key(loaded_entry.data)
    assert pictures[key].get(1, asyncio.get_running_loop().time()) is not None
    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in pictures
    assert simulator.journal.violations == []


async def test_a_snapshot_with_no_picture_starts_ahead_of_setup_work(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A tile with no picture at all is a person waiting: its JPEG START overtakes the
    keep-alive-level commands queued before it, where a background fetch of a picture
    (the prefetch) waits behind them."""
    relay = StreamRelay(client)
    try:
        sends = record_sends(client)
        queued = [
            asyncio.create_task(client.get_camera_status(priority=Priority.NORMAL))
            for _ in range(4)
        ]
        prefetch = asyncio.create_task(relay.jpeg_feed(2).jpeg(wait=60))
        await asyncio.sleep(0)
        picture = await relay.async_snapshot(1, first_wait=60)
        assert picture is not None
        assert picture.startswith(b"\xff\xd8")
        await asyncio.gather(*queued, prefetch)
        order = [
            "start 1" if "CAM=1&" in query else "start 2" if "CAM=2&" in query else cgi
            for query, cgi in ((request.query, request.cgi.value) for request in sends.requests)
        ]
        statuses = [i for i, what in enumerate(order) if what == Cgi.GETINFO.value]
        # Camera 1 (someone waits) before most of the queued commands, camera 2 after all.
        assert order.index("start 1") < statuses[-1]
        assert order.index("start 2") > statuses[-1]
    finally:
        await relay.async_stop()
        await client.close()
    assert simulator.journal.violations == []
