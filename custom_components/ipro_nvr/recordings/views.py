"""The view that serves recording clips to the browser: ``/api/ipro_nvr/clip/…``.

A clip is a period of one camera of one recorder, on whole minutes, at most
an hour long; its URL is ``/api/ipro_nvr/clip/<entry_id>/<channel>/<span>``
with ``<span>`` ``yyyymmddhhmm-yyyymmddhhmm`` in UTC (see :class:`ClipRef`).
The view needs authentication; the media source hands out URLs signed with
``async_sign_path``, which authorises them for a while.

The first request for a clip downloads it from the recorder
(``httpdl.cgi KIND=MP4``) and serves it while it is made: each file of the
download (a long period may come split into several; the recorder's MP4 has
its index at the end) is remuxed with PyAV, as soon as it is complete, into a
fragmented MP4 that is sent chunked as it grows, so playback starts before
the download ends; a clip of four minutes or more downloads its first minute
alone, which plays while a second download brings the rest. No Range then
(the length is not known yet). The clip does not wait for the playback UID's
logout, which waits for the recorder's pacing in the background. Afterwards
the clip is remuxed once more into a fast-start MP4 and kept in the
recorder's clip cache (``<cache>/ipro_nvr/<entry_id>/``, capped by the
entry's option ``clip_cache_size_mb``), from where ``web.FileResponse``
serves later requests with HTTP Range support so the browser can seek.
Requests for the same clip share one download. Removing the
recorder deletes its clips (:func:`async_remove_entry_clips`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
from dataclasses import dataclass
import datetime as dt
from http import HTTPStatus
from pathlib import Path
import queue
import re
from typing import Any, Final

from aiohttp import hdrs, web
import av
from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from custom_components.ipro_nvr.api import (
    DOWNLOAD_MAX_SPAN_S,
    DOWNLOAD_UID_WAIT,
    CodecNotCompatibleError,
    DirectorySink,
    DownloadBusyError,
    DownloadedFile,
    DownloadKind,
    NoRecordingError,
    NvrClient,
    NvrError,
    UidPurpose,
)
from custom_components.ipro_nvr.const import (
    CONF_CLIP_CACHE_SIZE,
    DEFAULT_CLIP_CACHE_SIZE_MB,
    DOMAIN,
    LOGGER,
)
from custom_components.ipro_nvr.live.keyframe_snapshot import frame_to_jpeg

from .clip_cache import (
    ClipCache,
    ClipCaches,
    ClipStoppedError,
    GrowingClip,
    remux_faststart,
    remux_fragmented,
    run_to_completion,
)

CLIP_URL: Final = f"/api/{DOMAIN}/clip"
THUMBNAIL_URL: Final = f"/api/{DOMAIN}/thumbnail"
CLIP_MIME_TYPE: Final = "video/mp4"
DATA_CLIP_CACHES: HassKey[ClipCaches] = HassKey(f"{DOMAIN}_clip_caches")
_MIB: Final = 1024 * 1024
_SPAN_FORMAT: Final = "%Y%m%d%H%M"
_SPAN: Final = re.compile(r"^(\d{12})-(\d{12})$")
# RFC 9110 14.1.2: a suffix range of length zero ("bytes=-0") is unsatisfiable.
_EMPTY_SUFFIX_RANGE: Final = re.compile(r"^\s*bytes\s*=\s*-0+\s*$", re.IGNORECASE | re.ASCII)
_RETRY_AFTER_S: Final = 10
_STREAM_CHUNK: Final = 256 * 1024
# A clip of ``SPLIT_FROM`` or longer downloads its first minute alone, then the
# rest (``clip_parts``): the recorder's MP4 keeps its index at the end, so nothing
# of a file plays before all of it is there (27 MB for ten minutes of the
# simulator's 1080p), and the recorder makes and sends one minute in a tenth of
# the time. The second ``httpdl.cgi`` costs one paced command while the first
# minute plays. An event clip (two or three minutes) arrives in about a second:
# one command.
FIRST_PART: Final = dt.timedelta(minutes=1)
SPLIT_FROM: Final = dt.timedelta(minutes=4)


@dataclass(frozen=True, slots=True)
class ClipRef:
    """A clip: ``channel`` of the recorder of ``entry_id`` from ``start`` to ``end`` (UTC)."""

    entry_id: str
    channel: int
    start: dt.datetime
    end: dt.datetime

    @property
    def span(self) -> str:
        """``yyyymmddhhmm-yyyymmddhhmm`` in UTC."""
        start, end = self.start.astimezone(dt.UTC), self.end.astimezone(dt.UTC)
        return f"{start:{_SPAN_FORMAT}}-{end:{_SPAN_FORMAT}}"

    @property
    def identifier(self) -> str:
        """The compact id used in media source identifiers and URLs."""
        return f"{self.entry_id}/{self.channel}/{self.span}"

    @property
    def path(self) -> str:
        """The (unsigned) URL path of the clip."""
        return f"{CLIP_URL}/{self.identifier}"

    @property
    def thumbnail_path(self) -> str:
        """The (unsigned) URL path of the clip's thumbnail (only while it is cached)."""
        return f"{THUMBNAIL_URL}/{self.identifier}"

    @property
    def cache_name(self) -> str:
        """The clip's file name in its recorder's cache (only safe characters)."""
        return f"{self.channel}_{self.span}.mp4"

    @classmethod
    def parse(cls, entry_id: str, channel: str, span: str) -> ClipRef:
        """Read a clip id; ValueError when it is not one (or not a valid period)."""
        match = _SPAN.match(span)
        if match is None or not channel.isascii() or not channel.isdigit() or not entry_id:
            raise ValueError(f"not a clip: {entry_id}/{channel}/{span}")
        start = dt.datetime.strptime(match[1], _SPAN_FORMAT).replace(tzinfo=dt.UTC)
        end = dt.datetime.strptime(match[2], _SPAN_FORMAT).replace(tzinfo=dt.UTC)
        if not dt.timedelta(0) < end - start <= dt.timedelta(seconds=DOWNLOAD_MAX_SPAN_S):
            raise ValueError("a clip lasts more than zero and at most one hour")
        return cls(entry_id, int(channel), start, end)


