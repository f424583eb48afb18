"""The config flow against the simulator: user, errors, reauth, reconfigure, options."""

from __future__ import annotations

import asyncio
import socket

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.const import (
    CONF_CHANNELS,
    CONF_EVENT_SCAN_INTERVAL,
    CONF_PRESET_COUNT,
    CONF_PRESET_NAMES,
    CONF_SCAN_INTERVAL,
    CONF_USE_HTTPS,
    CONF_VERIFY_SSL,
    DOMAIN,
)
from nvr_simulator import run_simulator
from nvr_simulator.server import RunningSimulator

from .conftest import entry_data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_user_flow_creates_entry(hass: HomeAssistant, simulator: RunningSimulator) -> None:
    """A correct address and password create one entry, identified by host:port."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator, **{CONF_HOST: f" {simulator.host} "})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == simulator.host
    assert result["data"][CONF_PORT] == simulator.port
    assert result["result"].unique_id == f"{simulator.host}:{simulator.port}"
    await hass.async_block_till_done()
    # The validation session was handed to the entry, not logged out: its UID is
    # the entry's command UID, next to its two kept live UIDs (logged in in the background).
    assert simulator.uids.released_total == 0
    async with asyncio.timeout(20):
        while simulator.uids.active_count() < 3:  # noqa: ASYNC110 - the background logins
            await asyncio.sleep(0.02)
    assert simulator.uids.active_count() == 3
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_user_flow_default_port_by_protocol(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """Without a port the protocol's default is stored (and tried)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    data = entry_data(simulator)
    del data[CONF_PORT]
    data[CONF_USE_HTTPS] = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    # Nothing listens on 127.0.0.1:443 here: the form comes back with a clear error.
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_flow_errors(hass: HomeAssistant, simulator: RunningSimulator) -> None:
    """Wrong password, unreachable host and a busy recorder each get their message."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, entry_data(simulator, **{CONF_PASSWORD: "wrong"})
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, entry_data(simulator, **{CONF_PORT: _free_port()})
    )
    assert result["errors"] == {"base": "cannot_connect"}

    simulator.faults.busy = True
    result = await hass.config_entries.flow.async_configure(flow_id, entry_data(simulator))
    assert result["errors"] == {"base": "busy"}

    simulator.faults.busy = False
    result = await hass.config_entries.flow.async_configure(flow_id, entry_data(simulator))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_already_configured(
    hass: HomeAssistant, simulator: RunningSimulator, config_entry: MockConfigEntry
) -> None:
    """The same host and port cannot be added twice."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert simulator.journal.entries == []


async def test_reauth_flow(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A new password is checked, stored, and the entry reloaded."""
    simulator.config.password = "new-password"
    result = await loaded_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: "new-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert loaded_entry.data[CONF_PASSWORD] == "new-password"
    await hass.async_block_till_done()


async def test_reconfigure_flow(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Changing the address updates data and unique id; a dead address is refused."""
    async with run_simulator(simulator.config) as moved:
        await _reconfigure(hass, loaded_entry, moved)


async def _reconfigure(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, moved: RunningSimulator
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: "127.0.0.1",
            CONF_PORT: _free_port(),
            CONF_USE_HTTPS: False,
            CONF_VERIFY_SSL: False,
        },
    )
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: moved.host,
            CONF_PORT: moved.port,
            CONF_USE_HTTPS: False,
            CONF_VERIFY_SSL: False,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.data[CONF_PORT] == moved.port
    assert loaded_entry.unique_id == f"{moved.host}:{moved.port}"
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert 1 <= moved.uids.active_count() <= 3  # the command UID, the kept live UIDs coming


async def test_options_flow(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """Options offer the registered channels and store intervals as integers."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_SCAN_INTERVAL: 120.0, CONF_EVENT_SCAN_INTERVAL: 20.0, CONF_CHANNELS: ["2", "1"]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == {
        CONF_SCAN_INTERVAL: 120,
        CONF_EVENT_SCAN_INTERVAL: 20,
        CONF_CHANNELS: [1, 2],
        CONF_PRESET_COUNT: 8,  # the default; no preset names were given
        "live_codec": "h264",  # live video defaults: H.264, no audio, over HTTP
        "live_audio": False,
        "live_transport": "http",
        "udp_port_min": 50000,
        "udp_port_max": 50099,
    }
    await hass.async_block_till_done()


async def test_options_flow_udp_transport(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """RTP over UDP with a port range; a range whose end is below its start is refused."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    chosen = {
        CONF_SCAN_INTERVAL: 60,
        CONF_EVENT_SCAN_INTERVAL: 15,
        CONF_CHANNELS: ["1"],
        "live_transport": "udp",
        "udp_port_min": 41000,
        "udp_port_max": 40000.0,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], chosen)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "udp_port_range"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**chosen, "udp_port_max": 41009.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options["live_transport"] == "udp"
    assert (loaded_entry.options["udp_port_min"], loaded_entry.options["udp_port_max"]) == (
        41000,
        41009,
    )
    await hass.async_block_till_done()


async def test_user_flow_unexpected_answer(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """A recorder answering garbage gets the 'unknown' message, not a crash."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    simulator.faults.malformed_body = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}


async def test_options_flow_keeps_preset_names(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Preset names are stored line by line, without trailing blank lines."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SCAN_INTERVAL: 60,
            CONF_EVENT_SCAN_INTERVAL: 15,
            CONF_CHANNELS: ["1"],
            CONF_PRESET_COUNT: 3,
            CONF_PRESET_NAMES: "\nGate\nDrive\n\n",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options[CONF_PRESET_NAMES] == "\nGate\nDrive"
    assert loaded_entry.options[CONF_PRESET_COUNT] == 3
    await hass.async_block_till_done()


async def test_options_flow_while_recorder_unreachable(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """With the entry not loaded the options still open, offering the channels chosen before."""
    simulator.faults.busy = True
    entry = MockConfigEntry(
        domain=DOMAIN,
        data=entry_data(simulator),
        options={CONF_CHANNELS: [2, 5]},
        unique_id="unreachable",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    channels = result["data_schema"].schema[CONF_CHANNELS].config["options"]  # type: ignore[union-attr]
    assert [option["value"] for option in channels] == ["2", "5"]
    await hass.config_entries.async_unload(entry.entry_id)
