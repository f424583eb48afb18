"""The i-PRO NVR integration."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .client_factory import create_client
from .const import (
    CONF_EVENT_SCAN_INTERVAL,
    CONF_SCAN_INTERVAL,
    DEFAULT_EVENT_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
)
from .coordinator import NvrLogCoordinator, NvrStatusCoordinator
from .data import IproNvrConfigEntry, IproNvrRuntimeData
from .devices import async_remove_config_entry_device, async_setup_stale_device_removal
from .entity import recorder_device_info
from .relay import StreamRelay
from .repairs import async_setup_repairs
from .services import async_setup_services
from .views import async_remove_entry_clips, async_setup_clip_view

__all__ = [
    "async_remove_config_entry_device",
    "async_remove_entry",
    "async_setup",
    "async_setup_entry",
    "async_unload_entry",
]

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and the recording clip view, once for every recorder."""
    async_setup_services(hass)
    async_setup_clip_view(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: IproNvrConfigEntry) -> bool:
    """Connect to the recorder and set up its devices and entities."""
    client = create_client(hass, entry.data)
    relay = StreamRelay.from_options(client, entry.options)

    async def _async_close() -> None:
        # Streams first (their UIDs), then the client (every other UID); this
        # also runs when setup fails, so nothing is left logged in.
        await relay.async_stop()
        await client.close()

    entry.async_on_unload(_async_close)
    status = NvrStatusCoordinator(
        hass,
        entry,
        client,
        timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)),
    )
    logs = NvrLogCoordinator(
        hass,
        entry,
        client,
        timedelta(seconds=entry.options.get(CONF_EVENT_SCAN_INTERVAL, DEFAULT_EVENT_SCAN_INTERVAL)),
    )
    # Logs first: their entries carry the recorder's time zone, which the
    # disk times of the status poll (recordedtime.cgi has no zone) rely on.
    await logs.async_config_entry_first_refresh()
    await status.async_config_entry_first_refresh()
    entry.runtime_data = IproNvrRuntimeData(
        client=client, coordinator=status, log_coordinator=logs, relay=relay
    )
    # The recorder's device first: every channel device names it as via_device.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **recorder_device_info(entry)
    )
    async_setup_repairs(hass, entry)
    async_setup_stale_device_removal(hass, entry)
    # A poll that works again shows the recorder is back: failing live streams retry now.
    entry.async_on_unload(relay.retry_after_good_polls(status, logs))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: IproNvrConfigEntry) -> bool:
    """Unload the entities; the client is closed by the unload callback."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: IproNvrConfigEntry) -> None:
    """Delete the removed recorder's cached recording clips."""
    await async_remove_entry_clips(hass, entry.entry_id)