def clip_cache_directory(hass: HomeAssistant) -> Path:
    """Home Assistant's cache directory for this integration.

    Newer Home Assistant versions have ``hass.config.cache_path``; 2026.2 has
    not, and ``<config>/.cache/<domain>`` is the convention there.
    """
    cache_path: Any = getattr(hass.config, "cache_path", None)
    if callable(cache_path):
        with contextlib.suppress(Exception):
            return Path(cache_path(DOMAIN))
    return Path(hass.config.path(".cache", DOMAIN))


def clip_cache_max_bytes(options: Mapping[str, Any]) -> int:
    """The clip cache cap of a recorder, from its options."""
    return int(options.get(CONF_CLIP_CACHE_SIZE, DEFAULT_CLIP_CACHE_SIZE_MB)) * _MIB


def async_setup_clip_view(hass: HomeAssistant) -> None:
    """Create the clip caches and register the views (once, in ``async_setup``).

    A changed cap (options) applies at once: the cache of that recorder is
    trimmed when its entry changes, without waiting for the next clip.
    """
    caches = ClipCaches(clip_cache_directory(hass))
    hass.data[DATA_CLIP_CACHES] = caches
    hass.http.register_view(RecordingClipView(hass, caches))
    hass.http.register_view(ClipThumbnailView(hass, caches))

    @callback
    def _entry_changed(change: ConfigEntryChange, entry: ConfigEntry) -> None:
        if (
            change is ConfigEntryChange.UPDATED
            and entry.domain == DOMAIN
            and (cache := caches.peek(entry.entry_id)) is not None
            and cache.max_bytes != (cap := clip_cache_max_bytes(entry.options))
        ):
            hass.async_create_task(
                cache.async_set_max_bytes(cap), f"{DOMAIN} clip cache cap", eager_start=True
            )

    # Lives as long as Home Assistant, like the views.
    async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _entry_changed)


async def async_clip_cache(hass: HomeAssistant, entry: ConfigEntry) -> ClipCache:
    """The loaded clip cache of ``entry``'s recorder (capped by its options)."""
    return await hass.data[DATA_CLIP_CACHES].async_cache(
        entry.entry_id, clip_cache_max_bytes(entry.options)
    )


