"""Recordings in the media browser: browse, resolve and play clips from the simulator.

Everything is real: Home Assistant's media_source and http components, the
integration's client, and the simulator over loopback HTTP. Clips are decoded
with PyAV.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import av
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    Unresolvable,
    async_browse_media,
    async_resolve_media,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, TestClient
import voluptuous as vol

from custom_components.ipro_nvr.api import UidPurpose
from custom_components.ipro_nvr.api.log_events import classify_log_text
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import (
    CONF_CLIP_CACHE_SIZE,
    CONF_EVENT_SCAN_INTERVAL,
    CONF_LIVE_CODEC,
    CONF_PRESET_COUNT,
    CONF_SCAN_INTERVAL,
    DEFAULT_CLIP_CACHE_SIZE_MB,
    DOMAIN,
)
from custom_components.ipro_nvr.media_source import H265_NOTE, JPEG_NOTE, event_clip_period
from custom_components.ipro_nvr.recordings import views
from custom_components.ipro_nvr.recordings.clip_cache import (
    CODEC_H264,
    CODEC_H265,
    ClipCache,
    ClipCaches,
    GrowingClip,
)
from custom_components.ipro_nvr.recordings.recording_download import (
    EVENT_DOWNLOAD_COMPLETE,
    download_chunks,
)
from custom_components.ipro_nvr.recordings.views import DATA_CLIP_CACHES, ClipRef, async_clip_cache
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator

ZONE = dt.timezone(dt.timedelta(hours=9))  # the simulator's default utc_offset
FPS = 10
PREFIX = f"media-source://{DOMAIN}"
H265_CHANNEL = 5
MIB = 1024 * 1024


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """Camera 2 records JPEG (no MP4: status 2), camera 5 H.265."""
    sim_config.recording_codecs = {2: "JPEG", H265_CHANNEL: "H265"}
    return sim_config


async def _media_source_with_caches_in(
    hass: HomeAssistant, entry: MockConfigEntry, root: Path
) -> ClipCaches:
    """Set up the media source; move the clip caches to ``root`` (before first use)."""
    assert await async_setup_component(hass, "media_source", {})
    await hass.async_block_till_done()  # platforms are processed in the background
    # The first status poll ran before any log entry told the client the
    # recorder's zone (recorded times read in Home Assistant's zone): poll again.
    await entry.runtime_data.coordinator.async_refresh()
    caches = hass.data[DATA_CLIP_CACHES]
    assert caches.peek(entry.entry_id) is None
    caches.root = root
    return caches


@pytest.fixture
async def clips(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, tmp_path: Path
) -> AsyncIterator[ClipCache]:
    """The media source set up; the recorder's clip cache, in a temporary directory."""
    caches = await _media_source_with_caches_in(hass, loaded_entry, tmp_path / "clips")
    yield await async_clip_cache(hass, loaded_entry)
    await caches.async_clear()


def _utc_minutes_ago(minutes: int) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=minutes)


def _clip_id(entry: MockConfigEntry, channel: int, start: dt.datetime, minutes: int) -> str:
    clip = ClipRef(entry.entry_id, channel, start, start + dt.timedelta(minutes=minutes))
    return f"{PREFIX}/{clip.identifier}"


def _period(query: str) -> tuple[dt.datetime, dt.datetime]:
    """The (UTC) period of an ``httpdl.cgi`` query (``yymmddhhmmss``, recorder time)."""
    fields = dict(pair.split("=", 1) for pair in query.split("&"))
    start, end = (
        dt.datetime.strptime(fields[name], "%y%m%d%H%M%S").replace(tzinfo=ZONE)
        for name in ("STARTTIME", "ENDTIME")
    )
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _ids(item: BrowseMediaSource) -> list[str]:
    return [child.media_content_id for child in item.children or []]


def _decode(data: bytes) -> tuple[int, float]:
    """Frames and video duration (s) of a whole MP4."""
    with av.open(io.BytesIO(data), format="mp4") as container:
        frames = list(container.decode(video=0))
    last = frames[-1].time
    assert last is not None
    return len(frames), last + 1 / FPS


async def _play(client: TestClient, url: str, cache: ClipCache) -> bytes:
    """The whole clip at ``url``; returns once the clip's production is over (cached)."""
    response = await client.get(url)
    assert response.status == 200, await response.text()
    data = await response.read()
    await cache.async_idle()
    return data


