"""The pacing journal (spec 1.3): what it records and when it flags a violation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.ipro_nvr.api.spec import SPEC_PACING, Cgi, Lane
from nvr_simulator import FakeClock, SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

from .helpers import PASSWORD, USERNAME, get, login


@pytest.fixture
def config(config: SimulatorConfig) -> SimulatorConfig:
    """The spec's own pacing, on the fake clock (so tests control every gap exactly)."""
    config.pacing = SPEC_PACING
    return config


async def test_commands_closer_than_3_s_are_violations(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    uid = await login(client)
    clock.advance(3.0)
    assert (await get(client, f"/cgi-bin/status.cgi?UID={uid}&PC=AS60"))[0] == 200
    clock.advance(2.99)  # within the tolerance (0.02 s)
    assert (await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2"))[0] == 200
    assert sim.journal.violations == []
    clock.advance(1.0)
    # The recorder still answers: the journal only takes note.
    assert (await get(client, "/cgi-bin/recordedtime.cgi"))[0] == 200
    violations = sim.journal.violations
    assert len(violations) == 1
    violation = violations[0]
    assert violation.entry.cgi == Cgi.RECORDEDTIME
    assert violation.previous.cgi == Cgi.GETINFO
    assert violation.gap == pytest.approx(1.0)
    assert violation.required == 3.0
    assert "recordedtime.cgi" in str(violation)


async def test_lanes_are_independent_and_streams_unpaced(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    uid = await login(client)
    clock.advance(0.2)
    move = f"/cgi-bin/directctrl.cgi?UID={uid}&CH=1&PAN=1&PC=AS60"
    assert (await get(client, move))[0] == 200  # camera control right after a command
    clock.advance(0.2)
    assert (await get(client, move))[0] == 200
    for _ in range(3):  # stream fetches back to back (409: no playback yet, still journaled)
        assert (await get(client, f"/cgi-bin/camera.cgi?UID={uid}&CAM=1"))[0] == 409
    assert sim.journal.violations == []
    clock.advance(0.1)
    assert (await get(client, move))[0] == 200
    assert [v.entry.lane for v in sim.journal.violations] == [Lane.CAMERA_CONTROL]
    assert [e.lane for e in sim.journal.by_lane(Lane.STREAM)] == [Lane.STREAM] * 3


async def test_pacing_is_per_recorder_across_uids_and_sessions(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    await login(client)
    clock.advance(3.0)
    middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
    async with aiohttp.ClientSession(base_url=sim.url, middlewares=(middleware,)) as other:
        await login(other)
    assert len(sim.journal.violations) == 0
    await login(client)
    assert len(sim.journal.violations) == 1


async def test_journal_entries(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    uid = await login(client)
    clock.advance(3.0)
    target = f"loglist.cgi?UID={uid}&KIND=EVENT&HTML=as_eventlog.html"
    assert (await get(client, f"/cgi-bin/{target}"))[0] == 200
    clock.advance(1.0)
    async with aiohttp.ClientSession(base_url=sim.url) as plain:  # refused: not journaled
        assert (await get(plain, "/cgi-bin/as_getinfo.cgi?FILE=2"))[0] == 401
    entries = sim.journal.entries
    assert [(e.cgi, e.query, e.uid, e.lane) for e in entries] == [
        (Cgi.LOGIN, "UID=-1", "-1", Lane.COMMAND),
        (Cgi.LOGLIST, target.split("?")[1], uid, Lane.COMMAND),
    ]
    assert entries[1].time - entries[0].time == pytest.approx(3.0)
    assert sim.journal.by_cgi(Cgi.LOGLIST) == entries[1:]
    assert sim.journal.queries(Cgi.LOGIN) == ["UID=-1"]
    sim.journal.clear()
    assert sim.journal.entries == []
    # clear() keeps the lanes' last times: a command 1 s later is still too soon.
    assert (await get(client, "/cgi-bin/recordedtime.cgi"))[0] == 200
    assert len(sim.journal.violations) == 1


@pytest.fixture
async def real_time_sim(socket_enabled: None) -> AsyncIterator[RunningSimulator]:
    """A simulator on the real monotonic clock with the spec's pacing scaled by 0.02."""
    config = SimulatorConfig(username=USERNAME, password=PASSWORD, pacing=SPEC_PACING.scaled(0.02))
    async with run_simulator(config) as running:
        yield running


async def test_real_clock_too_close_and_spaced(real_time_sim: RunningSimulator) -> None:
    sim = real_time_sim
    middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
    async with aiohttp.ClientSession(base_url=sim.url, middlewares=(middleware,)) as client:
        # Authenticate once first so the 401 round trip does not add to the gaps.
        await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2")
        await asyncio.sleep(0.08)
        sim.journal.clear()
        await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2")
        await asyncio.sleep(0.08)  # > 0.06 s, the scaled command interval
        await get(client, "/cgi-bin/recordedtime.cgi")
        assert sim.journal.violations == []
        await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2")  # at once: too close
    assert [v.entry.cgi for v in sim.journal.violations] == [Cgi.GETINFO]