async def async_remove_entry_clips(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a removed recorder's cached clips (and stop any being made)."""
    caches = hass.data.get(DATA_CLIP_CACHES) or ClipCaches(clip_cache_directory(hass))
    await caches.async_remove(entry_id)


def _error(status: HTTPStatus, message: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=message, headers=headers)


class RecordingClipView(HomeAssistantView):
    """Serves a recording clip: as it is made, then from the cache with HTTP Range support."""

    url = CLIP_URL + r"/{entry_id}/{channel:\d+}/{span}"
    name = f"api:{DOMAIN}:clip"
    requires_auth = True

    def __init__(self, hass: HomeAssistant, caches: ClipCaches) -> None:
        """Initialise with the recorders' clip caches."""
        self.hass = hass
        self.caches = caches

    def _empty_suffix_range(self, request: web.Request, clip: ClipRef) -> web.Response | None:
        """416 for ``Range: bytes=-0``, which no file satisfies (RFC 9110 14.1.2).

        aiohttp's FileResponse reads it as "from byte 0" and sends the whole
        file. With ``If-Range`` the file's validator decides, so it is left to
        FileResponse. The length is given when the clip is cached (RFC 9110 15.5.17).
        """
        if hdrs.IF_RANGE in request.headers or not _EMPTY_SUFFIX_RANGE.match(
            request.headers.get(hdrs.RANGE, "")
        ):
            return None
        cache = self.caches.peek(clip.entry_id)
        info = cache.info(clip.cache_name) if cache is not None else None
        headers = {hdrs.CONTENT_RANGE: f"bytes */{info.size}"} if info is not None else {}
        return _error(
            HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
            "A range of zero bytes from the end selects nothing",
            **headers,
        )

    async def get(  # noqa: PLR0911 - one answer per outcome
        self, request: web.Request, entry_id: str, channel: str, span: str
    ) -> web.StreamResponse:
        """Serve the clip from the cache, or while it is downloaded and made."""
        try:
            clip = ClipRef.parse(entry_id, channel, span.removesuffix(".mp4"))
        except ValueError as err:
            return _error(HTTPStatus.BAD_REQUEST, str(err))
        if (unsatisfiable := self._empty_suffix_range(request, clip)) is not None:
            return unsatisfiable
        entry = self.hass.config_entries.async_get_entry(clip.entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            return _error(HTTPStatus.NOT_FOUND, "No such recorder (or it is not loaded)")
        if clip.channel not in entry.runtime_data.coordinator.data.status.registered:
            # Channel 0, 129, or one without a camera: the recorder would refuse it with
            # an answer that reads like a lost UID (a 502), or urls.download would.
            return _error(HTTPStatus.NOT_FOUND, f"The recorder has no camera {clip.channel}")
        if clip.end > dt.datetime.now(dt.UTC):
            return _error(HTTPStatus.NOT_FOUND, "This period is not recorded yet")
        client = entry.runtime_data.client

        async def produce(work: Path, growing: GrowingClip) -> Path:
            return await _async_make_clip(self.hass, client, clip, work, growing)

        try:
            cache = await async_clip_cache(self.hass, entry)
            async with cache.async_open(clip.cache_name, produce) as found:
                if isinstance(found, Path):
                    return web.FileResponse(
                        found,
                        headers={
                            "Content-Type": CLIP_MIME_TYPE,
                            "Cache-Control": "private, max-age=3600",
                        },
                    )
                await found.wait_started()
                return await _async_stream(request, found)
        except NoRecordingError:
            return _error(
                HTTPStatus.NOT_FOUND,
                f"The recorder has no recording of camera {clip.channel} in this period",
            )
        except CodecNotCompatibleError:
            # Remembered: the media browser stops offering this camera's clips.
            entry.runtime_data.jpeg_recording.add(clip.channel)
            return _error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "The recorder cannot give this camera's recording as MP4 (it records "
                "JPEG): save it as N3 with the download action, or watch it with the "
                "recorder's playback",
            )
        except DownloadBusyError:
            return _error(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "The recorder is busy with other downloads; try again shortly",
                **{"Retry-After": str(_RETRY_AFTER_S)},
            )
        except NvrError as err:
            LOGGER.warning("Download of clip %s failed: %s", clip.identifier, err)
            return _error(HTTPStatus.BAD_GATEWAY, f"The download from the recorder failed: {err}")
        except (av.FFmpegError, OSError, ValueError, ClipStoppedError) as err:  # remuxing
            LOGGER.warning("Clip %s could not be remuxed: %s", clip.identifier, err)
            return _error(HTTPStatus.BAD_GATEWAY, f"The recording could not be prepared: {err}")


async def _async_stream(request: web.Request, clip: GrowingClip) -> web.StreamResponse:
    """Send a clip while it is made: a fragmented MP4, chunked, from its first byte.

    No Range while the clip grows (its length is unknown): a browser plays a
    fragmented MP4 as it arrives, and the next request for the clip gets the
    cached file, which can be seeked. ``no-store``: the browser must not mix
    these bytes with those of the cached file, which differ.
    """
    response = web.StreamResponse(
        headers={
            "Content-Type": CLIP_MIME_TYPE,
            "Cache-Control": "no-store",
            "Accept-Ranges": "none",
        }
    )
    async with clip.reading() as read:
        offset = 0
        try:
            while data := await read(offset, _STREAM_CHUNK):
                if not response.prepared:
                    await response.prepare(request)
                try:
                    await response.write(data)
                except ConnectionError:
                    return response  # the viewer went away
                offset += len(data)
        except (NvrError, av.FFmpegError, OSError, ValueError, ClipStoppedError) as err:
            if not response.prepared:
                raise  # answered with an error status
            # Too late for a status: cut the connection, the player sees a broken video.
            LOGGER.warning("Clip stopped after %d bytes: %s", offset, err)
            if request.transport is not None:
                request.transport.close()
            return response
    await response.write_eof()
    return response


def clip_parts(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The downloads a clip is made of: its first minute alone when it is long."""
    if end - start < SPLIT_FROM:
        return [(start, end)]
    return [(start, start + FIRST_PART), (start + FIRST_PART, end)]


class _ClipSink(DirectorySink):
    """Hands each file of the downloads to the remuxing thread as soon as it is complete.

    One sink takes the files of all the clip's downloads (:func:`clip_parts`),
    in order; the last one's end (``last``) closes it, before its download
    returns (the playback UID's logout is not on the viewer's path). It keeps
    the files a failed download completed (the first minute stays when the
    rest has no recording); the clip's work directory goes with them.
    """

    def __init__(self, directory: Path, files: queue.SimpleQueue[Path | None]) -> None:
        super().__init__(directory, keep_completed=True)
        self._files = files
        self.last = True  # whether the download under way is the clip's last
        self.received = asyncio.Event()
        self.closed = asyncio.Event()  # received, or aborted: the sink writes no more

    async def finish(self, name: str) -> Path:
        path = await super().finish(name)
        self._files.put(path)
        return path

    async def complete(self, files: list[DownloadedFile]) -> None:
        if self.last:
            self.end()

    def end(self) -> None:
        """Every download is done: the remuxing thread stops after the files it has."""
        self._files.put(None)
        self.received.set()
        self.closed.set()

    async def abort(self) -> None:
        await super().abort()
        self.closed.set()


async def _async_download_parts(client: NvrClient, clip: ClipRef, sink: _ClipSink) -> None:
    """Download the parts of ``clip`` into ``sink`` one after the other, then end it.

    A part without recording is skipped (a clip whose recording starts or
    stops inside it); NoRecordingError only when no part has any.
    """
    recorded = False
    parts = clip_parts(clip.start, clip.end)
    # One UID for all the parts: one login at most.
    async with client.lease(
        UidPurpose.PLAYBACK, channel=clip.channel, wait=DOWNLOAD_UID_WAIT
    ) as lease:
        for number, (start, end) in enumerate(parts, 1):
            sink.last = number == len(parts)
            try:
                await client.download(
                    clip.channel, start, end, DownloadKind.MP4, sink=sink, lease=lease
                )
            except NoRecordingError:
                continue
            recorded = True
    if not recorded:
        raise NoRecordingError("no recording in the clip's period")
    if not sink.received.is_set():
        sink.end()  # the last part had no recording


async def _async_make_clip(
    hass: HomeAssistant, client: NvrClient, clip: ClipRef, work: Path, growing: GrowingClip
) -> Path:
    """Download ``clip``, writing it to ``growing`` as it comes; return the file to cache.

    Each file of the downloads (:func:`clip_parts`: a long clip's first
    minute comes alone) is remuxed into the fragmented MP4 of ``growing`` as
    soon as it is complete (the recorder's MP4 has its index at the end), so a
    viewer starts while the rest still downloads. The clip
    does not wait for the end of the download: the playback UID's logout
    waits for the recorder's pacing, in the background. The cached file is a
    fast-start MP4 made from the same files afterwards.
    """
    files: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
    sink = _ClipSink(work / "download", files)
    writer = await asyncio.to_thread(growing.writer, work / "stream.mp4")
    download = hass.async_create_background_task(
        _async_download_parts(client, clip, sink), f"{DOMAIN} clip download {clip.channel}"
    )
    download.add_done_callback(_log_download_end)
    remux = asyncio.ensure_future(run_to_completion(remux_fragmented, files.get, writer))
    try:
        await _async_received(sink, download, remux)
        growing.downloaded = True
        # Shielded: the thread must see the end of its input before it stops.
        await asyncio.shield(remux)
    except BaseException:
        download.cancel()
        # Until the sink has removed its files (not until the logout, which may wait).
        closed = asyncio.ensure_future(sink.closed.wait())
        with contextlib.suppress(BaseException):
            await asyncio.wait([download, closed], return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        writer.abandon()
        files.put(None)  # the remuxing thread stops
        with contextlib.suppress(BaseException):
            await remux
        raise
    finally:
        writer.close()
    growing.finish(writer.written)
    output = work / "clip.mp4"
    await run_to_completion(remux_faststart, list(sink.completed), output)
    return output


async def _async_received(
    sink: _ClipSink, download: asyncio.Future[Any], remux: asyncio.Future[None]
) -> None:
    """Wait until the recorder sent everything; raise what failed first."""
    received = asyncio.ensure_future(sink.received.wait())
    try:
        await asyncio.wait([download, received, remux], return_when=asyncio.FIRST_COMPLETED)
    finally:
        received.cancel()
    if remux.done():
        remux.result()  # failed early: raises
    if not sink.received.is_set():
        await download  # raises the download's error
        raise NoRecordingError("the recorder sent no file")


def _log_download_end(task: asyncio.Task[None]) -> None:
    # The clip went on without waiting for this (logout); a late error is only logged.
    if not task.cancelled() and (error := task.exception()) is not None:
        LOGGER.debug("Clip download ended with: %s", error)


def first_keyframe_jpeg(path: Path) -> bytes:
    """The clip's first picture as JPEG (blocking)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            return frame_to_jpeg(frame)
    raise ValueError("the clip has no picture")


class ClipThumbnailView(HomeAssistantView):
    """The first picture of a cached clip; never downloads anything (404 when not cached)."""

    url = THUMBNAIL_URL + r"/{entry_id}/{channel:\d+}/{span}"
    name = f"api:{DOMAIN}:thumbnail"
    requires_auth = True

    def __init__(self, hass: HomeAssistant, caches: ClipCaches) -> None:
        """Initialise with the recorders' clip caches."""
        self.hass = hass
        self.caches = caches

    async def get(
        self, request: web.Request, entry_id: str, channel: str, span: str
    ) -> web.StreamResponse:
        """Serve the thumbnail of a cached clip."""
        try:
            clip = ClipRef.parse(entry_id, channel, span)
        except ValueError as err:
            return _error(HTTPStatus.BAD_REQUEST, str(err))
        cache = self.caches.peek(clip.entry_id)
        path = cache.cached(clip.cache_name) if cache is not None else None
        if path is None:
            return _error(HTTPStatus.NOT_FOUND, "The clip has not been played yet")
        try:
            jpeg = await self.hass.async_add_executor_job(first_keyframe_jpeg, path)
        except (av.FFmpegError, OSError, ValueError) as err:
            return _error(HTTPStatus.NOT_FOUND, f"No thumbnail: {err}")
        return web.Response(
            body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
        )
