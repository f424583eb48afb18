"""Base entities and device info for the recorder and its camera channels."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import CameraStatus, ChannelState
from .compat import device_by_identifier, via_device_info
from .const import CONF_CHANNELS, DOMAIN, MANUFACTURER

if TYPE_CHECKING:
    from .coordinator import NvrLogCoordinator, NvrStatusCoordinator
    from .data import IproNvrConfigEntry


def recorder_identifier(entry_id: str) -> tuple[str, str]:
    """The device identifier of a recorder: its config entry's id."""
    return (DOMAIN, entry_id)


def channel_identifier(entry_id: str, channel: int) -> tuple[str, str]:
    """The device identifier of a camera channel: ``"<entry id>_<channel>"``."""
    return (DOMAIN, f"{entry_id}_{channel}")


def channel_of_identifier(entry_id: str, identifier: tuple[str, str]) -> int | None:
    """The channel a device identifier of ``entry_id`` names; None for any other."""
    domain, value = identifier
    prefix = f"{entry_id}_"
    if domain != DOMAIN or not value.startswith(prefix):
        return None
    tail = value.removeprefix(prefix)
    return int(tail) if tail.isdigit() else None


def channel_device(hass: HomeAssistant, entry_id: str, channel: int) -> DeviceEntry | None:
    """The registered device of a camera channel, if any."""
    return device_by_identifier(hass, channel_identifier(entry_id, channel), entry_id)


def recorder_device_info(entry: IproNvrConfigEntry) -> DeviceInfo:
    """Device of the recorder itself."""
    client = entry.runtime_data.client
    return DeviceInfo(
        identifiers={recorder_identifier(entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model="Network video recorder",
        configuration_url=client.base_url,
    )


def channel_device_info(hass: HomeAssistant, entry: IproNvrConfigEntry, channel: int) -> DeviceInfo:
    """Device of one camera channel, connected through the recorder."""
    return DeviceInfo(
        identifiers={channel_identifier(entry.entry_id, channel)},
        translation_key="camera_channel",
        translation_placeholders={"channel": str(channel)},
        manufacturer=MANUFACTURER,
        model="Camera channel",
        **via_device_info(hass, recorder_identifier(entry.entry_id), entry.entry_id),
    )


def registered_channels(status: CameraStatus) -> list[int]:
    """Channels with a camera registered in the recorder."""
    return sorted(
        ch for ch, state in status.channels.items() if state is not ChannelState.NOT_REGISTERED
    )


def selected_channels(entry: IproNvrConfigEntry) -> list[int]:
    """Registered channels the user wants (all registered ones by default)."""
    registered = registered_channels(entry.runtime_data.coordinator.data.status)
    chosen = entry.options.get(CONF_CHANNELS)
    if chosen is None:
        return sorted(registered)
    return sorted(ch for ch in registered if ch in set(chosen))


class NvrEntity(CoordinatorEntity["NvrStatusCoordinator"]):
    """An entity of the recorder device, fed by the status coordinator."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: NvrStatusCoordinator, key: str) -> None:
        """Initialise with a key unique within the recorder."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = recorder_device_info(entry)


class NvrChannelEntity(CoordinatorEntity["NvrStatusCoordinator"]):
    """An entity of one camera channel; unavailable once the channel is unregistered."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: NvrStatusCoordinator, channel: int, key: str) -> None:
        """Initialise for ``channel``."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.channel = channel
        self._attr_unique_id = f"{entry.entry_id}_{channel}_{key}"
        self._attr_device_info = channel_device_info(coordinator.hass, entry, channel)

    @property
    def channel_state(self) -> ChannelState:
        """Connection state of this channel in the latest poll."""
        return self.coordinator.data.status.channels.get(self.channel, ChannelState.NOT_REGISTERED)

    @property
    def available(self) -> bool:
        """Available while the recorder answers and the channel is registered."""
        return super().available and self.channel_state is not ChannelState.NOT_REGISTERED


class NvrLogEntity(CoordinatorEntity["NvrLogCoordinator"]):
    """Base for entities fed by the log coordinator."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: NvrLogCoordinator, key: str, channel: int | None = None
    ) -> None:
        """Initialise for the recorder (``channel`` None) or one channel."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.channel = channel
        if channel is None:
            self._attr_unique_id = f"{entry.entry_id}_{key}"
            self._attr_device_info = recorder_device_info(entry)
        else:
            self._attr_unique_id = f"{entry.entry_id}_{channel}_{key}"
            self._attr_device_info = channel_device_info(coordinator.hass, entry, channel)


def async_add_channel_entities(
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[int], Iterable[Entity]],
) -> None:
    """Add ``factory(channel)`` entities for every selected channel, now and later.

    Channels registered on the recorder after setup (or selected in the options)
    get their entities at the next status poll, without a reload.
    """
    coordinator = entry.runtime_data.coordinator
    known: set[int] = set()

    @callback
    def _add_new_channels() -> None:
        new = [ch for ch in selected_channels(entry) if ch not in known]
        known.update(new)
        async_add_entities(entity for ch in new for entity in factory(ch))

    _add_new_channels()
    entry.async_on_unload(coordinator.async_add_listener(_add_new_channels))
