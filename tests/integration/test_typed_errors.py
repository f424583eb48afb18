"""Hostile answers and hostile URLs end in typed errors and clean 4xx/5xx, over real HTTP.

Each test drives the integration against the simulator: a recorder sending a
multipart boundary of 71 characters or a login answer spelled ``uid:<digits>``,
and clients asking the relay or the clip view for channels that cannot exist,
or for ``Range: bytes=-0``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import datetime as dt
import logging
from pathlib import Path

import aiohttp
from aiohttp import web
from homeassistant.components.media_source import async_resolve_media
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.feeds import VideoFeed
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import DOMAIN
from custom_components.ipro_nvr.live.relay import StreamRelay
from custom_components.ipro_nvr.recordings.views import DATA_CLIP_CACHES, ClipRef, async_clip_cache
from nvr_simulator.context import CgiContext
from nvr_simulator.server import RunningSimulator

# A session ID as the recorder would issue it (19 digits, spec 6.1.1).
SESSION_ID = "7309541862093417265"


@pytest.fixture
async def clip_caches(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, tmp_path: Path
) -> AsyncIterator[None]:
    """The media source set up, clip caches in a temporary directory."""
    assert await async_setup_component(hass, "media_source", {})
    await hass.async_block_till_done()
    caches = hass.data[DATA_CLIP_CACHES]
    caches.root = tmp_path / "clips"
    yield
    await caches.async_clear()


def _clip_path(entry: MockConfigEntry, channel: str, *, minutes_ago: int = 120) -> str:
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(
        minutes=minutes_ago
    )
    span = ClipRef(entry.entry_id, 1, start, start + dt.timedelta(minutes=1)).span
    return f"/api/{DOMAIN}/clip/{entry.entry_id}/{channel}/{span}"


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.usefixtures("clip_caches")
async def test_boundary_over_70_characters_is_a_clean_502(
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The download's boundary is unusable: a typed error, 502 with a reason, no traceback."""
    boundary = "b" * 71

    async def httpdl(ctx: CgiContext) -> web.StreamResponse:
        return web.Response(
            body=f"--{boundary}\r\n\r\n".encode(),
            headers={"Content-Type": f"multipart/x-mixed-replace; boundary={boundary}"},
        )

    simulator.simulator.register(Cgi.HTTPDL, httpdl)
    client = await hass_client()
    response = await client.get(_clip_path(loaded_entry, "1"))
    assert response.status == 502
    assert "boundary" in await response.text()
    assert _errors(caplog) == []
    assert "Traceback" not in caplog.text


@pytest.mark.usefixtures("clip_caches")
async def test_clip_of_a_channel_that_cannot_exist_is_4xx(
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
) -> None:
    """Outside the spec's 1..128 or without a camera: 404; too many digits: 400; nothing asked."""
    simulator.config.cameras = 8  # channels 9..128 are empty (status polled below)
    await loaded_entry.runtime_data.coordinator.async_refresh()
    client = await hass_client()
    for channel, status in (("0", 404), ("129", 404), ("5" * 5000, 400), ("20", 404)):
        response = await client.get(_clip_path(loaded_entry, channel))
        assert response.status == status, (channel[:8], await response.text())
    assert not simulator.simulator.recordings.downloads


@pytest.mark.usefixtures("clip_caches")
async def test_range_of_zero_bytes_from_the_end_is_416(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
) -> None:
    """``bytes=-0`` selects nothing (RFC 9110 14.1.2): 416 with the length, not the file."""
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=3)
    clip = ClipRef(loaded_entry.entry_id, 1, start, start + dt.timedelta(minutes=1))
    resolved = await async_resolve_media(hass, f"media-source://{DOMAIN}/{clip.identifier}", None)
    client = await hass_client_no_auth()
    first = await client.get(resolved.url)  # made while it downloads, then cached
    assert first.status == 200
    await first.read()
    cache = await async_clip_cache(hass, loaded_entry)
    for _ in range(200):
        if cache.cached(clip.cache_name) is not None:
            break
        await asyncio.sleep(0.05)
    assert cache.cached(clip.cache_name) is not None
    whole = await client.get(resolved.url)  # the cached, fast-start file
    assert whole.status == 200
    data = await whole.read()
    for value in ("bytes=-0", "bytes=-000"):
        response = await client.get(resolved.url, headers={"Range": value})
        assert response.status == 416, value
        assert response.headers["Content-Range"] == f"bytes */{len(data)}"
        assert len(await response.read()) < 200  # a reason, not the clip
    tail = await client.get(resolved.url, headers={"Range": "bytes=-1"})
    assert tail.status == 206
    assert await tail.read() == data[-1:]


