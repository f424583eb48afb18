"""A recorder that forgot our UID: the integration logs in again and never asks for a password."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import DOMAIN
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """A recorder that refuses a stale UID with 401 (the answer that looks like a password)."""
    sim_config.invalid_uid_status = 401
    return sim_config


async def test_stale_uid_answered_401_logs_in_again_without_reauth(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """Every UID expired (a recorder reboot): the next log poll logs in and succeeds."""
    logs = loaded_entry.runtime_data.log_coordinator
    assert simulator.uids.expire_all() >= 1
    simulator.journal.clear()
    await logs.async_refresh()
    await hass.async_block_till_done()
    assert logs.last_update_success
    assert Cgi.LOGIN in [entry.cgi for entry in simulator.journal.entries]
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    assert loaded_entry.state is ConfigEntryState.LOADED
