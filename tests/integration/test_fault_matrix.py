"""The fault matrix: every recorder fault of the simulator, seen through Home Assistant.

Each row turns one of the simulator's fault switches on while Home Assistant
runs the entry with a viewer on camera 1's live stream, polls through the
fault, turns it off and polls until the recorder answers again. Everything is
observed where a user or an automation sees it: entity states, the
``ipro_nvr_event`` bus events, the camera's stream (the relay URL Home
Assistant's stream component reads) and snapshot, and the repairs. After every
row:

- entities that went unavailable came back without a reload of the entry;
- the outage was logged once (no warning or error repeated, however many polls
  failed);
- every log entry the recorder wrote before, during and after the fault fired
  once on the bus, none twice;
- the viewer's stream went on by itself with timestamps that only grow;
- the recorder's sessions are back to what the integration held before, and no
  other client's session was taken; no two commands came closer than the pacing.

Polls are started with the coordinators' refresh (what their timers do) so a
row takes seconds, not poll intervals; waits are on conditions, never on time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
import datetime as dt
import io
import itertools
import logging
from typing import Any

import aiohttp
import av
from homeassistant.components.camera import async_get_image, async_get_stream_source
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.api.spec import Cgi, Lane
from custom_components.ipro_nvr.const import DOMAIN, EVENT_NVR
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator
from tests.conftest import TEST_PACING, assert_paced, record_sends

# A poll through the fault and one more: the second must not log again.
POLLS_DURING_FAULT = 2
# How long a condition may take to hold (background logins, a reconnecting stream).
WAIT = 30.0
# The recorder's answers during ``truncated``: this share of each body (the
# status then stops among the registered cameras).
TRUNCATED_SHARE = 0.05
# The simulator's password in every test (tests/conftest.py).
PASSWORD = "test-password"


@dataclass(frozen=True, slots=True)
class Fault:
    """One row: how to cause the fault and end it, and what a user sees meanwhile."""

    start: Callable[[RunningSimulator], Awaitable[None]]
    end: Callable[[RunningSimulator], Awaitable[None]]
    # The status entities (camera connection, disks) go unavailable.
    status_unavailable: bool = False
    # Camera 1's entities (camera, connection) go unavailable / its connection off.
    camera_one_unavailable: bool = False
    camera_one_off: bool = False
    # The log poll fails while the fault lasts (so events arrive after it).
    logs_fail: bool = False
    # The live stream of camera 1 is interrupted (the relay reconnects).
    stream_cut: bool = False
    # Repairs that show while the fault lasts, and are gone after it.
    repairs: tuple[str, ...] = ()
    # Extra log entries the fault itself makes the recorder write (error log texts).
    writes: tuple[str, ...] = ()
    # Set when the fault is a changed password: the user answers Home Assistant's
    # reauthentication once it is restored (Home Assistant stops polling on it).
    reauth: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


async def _switch(sim: RunningSimulator, **switches: Any) -> None:
    for name, value in switches.items():
        setattr(sim.faults, name, value)


async def _clear(sim: RunningSimulator) -> None:
    sim.faults.clear()
    sim.simulator.live.faults.clear()


async def _refuse(sim: RunningSimulator) -> None:
    await sim.refuse_connections()


async def _accept(sim: RunningSimulator) -> None:
    await sim.accept_connections()


async def _drop_mid_stream(sim: RunningSimulator) -> None:
    # Camera 1's stream is cut mid-body (the relay reconnects by itself).
    assert sim.simulator.live.drop(1) >= 1


async def _reboot(sim: RunningSimulator) -> None:
    # The clock set back an hour, the lists renumbered, every session gone.
    sim.simulator.reboot(clock_jump=-dt.timedelta(hours=1), renumber=7)


async def _nothing(_sim: RunningSimulator) -> None:
    return None


async def _others_take_every_session(sim: RunningSimulator) -> None:
    # Sixteen logins by other clients: the recorder evicts the oldest, ours.
    sim.uids.hold_for_others(sim.config.max_uids)


async def _others_leave(sim: RunningSimulator) -> None:
    sim.uids.release_others(sim.config.max_uids)


async def _camera_one_fails(sim: RunningSimulator) -> None:
    sim.simulator.live.disconnect_camera(1)
    sim.simulator.add_error("CAM 1 COMMUNICATION ERROR")


async def _camera_one_back(sim: RunningSimulator) -> None:
    sim.simulator.channel_states[1] = 1
    sim.simulator.add_error("CAM 1 COMMUNICATION RECOVERED")


async def _disk_fails(sim: RunningSimulator) -> None:
    sim.simulator.add_error("MAIN-3 HDD ERROR")
    disk = next(d for d in sim.simulator.disks if d.name == "MAIN-3")
    disk.recording = False
    disk.newest = sim.config.wall_clock().replace(microsecond=0)


async def _disk_back(sim: RunningSimulator) -> None:
    sim.simulator.add_error("MAIN-3 HDD RECOVERED")
    disk = next(d for d in sim.simulator.disks if d.name == "MAIN-3")
    disk.recording = True


async def _summer_time_begins(sim: RunningSimulator) -> None:
    # Local time jumps an hour ahead; the recorder's entries carry flag 1 from now.
    sim.config.summer_time = True


async def _summer_time_ends(sim: RunningSimulator) -> None:
    # Local time falls back: the hour just lived through repeats in local time.
    sim.config.summer_time = False


FAULTS: dict[str, Fault] = {
    "refused": Fault(_refuse, _accept, status_unavailable=True, logs_fail=True, stream_cut=True),
    "dropped before the answer": Fault(
        lambda sim: _switch(sim, drop_connection=True),
        _clear,
        status_unavailable=True,
        logs_fail=True,
    ),
    "dropped mid-response": Fault(
        lambda sim: _switch(sim, drop_mid_response=True),
        _clear,
        status_unavailable=True,
        logs_fail=True,
    ),
    "dropped mid-stream": Fault(_drop_mid_stream, _clear, stream_cut=True),
    "slow answers": Fault(lambda sim: _switch(sim, slow_response=0.5), _clear),
    "503 storm": Fault(
        lambda sim: _switch(sim, busy=True), _clear, status_unavailable=True, logs_fail=True
    ),
    "malformed bodies": Fault(
        lambda sim: _switch(sim, malformed_body=True, only=POLLED),
        _clear,
        status_unavailable=True,
        logs_fail=True,
    ),
    "truncated bodies": Fault(
        lambda sim: _switch(sim, truncate_body=TRUNCATED_SHARE, only=POLLED),
        _clear,
        status_unavailable=True,
        logs_fail=True,
    ),
    # The camera status alone cut among the registered cameras: it parses, but it
    # says nothing about the cameras it does not list (their devices must stay).
    "truncated camera status": Fault(
        lambda sim: _switch(sim, truncate_body=TRUNCATED_SHARE, only={Cgi.GETINFO}),
        _clear,
        status_unavailable=True,
    ),
    "recorder reboot": Fault(_reboot, _nothing, stream_cut=True, writes=("POWER ON",)),
    "password changed and restored": Fault(
        _nothing, _nothing, status_unavailable=True, logs_fail=True, reauth=True
    ),
    "16 sessions taken by others": Fault(
        _others_take_every_session,
        _others_leave,
        logs_fail=True,
        stream_cut=True,
        repairs=("recorder_full",),
    ),
    "camera fault": Fault(
        _camera_one_fails,
        _camera_one_back,
        camera_one_unavailable=True,
        camera_one_off=True,
        stream_cut=True,
        writes=("CAM 1 COMMUNICATION ERROR", "CAM 1 COMMUNICATION RECOVERED"),
    ),
    "disk fault": Fault(
        _disk_fails,
        _disk_back,
        repairs=("disk_error_main-3",),
        writes=("MAIN-3 HDD ERROR", "MAIN-3 HDD RECOVERED"),
    ),
    "daylight saving begins": Fault(_summer_time_begins, _nothing),
    "daylight saving ends": Fault(_summer_time_ends, _nothing, extra={"summer_time": True}),
}


@pytest.fixture
def sim_config(sim_config: SimulatorConfig, request: pytest.FixtureRequest) -> SimulatorConfig:
    """16 cameras (camera 4 disconnected), 16 sessions; a row may start in summer time."""
    fault: Fault = FAULTS[request.node.callspec.params["name"]]
    sim_config.summer_time = bool(fault.extra.get("summer_time", False))
    return sim_config


# What the polls ask. Garbled or cut answers are limited to these: a login whose
# answer is lost leaves a session on the recorder that nobody can log out (it
# expires after its lifetime, 90 s), and a garbled logout answer cannot be told
# from a good one; both are the recorder's doing, not the integration's.
POLLED = {Cgi.GETINFO, Cgi.RECORDEDTIME, Cgi.LOGLIST}


# -- observing ----------------------------------------------------------------


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition`` holds (background work of the integration or the relay)."""
    try:
        async with asyncio.timeout(WAIT):
            while not condition():  # noqa: ASYNC110 - polling other components' state
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"not within {WAIT:g} s: {what}")


