"""Repair issues that raise and clear themselves from the coordinators' data.

Authentication failures are not here: they go through the reauth flow, which
Home Assistant shows as its own repair.

An issue lives as long as its cause, not as long as the entry is loaded: a
reload or a restart keeps it (and so an issue the user ignored stays
ignored, since Home Assistant keeps the ignored state with the issue), and
only a poll that finds the cause gone, or the removal of the entry, deletes
it. When a camera lost its connection is stored per entry, so that the
"disconnected for a while" delay keeps counting across reloads and restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .api import RecorderBusyError, RecorderFullError, UidError
from .const import CAMERA_DISCONNECTED_REPAIR_AFTER, DOMAIN
from .data import IproNvrConfigEntry
from .poll.problems import active_disk_errors, channels_in_error

_STORE_VERSION: Final = 1
_SINCE_KEY: Final = "camera_error_since"
# One store per entry, shared by the entry's successive loads: a reload reads
# what the previous load saved, even before it reached the disk.
_STORES: HassKey[dict[str, Store[dict[str, Any]]]] = HassKey(f"{DOMAIN}_repair_stores")


def _issue_id(entry_id: str, what: str) -> str:
    return f"{entry_id}_{what}"


def _utcnow() -> datetime:
    return dt_util.utcnow()


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    stores = hass.data.setdefault(_STORES, {})
    if (store := stores.get(entry_id)) is None:
        store = stores[entry_id] = Store(hass, _STORE_VERSION, f"{DOMAIN}.{entry_id}.repairs")
    return store


def _entry_issue_ids(hass: HomeAssistant, entry_id: str) -> set[str]:
    """Ids of this integration's issues that belong to ``entry_id`` (any load, any run)."""
    prefix = _issue_id(entry_id, "")
    return {
        issue_id
        for domain, issue_id in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith(prefix)
    }


async def _async_load_since(store: Store[dict[str, Any]]) -> dict[int, datetime]:
    data = await store.async_load() or {}
    since: dict[int, datetime] = {}
    for channel, text in (data.get(_SINCE_KEY) or {}).items():
        moment = dt_util.parse_datetime(text) if isinstance(text, str) else None
        if str(channel).isdigit() and moment is not None:
            since[int(channel)] = moment
    return since


async def async_setup_repairs(hass: HomeAssistant, entry: IproNvrConfigEntry) -> None:
    """Keep the entry's repair issues in step with every poll."""
    runtime = entry.runtime_data
    status, logs = runtime.coordinator, runtime.log_coordinator
    store = _store(hass, entry.entry_id)
    # Issues of an earlier load or run: kept while their cause holds, deleted
    # by the first poll that finds it gone.
    raised = _entry_issue_ids(hass, entry.entry_id)
    error_since = await _async_load_since(store)

    def _sync(wanted: dict[str, tuple[str, dict[str, str]]], prefix: str) -> None:
        for issue_id, (key, placeholders) in wanted.items():
            # Updates an existing issue in place: its ignored state stays.
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=key,
                translation_placeholders=placeholders,
            )
        stale = {i for i in raised if i.startswith(prefix) and i not in wanted}
        for issue_id in stale:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
        raised.difference_update(stale)
        raised.update(wanted)

    def _busy_issue(active: bool) -> None:
        issue_id = _issue_id(entry.entry_id, "too_many_clients")
        _sync({issue_id: ("too_many_clients", {"title": entry.title})} if active else {}, issue_id)

    def _full_issue(active: bool) -> None:
        issue_id = _issue_id(entry.entry_id, "recorder_full")
        _sync({issue_id: ("recorder_full", {"title": entry.title})} if active else {}, issue_id)

    def _track_errors(in_error: set[int], now: datetime) -> None:
        before = dict(error_since)
        for ch in list(error_since):
            if ch not in in_error:
                del error_since[ch]
        for ch in in_error:
            error_since.setdefault(ch, now)
        if error_since != before:
            saved = {_SINCE_KEY: {str(ch): t.isoformat() for ch, t in error_since.items()}}
            hass.async_create_task(store.async_save(saved), f"{DOMAIN} repairs store")

    @callback
    def _status_updated() -> None:
        failing = not status.last_update_success or not logs.last_update_success
        causes = [
            getattr(c.last_exception, "__cause__", None)
            for c in (status, logs)
            if not c.last_update_success
        ]
        # A full recorder has an issue of its own: the client refused to log in
        # (it would evict another client) until a status answer shows a free session.
        _full_issue(runtime.client.recorder_full)
        _busy_issue(
            failing
            and any(
                isinstance(e, RecorderBusyError | UidError) and not isinstance(e, RecorderFullError)
                for e in causes
            )
        )
        if not status.last_update_success:
            return
        now = _utcnow()
        _track_errors(set(channels_in_error(status.data.status)), now)
        prefix = _issue_id(entry.entry_id, "camera_disconnected_")
        _sync(
            {
                f"{prefix}{ch}": ("camera_disconnected", {"channel": str(ch), "title": entry.title})
                for ch, since in error_since.items()
                if now - since >= CAMERA_DISCONNECTED_REPAIR_AFTER
            },
            prefix,
        )

    @callback
    def _logs_updated() -> None:
        _status_updated()
        if not logs.last_update_success or logs.data is None:
            return
        prefix = _issue_id(entry.entry_id, "disk_error_")
        _sync(
            {
                f"{prefix}{disk.lower().replace(' ', '_')}": (
                    "disk_error",
                    {"disk": disk, "text": item.text, "title": entry.title},
                )
                for disk, item in active_disk_errors(logs.data.error_log).items()
            },
            prefix,
        )

    entry.async_on_unload(status.async_add_listener(_status_updated))
    entry.async_on_unload(logs.async_add_listener(_logs_updated))
    _status_updated()
    _logs_updated()


async def async_remove_entry_repairs(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a removed entry's issues and its stored disconnection times."""
    for issue_id in _entry_issue_ids(hass, entry_id):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    store = _store(hass, entry_id)
    hass.data[_STORES].pop(entry_id, None)
    await store.async_remove()
