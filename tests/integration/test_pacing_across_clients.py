"""One pacing queue per recorder for every client in Home Assistant (spec 1.3).

The config flow's validation client, the entry's client, the reauth and
reconfigure flows and the download action all talk to the same recorder; the
simulator's journal must never see two commands closer than the spec's
interval, whoever sent them, also when a connection drops (no transport-level
resend) and during a download of several hours (``httpdl.cgi`` is a command).

The test pacing is scaled (tests/conftest.py): commands 150 ms apart, camera
control 10 ms. Only the command lane is asserted on (no gap below 50 ms is).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import start_reauth_flow

from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from custom_components.ipro_nvr.const import DOMAIN
from nvr_simulator.pacing import PacingJournal
from nvr_simulator.server import RunningSimulator

from .conftest import entry_data


def _command_violations(journal: PacingJournal) -> list[str]:
    return [str(v) for v in journal.violations if v.entry.lane is Lane.COMMAND]


def _assert_paced(journal: PacingJournal) -> None:
    """No two commands closer than the interval (the simulator's check, with its jitter slack)."""
    assert journal.by_lane(Lane.COMMAND)
    assert _command_violations(journal) == []


async def test_every_client_shares_one_pacing_queue(
    hass: HomeAssistant, simulator: RunningSimulator, tmp_path: Path
) -> None:
    """Flow, setup, reauth, reconfigure, an outage and a 3-hour download: never too close."""
    # The config flow validates (login, status) and hands its client to the entry.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    logins = [e.time for e in simulator.journal.by_cgi(Cgi.LOGIN)]
    # The flow's login, which the entry's command UID is, then (in the
    # background, after the first status poll) its kept live UIDs.
    disks_read = simulator.journal.by_cgi(Cgi.RECORDEDTIME)[0].time
    assert [t for t in logins if t < disks_read] == logins[:1]
    assert len(logins) <= 3
    assert simulator.journal.by_cgi(Cgi.LOGOUT) == []
    _assert_paced(simulator.journal)

    # Reauthentication: the flow validates while the entry still polls, then reloads it.
    result = await start_reauth_flow(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_USERNAME: simulator.config.username, CONF_PASSWORD: simulator.config.password},
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # Reconfigure (same address): validation, reload.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {key: entry.data[key] for key in ("host", "port", "use_https", "verify_ssl")},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    _assert_paced(simulator.journal)

    # The recorder drops a connection without an answer (a keep-alive
    # connection it had closed): the request goes again on its next turn,
    # never a few milliseconds later, and the poll succeeds.
    coordinator = entry.runtime_data.coordinator
    simulator.faults.drop_connection = True
    simulator.faults.only = {Cgi.GETINFO}  # not the kept live UIDs' keep-alives
    simulator.faults.count = 1
    polls_before = len(simulator.journal.by_cgi(Cgi.GETINFO))
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert simulator.faults.applied == 1
    tries = simulator.journal.by_cgi(Cgi.GETINFO)[polls_before:]
    assert len(tries) == 2
    _assert_paced(simulator.journal)

    # Dropped twice: the poll fails (entities unavailable), the next one recovers.
    simulator.faults.count = 2
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert simulator.faults.applied == 3
    assert not coordinator.last_update_success
    connected = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}_1_connected"
    )
    assert connected is not None
    state = hass.states.get(connected)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    _assert_paced(simulator.journal)

    # A download of three hours: one httpdl.cgi per hour, each paced as a command.
    hass.config.media_dirs = {"local": str(tmp_path / "media")}
    camera = er.async_get(hass).async_get_entity_id("camera", DOMAIN, f"{entry.entry_id}_1_camera")
    assert camera is not None
    # MAIN-2's oldest recording starts 95 days 7 hours ago: the first two
    # hours hold nothing, the last one two minutes.
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    end = now - dt.timedelta(days=95, hours=7) + dt.timedelta(minutes=3)
    response = await hass.services.async_call(
        DOMAIN,
        "download_recording",
        {"entity_id": camera, "start": end - dt.timedelta(hours=2, minutes=30), "end": end},
        blocking=True,
        return_response=True,
    )
    assert response[camera]["files"]  # type: ignore[index]
    downloads = simulator.journal.by_cgi(Cgi.HTTPDL)
    assert [entry.lane for entry in downloads] == [Lane.COMMAND] * 3
    _assert_paced(simulator.journal)

    # Removed (an unload alone keeps the client for a next setup): every UID logs out.
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    _assert_paced(simulator.journal)
    assert simulator.uids.active_count() == 0


async def test_one_scheduler_per_recorder_address(hass: HomeAssistant) -> None:
    """Keyed by host (any case, blanks around) and port (the protocol's default if none)."""
    https = {"host": "NVR.example", "port": None, "use_https": True}
    same = {"host": " nvr.example ", "port": 443, "use_https": True}
    other_port = {"host": "nvr.example", "port": 80, "use_https": False}
    first = client_factory.recorder_scheduler(hass, https)
    assert client_factory.recorder_scheduler(hass, same) is first
    assert client_factory.recorder_scheduler(hass, other_port) is not first
    assert first.pacing == client_factory.CLIENT_PACING
    assert client_factory.recorder_key(https) == "nvr.example:443"
