"""Repair issues that raise and clear themselves from the coordinators' data.

Authentication failures are not here: they go through the reauth flow, which
Home Assistant shows as its own repair.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .api import RecorderBusyError, UidError
from .const import CAMERA_DISCONNECTED_REPAIR_AFTER, DOMAIN
from .data import IproNvrConfigEntry
from .problems import active_disk_errors, channels_in_error


def _issue_id(entry: IproNvrConfigEntry, what: str) -> str:
    return f"{entry.entry_id}_{what}"


@callback
def async_setup_repairs(hass: HomeAssistant, entry: IproNvrConfigEntry) -> None:
    """Keep the entry's repair issues in step with every poll."""
    runtime = entry.runtime_data
    status, logs = runtime.coordinator, runtime.log_coordinator
    raised: set[str] = set()
    error_since: dict[int, datetime] = {}

    def _sync(wanted: dict[str, tuple[str, dict[str, str]]], prefix: str) -> None:
        for issue_id, (key, placeholders) in wanted.items():
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
        issue_id = _issue_id(entry, "too_many_clients")
        _sync({issue_id: ("too_many_clients", {"title": entry.title})} if active else {}, issue_id)

    @callback
    def _status_updated() -> None:
        failing = not status.last_update_success or not logs.last_update_success
        causes = [c.last_exception for c in (status, logs) if not c.last_update_success]
        _busy_issue(
            failing
            and any(
                isinstance(getattr(e, "__cause__", None), RecorderBusyError | UidError)
                for e in causes
            )
        )
        if not status.last_update_success:
            return
        now = dt_util.utcnow()
        in_error = set(channels_in_error(status.data.status))
        for ch in list(error_since):
            if ch not in in_error:
                del error_since[ch]
        for ch in in_error:
            error_since.setdefault(ch, now)
        prefix = _issue_id(entry, "camera_disconnected_")
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
        prefix = _issue_id(entry, "disk_error_")
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

    @callback
    def _remove_all() -> None:
        for issue_id in raised:
            ir.async_delete_issue(hass, DOMAIN, issue_id)

    entry.async_on_unload(_remove_all)
    _status_updated()
    _logs_updated()
