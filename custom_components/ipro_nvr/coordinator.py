"""Coordinators: recorder status (cameras, disks) and the event/error logs."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    AuthenticationError,
    CameraStatus,
    Deadline,
    LogEntry,
    LogEventMeaning,
    LogKind,
    LogList,
    MalformedResponseError,
    NvrClient,
    NvrError,
    Priority,
    RecordedTime,
    RecorderBusyError,
    RecorderFullError,
    RecorderZone,
    Scheduler,
    UidError,
    parse_recorded_time,
)
from .const import DOMAIN, EVENT_NVR, LOGGER
from .poll.log_tracker import LogTracker

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import IproNvrConfigEntry

STORAGE_VERSION = 1
# The recorder's standard offset (seconds) and summer-time flag ("1"/"0") from
# the latest log entry, stored with the log position: a later setup reads its
# first disk times (recordedtime.cgi has no zone) in it without waiting for logs.
_ZONE_KEY = "recorder_zone"
_MAX_OFFSET = timedelta(hours=14)
# A scheduled poll is promoted this many command spacings before its time, so that
# while cameras start it gets its turn by then: the command in flight, one person's
# request (the scheduler's alternation) and one more promoted request asked earlier.
PROMOTE_LEAD_SPACINGS = 3
# How much earlier than its promotion Home Assistant's timer is set to ask for a poll:
# the timer fires up to 0.5 s after the interval (a random fraction of a second added
# to stagger refreshes), and the previous poll's end is taken a little before the
# timer is armed.
TIMER_SLACK = timedelta(seconds=1)
# How often the timer's log polls also read the error log (disk and camera faults,
# spec 5.2), at most: each log read is a paced command (spec 1.3), and the event log,
# which fires automations, is the one to read every interval. Polls nobody's timer
# asked for (setup's, a refresh someone asked for) read both.
ERROR_LOG_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class NvrStatus:
    """One poll of the recorder's status.

    ``recorded_answer`` is ``recordedtime.cgi``'s body and ``recorded_zone`` the
    zone its times were read in: the answer carries no zone, so its times are
    read again, without asking the recorder, once a log entry tells it.
    """

    status: CameraStatus
    recorded: RecordedTime
    recorded_answer: bytes = b""
    recorded_zone: RecorderZone | None = None


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
        spacing = Scheduler.spacing(client.pacing.command_interval)
        self.poll_interval = interval
        self._spacing = spacing
        self._promote_lead = PROMOTE_LEAD_SPACINGS * spacing
        # Home Assistant's timer counts from the end of a poll: it asks early enough
        # for the poll's promotion; the scheduler holds the poll back to its time
        # while nobody else waits (``_poll_due``).
        asked_after = interval - timedelta(seconds=self._promote_lead) - TIMER_SLACK
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {self.what}",
            update_interval=max(asked_after, timedelta(0)),
        )
        self.client = client
        # When the previous poll's commands ended, on the pacing queue's clock.
        self._last_end: float | None = None
        # Whether the refresh under way is Home Assistant's timer's.
        self._scheduled = False
        # The last failure raised to Home Assistant and the client error behind it.
        self._failure: tuple[Exception, NvrError] | None = None

    async def _async_refresh(self, *args: Any, **kwargs: Any) -> None:
        """Note whether Home Assistant's timer asked for this refresh (``scheduled``)."""
        self._scheduled = bool(kwargs.get("scheduled", False))
        try:
            await super()._async_refresh(*args, **kwargs)
        finally:
            self._scheduled = False

    def _poll_due(self) -> float | Deadline:
        """When the poll starting now is due, for the pacing queue (``Scheduler.turn``).

        Polling keeps a turn at least every interval even while many cameras start
        (spec 1.3: one command queue for the whole recorder). A poll the timer
        asked for is due one interval after the previous poll's end, as Home
        Assistant counts it; it is asked early and held back to that time while
        the recorder is idle, and promoted ``PROMOTE_LEAD_SPACINGS`` before it
        so that it goes ahead of the people's requests queued meanwhile (one
        turn at a time, ``api.scheduler``) and starts by its time. Any other poll
        (setup's, the first log poll, one somebody asked for) is due at once: the
        first log poll, due one interval after setup, once waited behind a
        dashboard's sixteen camera starts for 29 s at the spec's pacing.
        """
        now = self.client.clock()
        if not self._scheduled or self._last_end is None:
            return now
        # Half a spacing early: the turn is granted when a timer fires, which a
        # busy event loop runs late.
        on_time = self._last_end + self.poll_interval.total_seconds() - self._spacing / 2
        return Deadline(due=on_time - self._promote_lead, not_before=on_time)

    def _polled(self) -> None:
        """The poll's commands are done (answered or failed): the next is due from now."""
        self._last_end = self.client.clock()

    @property
    def recorder_busy(self) -> bool:
        """Whether the last poll failed because the recorder is busy.

        A 503, or a UID refused (a recorder under load drops sessions); not a
        full recorder, whose sessions are all taken: that has an issue of its own.
        """
        if self.last_update_success or self._failure is None:
            return False
        raised, err = self._failure
        if raised is not self.last_exception:
            return False  # the last poll failed otherwise
        return isinstance(err, RecorderBusyError | UidError) and not isinstance(
            err, RecorderFullError
        )

    def _failed(self, err: NvrError) -> Exception:
        """The Home Assistant error a poll raises for the client's ``err``."""
        raised = _translate_errors(err)
        self._failure = (raised, err)
        return raised


