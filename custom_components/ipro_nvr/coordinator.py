"""Coordinators: recorder status (cameras, disks) and the event/error logs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    AuthenticationError,
    CameraStatus,
    LogEntry,
    LogKind,
    NvrClient,
    NvrError,
    Priority,
    RecordedTime,
)
from .api.log_events import LogEventMeaning, classify_log_text
from .const import DOMAIN, EVENT_NVR, LOGGER
from .log_tracker import LogTracker

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import IproNvrConfigEntry

STORAGE_VERSION = 1


@dataclass(frozen=True, slots=True)
class NvrStatus:
    """One poll of the recorder's status."""

    status: CameraStatus
    recorded: RecordedTime


@dataclass(frozen=True, slots=True)
class NewLogEntry:
    """A log entry seen for the first time, with what its text means."""

    entry: LogEntry
    meaning: LogEventMeaning


@dataclass(frozen=True, slots=True)
class NvrLogs:
    """The latest log lists and the entries that are new since the last poll."""

    error_log: tuple[LogEntry, ...] = ()
    event_log: tuple[LogEntry, ...] = ()
    new_entries: tuple[NewLogEntry, ...] = field(default=())


def _translate_errors(err: NvrError) -> Exception:
    if isinstance(err, AuthenticationError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth")
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="update_failed",
        translation_placeholders={"error": str(err)},
    )


class _NvrCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator polling one recorder through its client."""

    config_entry: IproNvrConfigEntry
    what: str

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IproNvrConfigEntry,
        client: NvrClient,
        interval: timedelta,
    ) -> None:
        """Initialise the coordinator."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=f"{DOMAIN} {self.what}", update_interval=interval
        )
        self.client = client


class NvrStatusCoordinator(_NvrCoordinator[NvrStatus]):
    """Polls camera connection status and disks: two commands per poll."""

    what = "status"

    async def _async_update_data(self) -> NvrStatus:
        try:
            status = await self.client.get_camera_status(priority=Priority.BACKGROUND)
            recorded = await self.client.get_disks(priority=Priority.BACKGROUND)
        except NvrError as err:
            raise _translate_errors(err) from err
        return NvrStatus(status=status, recorded=recorded)


class NvrLogCoordinator(_NvrCoordinator[NvrLogs]):
    """Polls both logs, finds new entries and fires ``ipro_nvr_event`` for each.

    What has been seen is saved before the events for it are fired, at every
    poll that saw something new: a reload or a restart of Home Assistant right
    after a poll reads it back and replays nothing (an entry is fired at most
    once, even if Home Assistant dies between the save and the event). A poll
    still on its way when the entry unloads fires and saves nothing; the next
    setup finds its entries new and fires them then.
    """

    what = "logs"

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IproNvrConfigEntry,
        client: NvrClient,
        interval: timedelta,
    ) -> None:
        """Initialise the coordinator and its persisted log position."""
        super().__init__(hass, entry, client, interval)
        self._store: Store[dict[str, list[str]]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.log_position"
        )
        self._trackers: dict[LogKind, LogTracker] = {}
        self._store_written = False
        # Held while the trackers change, are saved and their events fired;
        # shutdown takes it too, so no poll is half done when unloading ends.
        self._tracking = asyncio.Lock()
        self._closed = False

    async def _async_setup(self) -> None:
        stored = await self._store.async_load() or {}
        self._trackers = {kind: LogTracker.from_keys(stored.get(kind.value)) for kind in LogKind}

    async def _async_update_data(self) -> NvrLogs:
        try:
            error_log = await self.client.get_error_log(priority=Priority.BACKGROUND)
            event_log = await self.client.get_event_log(priority=Priority.BACKGROUND)
        except NvrError as err:
            raise _translate_errors(err) from err

        async with self._tracking:
            if self._closed:
                # The entry unloaded while this poll was on its way: the next
                # setup will see these entries as new and fire them.
                return NvrLogs(error_log=error_log.entries, event_log=event_log.entries)
            new = sorted(
                (
                    NewLogEntry(entry, classify_log_text(entry.text))
                    for kind, log in ((LogKind.ERROR, error_log), (LogKind.EVENT, event_log))
                    for entry in self._trackers[kind].update(log.entries)
                ),
                key=lambda item: item.entry.time,
            )
            if new or not self._store_written:
                # Saved now, not later: a delayed save would be lost by a reload.
                await self._store.async_save(self._persisted())
                self._store_written = True
            for item in new:
                self.hass.bus.async_fire(EVENT_NVR, self._event_data(item))
        return NvrLogs(
            error_log=error_log.entries,
            event_log=event_log.entries,
            new_entries=tuple(new),
        )

    async def async_shutdown(self) -> None:
        """Stop polling; wait for a poll that is saving or firing to finish."""
        await super().async_shutdown()
        async with self._tracking:
            self._closed = True

    def _persisted(self) -> dict[str, list[str]]:
        return {kind.value: tracker.keys() for kind, tracker in self._trackers.items()}

    def _event_data(self, item: NewLogEntry) -> dict[str, Any]:
        return {
            "config_entry_id": self.config_entry.entry_id,
            "log": item.entry.kind.value,
            "channel": item.meaning.channel,
            "type": item.meaning.type.value,
            "text": item.entry.text,
            "time": item.entry.time.isoformat(),
        }
