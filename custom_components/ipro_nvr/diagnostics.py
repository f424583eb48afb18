"""Diagnostics: what a maintainer needs to understand a report, without secrets."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .api import LogEntry
from .data import IproNvrConfigEntry
from .live.picture_clock import picture_diagnostics

TO_REDACT = {CONF_PASSWORD, CONF_USERNAME, CONF_HOST, "unique_id", "title"}
LAST_LOG_ENTRIES = 20


def _entries(entries: tuple[LogEntry, ...]) -> list[dict[str, Any]]:
    return [
        {"time": e.time.isoformat(), "summer_time": e.summer_time, "text": e.text}
        for e in entries[-LAST_LOG_ENTRIES:]
    ]


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: IproNvrConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    runtime = entry.runtime_data
    status = runtime.coordinator.data
    logs = runtime.log_coordinator.data
    return {
        "entry": async_redact_data(
            {"data": dict(entry.data), "options": dict(entry.options), "title": entry.title},
            TO_REDACT,
        ),
        "camera_status": {
            "channels": {str(ch): int(state) for ch, state in status.status.channels.items()},
            "max_uid": status.status.max_uid,
            "used_uid": status.status.used_uid,
        },
        "disks": [
            {
                **asdict(disk),
                "oldest": disk.oldest and disk.oldest.isoformat(),
                "newest": disk.newest and disk.newest.isoformat(),
            }
            for disk in status.recorded.disks
            if disk.present
        ],
        "error_log": _entries(logs.error_log) if logs else [],
        "event_log": _entries(logs.event_log) if logs else [],
        # The latest live picture's recorder and camera times and frame rate (spec 7.1).
        "live_pictures": {
            str(ch): picture_diagnostics(info)
            for ch, info in sorted(runtime.relay.picture_infos().items())
            if info is not None
        },
        "client": runtime.client.diagnostics(),
        "playback": runtime.playback.diagnostics(),
    }
