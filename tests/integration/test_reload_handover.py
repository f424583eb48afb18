"""A reload keeps the recorder session: no logout, login, ``hdrctl`` or START again.

Enabling an entity or changing an option reloads the entry. The unloading
entry leaves its client to the next setup, logged in with its kept live UIDs
set up, its JPEG streams running (a dashboard's tiles keep their pictures) and
its last status poll; counted in the simulator's journal. Unloaded for good,
the client is logged out: when the entry is removed at once, when it is
disabled or nothing takes it within a minute, by then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.client_factory import HANDOVER_TTL
from custom_components.ipro_nvr.const import DOMAIN
from nvr_simulator.server import RunningSimulator


def _camera(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
    )
    assert entity_id is not None
    return entity_id


def _count(simulator: RunningSimulator, since: int, cgi: Cgi, text: str = "") -> int:
    return sum(e.cgi is cgi and text in e.query for e in simulator.journal.entries[since:])


async def _until(condition: Callable[[], bool], limit: float = 20.0) -> None:
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 - the simulator's journal
            await asyncio.sleep(0.02)


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Set ``entry`` up (a test that removes it cannot use the unloading fixture)."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


async def _kept_uids_in(hass: HomeAssistant, simulator: RunningSimulator) -> None:
    """Wait for the command UID and both kept live UIDs (logged in and set up)."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until(
        lambda: (
            simulator.uids.active_count() >= 3 and len(simulator.journal.by_cgi(Cgi.HDRCTL)) >= 2
        )
    )


async def test_a_reload_keeps_the_session_and_the_running_jpeg_stream(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """The reloaded entry's first snapshot comes from the stream started before the
    reload: no logout, login, hdrctl or START, and the status poll is not repeated."""
    await _kept_uids_in(hass, simulator)
    camera = _camera(hass, loaded_entry, 2)
    before = (await async_get_image(hass, camera)).content
    assert before.startswith(b"\xff\xd8")
    since = len(simulator.journal.entries)

    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    image = await async_get_image(hass, camera)
    assert image.content.startswith(b"\xff\xd8")
    await hass.async_block_till_done(wait_background_tasks=True)

    assert _count(simulator, since, Cgi.LOGOUT) == 0
    assert _count(simulator, since, Cgi.LOGIN) == 0
    assert _count(simulator, since, Cgi.HDRCTL) == 0
    assert _count(simulator, since, Cgi.PUSH, "CMD=START") == 0
    # The last status poll stood for the new entry's first: no camera status or disk
    # read; its first log poll read the event log, not the error log read just before.
    assert _count(simulator, since, Cgi.GETINFO) == 0
    assert _count(simulator, since, Cgi.RECORDEDTIME) == 0
    assert _count(simulator, since, Cgi.LOGLIST, "KIND=ERR") == 0
    assert _count(simulator, since, Cgi.LOGLIST, "KIND=EVENT") == 1
    # The handed poll's end is the new coordinator's last poll's: the timer's next
    # poll is held to its time, not due at once ahead of people's requests.
    assert loaded_entry.runtime_data.coordinator.polled_at is not None
    assert simulator.uids.active_count() == 3
    assert simulator.journal.violations == []


async def test_removing_a_reloaded_entry_logs_every_uid_out(
    hass: HomeAssistant, simulator: RunningSimulator, config_entry: MockConfigEntry
) -> None:
    """The handed-over client belongs to the new entry: its removal logs all out."""
    loaded_entry = await _set_up(hass, config_entry)
    await _kept_uids_in(hass, simulator)
    await async_get_image(hass, _camera(hass, loaded_entry, 3))
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()

    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until(lambda: simulator.uids.active_count() == 0)


async def test_an_entry_unloaded_and_removed_logs_out_at_once(
    hass: HomeAssistant, simulator: RunningSimulator, config_entry: MockConfigEntry
) -> None:
    """Unloaded, the client waits for a next setup; the removal does not wait for its expiry."""
    loaded_entry = await _set_up(hass, config_entry)
    await _kept_uids_in(hass, simulator)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert simulator.uids.active_count() == 3  # kept for a setup that may follow

    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until(lambda: simulator.uids.active_count() == 0)


async def test_a_disabled_entry_logs_out(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Disabling is for good: the client logs out with the unload, nothing waits."""
    await _kept_uids_in(hass, simulator)
    await hass.config_entries.async_set_disabled_by(loaded_entry.entry_id, ConfigEntryDisabler.USER)
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until(lambda: simulator.uids.active_count() == 0)


async def test_a_client_nobody_takes_is_logged_out_after_a_minute(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """An unload with no setup after it: the JPEG stream ends and every UID logs out
    when the handover expires."""
    await _kept_uids_in(hass, simulator)
    await async_get_image(hass, _camera(hass, loaded_entry, 2))
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert simulator.uids.active_count() == 3

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=HANDOVER_TTL + 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until(lambda: simulator.uids.active_count() == 0)
    assert simulator.journal.violations == []


async def test_a_reload_with_a_live_video_stream_stops_it_first(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A video stream running across a reload gets its STOP (the UID stays logged in),
    and the next setup starts it again on the same kept UID with one START."""
    await _kept_uids_in(hass, simulator)
    relay = loaded_entry.runtime_data.relay
    url = await relay.async_url(1)
    http = async_get_clientsession(hass)
    async with http.get(url) as response:
        assert response.status == 200
        await response.content.readexactly(188)
        since = len(simulator.journal.entries)
        assert await hass.config_entries.async_reload(loaded_entry.entry_id)
        await hass.async_block_till_done()
    assert _count(simulator, since, Cgi.PUSH, "CMD=STOP") == 1
    assert _count(simulator, since, Cgi.LOGOUT) == 0

    new_url = await loaded_entry.runtime_data.relay.async_url(1)
    async with http.get(new_url) as response:
        await response.content.readexactly(188)
    assert _count(simulator, since, Cgi.PUSH, "CMD=START") == 1
    assert _count(simulator, since, Cgi.LOGIN) == 0
    assert simulator.journal.violations == []
