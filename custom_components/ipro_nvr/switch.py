"""AUX outputs 1-8 of each camera channel as switches, disabled by default.

On means ``CTRL=CLOSE``: like any switch, the output is on when its contact is
closed. The recorder cannot report an output's state, so the state is assumed
from the last command (unknown until one was sent).
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import AUX_OUTPUTS, AuxAction
from .compat import entity_id_changed
from .control.camera_control import CameraControlEntity, aux_signal
from .coordinator import NvrStatusCoordinator
from .data import IproNvrConfigEntry
from .entity import async_add_channel_entities

# Commands are paced by the client's scheduler, not by Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add AUX1..AUX8 of every selected channel."""
    coordinator = entry.runtime_data.coordinator
    async_add_channel_entities(
        entry,
        async_add_entities,
        lambda channel: [
            AuxOutputSwitch(coordinator, channel, output) for output in range(1, AUX_OUTPUTS + 1)
        ],
    )


class AuxOutputSwitch(CameraControlEntity, SwitchEntity):
    """One AUX output of a camera, state assumed from the last command."""

    _attr_assumed_state = True
    _attr_entity_registry_enabled_default = False
    _attr_translation_key = "aux"

    def __init__(self, coordinator: NvrStatusCoordinator, channel: int, output: int) -> None:
        """Initialise AUX ``output`` of ``channel``."""
        super().__init__(coordinator, channel, f"aux{output}")
        self.output = output
        self._attr_translation_placeholders = {"output": str(output)}

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Renamed in place (2026.11+): nothing here is keyed on the entity ID."""
        entity_id_changed(super(), old_entity_id)

    async def async_added_to_hass(self) -> None:
        """Follow AUX commands to this output from anywhere in the integration."""
        await super().async_added_to_hass()
        signal = aux_signal(self.coordinator.config_entry.entry_id, self.channel)
        self.async_on_remove(async_dispatcher_connect(self.hass, signal, self._aux_sent))

    @callback
    def _aux_sent(self, output: int, action: AuxAction) -> None:
        if output == self.output:
            self._attr_is_on = action is AuxAction.CLOSE
            self.async_write_ha_state()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Close the output's contact."""
        await self.async_aux(self.output, AuxAction.CLOSE)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Open the output's contact."""
        await self.async_aux(self.output, AuxAction.OPEN)
