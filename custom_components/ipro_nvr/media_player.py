"""The playback media player of every selected camera (see :mod:`.playback.media_player`)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import IproNvrConfigEntry
from .entity import async_add_channel_entities
from .playback.media_player import NvrPlaybackPlayer

# Commands are paced by the client's scheduler, not by Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a playback media player per selected channel."""
    coordinator = entry.runtime_data.coordinator
    manager = entry.runtime_data.playback
    async_add_channel_entities(
        entry,
        async_add_entities,
        lambda channel: [NvrPlaybackPlayer(coordinator, channel, manager)],
    )
