"""Fixtures for tests that run the integration inside Home Assistant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import logging
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ipro_nvr as integration
from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.const import CONF_USE_HTTPS, CONF_VERIFY_SSL, DOMAIN
from nvr_simulator.server import RunningSimulator
from tests.conftest import TEST_PACING


@pytest.fixture(autouse=True)
def _integration_setup(enable_custom_integrations: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load our custom integration and let it pace like the (scaled) simulator.

    The first snapshots fetched after setup are off: tests count the commands
    they cause themselves (``test_live_start`` turns them on).
    """
    monkeypatch.setattr(client_factory, "CLIENT_PACING", TEST_PACING)
    monkeypatch.setattr(integration, "PREFETCH_SNAPSHOTS", False)


# Where Home Assistant reports deprecated use: the frame helper (report_usage) and the
# deprecation helpers, which log through the calling module's logger.
_REPORTERS = ("homeassistant.helpers.frame", "homeassistant.helpers.deprecation")


def _reports_a_deprecation(record: logging.LogRecord) -> bool:
    if record.levelno < logging.WARNING:
        return False
    message = record.getMessage()
    about_us = DOMAIN in message or record.name.startswith(f"custom_components.{DOMAIN}")
    return about_us and (
        record.name in _REPORTERS or "deprecat" in message.lower() or "Detected that" in message
    )


@pytest.fixture(autouse=True)
def _no_deprecation_reported(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test during which Home Assistant reported a deprecated use by this integration.

    Autouse, so set up first and torn down last: the unload of the entry is covered too.
    """
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    reports = [record.getMessage() for record in records if _reports_a_deprecation(record)]
    assert reports == [], "Home Assistant reported a deprecated use by the integration"


def entry_data(sim: RunningSimulator, **overrides: Any) -> dict[str, Any]:
    """Config entry data pointing at ``sim``."""
    data: dict[str, Any] = {
        CONF_HOST: sim.host,
        CONF_PORT: sim.port,
        CONF_USE_HTTPS: False,
        CONF_VERIFY_SSL: False,
        CONF_USERNAME: sim.config.username,
        CONF_PASSWORD: sim.config.password,
    }
    data.update(overrides)
    return data


@pytest.fixture
def config_entry(simulator: RunningSimulator) -> MockConfigEntry:
    """A config entry for the running simulator (not yet added to hass)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="i-PRO NVR (127.0.0.1)",
        unique_id=f"{simulator.host}:{simulator.port}",
        data=entry_data(simulator),
    )


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The config entry, set up against the simulator, unloaded after the test."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    yield config_entry
    # (A test may have removed it.)
    if (
        hass.config_entries.async_get_entry(config_entry.entry_id)
        and config_entry.state.recoverable
    ):
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def client(simulator: RunningSimulator) -> NvrClient:
    """A client of the simulator without Home Assistant (relay tests); closed by the test."""
    return NvrClient(
        simulator.host,
        port=simulator.port,
        username=simulator.config.username,
        password=simulator.config.password,
        pacing=TEST_PACING,
    )
