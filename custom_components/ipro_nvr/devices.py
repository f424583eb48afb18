"""Keep the channel devices in step with the recorder's registered cameras."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .data import IproNvrConfigEntry
from .entity import channel_of_identifier, selected_channels


def _channel_of(entry: IproNvrConfigEntry, device: dr.DeviceEntry) -> int | None:
    for identifier in device.identifiers:
        if (channel := channel_of_identifier(entry.entry_id, identifier)) is not None:
            return channel
    return None


@callback
def async_setup_stale_device_removal(hass: HomeAssistant, entry: IproNvrConfigEntry) -> None:
    """Remove channel devices once their camera is unregistered or deselected."""
    registry = dr.async_get(hass)

    @callback
    def _remove_stale() -> None:
        if not entry.runtime_data.coordinator.last_update_success:
            return  # an unreachable recorder says nothing about its cameras
        wanted = set(selected_channels(entry))
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            channel = _channel_of(entry, device)
            if channel is not None and channel not in wanted:
                # The device is this entry's alone (its identifier carries the entry id).
                registry.async_remove_device(device.id)

    _remove_stale()
    entry.async_on_unload(entry.runtime_data.coordinator.async_add_listener(_remove_stale))


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: IproNvrConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a channel device the recorder no longer has."""
    channel = _channel_of(entry, device)
    return channel is not None and channel not in selected_channels(entry)