class _Viewer:
    """Reads a camera's stream source (the relay's MPEG-TS) the way Home Assistant's
    stream worker does: one long GET, opened again only if the relay ends it (each
    connection is a stream of its own, kept apart in ``connections``)."""

    def __init__(self, url: str) -> None:
        self.connections: list[bytearray] = []
        self._url = url
        self._task = asyncio.get_running_loop().create_task(self._read())

    @property
    def received(self) -> int:
        return sum(len(data) for data in self.connections)

    @property
    def ended(self) -> int:
        """How many connections the relay ended (or refused)."""
        return len(self.connections) - 1

    async def _read(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                data = bytearray()
                self.connections.append(data)
                with suppress(aiohttp.ClientError):
                    async with session.get(self._url) as response:
                        if response.status == 200:
                            async for chunk in response.content.iter_any():
                                data += chunk
                await asyncio.sleep(0.2)

    async def stop(self) -> list[bytes]:
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        return [bytes(data) for data in self.connections if data]


def _pictures(data: bytes) -> list[av.VideoFrame]:
    frames: list[av.VideoFrame] = []
    with av.open(io.BytesIO(data), format="mpegts") as container, suppress(av.FFmpegError):
        for packet in container.demux(container.streams.video[0]):
            frames.extend(packet.decode())  # type: ignore[arg-type]
    return frames


def _entity(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert entity_id is not None, key
    return entity_id


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _poll(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[bool, bool]:
    """One status and one log poll, as their timers would start them."""
    runtime = entry.runtime_data
    await runtime.coordinator.async_refresh()
    await runtime.log_coordinator.async_refresh()
    await hass.async_block_till_done()
    return runtime.coordinator.last_update_success, runtime.log_coordinator.last_update_success


async def _poll_until_good(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    async with asyncio.timeout(WAIT):
        while await _poll(hass, entry) != (True, True):  # noqa: ASYNC110 - polls are the point
            await asyncio.sleep(0.05)


def _warnings(records: list[logging.LogRecord]) -> list[tuple[str, str, object]]:
    """What was said at WARNING or above: logger, message and its first argument (the
    coordinator's name in "Error fetching %s data", the camera of a live stream...)."""
    return [
        (
            record.name,
            str(record.msg),
            record.args[0] if isinstance(record.args, tuple) and record.args else None,
        )
        for record in records
        if record.levelno >= logging.WARNING
        and record.name.startswith(("custom_components", "homeassistant"))
    ]


@dataclass(frozen=True, slots=True)
class _Ids:
    """Entity IDs a row looks at: camera 1 (watched; the one a camera fault hits) and 2."""

    connected_1: str
    connected_2: str
    camera_1: str
    camera_2: str


def _assert_during(
    hass: HomeAssistant, fault: Fault, polls_ok: tuple[bool, bool], ids: _Ids
) -> None:
    """What a user sees while the fault lasts."""
    assert polls_ok == (not fault.status_unavailable, not fault.logs_fail)
    if fault.status_unavailable:
        assert _state(hass, ids.connected_2) == STATE_UNAVAILABLE
        assert _state(hass, ids.camera_2) == STATE_UNAVAILABLE
    else:
        assert _state(hass, ids.connected_2) == STATE_ON
    if fault.camera_one_unavailable:
        assert _state(hass, ids.camera_1) == STATE_UNAVAILABLE
    if fault.camera_one_off:
        assert _state(hass, ids.connected_1) == STATE_OFF


async def _reauthenticate(hass: HomeAssistant, simulator: RunningSimulator) -> None:
    """The password is back on the recorder; the user answers Home Assistant's
    reauthentication (it stopped polling when the password was refused)."""
    simulator.config.password = PASSWORD
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1  # one reauthentication, not one per failed poll
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"],
        {CONF_USERNAME: simulator.config.username, CONF_PASSWORD: PASSWORD},
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()


# -- the matrix ---------------------------------------------------------------


@pytest.mark.parametrize("name", FAULTS)
async def test_fault(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    """Unavailable and back without a reload, logged once, every event once, the
    stream on with growing timestamps, sessions back to where they were."""
    fault = FAULTS[name]
    sim = simulator.simulator
    entry = loaded_entry
    runtime = entry.runtime_data
    fired: list[tuple[str, str]] = []

    def _record(event: Event[Any]) -> None:
        fired.append((event.data["log"], event.data["text"]))

    hass.bus.async_listen(EVENT_NVR, _record)
    ids = _Ids(
        connected_1=_entity(hass, entry, "binary_sensor", "1_connected"),
        connected_2=_entity(hass, entry, "binary_sensor", "2_connected"),
        camera_1=_entity(hass, entry, "camera", "1_camera"),
        camera_2=_entity(hass, entry, "camera", "2_camera"),
    )
    camera_1, connected_1, connected_2 = ids.camera_1, ids.connected_1, ids.connected_2

    devices = dr.async_get(hass)
    channel_devices = len(dr.async_entries_for_config_entry(devices, entry.entry_id))

    paced = [record_sends(runtime.client)]

    # Before: a viewer on camera 1, the kept sessions in, one event fired.
    url = await async_get_stream_source(hass, camera_1)
    assert url is not None
    viewer = _Viewer(url)
    captures: list[bytes] = []
    try:
        await _until(lambda: viewer.received > 20_000, "the first pictures")
        await _until(lambda: runtime.client.uids_in_use >= 3, "the kept live sessions")
        baseline = sim.uids.active_count()
        others_before = sim.uids.others()
        sim.add_event("SITE(VMD)-2")
        assert await _poll(hass, entry) == (True, True)
        assert fired == [("event", "SITE(VMD)-2")]
        caplog.clear()

        # The fault: polls through it; the recorder writes an entry meanwhile.
        await fault.start(simulator)
        evicted = sim.uids.evicted_total  # others' logins may evict ours, never ours theirs
        if fault.reauth:
            simulator.config.password = "changed-on-the-recorder"
        sim.add_event("SITE(VMD)-3")
        for _ in range(POLLS_DURING_FAULT):
            status_ok, logs_ok = await _poll(hass, entry)
        _assert_during(hass, fault, (status_ok, logs_ok), ids)
        issues = ir.async_get(hass)
        for repair in fault.repairs:
            await _until(
                lambda r=repair: (
                    issues.async_get_issue(DOMAIN, f"{entry.entry_id}_{r}") is not None
                ),
                f"repair {repair}",
            )
        during = _warnings(caplog.records)

        # The end of the fault: polls until the recorder answers again.
        await fault.end(simulator)
        if fault.reauth:
            await _reauthenticate(hass, simulator)
            runtime = entry.runtime_data
            paced.append(record_sends(runtime.client))
            # The reauthentication reloaded the entry: a new relay, whose URL a
            # viewer (Home Assistant's stream) asks for anew.
            captures += await viewer.stop()
            url = await async_get_stream_source(hass, camera_1)
            assert url is not None
            viewer = _Viewer(url)
        await _poll_until_good(hass, entry)
        sim.add_event("SITE(VMD)-5")
        await _poll_until_good(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        if not fault.reauth:
            assert entry.runtime_data is runtime  # no reload
        assert _state(hass, connected_1) == STATE_ON
        assert _state(hass, connected_2) == STATE_ON
        await _until(lambda: _state(hass, camera_1) != STATE_UNAVAILABLE, "camera 1 back")
        for repair in fault.repairs:
            assert issues.async_get_issue(DOMAIN, f"{entry.entry_id}_{repair}") is None
        # No camera's device was taken for unregistered on the way.
        assert len(dr.async_entries_for_config_entry(devices, entry.entry_id)) == channel_devices

        # Every entry once: before, during, after, and what the fault wrote.
        assert sorted(fired) == sorted(
            [("event", "SITE(VMD)-2"), ("event", "SITE(VMD)-3"), ("event", "SITE(VMD)-5")]
            + [("error", text) for text in fault.writes]
        )

        # Logged once: no warning or error said twice during the outage or after it.
        said = _warnings(caplog.records)
        assert len(said) == len(set(said)), said
        if fault.status_unavailable:
            assert during, "an outage that nobody logged"

        # The stream went on by itself: new pictures after the fault, same viewer.
        at_end = viewer.received
        await _until(lambda: viewer.received > at_end + 20_000, "pictures after the fault")
        # A snapshot works again.
        image = await async_get_image(hass, camera_1)
        assert image.content.startswith(b"\xff\xd8")
    finally:
        captures += await viewer.stop()

    # Every connection's pictures in order; the first one's went on through the fault.
    for index, data in enumerate(captures):
        pictures = await asyncio.to_thread(_pictures, data)
        assert index or len(pictures) >= 5
        pts = [frame.pts for frame in pictures]
        assert all(a is not None and b is not None and a < b for a, b in itertools.pairwise(pts))
    if not fault.stream_cut and not fault.reauth:
        assert len(captures) == 1  # the relay never ended the viewer's stream

    # Sessions back to where they were; nobody else's taken.
    await _until(lambda: sim.uids.active_count() == baseline, "sessions back to the baseline")
    assert sim.uids.others() == others_before
    assert sim.uids.evicted_total == evicted
    # Paced through the fault: the turns the client's queue granted (the recorder's
    # journal would add the event loop's jitter on a loaded machine).
    for sends in paced:
        assert_paced(sends, Lane.COMMAND, TEST_PACING)
