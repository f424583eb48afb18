"""Polling keeps its turn while many cameras start (spec 1.3: one command queue).

A dashboard of 16 live tiles asks for 16 camera starts at once, each a person
waiting, so each goes ahead of the polls. A poll that is due (its interval has
passed since the previous poll started) carries that deadline to the scheduler
(``Scheduler.turn(due=...)``) and gets the next turn, at most one person's
request in between. Counted in commands, not seconds: the journal's order is
what the recorder saw (``benchmarks.ha_stream`` measures the gaps at the real
pacing; README).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from homeassistant.components.camera import async_get_stream_source
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.api.scheduler import Priority, Scheduler, Urgency
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from custom_components.ipro_nvr.const import CONF_EVENT_SCAN_INTERVAL, CONF_SCAN_INTERVAL, DOMAIN
from nvr_simulator.server import RunningSimulator
from tests.conftest import TEST_PACING, assert_paced, record_sends
from tests.integration.conftest import entry_data

CAMERAS = 16
# The command granted before the poll asked (in flight, not yet in the journal)
# and at most one person's request the alternation lets go first; without the
# deadline the poll waits its generic promotion, five spacings (seven commands).
MOST_COMMANDS_AHEAD = 2
# A status poll interval short enough to have passed since setup's poll.
DUE_INTERVAL = timedelta(seconds=1)


async def _watch(url: str, received: list[int]) -> None:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        async for chunk in response.content.iter_any():
            received[0] += len(chunk)


async def test_a_status_poll_keeps_its_turn_while_sixteen_cameras_start(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Sixteen live starts queued, then a poll: it is sent within a few commands, not
    after all of them; every live UID is set up once (spec 2.2.1), not per camera."""
    registry = er.async_get(hass)
    runtime = loaded_entry.runtime_data
    connected = [ch for ch in range(1, CAMERAS + 1) if simulator.simulator.channel_state(ch) == 1]
    urls = []
    for channel in connected:
        entity_id = registry.async_get_entity_id(
            "camera", DOMAIN, f"{loaded_entry.entry_id}_{channel}_camera"
        )
        assert entity_id is not None
        url = await async_get_stream_source(hass, entity_id)
        assert url is not None
        urls.append(url)
    received = [0]
    # The next status poll is due: its interval has passed since setup's poll began.
    interval = runtime.coordinator.update_interval
    runtime.coordinator.update_interval = DUE_INTERVAL
    await asyncio.sleep(DUE_INTERVAL.total_seconds())
    sends = record_sends(runtime.client)
    simulator.journal.clear()
    viewers = [asyncio.create_task(_watch(url, received)) for url in urls]
    try:
        # The starts are queued (the first is on its way), then the poll asks.
        async with asyncio.timeout(30):
            while not simulator.journal.by_cgi(Cgi.PUSH):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await asyncio.sleep(0)
        before = len(simulator.journal.entries)
        await runtime.coordinator.async_refresh()
        runtime.coordinator.update_interval = interval
        assert runtime.coordinator.last_update_success
        entries = simulator.journal.entries
        polled = next(index for index, entry in enumerate(entries) if entry.cgi is Cgi.GETINFO)
        ahead = entries[before:polled]
        assert len(ahead) <= MOST_COMMANDS_AHEAD, [entry.cgi for entry in ahead]
        # Without the promotion it would have come last: starts are still to come.
        async with asyncio.timeout(60):
            while (  # noqa: ASYNC110
                len([e for e in simulator.journal.by_cgi(Cgi.PUSH) if "START" in e.query])
                < len(connected)
            ):
                await asyncio.sleep(0.05)
        starts = [
            index
            for index, entry in enumerate(simulator.journal.entries)
            if entry.cgi is Cgi.PUSH and "START" in entry.query
        ]
        assert max(starts) > polled
        async with asyncio.timeout(30):
            while received[0] < 10_000 * len(connected):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        for viewer in viewers:
            viewer.cancel()
        for viewer in viewers:
            with suppress(asyncio.CancelledError, aiohttp.ClientError):
                await viewer
    # The live-setup command once per live UID, not once per camera.
    logins = len(simulator.journal.by_cgi(Cgi.LOGIN))
    assert len(simulator.journal.by_cgi(Cgi.HDRCTL)) <= logins
    # Paced: the turns the client's queue granted (arrivals carry the loop's jitter).
    assert_paced(sends, Lane.COMMAND, TEST_PACING)