def _leftovers(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


async def test_browse_every_level(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """Recorder → camera → day → hour → clips, and the camera's events."""
    root = await async_browse_media(hass, PREFIX)
    assert _ids(root) == [f"{PREFIX}/{loaded_entry.entry_id}"]
    recorder = await async_browse_media(hass, _ids(root)[0])
    cameras = _ids(recorder)
    # Channel 4 is in connection error but registered: every registered camera is listed.
    assert cameras[0] == f"{PREFIX}/{loaded_entry.entry_id}/1"
    assert len(cameras) == 16

    camera = await async_browse_media(hass, cameras[0])
    children = _ids(camera)
    assert children[0] == f"{cameras[0]}/events"
    days = children[1:]
    now_local = dt.datetime.now(ZONE)
    oldest = min(d.oldest for d in simulator.simulator.disks if d.oldest is not None)
    first_day = oldest.astimezone(ZONE).date()
    assert days[0] == f"{cameras[0]}/d{now_local:%Y%m%d}"  # newest first
    assert days[-1] == f"{cameras[0]}/d{first_day:%Y%m%d}"
    assert len(days) == (now_local.date() - first_day).days + 1

    target = (now_local - dt.timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    day = await async_browse_media(hass, f"{cameras[0]}/d{target:%Y%m%d}")
    hour_id = f"{cameras[0]}/h{target:%Y%m%d%H}"
    assert hour_id in _ids(day)
    hour = await async_browse_media(hass, hour_id)
    start = target.astimezone(dt.UTC)
    assert _ids(hour) == [
        _clip_id(loaded_entry, 1, start + dt.timedelta(minutes=m), 10) for m in range(0, 60, 10)
    ]
    assert [c.title for c in hour.children][:2] == [
        f"{target:%H}:00 - {target:%H}:10",
        f"{target:%H}:10 - {target:%H}:20",
    ]
    assert all(c.can_play and not c.can_expand for c in hour.children)

    # The oldest day starts at the oldest recording's hour.
    oldest_day = await async_browse_media(hass, days[-1])
    assert _ids(oldest_day)[0].endswith(f"h{oldest.astimezone(ZONE):%Y%m%d%H}")

    # Events: one clip per event-log entry of camera 1, newest first.
    events = await async_browse_media(hass, f"{cameras[0]}/events")
    expected = sorted(
        (e for e in simulator.simulator.events.entries if classify_log_text(e.text).channel == 1),
        key=lambda e: e.time,
        reverse=True,
    )
    assert expected
    assert len(events.children) == len(expected)
    for child, entry in zip(events.children, expected, strict=True):
        begin, end = event_clip_period(entry.time)
        assert begin <= entry.time - dt.timedelta(minutes=1)
        assert end >= entry.time + dt.timedelta(minutes=1)
        assert child.media_content_id == _clip_id(
            loaded_entry, 1, begin, round((end - begin).total_seconds() / 60)
        )
        kind = classify_log_text(entry.text).type.value.replace("_", " ").capitalize()
        local = entry.time.astimezone(ZONE)
        # The time first: the media browser's grid cuts long titles.
        assert child.title == f"{local:%H:%M:%S} {kind}, {local:%Y-%m-%d}"


async def test_events_are_paged(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """1000 event-log entries come in ten pages of 100, newest first (timing: benchmarks)."""
    base = _utc_minutes_ago(1200)
    for n in range(1000):  # the log's capacity: the seeded history is pushed out
        simulator.simulator.add_event("SITE(VMD)-3", base + dt.timedelta(seconds=60 * n))
    await loaded_entry.runtime_data.log_coordinator.async_refresh()
    first = await async_browse_media(hass, f"{PREFIX}/{loaded_entry.entry_id}/3/events")
    assert len(first.children) == 101
    assert first.children[-1].can_expand
    assert first.children[-1].media_content_id.endswith("/3/events~2")
    second = await async_browse_media(hass, first.children[-1].media_content_id)
    assert len(second.children) == 101
    assert first.children[0].title.startswith(
        f"{(base + dt.timedelta(minutes=999)).astimezone(ZONE):%H:%M:%S}"
    )
    last = first
    pages = 1
    while last.children and last.children[-1].can_expand:
        last = await async_browse_media(hass, last.children[-1].media_content_id)
        pages += 1
    assert pages == 10


async def test_clip_plays_through_the_signed_view(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """A 10-minute clip: signed URL; the first play streams a fragmented MP4 while it is
    made; later plays get the cached fast-start MP4 with Range requests; full decodes."""
    start = _utc_minutes_ago(180).replace(minute=0)
    media_id = _clip_id(loaded_entry, 1, start, 10)
    resolved = await async_resolve_media(hass, media_id, None)
    assert resolved.mime_type == "video/mp4"
    assert "authSig=" in resolved.url
    client = await hass_client_no_auth()

    unsigned = await client.get(resolved.url.split("?")[0])
    assert unsigned.status == 401

    first = await client.get(resolved.url, headers={"Range": "bytes=0-"})
    assert first.status == 200, await first.text()
    assert first.headers["Content-Type"] == "video/mp4"
    assert first.headers["Accept-Ranges"] == "none"  # its length is not known yet
    assert first.headers["Cache-Control"] == "no-store"
    streamed = await first.read()
    # Fragmented: the index first, then fragments (moof + mdat).
    assert 0 <= streamed.find(b"moov") < streamed.find(b"moof") < streamed.find(b"mdat")
    frames, duration = await asyncio.to_thread(_decode, streamed)
    assert frames == 600 * FPS
    assert duration == pytest.approx(600.0, abs=1 / FPS)
    await _until(lambda: clips.productions == 1, "the clip is cached")

    response = await client.get(resolved.url)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Accept-Ranges"] == "bytes"
    data = await response.read()
    # Fast start: the index (moov) comes before the media data (mdat).
    assert 0 <= data.find(b"moov") < data.find(b"mdat")
    assert b"moof" not in data[: data.find(b"mdat")]

    partial = await client.get(resolved.url, headers={"Range": "bytes=1000-1999"})
    assert partial.status == 206
    assert partial.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert await partial.read() == data[1000:2000]

    frames, duration = await asyncio.to_thread(_decode, data)
    assert frames == 600 * FPS
    assert duration == pytest.approx(600.0, abs=1 / FPS)
    assert clips.productions == 1
    # The first minute alone (it plays while the rest comes), both on one UID.
    downloads = simulator.simulator.journal.by_cgi(Cgi.HTTPDL)
    assert [_period(entry.query) for entry in downloads] == [
        (start, start + dt.timedelta(minutes=1)),
        (start + dt.timedelta(minutes=1), start + dt.timedelta(minutes=10)),
    ]
    assert downloads[0].uid == downloads[1].uid


async def test_split_recording_is_joined_into_one_clip(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """The recorder splits at local :30 (simulator default); the clip has both files,
    after its first minute's (downloaded alone)."""
    start = _utc_minutes_ago(240).replace(minute=28)
    resolved = await async_resolve_media(hass, _clip_id(loaded_entry, 1, start, 4), None)
    client = await hass_client()
    response = await client.get(resolved.url)
    assert response.status == 200, await response.text()
    data = await response.read()
    first_minute, rest = simulator.simulator.recordings.downloads
    assert (len(first_minute.files), len(rest.files)) == (1, 2)
    frames, duration = await asyncio.to_thread(_decode, data)
    assert frames == 240 * FPS
    assert duration == pytest.approx(240.0, abs=1 / FPS)


def _complete_boxes(data: bytes | bytearray) -> tuple[list[str], int]:
    """The complete top-level MP4 boxes at the start of ``data``, and where they end."""
    kinds: list[str] = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size < 8 or offset + size > len(data):
            break
        kinds.append(bytes(data[offset + 4 : offset + 8]).decode("latin-1"))
        offset += size
    return kinds, offset


async def test_first_play_starts_before_the_download_ends(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 4-minute clip: its first minute (downloaded alone) plays while the recorder's
    next file is held back."""
    gate = asyncio.Event()
    opened: list[str] = []
    open_file = views._ClipSink.open

    async def held_open(sink: views._ClipSink, temp_name: str) -> None:
        opened.append(temp_name)
        if len(opened) == 2:
            await gate.wait()  # the recorder's second file is late
        await open_file(sink, temp_name)

    monkeypatch.setattr(views._ClipSink, "open", held_open)
    start = _utc_minutes_ago(240).replace(minute=28)  # the recorder splits at local :30
    clip = ClipRef(loaded_entry.entry_id, 1, start, start + dt.timedelta(minutes=4))
    resolved = await async_resolve_media(hass, f"{PREFIX}/{clip.identifier}", None)
    client = await hass_client_no_auth()
    response = await client.get(resolved.url)
    assert response.status == 200, await response.text()
    data = bytearray()
    while "mdat" not in (kinds := _complete_boxes(data)[0]) or "moof" not in kinds:
        chunk = await response.content.readany()
        assert chunk, "the stream ended"
        data += chunk
    assert kinds[:2] == ["ftyp", "moov"]
    await _until(lambda: len(opened) == 2, "the next file is on its way")
    assert not clips._pending[clip.cache_name].clip.downloaded
    assert clips.productions == 0
    playable = bytes(data[: _complete_boxes(data)[1]])
    frames, _duration = await asyncio.to_thread(_decode, playable)
    assert 0 < frames <= 60 * FPS  # pictures of the first minute

    gate.set()
    data += await response.read()
    frames, duration = await asyncio.to_thread(_decode, bytes(data))
    assert frames == 240 * FPS
    assert duration == pytest.approx(240.0, abs=1 / FPS)
    await clips.async_idle()
    assert clips.productions == 1


async def test_leaving_once_downloaded_still_caches_the_clip(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """A viewer who stops watching after the recorder sent everything: the clip is cached."""
    start = _utc_minutes_ago(420)
    clip = ClipRef(loaded_entry.entry_id, 1, start, start + dt.timedelta(minutes=10))
    resolved = await async_resolve_media(hass, f"{PREFIX}/{clip.identifier}", None)
    client = await hass_client_no_auth()
    response = await client.get(resolved.url)
    assert response.status == 200, await response.text()
    assert await response.content.readany()
    production = clips._pending[clip.cache_name]
    await _until(lambda: production.clip.downloaded, "the recorder sent everything")
    response.close()  # the viewer goes
    await clips.async_idle()
    assert clips.productions == 1
    assert _leftovers(clips.directory) == [clip.cache_name]
    data = await _play(client, resolved.url, clips)
    frames, _duration = await asyncio.to_thread(_decode, data)
    assert frames == 600 * FPS
    assert len(simulator.simulator.recordings.downloads) == 2  # the first minute, the rest


async def test_concurrent_requests_share_one_download(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """Two requests for the same (event) clip: one download, the same bytes; then a thumbnail."""
    moment = _utc_minutes_ago(90) + dt.timedelta(seconds=25)
    simulator.simulator.add_event("SITE(VMD)-1", moment)
    await loaded_entry.runtime_data.log_coordinator.async_refresh()
    events = await async_browse_media(hass, f"{PREFIX}/{loaded_entry.entry_id}/1/events")
    begin, end = event_clip_period(moment)
    (item,) = [
        c
        for c in events.children
        if c.media_content_id.endswith(ClipRef(loaded_entry.entry_id, 1, begin, end).span)
    ]
    resolved = await async_resolve_media(hass, item.media_content_id, None)
    client = await hass_client_no_auth()
    first, second = await asyncio.gather(client.get(resolved.url), client.get(resolved.url))
    assert (first.status, second.status) == (200, 200)
    body = await first.read()
    assert body == await second.read()
    await clips.async_idle()
    assert len(simulator.simulator.recordings.downloads) == 1
    assert clips.productions == 1
    # Played clips get a thumbnail (their first picture); others none.
    assert item.thumbnail is None
    events = await async_browse_media(hass, f"{PREFIX}/{loaded_entry.entry_id}/1/events")
    thumbnails = {c.media_content_id: c.thumbnail for c in events.children}
    thumbnail = thumbnails.pop(item.media_content_id)
    assert thumbnail is not None
    assert "authSig=" in thumbnail
    assert not any(thumbnails.values())
    picture = await client.get(thumbnail)
    assert picture.status == 200
    assert picture.content_type == "image/jpeg"
    with av.open(io.BytesIO(await picture.read())) as container:
        (frame,) = list(container.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)
    # A thumbnail never downloads: a clip not in the cache has none.
    other = ClipRef(loaded_entry.entry_id, 1, begin - dt.timedelta(hours=1), begin)
    unplayed = async_sign_path(hass, other.thumbnail_path, dt.timedelta(minutes=1))
    assert (await client.get(unplayed)).status == 404
    assert len(simulator.simulator.recordings.downloads) == 1

    frames, duration = await asyncio.to_thread(_decode, body)
    # One minute before to one minute after, widened to whole minutes.
    assert duration == pytest.approx((end - begin).total_seconds(), abs=1 / FPS)
    assert frames == round((end - begin).total_seconds()) * FPS


async def test_cache_cap_evicts_the_least_recently_used(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """Beyond the cap the oldest clip goes; asking for it again downloads it again."""
    client = await hass_client()
    starts = [_utc_minutes_ago(300 + 5 * n) for n in range(3)]
    urls = [
        (await async_resolve_media(hass, _clip_id(loaded_entry, 1, s, 1), None)).url for s in starts
    ]
    for url in urls[:2]:
        await _play(client, url, clips)
    sizes = [clip.size for clip in clips._entries.values()]
    clips.max_bytes = sum(sizes) + sizes[0] // 2  # room for two clips, not three
    await _play(client, urls[0], clips)  # clip 0 is now the most recent
    await _play(client, urls[2], clips)  # clip 1 is evicted
    assert clips.total_bytes <= clips.max_bytes
    names = [
        ClipRef(loaded_entry.entry_id, 1, s, s + dt.timedelta(minutes=1)).cache_name for s in starts
    ]
    assert _leftovers(clips.directory) == sorted([names[0], names[2]])
    assert len(simulator.simulator.recordings.downloads) == 3
    await _play(client, urls[1], clips)
    assert len(simulator.simulator.recordings.downloads) == 4


async def test_errors_are_clear(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """Status 1 is 404, status 2 is 415, status 3 is 503; nothing is cached."""
    client = await hass_client()
    long_ago = _utc_minutes_ago(200 * 24 * 60)
    for media_id, status, text in (
        (_clip_id(loaded_entry, 1, long_ago, 1), 404, "no recording"),
        (_clip_id(loaded_entry, 2, _utc_minutes_ago(60), 1), 415, "JPEG"),
    ):
        response = await client.get((await async_resolve_media(hass, media_id, None)).url)
        assert response.status == status
        assert text in await response.text()
    simulator.config.download_max_concurrent = 0
    media_id = _clip_id(loaded_entry, 1, _utc_minutes_ago(60), 1)
    response = await client.get((await async_resolve_media(hass, media_id, None)).url)
    assert response.status == 503
    assert "Retry-After" in response.headers
    assert _leftovers(clips.directory) == []
    bad = await client.get(
        f"/api/{DOMAIN}/clip/{loaded_entry.entry_id}/1/202611250000-202611250200"
    )
    assert bad.status == 400


async def _hour_clips(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> list[Any]:
    target = (dt.datetime.now(ZONE) - dt.timedelta(hours=3)).replace(minute=0)
    hour = await async_browse_media(hass, f"{PREFIX}/{entry.entry_id}/{channel}/h{target:%Y%m%d%H}")
    return list(hour.children or [])


async def test_a_jpeg_camera_offers_no_clip_once_known(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """After the recorder refused camera 2's MP4 (status 2), its clips say why and cannot play."""
    assert all(c.can_play for c in await _hour_clips(hass, loaded_entry, 2))  # not known yet
    client = await hass_client()
    media_id = _clip_id(loaded_entry, 2, _utc_minutes_ago(60), 1)
    response = await client.get((await async_resolve_media(hass, media_id, None)).url)
    assert response.status == 415
    assert "N3" in await response.text()
    jpeg = await _hour_clips(hass, loaded_entry, 2)
    assert jpeg
    assert not any(c.can_play for c in jpeg)
    assert all(c.title.endswith(JPEG_NOTE) for c in jpeg)
    others = await _hour_clips(hass, loaded_entry, 1)
    assert all(c.can_play and JPEG_NOTE not in c.title for c in others)


async def test_download_action_kinds(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
    tmp_path: Path,
) -> None:
    """A JPEG camera downloads as N3; MP4 of it says to use N3 and hides its clips."""
    hass.config.media_dirs = {"local": str(tmp_path / "media")}
    camera = _camera_entity_id(hass, loaded_entry, 2)
    start = _utc_minutes_ago(120).replace(minute=5)
    period = {"entity_id": camera, "start": start, "end": start + dt.timedelta(minutes=1)}
    with pytest.raises(HomeAssistantError, match="kind N3") as refused:
        await hass.services.async_call(
            DOMAIN, "download_recording", period, blocking=True, return_response=True
        )
    assert "as MP4" in str(refused.value)
    assert not any(c.can_play for c in await _hour_clips(hass, loaded_entry, 2))
    stamp = start.astimezone(ZONE).strftime("%y%m%d%H%M%S")
    for kind, extension in (("n3", "n3r"), ("N3VO", "n3r"), ("list", "n3n")):
        response = await hass.services.async_call(
            DOMAIN,
            "download_recording",
            {**period, "kind": kind, "folder": f"n3/{kind}"},
            blocking=True,
            return_response=True,
        )
        result = response[camera]
        assert isinstance(result, dict)
        name = f"002_{stamp}_1000_7f_00_01.{extension}"
        assert result["files"] == [str(tmp_path / "media" / "n3" / kind / name)]
        assert (tmp_path / "media" / "n3" / kind / name).read_bytes().startswith(b"N3SIM")
    kinds = [q.split("KIND=")[1].split("&")[0] for q in simulator.journal.queries(Cgi.HTTPDL)]
    assert kinds[-4:] == ["MP4", "N3", "N3VO", "LIST"]
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN,
            "download_recording",
            {**period, "kind": "avi"},
            blocking=True,
            return_response=True,
        )


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"timed out waiting until {what}")


async def test_client_going_away_mid_download_leaves_nothing(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """A browser closing the connection mid-download stops it; no partial file; a retry works.

    Over real HTTP: aiohttp's test server, like Home Assistant's, cancels a
    handler whose client went away, which cancels the (only) waiter of the
    production and so the download from the recorder.
    """
    simulator.config.download_part_bytes = 1024
    # Held after the first part until the client is gone: the download is mid-way
    # for sure, however fast the machine (it used to finish first now and then).
    recordings = simulator.simulator.recordings
    recordings.faults.hold_after_bytes = 1
    start = _utc_minutes_ago(400)
    resolved = await async_resolve_media(hass, _clip_id(loaded_entry, 1, start, 2), None)
    client = await hass_client_no_auth()
    request = asyncio.create_task(client.get(resolved.url))
    await _until(
        lambda: bool(recordings.downloads and recordings.downloads[-1].bytes_sent),
        "the download started",
    )
    request.cancel()  # the client closes its connection
    with contextlib.suppress(asyncio.CancelledError):
        await request
    await clips.async_idle()
    await hass.async_block_till_done()
    recordings.faults.hold_after_bytes = None
    await _until(lambda: recordings.active == 0, "the recorder ended the cut download")
    assert not recordings.downloads[-1].completed
    assert _leftovers(clips.directory) == []
    assert clips.productions == 0

    simulator.config.download_part_bytes = 256 * 1024
    data = await _play(client, resolved.url, clips)
    frames, _duration = await asyncio.to_thread(_decode, data)
    assert frames == 120 * FPS
    assert len(recordings.downloads) == 2
    assert _leftovers(clips.directory) == [
        ClipRef(loaded_entry.entry_id, 1, start, start + dt.timedelta(minutes=2)).cache_name
    ]


# -- H.265, the cache's options and removal ----------------------------------------------


def _three_hours_ago() -> dt.datetime:
    """The recorder-local hour three hours ago (aware)."""
    return (dt.datetime.now(ZONE) - dt.timedelta(hours=3)).replace(
        minute=0, second=0, microsecond=0
    )


async def _hour_titles(
    hass: HomeAssistant, entry: MockConfigEntry, channel: int, hour: dt.datetime
) -> list[str]:
    """Titles of the clips of ``hour``."""
    item = await async_browse_media(hass, f"{PREFIX}/{entry.entry_id}/{channel}/h{hour:%Y%m%d%H}")
    return [child.title for child in item.children or []]


async def _set_options(hass: HomeAssistant, entry: MockConfigEntry, **changes: object) -> None:
    """Go through the options flow, keeping the other options (the entry reloads)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    user_input: dict[str, object] = {
        CONF_SCAN_INTERVAL: 60,
        CONF_EVENT_SCAN_INTERVAL: 15,
        CONF_PRESET_COUNT: 8,
        CONF_LIVE_CODEC: entry.options.get(CONF_LIVE_CODEC, "h264"),
    }
    if CONF_CLIP_CACHE_SIZE in entry.options:
        user_input[CONF_CLIP_CACHE_SIZE] = entry.options[CONF_CLIP_CACHE_SIZE]
    for key, value in changes.items():
        if value is None:
            user_input.pop(key, None)
        else:
            user_input[key] = value
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_h265_clips_are_marked(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """A clip known to be H.265 says so; so does an unplayed one when live video is H.265."""
    hour = _three_hours_ago()
    titles = await _hour_titles(hass, loaded_entry, H265_CHANNEL, hour)
    assert len(titles) == 6
    assert not any(H265_NOTE in title for title in titles)  # unknown before a download

    client = await hass_client()
    start = (hour + dt.timedelta(minutes=10)).astimezone(dt.UTC)
    media_id = _clip_id(loaded_entry, H265_CHANNEL, start, 10)
    url = (await async_resolve_media(hass, media_id, None)).url
    streamed = await _play(client, url, clips)  # fragmented, while it is made
    cached = await _play(client, url, clips)  # fast start
    for data in (streamed, cached):
        assert 0 <= data.find(b"moov") < data.find(b"mdat")
        assert b"hvc1" in data  # the sample entry Safari needs
        assert b"hev1" not in data
        with av.open(io.BytesIO(data), format="mp4") as container:
            assert container.streams.video[0].codec_context.name == "hevc"
        frames, duration = await asyncio.to_thread(_decode, data)
        assert frames == 600 * FPS
        assert duration == pytest.approx(600.0, abs=1 / FPS)
    name = ClipRef(loaded_entry.entry_id, H265_CHANNEL, start, start + dt.timedelta(minutes=10))
    info = clips.info(name.cache_name)
    assert info is not None
    assert info.codec == CODEC_H265
    # After a restart the scan finds the codec again.
    restarted = ClipCache(clips.directory, clips.max_bytes)
    await restarted.async_load()
    assert restarted.info(name.cache_name) == info

    titles = await _hour_titles(hass, loaded_entry, H265_CHANNEL, hour)
    assert titles[1] == f"{hour:%H}:10 - {hour:%H}:20{H265_NOTE}"
    # Its thumbnail is decoded from the H.265 clip.
    listing = await async_browse_media(
        hass, f"{PREFIX}/{loaded_entry.entry_id}/{H265_CHANNEL}/h{hour:%Y%m%d%H}"
    )
    thumbnail = (listing.children or [])[1].thumbnail
    assert thumbnail is not None
    picture = await client.get(thumbnail)
    assert picture.status == 200
    assert picture.content_type == "image/jpeg"
    assert [title.endswith(H265_NOTE) for title in titles] == [
        False, True, False, False, False, False
    ]  # fmt: skip

    # An H.264 clip of camera 1, played and cached.
    h264_start = (hour + dt.timedelta(minutes=20)).astimezone(dt.UTC)
    h264 = _clip_id(loaded_entry, 1, h264_start, 10)
    await _play(client, (await async_resolve_media(hass, h264, None)).url, clips)
    h264_name = ClipRef(loaded_entry.entry_id, 1, h264_start, h264_start + dt.timedelta(minutes=10))
    h264_info = clips.info(h264_name.cache_name)
    assert h264_info is not None
    assert h264_info.codec == CODEC_H264

    # Live video set to H.265: clips not downloaded yet are marked as probably H.265;
    # a cached clip goes by its file.
    await _set_options(hass, loaded_entry, **{CONF_LIVE_CODEC: "h265"})
    titles = await _hour_titles(hass, loaded_entry, 1, hour)
    assert [title.endswith(H265_NOTE) for title in titles] == [
        True, True, False, True, True, True
    ]  # fmt: skip
    titles = await _hour_titles(hass, loaded_entry, H265_CHANNEL, hour)
    assert all(title.endswith(H265_NOTE) for title in titles)


async def test_cache_size_option_applies_at_once(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """The options' cache size caps the recorder's cache without a restart."""
    caches = await _media_source_with_caches_in(hass, loaded_entry, tmp_path / "clips")
    # A clip of 150 MiB left from before (a sparse file: no disk space), a day old.
    directory = caches.directory(loaded_entry.entry_id)
    directory.mkdir(parents=True)
    old = directory / "1_202601010000-202601010010.mp4"
    with old.open("wb") as file:
        file.truncate(150 * MIB)
    past = dt.datetime.now(dt.UTC).timestamp() - 86_400
    os.utime(old, (past, past))
    cache = await async_clip_cache(hass, loaded_entry)
    assert cache.max_bytes == DEFAULT_CLIP_CACHE_SIZE_MB * MIB
    assert cache.total_bytes == 150 * MIB
    info = cache.info(old.name)
    assert info is not None
    assert info.codec is None  # not a video: unknown

    client = await hass_client()
    start = _utc_minutes_ago(330)
    media_id = _clip_id(loaded_entry, 1, start, 1)
    await _play(client, (await async_resolve_media(hass, media_id, None)).url, cache)
    played = ClipRef(loaded_entry.entry_id, 1, start, start + dt.timedelta(minutes=1)).cache_name
    assert _leftovers(cache.directory) == sorted([old.name, played])

    # The form offers the current size; 100 MiB leaves room for the new clip only.
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    (key,) = [k for k in result["data_schema"].schema if k == CONF_CLIP_CACHE_SIZE]
    assert key.description == {"suggested_value": DEFAULT_CLIP_CACHE_SIZE_MB}
    hass.config_entries.options.async_abort(result["flow_id"])
    await _set_options(hass, loaded_entry, **{CONF_CLIP_CACHE_SIZE: 100.0})
    assert loaded_entry.options[CONF_CLIP_CACHE_SIZE] == 100
    assert cache.max_bytes == 100 * MIB
    assert _leftovers(cache.directory) == [played]  # without waiting for the next clip
    assert hass.data[DATA_CLIP_CACHES].peek(loaded_entry.entry_id) is cache

    # Emptied: back to the default.
    await _set_options(hass, loaded_entry, **{CONF_CLIP_CACHE_SIZE: None})
    assert CONF_CLIP_CACHE_SIZE not in loaded_entry.options
    assert cache.max_bytes == DEFAULT_CLIP_CACHE_SIZE_MB * MIB
    await _play(client, (await async_resolve_media(hass, media_id, None)).url, cache)
    assert len(simulator.simulator.recordings.downloads) == 1  # still cached


async def test_removing_the_recorder_deletes_its_clips(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """Deleting the entry deletes its cache directory, leaving other recorders' clips."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    caches = await _media_source_with_caches_in(hass, config_entry, tmp_path / "clips")
    other = caches.directory("another-entry")
    other.mkdir(parents=True)
    (other / "1_202601010000-202601010001.mp4").write_bytes(b"kept")

    client = await hass_client()
    start = _utc_minutes_ago(340)
    media_id = _clip_id(config_entry, 1, start, 1)
    url = (await async_resolve_media(hass, media_id, None)).url
    await _play(client, url, await async_clip_cache(hass, config_entry))
    directory = caches.directory(config_entry.entry_id)
    assert len(_leftovers(directory)) == 1

    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not directory.exists()
    assert caches.peek(config_entry.entry_id) is None
    assert _leftovers(caches.root) == [
        "another-entry",
        "another-entry/1_202601010000-202601010001.mp4",
    ]


# -- the download action ----------------------------------------------------------------


def _camera_entity_id(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
    )
    assert entity_id is not None
    return entity_id


def test_long_periods_are_split_into_hours() -> None:
    """Whole minutes, pieces of at most an hour."""
    start = dt.datetime(2026, 11, 25, 10, 20, 30, tzinfo=dt.UTC)
    chunks = download_chunks(start, start + dt.timedelta(hours=2, minutes=5))
    assert chunks == [
        (start.replace(second=0), start.replace(hour=11, second=0)),
        (start.replace(hour=11, second=0), start.replace(hour=12, second=0)),
        (start.replace(hour=12, second=0), start.replace(hour=12, minute=26, second=0)),
    ]


async def test_download_action_saves_every_file(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """The files of a split download land in the media folder; paths are returned."""
    hass.config.media_dirs = {"local": str(tmp_path / "media")}
    events = async_capture_events(hass, EVENT_DOWNLOAD_COMPLETE)
    entity_id = _camera_entity_id(hass, loaded_entry, 1)
    start = _utc_minutes_ago(300).replace(minute=29)  # local :29 - :31 crosses the :30 split
    response = await hass.services.async_call(
        DOMAIN,
        "download_recording",
        {"entity_id": entity_id, "start": start, "end": start + dt.timedelta(minutes=2)},
        blocking=True,
        return_response=True,
    )
    result = response[entity_id]
    assert isinstance(result, dict)
    folder = tmp_path / "media" / DOMAIN / "i-PRO_NVR_127.0.0.1" / "Camera_1"
    assert result["folder"] == str(folder)
    stamp = start.astimezone(ZONE).strftime("%y%m%d%H%M%S")
    names = [f"001_{stamp}_{n}000_7f_00_01.mp4" for n in (1, 2)]
    assert result["files"] == [str(folder / name) for name in names]
    assert _leftovers(folder) == names
    assert [event.data["files"] for event in events] == [result["files"]]

    # A folder outside the media directories is refused before anything is sent.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "download_recording",
            {
                "entity_id": entity_id,
                "start": start,
                "end": start + dt.timedelta(minutes=1),
                "folder": "../../outside",
            },
            blocking=True,
            return_response=True,
        )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "download_recording",
            {"entity_id": entity_id, "start": start, "end": start - dt.timedelta(minutes=1)},
            blocking=True,
            return_response=True,
        )
    # No recording at all: a clear error.
    long_ago = _utc_minutes_ago(200 * 24 * 60)
    with pytest.raises(HomeAssistantError, match="no recording"):
        await hass.services.async_call(
            DOMAIN,
            "download_recording",
            {"entity_id": entity_id, "start": long_ago, "end": long_ago + dt.timedelta(minutes=1)},
            blocking=True,
            return_response=True,
        )
    # Camera 2 records JPEG: no MP4 (status 2).
    with pytest.raises(HomeAssistantError, match="records JPEG"):
        await hass.services.async_call(
            DOMAIN,
            "download_recording",
            {
                "entity_id": _camera_entity_id(hass, loaded_entry, 2),
                "start": start,
                "end": start + dt.timedelta(minutes=1),
            },
            blocking=True,
            return_response=True,
        )
    assert len(events) == 1


async def test_unknown_items_are_clear_errors(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, clips: ClipCache
) -> None:
    """Ids that name nothing raise translated browse / resolve errors."""
    entry_id = loaded_entry.entry_id
    for identifier in (
        "nope",
        f"{entry_id}/x",
        f"{entry_id}/99",
        f"{entry_id}/1/events~0",
        f"{entry_id}/1/d2026",
        f"{entry_id}/1/h20261301",
        f"{entry_id}/1/whatever",
        f"{entry_id}/1/2/3/4",
    ):
        with pytest.raises(BrowseError, match="no recording folder or clip"):
            await async_browse_media(hass, f"{PREFIX}/{identifier}")
    for identifier in (f"{entry_id}/1", f"{entry_id}/1/000000000000-000000000001", f"x/1/{_SPAN}"):
        with pytest.raises(Unresolvable, match="no recording folder or clip"):
            await async_resolve_media(hass, f"{PREFIX}/{identifier}", None)


_SPAN = "202611250000-202611250010"


async def test_cache_survives_a_restart(tmp_path: Path) -> None:
    """Clips on disk are found again; a leftover work directory is removed."""
    directory = tmp_path / "clips"
    (directory / ".work-abc").mkdir(parents=True)
    (directory / ".work-abc" / "clip.mp4").write_bytes(b"half")
    (directory / "old.mp4").write_bytes(b"x" * 10)

    async def never(work: Path) -> Path:
        raise AssertionError("a cached clip was made again")

    cache = ClipCache(directory, max_bytes=100)
    assert await cache.async_get("old.mp4", never) == directory / "old.mp4"
    assert cache.cached("old.mp4") == directory / "old.mp4"
    assert cache.cached("new.mp4") is None
    assert _leftovers(directory) == ["old.mp4"]
    for bad in ("../x.mp4", ".hidden.mp4", "x.txt"):
        with pytest.raises(ValueError, match="not a clip name"):
            await cache.async_get(bad, never)


async def test_growing_clip_reader_gets_the_last_bytes(tmp_path: Path) -> None:
    """The end of a clip written after the last announcement reaches a reader.

    The muxer writes the last fragment when it closes, below the announcement
    step; the producer then closes the writer and finishes the clip in one go.
    A reader that looks right after (its previous read came back meanwhile)
    must get those bytes, not the end of the clip.
    """
    growing = GrowingClip()
    writer = await asyncio.to_thread(growing.writer, tmp_path / "stream.mp4")
    await asyncio.to_thread(writer.write, b"a" * 1000)  # the first write is announced
    await _until(lambda: growing.size == 1000, "the first bytes are announced")
    async with growing.reading() as read:
        assert await read(0, 4096) == b"a" * 1000
        await asyncio.to_thread(writer.write, b"b" * 500)  # the last fragment
        writer.close()
        growing.finish(writer.written)
        assert await read(1000, 4096) == b"b" * 500
        assert await read(1500, 4096) == b""
    growing.end()


async def test_browsing_a_camera_logs_in_the_clip_uid_ahead(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """Opening a camera's hour logs in a spare playback UID in the background; the clip
    then opened starts with its httpdl alone (no login of its own) on that UID."""
    journal = simulator.journal
    start = _utc_minutes_ago(180).replace(minute=0)
    logins = len(journal.by_cgi(Cgi.LOGIN))
    hour = f"h{start.astimezone(ZONE):%Y%m%d%H}"
    await async_browse_media(hass, f"{PREFIX}/{loaded_entry.entry_id}/1/{hour}")
    usage = loaded_entry.runtime_data.client._session.usage
    await _until(
        lambda: any(u.purpose is UidPurpose.PLAYBACK for u in usage()), "the spare is logged in"
    )
    assert len(journal.by_cgi(Cgi.LOGIN)) == logins + 1
    resolved = await async_resolve_media(hass, _clip_id(loaded_entry, 1, start, 10), None)
    client = await hass_client()
    response = await client.get(resolved.url)
    assert response.status == 200, await response.text()
    await response.read()
    assert len(journal.by_cgi(Cgi.LOGIN)) == logins + 1  # the clip needed no login
    # Its two downloads (the first minute, the rest), both on the spare.
    downloads = journal.by_cgi(Cgi.HTTPDL)
    assert len(downloads) == 2
    assert downloads[0].uid == downloads[1].uid
    assert journal.violations == []


async def test_opening_the_source_with_one_recorder_logs_in_the_clip_uid(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    clips: ClipCache,
) -> None:
    """The source's root lists the one recorder: its spare playback UID logs in already
    (one browse step sooner than at the recorder)."""
    logins = len(simulator.journal.by_cgi(Cgi.LOGIN))
    root = await async_browse_media(hass, PREFIX)
    assert _ids(root) == [f"{PREFIX}/{loaded_entry.entry_id}"]
    usage = loaded_entry.runtime_data.client._session.usage
    await _until(
        lambda: any(u.purpose is UidPurpose.PLAYBACK for u in usage()), "the spare is logged in"
    )
    assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == logins + 1
