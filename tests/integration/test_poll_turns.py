"""Polling keeps its turn while many cameras start (spec 1.3: one command queue).

A dashboard of 16 live tiles asks for 16 camera starts at once, each a person
waiting, so each goes ahead of the polls. A poll asked for outside its timer is
due at once and gets the next turn, at most one person's request in between
(counted in commands: the journal's order is what the recorder saw). A poll on
Home Assistant's timer is asked early, held back to its time while the recorder
is idle and promoted before it (``Scheduler.turn(due=Deadline(...))``): it
comes within its interval of the previous poll's end, measured in the scaled
pacing (``benchmarks.ha_stream`` measures the gaps at the real pacing; README).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from homeassistant.components.camera import async_get_stream_source
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr import client_factory, coordinator
from custom_components.ipro_nvr.api.scheduler import (
    PEOPLE,
    POLL_YIELD_SPACINGS,
    Deadline,
    Priority,
    Scheduler,
    Urgency,
)
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from custom_components.ipro_nvr.const import CONF_EVENT_SCAN_INTERVAL, CONF_SCAN_INTERVAL, DOMAIN
from nvr_simulator.server import RunningSimulator
from tests.conftest import TEST_PACING, assert_paced, fast_pacing, record_sends
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


def _connected(simulator: RunningSimulator) -> list[int]:
    return [ch for ch in range(1, CAMERAS + 1) if simulator.simulator.channel_state(ch) == 1]


async def _stream_urls(
    hass: HomeAssistant, entry: MockConfigEntry, channels: list[int]
) -> list[str]:
    """The relay URLs Home Assistant's stream would open for ``channels``' cameras."""
    registry = er.async_get(hass)
    urls = []
    for channel in channels:
        entity_id = registry.async_get_entity_id(
            "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
        )
        assert entity_id is not None
        url = await async_get_stream_source(hass, entity_id)
        assert url is not None
        urls.append(url)
    return urls


async def _stop_viewers(viewers: list[asyncio.Task[None]]) -> None:
    for viewer in viewers:
        viewer.cancel()
    for viewer in viewers:
        with suppress(asyncio.CancelledError, aiohttp.ClientError):
            await viewer


async def test_a_status_poll_keeps_its_turn_while_sixteen_cameras_start(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Sixteen live starts queued, then a poll: it is sent within a few commands, not
    after all of them; every live UID is set up once (spec 2.2.1), not per camera."""
    runtime = loaded_entry.runtime_data
    connected = _connected(simulator)
    urls = await _stream_urls(hass, loaded_entry, connected)
    received = [0]
    # Kept from asking on its own meanwhile (the poll below is asked for).
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
        await _stop_viewers(viewers)
    # The live-setup command once per live UID, not once per camera.
    logins = len(simulator.journal.by_cgi(Cgi.LOGIN))
    assert len(simulator.journal.by_cgi(Cgi.HDRCTL)) <= logins
    # Paced: the turns the client's queue granted (arrivals carry the loop's jitter).
    assert_paced(sends, Lane.COMMAND, TEST_PACING)


# Commands 0.3 s apart: a poll interval of a few spacings then stays well above Home
# Assistant's timer granularity (it fires up to 0.5 s late), and the half spacing a
# poll is released early covers a busy event loop's lateness.
POLL_RACE_PACING = fast_pacing(0.3)
# Poll intervals in command spacings (the spec's are 5 for the log poll, 20 for the
# status poll).
LOG_POLL_SPACINGS = 7
STATUS_POLL_SPACINGS = 16


@dataclass(slots=True)
class _Polls:
    """One coordinator's scheduled polls: when each poll's commands ended, and the
    turns granted to each scheduled poll (by its ``Deadline``)."""

    interval: float
    ends: list[float] = field(default_factory=list)
    turns: dict[int, list[float]] = field(default_factory=dict)
    # The scheduled polls that asked for a turn while people's requests waited.
    contended: set[int] = field(default_factory=set)

    def gaps(self) -> list[float]:
        """From the end of the previous poll to each scheduled poll's first turn."""
        gaps = []
        for granted in self.turns.values():
            if not granted:
                continue  # still held back when the entry unloaded
            first = min(granted)
            previous = [end for end in self.ends if end < first]
            if previous:
                gaps.append(first - previous[-1])
        return gaps


def _watch_polls(coordinator: Any, polls: _Polls, owners: dict[int, _Polls]) -> None:
    poll_due, polled = coordinator._poll_due, coordinator._polled

    def recorded_due() -> float | Deadline:
        due = poll_due()
        if isinstance(due, Deadline):
            owners[id(due)] = polls
            polls.turns[id(due)] = []
        return due

    def recorded_end() -> None:
        polled()
        polls.ends.append(coordinator.client.clock())

    coordinator._poll_due = recorded_due
    coordinator._polled = recorded_end


