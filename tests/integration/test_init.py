"""Setting up the integration against the simulator: devices, entities, events, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ipro_nvr import repairs
from custom_components.ipro_nvr.client_factory import HANDOVER_TTL
from custom_components.ipro_nvr.compat import device_by_identifier
from custom_components.ipro_nvr.const import (
    CAMERA_DISCONNECTED_REPAIR_AFTER,
    CONF_CHANNELS,
    DOMAIN,
    EVENT_NVR,
)
from custom_components.ipro_nvr.diagnostics import async_get_config_entry_diagnostics
from nvr_simulator.server import RunningSimulator

from .conftest import entry_data


def _entity_id(hass: HomeAssistant, platform: str, entry: MockConfigEntry, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert entity_id is not None, key
    return entity_id


def _state(hass: HomeAssistant, platform: str, entry: MockConfigEntry, key: str) -> str:
    state = hass.states.get(_entity_id(hass, platform, entry, key))
    assert state is not None
    return state.state


async def test_setup_creates_recorder_and_channel_devices(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """One recorder device, one device per registered channel, linked via the recorder."""
    devices = dr.async_get(hass)
    entry_id = loaded_entry.entry_id
    recorder = device_by_identifier(hass, (DOMAIN, entry_id), entry_id)
    assert recorder is not None
    assert recorder.manufacturer == "i-PRO"
    channels = [
        d
        for d in dr.async_entries_for_config_entry(devices, loaded_entry.entry_id)
        if d.id != recorder.id
    ]
    assert len(channels) == simulator.config.cameras
    assert {d.via_device_id for d in channels} == {recorder.id}
    camera3 = device_by_identifier(hass, (DOMAIN, f"{entry_id}_3"), entry_id)
    assert camera3 is not None
    assert camera3.name == "Camera 3"


async def test_entities_reflect_the_recorder(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Connectivity, disks and the problem sensor show what the simulator reports."""
    assert _state(hass, "binary_sensor", loaded_entry, "1_connected") == STATE_ON
    assert _state(hass, "binary_sensor", loaded_entry, "4_connected") == STATE_OFF
    # Sizes: the recorder's GB shown in TB (the suggested unit).
    assert float(_state(hass, "sensor", loaded_entry, "main-1_disk_capacity")) == 4.001
    assert float(_state(hass, "sensor", loaded_entry, "main-1_disk_remaining")) == 1.529
    assert _state(hass, "sensor", loaded_entry, "main-4_disk_oldest") == STATE_UNKNOWN
    total = float(_state(hass, "sensor", loaded_entry, "total_capacity"))
    assert total == pytest.approx((4001 + 4001 + 2000 + 4001) / 1000)
    used = float(_state(hass, "sensor", loaded_entry, "main-1_disk_used"))
    assert used == pytest.approx(100 * (4001 - 1529) / 4001, abs=0.1)
    # Empty slots get no entities at all.
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{loaded_entry.entry_id}_main-5_disk_capacity"
        )
        is None
    )

    problem_id = _entity_id(hass, "binary_sensor", loaded_entry, "problem")
    problem = hass.states.get(problem_id)
    assert problem is not None
    assert problem.state == STATE_ON
    assert problem.attributes["cameras_in_error"] == [4]
    # The simulator's history holds an unrecovered "MAIN-2 HDD ERROR".
    assert problem.attributes["disks_in_error"] == ["MAIN-2"]

    # The camera comes back: the next poll turns both sensors around.
    simulator.simulator.channel_states[4] = 1
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert _state(hass, "binary_sensor", loaded_entry, "4_connected") == STATE_ON
    problem = hass.states.get(problem_id)
    assert problem is not None
    assert problem.attributes["cameras_in_error"] == []

    # ...and once the disk recovers, nothing is wrong any more.
    simulator.simulator.add_error("MAIN-2 HDD RECOVERED")
    await loaded_entry.runtime_data.log_coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(problem_id).state == STATE_OFF  # type: ignore[union-attr]
    assert simulator.journal.violations == []