class NvrStatusCoordinator(_NvrCoordinator[NvrStatus]):
    """Polls camera connection status and disks: two commands per poll."""

    what = "status"

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IproNvrConfigEntry,
        client: NvrClient,
        interval: timedelta,
        *,
        first_status: CameraStatus | None = None,
        first_poll: NvrStatus | None = None,
    ) -> None:
        """Initialise; ``first_status``: a camera status just read (by the config
        flow), taken for the first poll's instead of asking again; ``first_poll``:
        the last poll of the entry's previous setup (a reload), taken for the
        whole first poll."""
        super().__init__(hass, entry, client, interval)
        self._first_status = first_status
        self._first_poll = first_poll

    @property
    def polled_at(self) -> float | None:
        """When (on the client's clock) the last poll's commands ended; None before one."""
        return self._last_end

    async def _async_update_data(self) -> NvrStatus:
        first, self._first_status = self._first_status, None
        if (handed := self._first_poll) is not None:
            self._first_poll = None
            # It counts as this poll, ended now, as Home Assistant's timer counts
            # it: with no end known, the timer's next poll was due at once and went
            # ahead of a person's clip (a reload right before opening Media).
            self._polled()
            return handed
        due = self._poll_due()
        try:
            status = (
                first
                if first is not None
                else await self.client.get_camera_status(priority=Priority.BACKGROUND, due=due)
            )
            zone = self.client.recorder_zone
            # The poll's time is its first command's. The disk times (slow to
            # change) wait behind people's requests, up to the generic promotion
            # (api.scheduler): promoted at once, they went ahead of a clip's
            # download, and deferred a little, ahead of the next person's.
            recorded, answer = await self.client.get_disks_and_answer(priority=Priority.BACKGROUND)
        except NvrError as err:
            raise self._failed(err) from err
        finally:
            self._polled()
        return NvrStatus(
            status=status, recorded=recorded, recorded_answer=answer, recorded_zone=zone
        )

    @callback
    def async_reread_disk_times(self) -> None:
        """Read the last disk times again if the recorder's zone is known better now.

        Setup does not wait for the first log poll (it would delay the
        entities by two commands), so the first ``recordedtime.cgi`` answer may
        have been read in Home Assistant's zone before a log entry told the
        recorder's. Costs no request.
        """
        data = self.data
        zone = self.client.recorder_zone
        if data is None or not data.recorded_answer or data.recorded_zone == zone:
            return
        try:
            recorded = parse_recorded_time(data.recorded_answer, zone=zone)
        except MalformedResponseError:  # pragma: no cover - it parsed before
            return
        self.data = replace(data, recorded=recorded, recorded_zone=zone)
        self.async_update_listeners()


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
        *,
        error_log: tuple[LogList, float] | None = None,
    ) -> None:
        """Initialise the coordinator and its persisted log position.

        ``error_log``: the error log the entry's previous setup read last (a
        reload), and when (the client's clock): the first poll reads it again
        only when it is due anyway.
        """
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
        self._first_poll: asyncio.Task[None] | None = None
        # The last error log read, and when (the pacing queue's clock).
        self._error_log: LogList | None = error_log[0] if error_log is not None else None
        self._error_log_at = error_log[1] if error_log is not None else 0.0
        self._error_log_handed = error_log is not None

    @property
    def last_error_log(self) -> tuple[LogList, float] | None:
        """The error log read last and when (the client's clock), for a next setup."""
        return None if self._error_log is None else (self._error_log, self._error_log_at)

    async def async_load_position(self) -> None:
        """Read what earlier polls have seen, and the recorder's zone they learnt
        (before the first poll: the first disk times are then read in it)."""
        stored = await self._store.async_load() or {}
        self._trackers = {kind: LogTracker.from_keys(stored.get(kind.value)) for kind in LogKind}
        zone = stored.get(_ZONE_KEY)
        with contextlib.suppress(TypeError, ValueError):
            if zone is not None and len(zone) == 2:
                offset = timedelta(seconds=int(zone[0]))
                if abs(offset) <= _MAX_OFFSET:
                    self.client.assume_recorder_zone(offset, zone[1] == "1")

    @callback
    def async_start_first_poll(self) -> None:
        """Poll the logs now, in the background: setup does not wait for them.

        Not an entry background task (those are cancelled when the entry
        unloads, which could cut a save short between its write and its
        events): :meth:`async_shutdown` waits for a poll that is saving or
        firing and only cancels one still waiting for the recorder.
        """
        self._first_poll = self.hass.async_create_background_task(
            self.async_refresh(), f"{DOMAIN} first log poll"
        )

    async def _async_update_data(self) -> NvrLogs:
        read_errors = self._error_log_due()
        due = self._poll_due()
        try:
            # The event log (what automations wait for) keeps the poll's time; the
            # error log, read after it (once a minute), waits behind people's
            # requests like the status poll's disk times.
            event_log = await self.client.get_event_log(priority=Priority.BACKGROUND, due=due)
            error_log = self._error_log
            if read_errors or error_log is None:
                error_log = await self.client.get_error_log(priority=Priority.BACKGROUND)
                self._error_log, self._error_log_at = error_log, self.client.clock()
        except NvrError as err:
            raise self._failed(err) from err
        finally:
            self._polled()
        read: list[tuple[LogKind, LogList]] = [(LogKind.EVENT, event_log)]
        if read_errors:
            read.insert(0, (LogKind.ERROR, error_log))

        async with self._tracking:
            if self._closed:
                # The entry unloaded while this poll was on its way: the next
                # setup will see these entries as new and fire them.
                return NvrLogs(error_log=error_log.entries, event_log=event_log.entries)
            new = sorted(
                (
                    NewLogEntry(entry, entry.meaning)
                    for kind, log in read
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

    def _error_log_due(self) -> bool:
        """Whether this poll reads the error log too (see ``ERROR_LOG_INTERVAL``).

        Every poll but the timer's reads it, except a reloaded entry's first
        one, given the error log its previous setup read.
        """
        handed, self._error_log_handed = self._error_log_handed, False
        if self._error_log is None or not (self._scheduled or handed):
            return True
        # Half a command spacing early: a poll is granted its turn about then.
        since = self.client.clock() - self._error_log_at + self._spacing / 2
        return since >= ERROR_LOG_INTERVAL.total_seconds()

    async def async_shutdown(self) -> None:
        """Stop polling; wait for a poll that is saving or firing to finish."""
        await super().async_shutdown()
        async with self._tracking:
            self._closed = True
        first = self._first_poll
        if first is not None and not first.done():
            # Still waiting for the recorder: whatever it brings is not used.
            first.cancel()
            await asyncio.wait([first])

    def _persisted(self) -> dict[str, list[str]]:
        stored = {kind.value: tracker.keys() for kind, tracker in self._trackers.items()}
        zone = self.client.recorder_zone
        if isinstance(zone, timedelta):  # learnt from a log entry, not a guess
            summer = "1" if self.client.recorder_summer_time else "0"
            stored[_ZONE_KEY] = [str(int(zone.total_seconds())), summer]
        return stored

    def _event_data(self, item: NewLogEntry) -> dict[str, Any]:
        return {
            "config_entry_id": self.config_entry.entry_id,
            "log": item.entry.kind.value,
            "channel": item.meaning.channel,
            "type": item.meaning.type.value,
            "text": item.entry.text,
            "time": item.entry.time.isoformat(),
        }
