"""No log entry fires twice: across reloads, restarts, cut lists, renumbering and reboots.

Each test counts ``ipro_nvr_event`` on the bus while the simulated recorder's
logs are shaped by its fault switches (``log_list_cut``, ``log_number_offset``)
and by what a reboot does (sessions gone, ``POWER ON``, clock set back).
"""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import DOMAIN, EVENT_NVR
from custom_components.ipro_nvr.coordinator import NvrLogCoordinator
from nvr_simulator.server import RunningSimulator


def _listen(hass: HomeAssistant) -> list[tuple[str, str]]:
    """Collect (log, text) of every event fired on the bus from now on."""
    fired: list[tuple[str, str]] = []

    def _record(event: Event[Any]) -> None:
        fired.append((event.data["log"], event.data["text"]))

    hass.bus.async_listen(EVENT_NVR, _record)
    return fired


def _logs(entry: MockConfigEntry) -> NvrLogCoordinator:
    coordinator: NvrLogCoordinator = entry.runtime_data.log_coordinator
    return coordinator


async def _poll(hass: HomeAssistant, entry: MockConfigEntry) -> bool:
    """Poll both logs now; return whether the poll succeeded."""
    await _logs(entry).async_refresh()
    await hass.async_block_till_done()
    return _logs(entry).last_update_success


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_reload_and_restart_replay_nothing(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
) -> None:
    """What a poll saw is stored when the poll ends, so neither a reload nor a
    Home Assistant that stops right after the poll replays it."""
    fired = _listen(hass)
    key = f"{DOMAIN}.{loaded_entry.entry_id}.log_position"
    sim = simulator.simulator

    stored_before = copy.deepcopy(hass_storage[key]["data"])
    sim.add_event("SITE(VMD)-3")
    sim.add_error("CAM 5 COMMUNICATION ERROR")
    assert await _poll(hass, loaded_entry)
    assert sorted(fired) == [("error", "CAM 5 COMMUNICATION ERROR"), ("event", "SITE(VMD)-3")]
    # Written by the poll itself, not by a timer that a reload or a stop could outrun.
    stored = hass_storage[key]["data"]
    for log in ("event", "error"):
        assert len(stored[log]) == len(stored_before[log]) + 1

    # A reload, twice, and polls after it: nothing replayed; a new entry fires once.
    for _ in range(2):
        assert await hass.config_entries.async_reload(loaded_entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert await _poll(hass, loaded_entry)
    assert len(fired) == 2
    sim.add_event("SITE(VMD)-1")
    assert await _poll(hass, loaded_entry)
    assert fired[2:] == [("event", "SITE(VMD)-1")]

    # A restart: Home Assistant stops right after a poll (no unload runs, so
    # only what was on disk then counts), then starts and reads it back.
    sim.add_event("SITE(VMD)-2")
    assert await _poll(hass, loaded_entry)
    on_disk = copy.deepcopy(hass_storage[key])
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    hass_storage[key] = on_disk
    await _setup(hass, loaded_entry)
    assert await _poll(hass, loaded_entry)
    assert fired[2:] == [("event", "SITE(VMD)-1"), ("event", "SITE(VMD)-2")]
    sim.add_error("MAIN-2 HDD RECOVERED")
    assert await _poll(hass, loaded_entry)
    assert fired[4:] == [("error", "MAIN-2 HDD RECOVERED")]


async def test_entries_arriving_while_unloaded_fire_once_after_setup(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Entries written while the entry was not loaded are new to the next setup: once."""
    fired = _listen(hass)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    simulator.simulator.add_event("SITE(ALARM)-2")
    await _setup(hass, loaded_entry)
    assert fired == [("event", "SITE(ALARM)-2")]
    assert await _poll(hass, loaded_entry)
    assert len(fired) == 1


async def test_a_list_cut_at_an_entry_boundary_is_refused_then_nothing_replays(
    hass: HomeAssistant, simulator: RunningSimulator, config_entry: MockConfigEntry
) -> None:
    """The recorder declares 50 entries and lists 10: the poll fails instead of taking
    the ten as the whole log, and the next full poll fires only the one new entry."""
    sim = simulator.simulator
    base = simulator.config.wall_clock() - timedelta(days=1)
    for i in range(40):
        sim.add_error(f"CAM {i % 8 + 1} COMMUNICATION ERROR", base + timedelta(minutes=i))
    await _setup(hass, config_entry)
    fired = _listen(hass)

    simulator.faults.log_list_cut = 10
    sim.add_error("CAM 2 COMMUNICATION RECOVERED")
    assert not await _poll(hass, config_entry)
    assert fired == []
    simulator.faults.log_list_cut = None
    assert await _poll(hass, config_entry)
    assert fired == [("error", "CAM 2 COMMUNICATION RECOVERED")]
    assert await _poll(hass, config_entry)
    assert len(fired) == 1
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_renumbered_lists_fire_nothing(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Every entry under another number is still the same entry."""
    fired = _listen(hass)
    simulator.faults.log_number_offset = 500
    assert await _poll(hass, loaded_entry)
    simulator.simulator.add_event("SITE(VMD)-5")
    simulator.faults.log_number_offset = 3
    assert await _poll(hass, loaded_entry)
    assert fired == [("event", "SITE(VMD)-5")]


async def test_a_recorder_reboot_fires_only_what_it_wrote(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A reboot: sessions gone, lists renumbered, clock set back an hour, a ``POWER ON``.
    Only the entries written since fire, including one stamped before the last seen."""
    fired = _listen(hass)
    sim = simulator.simulator
    sim.add_event("SITE(VMD)-1")
    assert await _poll(hass, loaded_entry)

    real_clock = simulator.config.wall_clock
    simulator.config.wall_clock = lambda: real_clock() - timedelta(hours=1)
    simulator.faults.expire_uids()
    simulator.faults.log_number_offset = 7
    sim.add_error("POWER ON")
    sim.add_event("SITE(VMD)-1")  # an hour "earlier" than the entry fired above
    assert await _poll(hass, loaded_entry)
    assert await _poll(hass, loaded_entry)
    assert fired[0] == ("event", "SITE(VMD)-1")
    # Same second: their order between the two logs is not defined.
    assert sorted(fired[1:]) == [("error", "POWER ON"), ("event", "SITE(VMD)-1")]
    assert simulator.journal.violations == []


async def test_a_poll_caught_by_an_unload_fires_nothing_and_the_next_setup_fires_once(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Unloading while a log poll waits for the recorder: that poll fires nothing (its
    entries are not remembered either), and the next setup fires the entry once."""
    fired = _listen(hass)
    simulator.simulator.add_event("SITE(VMD)-6")
    simulator.faults.slow_response = 0.3
    simulator.faults.only = {Cgi.LOGLIST}
    logs = _logs(loaded_entry)
    arrived = len(simulator.journal.entries)
    poll = hass.async_create_task(logs.async_refresh())
    async with asyncio.timeout(10):
        # The log list request has reached the recorder, which is slow to answer.
        while not any(  # noqa: ASYNC110 - polling the simulator's journal
            e.cgi is Cgi.LOGLIST for e in simulator.journal.entries[arrived:]
        ):
            await asyncio.sleep(0.01)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await poll
    await hass.async_block_till_done()
    assert fired == []
    simulator.faults.clear()
    await _setup(hass, loaded_entry)
    assert fired == [("event", "SITE(VMD)-6")]
    assert await _poll(hass, loaded_entry)
    assert len(fired) == 1
