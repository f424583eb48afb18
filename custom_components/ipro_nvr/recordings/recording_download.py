"""The ``ipro_nvr.download_recording`` action: save a camera's recording to the media folder.

``kind`` chooses what the recorder sends (spec 6.3.2 ``KIND``): MP4 (the
default), MP4 without audio, N3 (the recorder's own format, the only one a
camera that records JPEG has), N3 without audio, or the N3 list file. The
recorder's statuses become clear errors: 1 no recording (hours without one
are skipped), 2 a JPEG camera asked for MP4 (the message suggests N3), 3 the
recorder busy with other downloads. Every ``httpdl.cgi`` request is a paced
command of the recorder's queue (spec 6.3.2), so the hours of a long period
go out at least 3 s apart.

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
    DOWNLOAD_MAX_SPAN_S,
    CodecNotCompatibleError,
    DirectorySink,
    DownloadBusyError,
    DownloadKind,
    NoRecordingError,
    NvrError,
    sanitize_file_name,
)
from custom_components.ipro_nvr.const import DOMAIN
from custom_components.ipro_nvr.entity import channel_device

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from custom_components.ipro_nvr.control.camera_control import CameraControlEntity

ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_FOLDER: Final = "folder"
ATTR_KIND: Final = "kind"
# The action's kinds (lower case, as selectors want them) and what they ask for.
DOWNLOAD_KINDS: Final = {kind.value.lower(): kind for kind in DownloadKind}
_KIND_TITLES: Final = {
    DownloadKind.MP4: "MP4",
    DownloadKind.MP4VO: "MP4 without audio",
    DownloadKind.N3: "N3",
    DownloadKind.N3VO: "N3 without audio",
    DownloadKind.LIST: "the N3 list",
}
EVENT_DOWNLOAD_COMPLETE: Final = "ipro_nvr_download_complete"
MAX_DOWNLOAD_SPAN: Final = dt.timedelta(hours=24)
_MINUTE: Final = dt.timedelta(minutes=1)
_CHUNK: Final = dt.timedelta(seconds=DOWNLOAD_MAX_SPAN_S)

DOWNLOAD_SCHEMA: Final = {
    vol.Required(ATTR_START): cv.datetime,
    vol.Required(ATTR_END): cv.datetime,
    vol.Optional(ATTR_KIND, default=DownloadKind.MP4.value.lower()): vol.All(
        vol.Lower, vol.In(sorted(DOWNLOAD_KINDS))
    ),
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
        device = channel_device(hass, entry.entry_id, entity.channel)
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


def _download_error(
    err: NvrError, channel: int, kind: DownloadKind, saved: int
) -> HomeAssistantError:
    placeholders = {
        "channel": str(channel),
        "error": str(err),
        "saved": str(saved),
        "kind": _KIND_TITLES[kind],
    }
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
    kind = DOWNLOAD_KINDS[call.data.get(ATTR_KIND, DownloadKind.MP4.value.lower())]
    client = entity.coordinator.client
    channel = entity.channel
    saved: list[JsonValueType] = []
    for chunk_start, chunk_end in download_chunks(start, end):
        try:
            files = await client.download(
                channel, chunk_start, chunk_end, kind, sink=DirectorySink(folder)
            )
        except NoRecordingError:
            continue
        except NvrError as err:
            if isinstance(err, CodecNotCompatibleError):
                # The camera records JPEG: the media browser stops offering its clips.
                entity.coordinator.config_entry.runtime_data.jpeg_recording.add(channel)
            raise _download_error(err, channel, kind, len(saved)) from err
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
        "kind": kind.value,
        "folder": str(folder),
        "files": saved,
    }
    hass.bus.async_fire(EVENT_DOWNLOAD_COMPLETE, data)
    return {"folder": str(folder), "files": saved}
