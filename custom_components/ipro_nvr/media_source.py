"""Recordings in Home Assistant's media browser.

Tree (identifiers after ``media-source://ipro_nvr/``)::

    <entry_id>                          a recorder: its selected cameras
    <entry_id>/<ch>                     a camera: "Events", then its days, newest first
    <entry_id>/<ch>/d<yyyymmdd>         a day (recorder local): its hours
    <entry_id>/<ch>/h<yyyymmddhh>       an hour (recorder local): 10-minute clips
    <entry_id>/<ch>/events[~<page>]     one clip per event-log entry, newest first
    <entry_id>/<ch>/<utc>-<utc>         a clip (``yyyymmddhhmm``, UTC), see views.ClipRef

The recorder has no list of recordings this integration can read; days and
hours come from the disks' recorded ranges (``recordedtime.cgi``), events
from the event log. Nothing here waits for the recorder: browsing is as fast as
the coordinators' data. Resolving a clip gives a signed URL of the clip view,
which downloads it on first play. Browsing a recorder (or the source's root,
with one recorder) logs in a spare playback UID in the background, as a
person's request (see ``NvrClient.prepare_uid``): the clip the person then
opens starts with its ``httpdl.cgi`` alone, one paced command (3 s) sooner;
the spare is logged out after a while without a clip.

Clips are remuxed, never transcoded, so an H.265 camera's clips play only
where the browser decodes HEVC. The recorder cannot say a camera's codec
before a download, so a clip's title warns (:data:`H265_NOTE`) when its cached
file is H.265, or, for a clip not cached yet, when the camera's live video
is set to H.265 (a hint that the camera encodes H.265); the
``ipro_nvr.download_recording`` action saves such clips instead.

A camera that records JPEG has no MP4 at all (the recorder answers status 2).
Once a download has shown that (a play or the download action), its clips
are listed without play, their titles saying so (:data:`JPEG_NOTE`): such
recordings are saved as N3 with the download action, or watched through the
recorder's playback (spec chapter 3).
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import datetime as dt
from typing import Final

from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .api import (
    ClientClosedError,
    LogEntry,
    NvrClient,
    Priority,
    UidPurpose,
    aware_to_local,
    local_to_aware,
)
from .const import DOMAIN, LIVE_CODEC_H265
from .data import IproNvrConfigEntry
from .entity import channel_device, selected_channels
from .live.camera_codecs import camera_live_codec
from .recordings.clip_cache import CODEC_H265, ClipCache
from .recordings.views import CLIP_MIME_TYPE, ClipRef, async_clip_cache

CLIP_MINUTES: Final = 10
# An event clip runs from this long before the event to this long after it
# (then widened to whole minutes: httpdl.cgi's seconds are fixed at 00).
EVENT_MARGIN: Final = dt.timedelta(minutes=1)
# A spare playback UID, logged in while a person browses a camera's recordings,
# stays this long without a clip (and after one, for the next); at most two
# thirds of a UID's lifetime, so it costs no keep-alive.
SPARE_PLAYBACK_IDLE_S: Final = 45.0
EVENTS_PER_PAGE: Final = 100
# How long a resolved clip URL stays valid.
SIGNED_URL_LIFETIME: Final = dt.timedelta(hours=6)
EVENTS: Final = "events"
# Added to the title of a clip that is (or probably is) H.265. Media titles
# are not translated by Home Assistant, like the other titles of this tree.
H265_NOTE: Final = " (H.265: may not play in every browser; use the download action)"
# Added to the title of a clip of a camera that records JPEG (which cannot play).
JPEG_NOTE: Final = (
    " (records JPEG: no clip; save it as N3 with the download action, or use playback)"
)
_MINUTE: Final = dt.timedelta(minutes=1)


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """The media source platform: recordings of every loaded recorder."""
    return NvrMediaSource(hass)


def _not_found[E: BrowseError | Unresolvable](error: type[E], identifier: str) -> E:
    return error(
        translation_domain=DOMAIN,
        translation_key="media_not_found",
        translation_placeholders={"identifier": identifier},
    )


def _floor_minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def _ceil_minute(moment: dt.datetime) -> dt.datetime:
    floor = _floor_minute(moment)
    return floor if floor == moment else floor + _MINUTE


def _folder(
    identifier: str, title: str, children_media_class: MediaClass = MediaClass.DIRECTORY
) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.VIDEO,
        title=title,
        can_play=False,
        can_expand=True,
        children_media_class=children_media_class,
    )


def _clip_item(recorder: _Recorder, clip: ClipRef, title: str) -> BrowseMediaSource:
    # A thumbnail only for a clip already in the cache: it must not cost a download.
    cached = recorder.cache.info(clip.cache_name) if recorder.cache is not None else None
    thumbnail = None
    if cached is not None:
        thumbnail = async_sign_path(recorder.hass, clip.thumbnail_path, SIGNED_URL_LIFETIME)
    # The cached file's codec is the truth; before that, the live codec is a hint.
    h265 = cached.codec == CODEC_H265 if cached is not None else recorder.live_h265(clip.channel)
    # A camera known to record JPEG has no MP4: no clip to offer.
    playable = cached is not None or clip.channel not in recorder.jpeg_recording
    if not playable:
        title += JPEG_NOTE
    elif h265:
        title += H265_NOTE
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=clip.identifier,
        media_class=MediaClass.VIDEO,
        media_content_type=CLIP_MIME_TYPE,
        title=title,
        can_play=playable,
        can_expand=False,
        thumbnail=thumbnail,
    )


def _prepare_clip_uid(client: NvrClient) -> None:
    """Log in a spare playback UID for the clip a person browsing is likely to open.

    The clip's download then starts with ``httpdl.cgi`` alone. The login goes as
    a person's request (the person is at the screen and opens a clip within
    seconds); behind the polls it came too late for the clip.
    """
    with contextlib.suppress(ClientClosedError):  # the entry is unloading
        client.prepare_uid(UidPurpose.PLAYBACK, idle=SPARE_PLAYBACK_IDLE_S, priority=Priority.USER)


def event_clip_period(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The whole-minute period an event clip covers (UTC)."""
    utc = moment.astimezone(dt.UTC)
    return _floor_minute(utc - EVENT_MARGIN), _ceil_minute(utc + EVENT_MARGIN)