async def test_unload_logs_out_every_uid(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Unloading keeps the client for a next setup (a reload) a minute at most, then
    logs it out: the recorder has no session of ours left."""
    assert simulator.uids.active_count() >= 1
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert simulator.uids.active_count() >= 1
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=HANDOVER_TTL + 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.uids.active_count() == 0


async def test_unreachable_recorder_retries_setup_without_leaking(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """A recorder that does not answer puts the entry in retry, holding no UID."""
    simulator.faults.busy = True
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(simulator), unique_id="x")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    simulator.faults.busy = False
    assert simulator.uids.active_count() == 0
    await hass.config_entries.async_unload(entry.entry_id)


async def test_new_log_entries_fire_events_once(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A motion entry reaches the camera's event entity and the bus, and is never replayed."""
    fired: list[Event[Any]] = []
    hass.bus.async_listen(EVENT_NVR, fired.append)
    event_id = _entity_id(hass, "event", loaded_entry, "3_event")
    assert hass.states.get(event_id).state == STATE_UNKNOWN  # type: ignore[union-attr]

    simulator.simulator.add_event("SITE(VMD)-3")
    simulator.simulator.add_error("CAM 5 COMMUNICATION ERROR")
    logs = loaded_entry.runtime_data.log_coordinator
    await logs.async_refresh()
    await hass.async_block_till_done()

    state = hass.states.get(event_id)
    assert state is not None
    assert state.attributes["event_type"] == "motion"
    assert state.attributes["text"] == "SITE(VMD)-3"
    assert {(e.data["type"], e.data["channel"], e.data["log"]) for e in fired} == {
        ("motion", 3, "event"),
        ("communication_error", 5, "error"),
    }
    error_log = hass.states.get(_entity_id(hass, "event", loaded_entry, "error_log"))
    assert error_log is not None
    assert error_log.attributes["event_type"] == "communication_error"

    # Polling again, and reloading the entry, fire nothing more.
    await logs.async_refresh()
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(fired) == 2


async def test_recorder_outage_makes_entities_unavailable(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """While the recorder does not answer, entities are unavailable; then they return."""
    coordinator = loaded_entry.runtime_data.coordinator
    simulator.faults.drop_connection = True
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert _state(hass, "binary_sensor", loaded_entry, "1_connected") == STATE_UNAVAILABLE
    simulator.faults.drop_connection = False
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert _state(hass, "binary_sensor", loaded_entry, "1_connected") == STATE_ON


async def test_password_change_starts_reauth(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """When the recorder refuses the password, Home Assistant asks the user for a new one."""
    simulator.config.password = "changed-on-the-recorder"
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_repairs_raise_and_clear(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disk errors and disconnected cameras raise repairs that clear themselves."""
    monkeypatch.setattr(repairs, "CAMERA_DISCONNECTED_REPAIR_AFTER", timedelta(0))
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    issues = ir.async_get(hass)
    prefix = config_entry.entry_id
    assert issues.async_get_issue(DOMAIN, f"{prefix}_camera_disconnected_4") is not None

    simulator.simulator.add_error("MAIN-2 HDD ERROR")
    await config_entry.runtime_data.log_coordinator.async_refresh()
    assert issues.async_get_issue(DOMAIN, f"{prefix}_disk_error_main-2") is not None

    simulator.simulator.add_error("MAIN-2 HDD RECOVERED")
    simulator.simulator.channel_states[4] = 1
    await config_entry.runtime_data.log_coordinator.async_refresh()
    await config_entry.runtime_data.coordinator.async_refresh()
    assert issues.async_get_issue(DOMAIN, f"{prefix}_disk_error_main-2") is None
    assert issues.async_get_issue(DOMAIN, f"{prefix}_camera_disconnected_4") is None
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_repairs_survive_a_reload_ignored_and_timed(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reload keeps an issue whose cause holds, and its ignored state; the timer of a
    disconnected camera keeps its start across the reload."""
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    now = [start]
    monkeypatch.setattr(repairs, "_utcnow", lambda: now[0])
    simulator.simulator.add_error("MAIN-2 HDD ERROR")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    issues = ir.async_get(hass)
    disk_id = f"{config_entry.entry_id}_disk_error_main-2"
    camera_id = f"{config_entry.entry_id}_camera_disconnected_4"
    assert issues.async_get_issue(DOMAIN, disk_id) is not None
    assert issues.async_get_issue(DOMAIN, camera_id) is None  # camera 4: not for long enough
    issues.async_ignore(DOMAIN, disk_id, True)
    removed: list[str] = []
    hass.bus.async_listen(
        ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED,
        lambda e: removed.append(e.data["issue_id"]) if e.data["action"] == "remove" else None,
    )

    now[0] = start + CAMERA_DISCONNECTED_REPAIR_AFTER / 2
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    disk = issues.async_get_issue(DOMAIN, disk_id)
    assert disk is not None
    assert disk.dismissed_version is not None  # still ignored
    assert removed == []
    assert issues.async_get_issue(DOMAIN, camera_id) is None

    # Counted from the first load, not from the reload.
    now[0] = start + CAMERA_DISCONNECTED_REPAIR_AFTER + timedelta(seconds=1)
    await config_entry.runtime_data.coordinator.async_refresh()
    assert issues.async_get_issue(DOMAIN, camera_id) is not None

    # The cause gone: the issue goes, at the first poll after a reload too.
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    simulator.simulator.add_error("MAIN-2 HDD RECOVERED")
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # The set-up entry took over its predecessor's error log, read just before; the
    # recovery shows in the next log poll.
    await config_entry.runtime_data.log_coordinator.async_refresh()
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, disk_id) is None
    assert issues.async_get_issue(DOMAIN, camera_id) is not None
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_disconnection_time_survives_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The start of a camera's disconnection is stored, and read again after a restart."""
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    now = [start]
    monkeypatch.setattr(repairs, "_utcnow", lambda: now[0])
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    key = f"{DOMAIN}.{config_entry.entry_id}.repairs"
    assert hass_storage[key]["data"]["camera_error_since"] == {"4": start.isoformat()}
    hass.data.pop(repairs._STORES)  # what a restart forgets

    now[0] = start + CAMERA_DISCONNECTED_REPAIR_AFTER
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    camera_id = f"{config_entry.entry_id}_camera_disconnected_4"
    assert ir.async_get(hass).async_get_issue(DOMAIN, camera_id) is not None

    # Camera 4 back: its time is forgotten.
    simulator.simulator.channel_states[4] = 1
    await config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, camera_id) is None
    assert hass_storage[key]["data"]["camera_error_since"] == {}
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_removing_the_entry_removes_its_issues(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deleting the recorder deletes its issues (ignored ones too) and its stored times."""
    monkeypatch.setattr(repairs, "CAMERA_DISCONNECTED_REPAIR_AFTER", timedelta(0))
    simulator.simulator.add_error("MAIN-2 HDD ERROR")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    issues = ir.async_get(hass)
    ids = {i for d, i in issues.issues if d == DOMAIN}
    assert ids == {
        f"{config_entry.entry_id}_disk_error_main-2",
        f"{config_entry.entry_id}_camera_disconnected_4",
    }
    issues.async_ignore(DOMAIN, f"{config_entry.entry_id}_disk_error_main-2", True)
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not [i for d, i in issues.issues if d == DOMAIN]
    assert f"{DOMAIN}.{config_entry.entry_id}.repairs" not in hass_storage


async def test_deselected_channel_device_is_removed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Choosing fewer channels in the options removes the other channel devices."""
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_CHANNELS: [1, 2]})
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), loaded_entry.entry_id)
    assert len(devices) == 3  # the recorder and cameras 1 and 2