# The spec's poll intervals (log 15 s, status 60 s) in command spacings, scaled as the
# tests' pacing is: five and twenty commands.
LOG_POLL_SPACINGS = 5
STATUS_POLL_SPACINGS = 20
# Turns another request may get between a due poll's ask and its own: one person's
# (the alternation), one more promoted request asked before it (a keep-alive login, the
# other coordinator's command) and that one's person. Generic promotion would let
# five spacings of camera starts go first; the first log poll, due one interval after
# setup, waited for the whole interval behind them.
MOST_TURNS_BEFORE_A_DUE_POLL = 4


@dataclass(slots=True)
class _Turn:
    asked: int  # turns granted before it asked
    granted: int  # its place among the granted turns
    polled: bool  # asked with a deadline: a poll's command or its login


def _record_turns(scheduler: Scheduler) -> list[_Turn]:
    """Every turn of the command lane: when asked and granted, counted in turns."""
    turns: list[_Turn] = []
    granted = [0]
    turn = scheduler.turn

    async def recorded(
        lane: Lane, priority: Priority | Urgency = Priority.NORMAL, *, due: float | None = None
    ) -> float:
        if lane is not Lane.COMMAND:
            return await turn(lane, priority, due=due)
        asked = granted[0]
        polled = due is not None or (isinstance(priority, Urgency) and priority.due is not None)
        started = await turn(lane, priority, due=due)
        turns.append(_Turn(asked, granted[0], polled))
        granted[0] += 1
        return started

    scheduler.turn = recorded  # type: ignore[method-assign]
    return turns


async def test_polls_keep_their_turns_from_setup_on_while_sixteen_cameras_start(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """A dashboard of sixteen live tiles opened right after setup: the first log poll
    (its login included) and every later poll of either coordinator get their turns
    within a few commands of asking, not after the camera starts queued before them."""
    interval = TEST_PACING.command_interval
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="i-PRO NVR (127.0.0.1)",
        unique_id=f"{simulator.host}:{simulator.port}",
        data=entry_data(simulator),
        options={
            CONF_EVENT_SCAN_INTERVAL: LOG_POLL_SPACINGS * interval,
            CONF_SCAN_INTERVAL: STATUS_POLL_SPACINGS * interval,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    runtime = entry.runtime_data
    turns = _record_turns(runtime.client._scheduler)
    sends = record_sends(runtime.client)
    registry = er.async_get(hass)
    connected = [ch for ch in range(1, CAMERAS + 1) if simulator.simulator.channel_state(ch) == 1]
    received = [0]
    viewers = []
    try:
        for channel in connected:
            entity_id = registry.async_get_entity_id(
                "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
            )
            assert entity_id is not None
            url = await async_get_stream_source(hass, entity_id)
            assert url is not None
            viewers.append(asyncio.create_task(_watch(url, received)))
        async with asyncio.timeout(60):
            while (  # noqa: ASYNC110
                len([q for q in sends.queries(Lane.COMMAND) if "CMD=START" in q]) < len(connected)
            ):
                await asyncio.sleep(0.05)
    finally:
        for viewer in viewers:
            viewer.cancel()
        for viewer in viewers:
            with suppress(asyncio.CancelledError, aiohttp.ClientError):
                await viewer
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    queries = sends.queries(Lane.COMMAND)
    first_start = next(i for i, query in enumerate(queries) if "CMD=START" in query)
    last_start = max(i for i, query in enumerate(queries) if "CMD=START" in query)
    logs = [i for i, query in enumerate(queries) if "KIND=" in query]
    # The first log poll went before most camera starts, not after them.
    assert logs, queries
    assert logs[0] < first_start + MOST_TURNS_BEFORE_A_DUE_POLL, queries
    # Several polls while the cameras started, each let through within a few turns.
    polled = [turn for turn in turns if turn.polled and turn.granted <= last_start]
    assert len(polled) >= 4, queries
    waits = [turn.granted - turn.asked for turn in polled]
    assert max(waits) <= MOST_TURNS_BEFORE_A_DUE_POLL, (waits, queries)
    assert_paced(sends, Lane.COMMAND, TEST_PACING)