def _watch_turns(scheduler: Scheduler, owners: dict[int, _Polls]) -> None:
    turn = scheduler.turn

    async def recorded(
        lane: Lane, priority: Priority | Urgency = Priority.NORMAL, *, due: Any = None
    ) -> float:
        deadline = due if due is not None else getattr(priority, "due", None)
        people = any(waiter.urgency.priority in PEOPLE for waiter in scheduler._lanes[lane].queue)
        started = await turn(lane, priority, due=due)
        if (polls := owners.get(id(deadline))) is not None:
            polls.turns[id(deadline)].append(started)
            if people:
                polls.contended.add(id(deadline))
        return started

    scheduler.turn = recorded  # type: ignore[method-assign]


async def test_every_poll_comes_within_its_interval_while_sixteen_cameras_start(
    hass: HomeAssistant, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dashboard of sixteen live tiles opened right after setup: each coordinator's
    polls, as Home Assistant's timer starts them, keep their interval (counted from the
    previous poll's end, as Home Assistant counts it) although the camera starts were
    queued first, each a person waiting."""
    monkeypatch.setattr(client_factory, "CLIENT_PACING", POLL_RACE_PACING)
    simulator.config.pacing = POLL_RACE_PACING
    spacing = Scheduler.spacing(POLL_RACE_PACING.command_interval)
    log_interval, status_interval = LOG_POLL_SPACINGS * spacing, STATUS_POLL_SPACINGS * spacing
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="i-PRO NVR (127.0.0.1)",
        unique_id=f"{simulator.host}:{simulator.port}",
        data=entry_data(simulator),
        options={CONF_EVENT_SCAN_INTERVAL: log_interval, CONF_SCAN_INTERVAL: status_interval},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    runtime = entry.runtime_data
    owners: dict[int, _Polls] = {}
    logs, status = _Polls(log_interval), _Polls(status_interval)
    _watch_polls(runtime.log_coordinator, logs, owners)
    _watch_polls(runtime.coordinator, status, owners)
    _watch_turns(runtime.client._scheduler, owners)
    sends = record_sends(runtime.client)
    connected = _connected(simulator)
    received = [0]
    viewers = []
    try:
        viewers.extend(
            asyncio.create_task(_watch(url, received))
            for url in await _stream_urls(hass, entry, connected)
        )
        async with asyncio.timeout(60):
            while (  # noqa: ASYNC110
                len([q for q in sends.queries(Lane.COMMAND) if "CMD=START" in q]) < len(connected)
            ):
                await asyncio.sleep(0.05)
        async with asyncio.timeout(60):
            while not status.gaps():  # noqa: ASYNC110 - the status poll's timer
                await asyncio.sleep(0.05)
    finally:
        await _stop_viewers(viewers)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    # A scheduled poll asked for its turn while cameras' starts waited (which
    # one depends on the phase: the first log polls are setup's, due at once).
    assert logs.contended or status.contended, (logs, status, sends.queries(Lane.COMMAND))
    # Within the interval, or after it while people's requests go first: the poll
    # yields while less than POLL_YIELD_SPACINGS past its time, so its turn may come
    # a spacing after that; one more when the other coordinator's poll took the turn
    # before (a person never waits two turns of nobody's in a row); one more for a
    # loaded event loop running the turns late (a gap of twice the interval fails).
    for polls in (logs, status):
        gaps = polls.gaps()
        assert max(gaps) <= polls.interval + (POLL_YIELD_SPACINGS + 3) * spacing, (
            [round(gap / spacing, 2) for gap in gaps],
            sends.queries(Lane.COMMAND),
        )
    assert_paced(sends, Lane.COMMAND, POLL_RACE_PACING)


async def test_timer_log_polls_read_the_error_log_only_after_its_interval(
    hass: HomeAssistant, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every log poll the timer makes reads the event log; the error log only once its
    own interval has passed (a minute in production): most log polls cost one paced
    command instead of two, turns a dashboard's camera starts need."""
    monkeypatch.setattr(client_factory, "CLIENT_PACING", POLL_RACE_PACING)
    simulator.config.pacing = POLL_RACE_PACING
    spacing = Scheduler.spacing(POLL_RACE_PACING.command_interval)
    log_interval = LOG_POLL_SPACINGS * spacing
    monkeypatch.setattr(coordinator, "ERROR_LOG_INTERVAL", timedelta(seconds=3 * log_interval))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="i-PRO NVR (127.0.0.1)",
        unique_id=f"{simulator.host}:{simulator.port}",
        data=entry_data(simulator),
        options={CONF_EVENT_SCAN_INTERVAL: log_interval, CONF_SCAN_INTERVAL: 100 * spacing},
    )
    entry.add_to_hass(hass)

    def reads(kind: str) -> int:
        return sum(f"KIND={kind}&" in e.query for e in simulator.journal.by_cgi(Cgi.LOGLIST))

    assert await hass.config_entries.async_setup(entry.entry_id)
    try:
        async with asyncio.timeout(60):
            while reads("EVENT") < 7:  # noqa: ASYNC110 - the log poll's timer
                await asyncio.sleep(0.05)
        events, errors = reads("EVENT"), reads("ERR")
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    # The first poll reads both; then about every third poll reads the error log too.
    assert 2 <= errors <= 4 < events, (errors, events)