class _Recorder:
    """What browsing needs of one loaded recorder."""

    def __init__(self, hass: HomeAssistant, entry: IproNvrConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        # Set (loaded) before clips are listed, for thumbnails and codecs.
        self.cache: ClipCache | None = None
        data = entry.runtime_data
        self.jpeg_recording = data.jpeg_recording
        self.client = data.client
        self.ranges = [
            (disk.oldest.astimezone(dt.UTC), disk.newest.astimezone(dt.UTC))
            for disk in data.coordinator.data.recorded.disks
            if disk.oldest is not None and disk.newest is not None and disk.oldest < disk.newest
        ]

    def live_h265(self, channel: int) -> bool:
        """Whether ``channel``'s live video is H.265: a hint that it records H.265 too."""
        return camera_live_codec(self.entry.options, channel) == LIVE_CODEC_H265

    def local(self, moment: dt.datetime) -> dt.datetime:
        """The recorder's naive local reading at ``moment``."""
        return aware_to_local(
            moment, zone=self.client.recorder_zone, summer_time=self.client.recorder_summer_time
        )

    def instant(self, local: dt.datetime) -> dt.datetime:
        """The UTC instant of the recorder's naive local time ``local``."""
        return local_to_aware(
            local, zone=self.client.recorder_zone, summer_time=self.client.recorder_summer_time
        ).astimezone(dt.UTC)

    def recorded(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether any of ``[start, end)`` is recorded."""
        return any(old < end and new > start for old, new in self.ranges)

    def clamp_end(self, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
        """``end``, cut to the newest recorded whole minute; None when nothing is left."""
        newest = max((new for old, new in self.ranges if old < end), default=None)
        if newest is None:
            return None
        end = min(end, _floor_minute(newest))
        return end if end > start and self.recorded(start, end) else None

    def days(self) -> list[dt.date]:
        """Recorder-local days with recordings, newest first."""
        found: set[dt.date] = set()
        for old, new in self.ranges:
            day, last = self.local(old).date(), self.local(new).date()
            while day <= last:
                found.add(day)
                day += dt.timedelta(days=1)
        return sorted(found, reverse=True)

    def channel_title(self, channel: int) -> str:
        device = channel_device(self.hass, self.entry.entry_id, channel)
        if device is not None and (device.name_by_user or device.name):
            return str(device.name_by_user or device.name)
        return f"Camera {channel}"

    def event_entries(self, channel: int) -> list[LogEntry]:
        """Event-log entries of ``channel``, newest first."""
        logs = self.entry.runtime_data.log_coordinator.data
        entries = [
            entry
            for entry in (logs.event_log if logs is not None else ())
            if entry.meaning.channel == channel
        ]
        return sorted(entries, key=lambda entry: entry.time, reverse=True)


class NvrMediaSource(MediaSource):
    """Recordings of i-PRO recorders: by day and hour, and by event."""

    name = "i-PRO NVR"

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialise the source."""
        super().__init__(DOMAIN)
        self.hass = hass

    # -- resolving ----------------------------------------------------------------

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """A signed URL of the clip view."""
        parts = item.identifier.split("/")
        try:
            clip = ClipRef.parse(*parts) if len(parts) == 3 else None
        except ValueError:
            clip = None
        if clip is None:
            raise _not_found(Unresolvable, item.identifier)
        if self._recorder(clip.entry_id) is None:
            raise _not_found(Unresolvable, item.identifier)
        url = async_sign_path(self.hass, clip.path, SIGNED_URL_LIFETIME)
        return PlayMedia(url, CLIP_MIME_TYPE)

    # -- browsing -----------------------------------------------------------------

    def _recorder(self, entry_id: str) -> _Recorder | None:
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            return None
        return _Recorder(self.hass, entry)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse recorders, cameras, days, hours, clips and events."""
        if not item.identifier:
            root = self._root()
            entries = self.hass.config_entries.async_loaded_entries(DOMAIN)
            if len(entries) == 1:
                _prepare_clip_uid(entries[0].runtime_data.client)
            return root
        parts = item.identifier.split("/")
        recorder = self._recorder(parts[0])
        if recorder is None:
            raise _not_found(BrowseError, item.identifier)
        _prepare_clip_uid(recorder.client)
        if len(parts) == 1:
            return self._cameras(recorder)
        try:
            channel = int(parts[1])
        except ValueError as err:
            raise _not_found(BrowseError, item.identifier) from err
        if channel not in selected_channels(recorder.entry):
            raise _not_found(BrowseError, item.identifier)
        if len(parts) == 2:
            return self._camera(recorder, channel)
        if len(parts) == 3:
            recorder.cache = await async_clip_cache(self.hass, recorder.entry)
            leaf = parts[2]
            try:
                if leaf == EVENTS or leaf.startswith(f"{EVENTS}~"):
                    page = int(leaf.partition("~")[2] or 1)
                    return self._events(recorder, channel, page)
                if leaf[:1] == "d" and len(leaf) == 9:
                    day = dt.datetime.strptime(leaf[1:], "%Y%m%d").date()  # noqa: DTZ007
                    return self._day(recorder, channel, day)
                if leaf[:1] == "h" and len(leaf) == 11:
                    hour = dt.datetime.strptime(leaf[1:], "%Y%m%d%H")  # noqa: DTZ007 - recorder local
                    return self._hour(recorder, channel, hour)
            except ValueError as err:
                raise _not_found(BrowseError, item.identifier) from err
        raise _not_found(BrowseError, item.identifier)

    def _root(self) -> BrowseMediaSource:
        base = _folder("", self.name or DOMAIN)
        base.children = [
            _folder(entry.entry_id, entry.title)
            for entry in self.hass.config_entries.async_loaded_entries(DOMAIN)
        ]
        return base

    def _cameras(self, recorder: _Recorder) -> BrowseMediaSource:
        entry_id = recorder.entry.entry_id
        base = _folder(entry_id, recorder.entry.title)
        base.children = [
            _folder(f"{entry_id}/{channel}", recorder.channel_title(channel))
            for channel in selected_channels(recorder.entry)
        ]
        return base

    def _camera(self, recorder: _Recorder, channel: int) -> BrowseMediaSource:
        prefix = f"{recorder.entry.entry_id}/{channel}"
        base = _folder(prefix, recorder.channel_title(channel))
        base.children = [
            _folder(f"{prefix}/{EVENTS}", "Events", children_media_class=MediaClass.VIDEO),
            *(_folder(f"{prefix}/d{day:%Y%m%d}", f"{day:%Y-%m-%d}") for day in recorder.days()),
        ]
        return base

    def _day(self, recorder: _Recorder, channel: int, day: dt.date) -> BrowseMediaSource:
        prefix = f"{recorder.entry.entry_id}/{channel}"
        base = _folder(
            f"{prefix}/d{day:%Y%m%d}", f"{recorder.channel_title(channel)} {day:%Y-%m-%d}"
        )
        midnight = dt.datetime.combine(day, dt.time())
        children = []
        for hour in range(24):
            local = midnight + dt.timedelta(hours=hour)
            start = recorder.instant(local)
            if recorder.recorded(start, start + dt.timedelta(hours=1)):
                children.append(_folder(f"{prefix}/h{local:%Y%m%d%H}", f"{local:%H}:00"))
        base.children = children
        return base

    def _hour(self, recorder: _Recorder, channel: int, hour: dt.datetime) -> BrowseMediaSource:
        prefix = f"{recorder.entry.entry_id}/{channel}"
        base = _folder(
            f"{prefix}/h{hour:%Y%m%d%H}",
            f"{recorder.channel_title(channel)} {hour:%Y-%m-%d %H}:00",
            children_media_class=MediaClass.VIDEO,
        )
        children = []
        for local in _clip_starts(hour):
            start = recorder.instant(local)
            end = recorder.clamp_end(start, start + dt.timedelta(minutes=CLIP_MINUTES))
            if end is None:
                continue
            minutes = round((end - start).total_seconds() / 60)
            clip = ClipRef(recorder.entry.entry_id, channel, start, end)
            end_local = local + dt.timedelta(minutes=minutes)
            children.append(_clip_item(recorder, clip, f"{local:%H:%M} - {end_local:%H:%M}"))
        base.children = children
        return base

    def _events(self, recorder: _Recorder, channel: int, page: int) -> BrowseMediaSource:
        prefix = f"{recorder.entry.entry_id}/{channel}"
        if page < 1:
            raise ValueError("pages count from 1")
        identifier = f"{prefix}/{EVENTS}" if page == 1 else f"{prefix}/{EVENTS}~{page}"
        title = f"{recorder.channel_title(channel)} events"
        base = _folder(
            identifier,
            title if page == 1 else f"{title} ({page})",
            children_media_class=MediaClass.VIDEO,
        )
        entries = recorder.event_entries(channel)
        first = (page - 1) * EVENTS_PER_PAGE
        children = []
        for entry in entries[first : first + EVENTS_PER_PAGE]:
            start, end = event_clip_period(entry.time)
            clamped = recorder.clamp_end(start, end)
            if clamped is None:
                continue
            kind = entry.meaning.type.value.replace("_", " ").capitalize()
            clip = ClipRef(recorder.entry.entry_id, channel, start, clamped)
            # The entry's time is the recorder's wall-clock reading. The time comes
            # first: the media browser's grid shows only the start of a long title.
            title = f"{entry.time:%H:%M:%S} {kind}, {entry.time:%Y-%m-%d}"
            children.append(_clip_item(recorder, clip, title))
        if len(entries) > first + EVENTS_PER_PAGE:
            children.append(
                _folder(
                    f"{prefix}/{EVENTS}~{page + 1}",
                    "Older events",
                    children_media_class=MediaClass.VIDEO,
                )
            )
        base.children = children
        return base


def _clip_starts(hour: dt.datetime) -> Iterator[dt.datetime]:
    for minute in range(0, 60, CLIP_MINUTES):
        yield hour + dt.timedelta(minutes=minute)