async def test_relay_refuses_channels_that_cannot_exist_at_once(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """404 for channel 0, 129 and 5000 digits, without waiting; no stream asked for."""
    relay = StreamRelay(client)
    try:
        url = await relay.async_url(1)
        async with aiohttp.ClientSession() as session:
            for channel in ("0", "129", "9" * 5000):
                async with asyncio.timeout(10):
                    response = await session.get(url.replace("/1.ts", f"/{channel}.ts"))
                assert response.status == 404, channel[:8]
                response.release()
    finally:
        await relay.async_stop()
        await client.close()
    assert simulator.journal.by_cgi(Cgi.PUSH) == []


async def test_login_answer_quoted_without_its_session_id(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A login answer spelled ``uid:<digits>`` fails setup; no log line carries the digits."""

    async def login(ctx: CgiContext) -> web.StreamResponse:
        return web.Response(text=f"<HTML>\r\nuid:{SESSION_ID}\r\nSession {SESSION_ID}\r\n</HTML>")

    simulator.simulator.register(Cgi.LOGIN, login, needs_uid=False)
    caplog.set_level(logging.DEBUG)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    # The status needs no UID; the log poll (after setup) is the first to log in.
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until(lambda: "no UID in the answer" in caplog.text)  # the answer was quoted...
    assert SESSION_ID not in caplog.text  # ...without the session ID
    for record in caplog.records:
        assert SESSION_ID not in record.getMessage()
        if record.exc_info is not None:
            assert SESSION_ID not in logging.Formatter().formatException(record.exc_info)
    await hass.config_entries.async_unload(config_entry.entry_id)


async def _until(condition: object, timeout: float = 20) -> None:  # noqa: ASYNC109
    assert callable(condition)
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling another component's state
            await asyncio.sleep(0.02)


async def test_feed_retries_as_soon_as_told_after_a_503_storm(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A feed waiting out an hour's backoff after a 503 storm streams again on retry_now()."""
    feed = VideoFeed(client, 1, backoff=(0.05, 3600.0))
    simulator.faults.busy = True
    pictures = 0

    async def watch() -> None:
        nonlocal pictures
        async for _unit in feed.subscribe():
            pictures += 1

    viewer = asyncio.get_running_loop().create_task(watch())
    try:
        # Two refused attempts: the feed now waits the long backoff.
        await _until(lambda: feed.failing and simulator.faults.applied >= 2)
        simulator.faults.clear()
        feed.retry_now()
        await _until(lambda: pictures >= 5)
    finally:
        viewer.cancel()
        await feed.close()
        await client.close()
    assert simulator.journal.violations == []


async def test_good_poll_after_a_failed_one_wakes_the_failing_live_feeds(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """After a 503 storm, the first status poll that works again restarts the live stream."""
    relay = loaded_entry.runtime_data.relay
    coordinator = loaded_entry.runtime_data.coordinator
    feed = relay.feed(1)
    feed._backoff = (0.05, 3600.0)  # an hour: only the poll can wake it
    simulator.faults.busy = True
    pictures = 0

    async def watch() -> None:
        nonlocal pictures
        async for _unit in feed.subscribe():
            pictures += 1

    viewer = hass.async_create_background_task(watch(), "test viewer")
    try:
        await _until(lambda: feed.failing and simulator.faults.applied >= 2)
        await coordinator.async_refresh()  # the storm: this poll fails
        assert not coordinator.last_update_success
        simulator.faults.clear()
        await coordinator.async_refresh()  # the recorder is back
        assert coordinator.last_update_success
        await _until(lambda: pictures >= 5)
    finally:
        viewer.cancel()
    assert simulator.journal.violations == []


class _Poller:
    """Stands in for a coordinator: whether its last poll worked, and its listeners."""

    def __init__(self) -> None:
        self.last_update_success = True
        self.listeners: list[Callable[[], None]] = []

    def async_add_listener(self, update_callback: Callable[[], None]) -> Callable[[], None]:
        self.listeners.append(update_callback)
        return lambda: self.listeners.remove(update_callback)

    def poll(self, *, works: bool) -> None:
        self.last_update_success = works
        for listener in list(self.listeners):
            listener()


async def test_only_a_recovery_wakes_the_feeds(
    simulator: RunningSimulator, client: NvrClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polls that keep working do not cut the backoff short (no retry at every poll)."""
    relay = StreamRelay(client)
    woken: list[int] = []
    monkeypatch.setattr(relay, "retry_now", lambda: woken.append(1))
    poller = _Poller()
    remove = relay.retry_after_good_polls(poller)
    poller.poll(works=True)
    poller.poll(works=True)
    assert woken == []
    poller.poll(works=False)
    assert woken == []
    poller.poll(works=True)
    poller.poll(works=True)
    assert woken == [1]
    remove()
    assert poller.listeners == []
    await client.close()
