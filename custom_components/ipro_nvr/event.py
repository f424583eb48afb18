"""Event entities fed by the recorder's event and error logs."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import LogEventType, LogKind
from .coordinator import NewLogEntry, NvrLogCoordinator, NvrLogs
from .data import IproNvrConfigEntry
from .entity import NvrLogEntity, async_add_channel_entities

PARALLEL_UPDATES = 0

CHANNEL_EVENT_TYPES = (
    LogEventType.MOTION,
    LogEventType.ALARM,
    LogEventType.COMMUNICATION_ERROR,
    LogEventType.COMMUNICATION_RECOVERED,
    LogEventType.OTHER,
)
RECORDER_EVENT_TYPES = (
    LogEventType.TERMINAL_ALARM,
    LogEventType.COMMAND_ALARM,
    LogEventType.OTHER,
)
ERROR_LOG_TYPES = (
    LogEventType.COMMUNICATION_ERROR,
    LogEventType.COMMUNICATION_RECOVERED,
    LogEventType.DISK_ERROR,
    LogEventType.OTHER,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the recorder's log event entities and one per selected channel."""
    runtime = entry.runtime_data
    logs = runtime.log_coordinator
    async_add_entities([RecorderErrorLogEvent(logs), RecorderEventLogEvent(logs)])
    async_add_channel_entities(entry, async_add_entities, lambda ch: [ChannelEvent(logs, ch)])


class _LogEventEntity(NvrLogEntity, EventEntity):
    """Triggers once for every new log entry this entity is responsible for."""

    event_type_choices: tuple[LogEventType, ...]

    def __init__(
        self, coordinator: NvrLogCoordinator, key: str, channel: int | None = None
    ) -> None:
        super().__init__(coordinator, key, channel)
        self._attr_event_types = [str(t) for t in self.event_type_choices]

    def _wants(self, item: NewLogEntry) -> bool:
        raise NotImplementedError

    @callback
    def _handle_coordinator_update(self) -> None:
        # One state write per entry: each becomes its own state change, so an
        # automation sees every event even when several arrive in one poll.
        # The state (trigger time) has millisecond resolution, so entries of one
        # poll may share it; the recorder's entry number tells them apart.
        # None (despite the type) when the first poll failed.
        logs: NvrLogs | None = self.coordinator.data
        if logs is None:  # the first poll failed: nothing is new
            super()._handle_coordinator_update()
            return
        for item in logs.new_entries:
            if not self._wants(item):
                continue
            event_type = item.meaning.type
            if event_type not in self.event_types:
                event_type = LogEventType.OTHER
            self._trigger_event(
                event_type,
                {
                    "text": item.entry.text,
                    "number": item.entry.number,
                    "recorder_time": item.entry.time.isoformat(),
                    "log": item.entry.kind.value,
                    "channel": item.meaning.channel,
                },
            )
            self.async_write_ha_state()


class ChannelEvent(_LogEventEntity):
    """Events of one camera channel: motion, alarms, communication errors."""

    _attr_translation_key = "channel_event"
    event_type_choices = CHANNEL_EVENT_TYPES

    def __init__(self, coordinator: NvrLogCoordinator, channel: int) -> None:
        """Initialise for ``channel``."""
        super().__init__(coordinator, "event", channel)

    def _wants(self, item: NewLogEntry) -> bool:
        return item.meaning.channel == self.channel


class RecorderEventLogEvent(_LogEventEntity):
    """Event-log entries that name no camera (alarm terminals, command alarms)."""

    _attr_translation_key = "recorder_event"
    event_type_choices = RECORDER_EVENT_TYPES

    def __init__(self, coordinator: NvrLogCoordinator) -> None:
        """Initialise for the recorder."""
        super().__init__(coordinator, "event_log")

    def _wants(self, item: NewLogEntry) -> bool:
        return item.entry.kind is LogKind.EVENT and item.meaning.channel is None


class RecorderErrorLogEvent(_LogEventEntity):
    """Every new entry of the recorder's error log."""

    _attr_translation_key = "error_log"
    event_type_choices = ERROR_LOG_TYPES

    def __init__(self, coordinator: NvrLogCoordinator) -> None:
        """Initialise for the recorder."""
        super().__init__(coordinator, "error_log")

    def _wants(self, item: NewLogEntry) -> bool:
        return item.entry.kind is LogKind.ERROR
