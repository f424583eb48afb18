"""A preset select per camera channel, disabled by default: choosing a preset moves the camera.

The recorder cannot list a camera's presets, so the options are "Preset 1" to
"Preset N" with N and the names set in the integration's options. The state is
the preset chosen last through this entity (unknown after a restart): the
recorder cannot say where the camera points now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_PRESET_COUNT, CONF_PRESET_NAMES, DEFAULT_PRESET_COUNT, MAX_PRESET_COUNT
from .control.camera_control import CameraControlEntity
from .coordinator import NvrStatusCoordinator
from .data import IproNvrConfigEntry
from .entity import async_add_channel_entities

# Commands are paced by the client's scheduler, not by Home Assistant.
PARALLEL_UPDATES = 0


def preset_names(options: Mapping[str, Any]) -> list[str]:
    """The select's options: line N of the names option names preset N.

    Empty or missing lines keep "Preset N"; a name used twice gets its number
    added, since a select's options must differ.
    """
    count = min(max(int(options.get(CONF_PRESET_COUNT, DEFAULT_PRESET_COUNT)), 1), MAX_PRESET_COUNT)
    lines = str(options.get(CONF_PRESET_NAMES) or "").splitlines()
    names: list[str] = []
    for number in range(1, count + 1):
        name = lines[number - 1].strip() if number <= len(lines) else ""
        name = name or f"Preset {number}"
        names.append(f"{name} ({number})" if name in names else name)
    return names


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a preset select per selected channel."""
    coordinator = entry.runtime_data.coordinator
    names = preset_names(entry.options)
    async_add_channel_entities(
        entry,
        async_add_entities,
        lambda channel: [PresetSelect(coordinator, channel, names)],
    )


class PresetSelect(CameraControlEntity, SelectEntity):
    """Moves the camera to the chosen preset (``camctl.cgi CMD=PRESET``)."""

    _attr_entity_registry_enabled_default = False
    _attr_translation_key = "preset"

    def __init__(self, coordinator: NvrStatusCoordinator, channel: int, names: list[str]) -> None:
        """Initialise for ``channel`` with the preset ``names`` (preset N is names[N-1])."""
        super().__init__(coordinator, channel, "preset")
        self._attr_options = names
        self._attr_current_option = None

    async def async_select_option(self, option: str) -> None:
        """Go to the preset; Home Assistant has checked that ``option`` is one of ours."""
        number = self.options.index(option) + 1
        await self.async_control(lambda client, channel: client.go_to_preset(channel, number))
        self._attr_current_option = option
        self.async_write_ha_state()
