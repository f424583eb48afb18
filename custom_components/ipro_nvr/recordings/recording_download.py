"""The ``ipro_nvr.download_recording`` action: save a camera's recording to the media folder.

The period (any length up to :data:`MAX_DOWNLOAD_SPAN`, widened to whole
minutes because ``httpdl.cgi``'s seconds are fixed at 00) is fetched in
requests of at most an hour; every file the recorder sends is saved under a
safe form of the recorder's name (:class:`~.api.DirectorySink`: names never
leave the folder, files appear only when complete). Hours without recording
are skipped. The folder must lie inside one of Home Assistant's media
directories; by default ``<media>/ipro_nvr/<recorder>/<camera>/``.

The action returns ``{"folder": ..., "files": [...]}`` and fires
``ipro_nvr_download_complete`` with the same paths.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from custom_components.ipro_nvr.api import (
    CodecNotCompatibleError,
    DirectorySink,
    DownloadBusyError,
    DownloadKind,
    NoRecordingError,
    NvrError,
    sanitize_file_name,
)
from custom_components.ipro_nvr.api.spec import DOWNLOAD_MAX_SPAN_S
from custom_components.ipro_nvr.compat import device_by_identifier
from custom_components.ipro_nvr.const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from custom_components.ipro_nvr.control.camera_control import CameraControlEntity

ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_FOLDER: Final = "folder"
EVENT_DOWNLOAD_COMPLETE: Final = "ipro_nvr_download_complete"
MAX_DOWNLOAD_SPAN: Final = dt.timedelta(hours=24)
_MINUTE: Final = dt.timedelta(minutes=1)
_CHUNK: Final = dt.timedelta(seconds=DOWNLOAD_MAX_SPAN_S)

DOWNLOAD_SCHEMA: Final = {
    vol.Required(ATTR_START): cv.datetime,
    vol.Required(ATTR_END): cv.datetime,
    vol.Optional(ATTR_FOLDER): cv.string,
}


def download_chunks(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[start, end)`` widened to whole minutes (UTC), in pieces of at most an hour."""
    first = dt_util.as_utc(start).replace(second=0, microsecond=0)
    last = dt_util.as_utc(end)
    if last.second or last.microsecond:
        last = last.replace(second=0, microsecond=0) + _MINUTE
    chunks = []
    while first < last:
        chunks.append((first, min(last, first + _CHUNK)))
        first += _CHUNK
    return chunks


def _media_root(hass: HomeAssistant) -> Path:
    dirs = hass.config.media_dirs
    return Path(dirs.get("local") or next(iter(dirs.values()), None) or hass.config.path("media"))


def _folder(hass: HomeAssistant, entity: CameraControlEntity, requested: str | None) -> Path:
    """The target folder, checked to lie inside a media directory."""
    root = _media_root(hass)
    if requested is None:
        entry = entity.coordinator.config_entry
        recorder = sanitize_file_name(entry.title, fallback="recorder")
        device = device_by_identifier(
            hass, (DOMAIN, f"{entry.entry_id}_{entity.channel}"), entry.entry_id
        )
        name = (device.name_by_user or device.name or "") if device is not None else ""
        camera = sanitize_file_name(name, fallback=f"camera_{entity.channel}")
        return root / DOMAIN / recorder / camera
    folder = (root / requested).resolve()  # an absolute ``requested`` replaces root
    allowed = [Path(media).resolve() for media in hass.config.media_dirs.values()] or [
        root.resolve()
    ]
    if not any(folder.is_relative_to(media) for media in allowed):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="folder_not_allowed",
            translation_placeholders={"folder": requested},
        )
    return folder


def _download_error(err: NvrError, channel: int, saved: int) -> HomeAssistantError:
    placeholders = {"channel": str(channel), "error": str(err), "saved": str(saved)}
    if isinstance(err, CodecNotCompatibleError):
        key = "codec_not_compatible"
    elif isinstance(err, DownloadBusyError):
        key = "download_busy"
    else:
        key = "download_failed"
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


async def async_download_recording(
    entity: CameraControlEntity, call: ServiceCall
) -> ServiceResponse:
    """Download the period of the call for the camera ``entity``; return the saved paths."""
    hass = entity.hass
    start: dt.datetime = call.data[ATTR_START]
    end: dt.datetime = call.data[ATTR_END]
    if not dt.timedelta(0) < dt_util.as_utc(end) - dt_util.as_utc(start) <= MAX_DOWNLOAD_SPAN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_download_period",
            translation_placeholders={"hours": str(int(MAX_DOWNLOAD_SPAN.total_seconds() // 3600))},
        )
    folder = _folder(hass, entity, call.data.get(ATTR_FOLDER))
    client = entity.coordinator.client
    channel = entity.channel
    saved: list[JsonValueType] = []
    for chunk_start, chunk_end in download_chunks(start, end):
        try:
            files = await client.download(
                channel, chunk_start, chunk_end, DownloadKind.MP4, sink=DirectorySink(folder)
            )
        except NoRecordingError:
            continue
        except NvrError as err:
            raise _download_error(err, channel, len(saved)) from err
        saved += [str(file.path) for file in files if file.path is not None]
    if not saved:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="no_recording",
            translation_placeholders={"channel": str(channel)},
        )
    data: dict[str, Any] = {
        "config_entry_id": entity.coordinator.config_entry.entry_id,
        "entity_id": entity.entity_id,
        "channel": channel,
        "start": dt_util.as_utc(start).isoformat(),
        "end": dt_util.as_utc(end).isoformat(),
        "folder": str(folder),
        "files": saved,
    }
    hass.bus.async_fire(EVENT_DOWNLOAD_COMPLETE, data)
    return {"folder": str(folder), "files": saved}
