"""Connectivity of each camera channel and the recorder's problem sensor."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import ChannelState
from .compat import entity_id_changed
from .coordinator import NvrLogCoordinator, NvrStatusCoordinator
from .data import IproNvrConfigEntry
from .entity import NvrChannelEntity, NvrEntity, async_add_channel_entities
from .poll.problems import active_disk_errors, channels_in_error

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the problem sensor and a connectivity sensor per selected channel."""
    runtime = entry.runtime_data
    async_add_entities([RecorderProblemSensor(runtime.coordinator, runtime.log_coordinator)])
    async_add_channel_entities(
        entry,
        async_add_entities,
        lambda ch: [ChannelConnectivitySensor(runtime.coordinator, ch)],
    )


class ChannelConnectivitySensor(NvrChannelEntity, BinarySensorEntity):
    """On while the recorder reaches the camera of this channel."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_translation_key = "camera_connected"

    def __init__(self, coordinator: NvrStatusCoordinator, channel: int) -> None:
        """Initialise for ``channel``."""
        super().__init__(coordinator, channel, "connected")

    @property
    def is_on(self) -> bool:
        """Whether the camera answers the recorder."""
        return self.channel_state is ChannelState.NORMAL


class RecorderProblemSensor(NvrEntity, BinarySensorEntity):
    """On when any camera or disk reports an error."""

    # Not a diagnostic entity: whether the recorder is healthy is what a person
    # looks for first on its device page.
    _attr_device_class = BinarySensorDeviceClass.PROBLEM
    _attr_translation_key = "problem"

    def __init__(self, coordinator: NvrStatusCoordinator, logs: NvrLogCoordinator) -> None:
        """Initialise; listens to the log coordinator too, for disk errors."""
        super().__init__(coordinator, "problem")
        self._logs = logs

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Renamed in place (2026.11+): nothing here is keyed on the entity ID."""
        entity_id_changed(super(), old_entity_id)

    async def async_added_to_hass(self) -> None:
        """Also update when the logs change."""
        await super().async_added_to_hass()
        self.async_on_remove(self._logs.async_add_listener(self._handle_coordinator_update))

    def _problems(self) -> tuple[list[int], list[str]]:
        cameras = channels_in_error(self.coordinator.data.status)
        logs = self._logs.data
        disks = sorted(active_disk_errors(logs.error_log)) if logs is not None else []
        return cameras, disks

    @property
    def is_on(self) -> bool:
        """Whether anything is wrong."""
        cameras, disks = self._problems()
        return bool(cameras or disks)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which cameras and disks are in error."""
        cameras, disks = self._problems()
        return {"cameras_in_error": cameras, "disks_in_error": disks}
