"""From *Submit* to the entities in as few commands as the recorder allows.

The config flow's validated client (logged in, its UID alive) and the camera
status it read go to the entry the flow creates or reloads; the logs are
polled after the entities, and the disk times read again in the recorder's
zone once a log entry has told it. Counted in the simulator's journal.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    start_reauth_flow,
)

import custom_components.ipro_nvr as integration
from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.client_factory import (
    HANDOVER_TTL,
    create_client,
    hand_over,
    take_handover,
)
from custom_components.ipro_nvr.const import DOMAIN, EVENT_NVR
from nvr_simulator.server import RunningSimulator

from .conftest import entry_data


def _cgis(simulator: RunningSimulator) -> list[Cgi]:
    return [entry.cgi for entry in simulator.journal.entries]


def _assert_handed_over(simulator: RunningSimulator, since: int) -> None:
    """From journal entry ``since`` to the first disk read: one status read and one
    login (the flow's: it reads the sessions in use before it takes one), then the disk
    read (the entry's); logouts of an old entry aside.
    (Information commands carry no UID: that the entry's command UID is the
    flow's shows in the logins counted once the kept live UIDs are in.)"""
    path = [e.cgi for e in simulator.journal.entries[since:] if e.cgi is not Cgi.LOGOUT]
    assert path[: path.index(Cgi.RECORDEDTIME) + 1] == [Cgi.GETINFO, Cgi.LOGIN, Cgi.RECORDEDTIME]


def _logins_since(simulator: RunningSimulator, since: int) -> int:
    return sum(e.cgi is Cgi.LOGIN for e in simulator.journal.entries[since:])


async def _settle(hass: HomeAssistant, simulator: RunningSimulator) -> None:
    """Wait for the first log poll and the kept live UIDs (logged in and set up)."""
    await hass.async_block_till_done(wait_background_tasks=True)
    async with asyncio.timeout(20):
        while (  # noqa: ASYNC110 - the background logins
            simulator.uids.active_count() < 3 or len(simulator.journal.by_cgi(Cgi.HDRCTL)) < 2
        ):
            await asyncio.sleep(0.02)


async def test_user_flow_hands_its_session_and_status_to_the_entry(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """One login for flow and entry, no logout between, one status read: the entities
    exist after the flow's login, status and the entry's recordedtime."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # Entities are there as soon as setup returns.
    assert er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    connected = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}_1_connected"
    )
    assert connected is not None
    assert hass.states.get(connected) is not None

    # The path to the entities: status, login (the flow's), disks (the entry's).
    cgis = _cgis(simulator)
    path = cgis[: cgis.index(Cgi.RECORDEDTIME) + 1]
    assert path == [Cgi.GETINFO, Cgi.LOGIN, Cgi.RECORDEDTIME]
    _assert_handed_over(simulator, 0)
    assert simulator.journal.by_cgi(Cgi.LOGOUT) == []
    assert simulator.uids.released_total == 0
    assert take_handover(hass, entry.data) is None  # taken, not left waiting

    # The logs come after the entities, in the background.
    await hass.async_block_till_done(wait_background_tasks=True)
    cgis = _cgis(simulator)
    assert cgis.count(Cgi.LOGLIST) == 2
    assert cgis.index(Cgi.LOGLIST) > cgis.index(Cgi.RECORDEDTIME)
    assert entry.runtime_data.log_coordinator.data is not None
    # The flow's UID is the entry's command UID: three logins in all (the flow's,
    # the two kept live UIDs), three UIDs held, none logged out.
    await _settle(hass, simulator)
    assert _logins_since(simulator, 0) == 3
    assert simulator.uids.active_count() == 3
    assert simulator.journal.by_cgi(Cgi.LOGOUT) == []
    assert simulator.journal.violations == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_disk_times_are_read_in_the_recorders_zone_once_logs_arrive(
    hass: HomeAssistant, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Home Assistant's zone differs from the recorder's (GMT+09:00): the first disk times
    are read in Home Assistant's, then again in the recorder's, without a new request."""
    await hass.config.async_set_time_zone("America/New_York")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator)
    )
    entry = result["result"]
    await hass.async_block_till_done()
    status = entry.runtime_data.coordinator
    first = status.data.recorded
    assert status.data.recorded_zone != timedelta(hours=9)

    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.log_coordinator.last_update_success
    assert status.data.recorded_zone == timedelta(hours=9)
    disk = next(d for d in status.data.recorded.disks if d.oldest is not None)
    assert disk.oldest is not None
    assert disk.oldest.utcoffset() == timedelta(hours=9)
    before = next(d for d in first.disks if d.slot == disk.slot)
    assert before.oldest is not None
    # The same wall-clock reading, now meaning another instant.
    assert before.oldest.replace(tzinfo=None) == disk.oldest.replace(tzinfo=None)
    assert before.oldest != disk.oldest
    assert len(simulator.journal.by_cgi(Cgi.RECORDEDTIME)) == 1

    # A direct read once the zone is known agrees with the re-read one.
    sensor = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_{disk.slot.lower()}_disk_oldest"
    )
    assert sensor is not None
    state = hass.states.get(sensor)
    assert state is not None
    assert dt_util.parse_datetime(state.state) == disk.oldest

    # A later setup knows the zone at once (stored with the log position), even
    # when its own log poll fails (and it reads the disks itself: no client and
    # status handed over by the entry before it).
    monkeypatch.setattr(integration, "HANDOVER_MAX_STOPS", -1)
    simulator.faults.busy = True
    simulator.faults.only = {Cgi.LOGLIST}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not entry.runtime_data.log_coordinator.last_update_success
    reread = entry.runtime_data.coordinator.data
    assert reread.recorded_zone == timedelta(hours=9)
    again = next(d for d in reread.recorded.disks if d.slot == disk.slot)
    assert again.oldest == disk.oldest
    assert len(simulator.journal.by_cgi(Cgi.RECORDEDTIME)) == 2
    simulator.faults.clear()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_handover_not_taken_is_logged_out(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """Nobody takes it within the time: logged out in the background."""
    data = entry_data(simulator)
    client = create_client(hass, data)
    await client.validate()
    hand_over(hass, data, client)
    assert simulator.uids.active_count() == 1
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=HANDOVER_TTL + 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(simulator.journal.by_cgi(Cgi.LOGOUT)) == 1
    assert simulator.uids.active_count() == 0
    assert take_handover(hass, data) is None


async def test_a_handover_for_other_data_is_logged_out_not_used(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """Another password (or TLS setting) for the same recorder: the waiting client is no use."""
    data = entry_data(simulator)
    client = create_client(hass, data)
    status = await client.validate()
    hand_over(hass, data, client, status)
    assert take_handover(hass, entry_data(simulator, **{CONF_PASSWORD: "other"})) is None
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(simulator.journal.by_cgi(Cgi.LOGOUT)) == 1

    # The matching data gets the client and its fresh status.
    client = create_client(hass, data)
    status = await client.validate()
    hand_over(hass, data, client, status)
    handover = take_handover(hass, data)
    assert handover is not None
    assert handover.client is client
    assert handover.fresh_status() == status
    await client.close()


async def test_handovers_are_logged_out_when_home_assistant_stops(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """Nothing leaks on stop."""
    data = entry_data(simulator)
    client = create_client(hass, data)
    await client.validate()
    hand_over(hass, data, client)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(simulator.journal.by_cgi(Cgi.LOGOUT)) == 1
    assert not hass.data[client_factory.DATA_HANDOVERS].waiting


async def test_reauth_and_reconfigure_hand_over_too(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """The reloaded entry takes the flow's client: the old entry's UIDs are logged out,
    the flow's is not, and nothing waits afterwards."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator)
    )
    entry = result["result"]
    await _settle(hass, simulator)

    since = len(simulator.journal.entries)
    result = await start_reauth_flow(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_USERNAME: simulator.config.username, CONF_PASSWORD: simulator.config.password},
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.data[client_factory.DATA_HANDOVERS].waiting
    # The reloaded entry's command UID is the reauth flow's: the old entry's
    # three UIDs logged out, three logins since (the flow's, two kept live UIDs).
    _assert_handed_over(simulator, since)
    await _settle(hass, simulator)
    assert _logins_since(simulator, since) == 3
    assert sum(e.cgi is Cgi.LOGOUT for e in simulator.journal.entries[since:]) == 3

    since = len(simulator.journal.entries)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {key: entry.data[key] for key in ("host", "port", "use_https", "verify_ssl")},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.data[client_factory.DATA_HANDOVERS].waiting
    _assert_handed_over(simulator, since)
    await _settle(hass, simulator)
    assert _logins_since(simulator, since) == 3
    assert entry.runtime_data.coordinator.last_update_success
    assert simulator.journal.violations == []
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert simulator.uids.active_count() == 0


async def test_unload_during_the_first_log_poll_fires_nothing_then_once(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """The first log poll runs after setup: an unload while it waits for the recorder
    ends it without firing or remembering; the next setup fires the entry once."""
    fired: list[str] = []
    hass.bus.async_listen(EVENT_NVR, lambda event: fired.append(event.data["text"]))
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    simulator.simulator.add_event("SITE(VMD)-7")
    simulator.faults.slow_response = 0.5
    simulator.faults.only = {Cgi.LOGLIST}
    arrived = len(simulator.journal.entries)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    async with asyncio.timeout(10):
        while not any(  # noqa: ASYNC110 - polling the simulator's journal
            e.cgi is Cgi.LOGLIST for e in simulator.journal.entries[arrived:]
        ):
            await asyncio.sleep(0.01)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fired == []
    simulator.faults.clear()
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fired == ["SITE(VMD)-7"]