async def test_diagnostics_hold_no_secrets(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Diagnostics describe the recorder but never the password, user, host or UIDs."""
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_entry)
    text = json.dumps(diagnostics, default=str)
    assert simulator.config.password not in text
    assert "127.0.0.1" not in text
    for uid in simulator.uids.active():
        assert uid not in text
    assert diagnostics["camera_status"]["channels"]["4"] == 2
    assert diagnostics["entry"]["data"]["password"] == "**REDACTED**"
    assert {d["slot"] for d in diagnostics["disks"]} == {"MAIN-1", "MAIN-2", "MAIN-3", "MAIN-4"}


async def test_refused_sessions_raise_a_repair_that_clears(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A recorder that keeps refusing us gets a repair; it goes once polls succeed."""
    issue_id = f"{loaded_entry.entry_id}_too_many_clients"
    issues = ir.async_get(hass)
    coordinator = loaded_entry.runtime_data.coordinator
    simulator.faults.busy = True
    await coordinator.async_refresh()
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    simulator.faults.busy = False
    await coordinator.async_refresh()
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_camera_registered_later_gets_its_device(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A camera added on the recorder appears at the next poll, without a reload."""
    entry_id = loaded_entry.entry_id
    assert device_by_identifier(hass, (DOMAIN, f"{entry_id}_20"), entry_id) is None
    simulator.simulator.channel_states[20] = 1
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert device_by_identifier(hass, (DOMAIN, f"{entry_id}_20"), entry_id) is not None
    assert _state(hass, "binary_sensor", loaded_entry, "20_connected") == STATE_ON


async def test_full_log_wrapping_fires_only_new_entries(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """At the 1000-entry cap, old entries fall off and are renumbered: only new ones fire,
    each as one bus event and one state change of the camera's event entity."""
    base = simulator.config.wall_clock() - timedelta(days=1)
    for i in range(1000):
        simulator.simulator.add_event(f"SITE(VMD)-{i % 3 + 1}", base + timedelta(seconds=i))
    logs = loaded_entry.runtime_data.log_coordinator
    await logs.async_refresh()
    fired: list[Event[Any]] = []
    hass.bus.async_listen(EVENT_NVR, fired.append)
    event_id = _entity_id(hass, "event", loaded_entry, "7_event")
    changes: list[Event[Any]] = []
    hass.bus.async_listen(
        "state_changed", lambda e: changes.append(e) if e.data["entity_id"] == event_id else None
    )

    for _ in range(3):
        simulator.simulator.add_event("SITE(VMD)-7")
    await logs.async_refresh()
    await hass.async_block_till_done()

    assert len(simulator.simulator.events) == 1000
    assert [(e.data["channel"], e.data["type"]) for e in fired] == [(7, "motion")] * 3
    assert len(changes) == 3
