"""Figures for recordings in the media browser, against the simulator.

Run: .venv/bin/python -m benchmarks.media_source
Starts the simulator in a process of its own (so that its work and memory are
not counted) and a test Home Assistant in this one (the integration and
media_source set up, the clip view served by aiohttp's test server on
loopback, like the tests' ``hass_client``), and prints:

- browsing a camera with 1000 events: time per events page (100 clips);
- a 10-minute clip through the signed clip view: time to first byte cold
  (download from the simulator, remux, serve) and from the cache, whole and
  with a Range request;
- the clip cache: disk per clip, this process's peak memory growth while a
  clip is made, and what the cache's bookkeeping costs in memory and start-up
  time (scan and codec probe) per cached clip.

Pacing is the tests' (the recorder's 3 s between commands scaled by 0.05): a
real recorder adds up to one command interval for the playback login before a
cold clip, and sends the recording at its own speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import datetime as dt
import multiprocessing
from multiprocessing.connection import Connection
import os
from pathlib import Path
import resource
import statistics
import tempfile
import time
import tracemalloc
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from homeassistant import loader
from homeassistant.components.media_source import async_browse_media, async_resolve_media
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api import DirectorySink, DownloadKind
from custom_components.ipro_nvr.api.spec import SPEC_PACING
from custom_components.ipro_nvr.clip_cache import ClipCache
from custom_components.ipro_nvr.const import CONF_USE_HTTPS, CONF_VERIFY_SSL, DOMAIN
from custom_components.ipro_nvr.views import DATA_CLIP_CACHES, ClipRef, async_clip_cache
from nvr_simulator import SimulatorConfig, run_simulator

PACING = SPEC_PACING.scaled(0.05)
PASSWORD = "benchmark"  # noqa: S105
EVENTS = 1000
CHANNEL = 3
ROUNDS = 20
COLD_CLIPS = 3
CLIP_MINUTES = 10
SCANNED_CLIPS = 500
PREFIX = f"media-source://{DOMAIN}"
LABEL = 36


def _line(label: str, value: str) -> None:
    print(f"{label:<{LABEL}}{value}")


# -- the simulator, in a child process ---------------------------------------------------


async def _serve_simulator(conn: Connection) -> None:
    async with run_simulator(SimulatorConfig(password=PASSWORD, pacing=PACING)) as sim:
        # 1000 events of one camera (the log's capacity), one a minute up to an hour ago.
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        for n in range(EVENTS):
            when = now - dt.timedelta(minutes=60 + EVENTS - n)
            sim.simulator.add_event(f"SITE(VMD)-{CHANNEL}", when)
        conn.send((sim.host, sim.port, sim.config.username))
        await asyncio.to_thread(conn.recv)  # until the benchmark is done


def _simulator_process(conn: Connection) -> None:
    asyncio.run(_serve_simulator(conn))


# -- measuring ---------------------------------------------------------------------------


async def _median_ms(rounds: int, func: Callable[[], Awaitable[object]]) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def _ttfb(client: TestClient[Any, Any], url: str, **headers: str) -> tuple[float, int]:
    """Seconds until the first body byte, and the body's length (read to the end, dropped)."""
    started = time.perf_counter()
    response = await client.get(url, headers=headers)
    assert response.status in (200, 206), await response.text()
    size = len(await response.content.readany())
    ttfb = time.perf_counter() - started
    while chunk := await response.content.readany():
        size += len(chunk)
    return ttfb, size


async def _median_ttfb_ms(client: TestClient[Any, Any], url: str, **headers: str) -> float:
    samples = [(await _ttfb(client, url, **headers))[0] for _ in range(ROUNDS)]
    return statistics.median(samples) * 1000


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _disk_bytes(directory: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file())


# -- the figures -------------------------------------------------------------------------


async def _setup(hass: HomeAssistant, host: str, port: int, username: str) -> MockConfigEntry:
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load custom_components/ from here
    client_factory.CLIENT_PACING = PACING  # type: ignore[misc]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="i-PRO NVR (benchmark)",
        unique_id=f"{host}:{port}",
        data={
            CONF_HOST: host,
            CONF_PORT: port,
            CONF_USE_HTTPS: False,
            CONF_VERIFY_SSL: False,
            CONF_USERNAME: username,
            CONF_PASSWORD: PASSWORD,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert await async_setup_component(hass, "media_source", {})
    await hass.async_block_till_done()
    await entry.runtime_data.coordinator.async_refresh()  # disk times in the recorder's zone
    return entry


async def _browse(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    events = f"{PREFIX}/{entry.entry_id}/{CHANNEL}/events"
    first = await async_browse_media(hass, events)
    assert len(first.children or []) == 101  # 100 clips and "Older events"
    page1 = await _median_ms(ROUNDS, lambda: async_browse_media(hass, events))
    page10 = await _median_ms(ROUNDS, lambda: async_browse_media(hass, f"{events}~10"))
    _line(
        f"events page (100 of {EVENTS} events)",
        f"first {page1:.1f} ms, last {page10:.1f} ms (median of {ROUNDS})",
    )


async def _clips(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    cache = await async_clip_cache(hass, entry)
    client: TestClient[Any, Any] = TestClient(TestServer(hass.http.app))
    await client.start_server()
    try:
        hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        colds: list[float] = []
        peaks: list[float] = []
        sizes: list[int] = []
        urls: list[str] = []
        for n in range(COLD_CLIPS):
            start = hour - dt.timedelta(hours=3 + n)
            clip = ClipRef(entry.entry_id, 1, start, start + dt.timedelta(minutes=CLIP_MINUTES))
            # Let the simulator generate the recording first: its MP4 muxing is
            # not the integration's cost (it keeps a few downloads ready).
            with tempfile.TemporaryDirectory() as temp:
                await entry.runtime_data.client.download(
                    1, clip.start, clip.end, DownloadKind.MP4, sink=DirectorySink(Path(temp))
                )
            url = (await async_resolve_media(hass, f"{PREFIX}/{clip.identifier}", None)).url
            urls.append(url)
            before = _peak_rss_mib()
            ttfb, size = await _ttfb(client, url)
            peaks.append(_peak_rss_mib() - before)
            colds.append(ttfb)
            sizes.append(size)
        cached = await _median_ttfb_ms(client, urls[0])
        ranged = await _median_ttfb_ms(client, urls[0], Range="bytes=1000000-")
        _line(
            f"clip TTFB cold ({CLIP_MINUTES}-min clip)",
            ", ".join(f"{t:.2f} s" for t in colds) + f" ({sizes[0] / 1e6:.1f} MB each)",
        )
        _line("clip TTFB from the cache", f"{cached:.1f} ms (median of {ROUNDS})")
        _line("clip TTFB from the cache, Range", f"{ranged:.1f} ms (median of {ROUNDS})")
        _line(
            "clip cache on disk",
            f"{len(cache)} clips, {cache.total_bytes / 1e6:.1f} MB "
            f"({_disk_bytes(cache.directory) / 1e6:.1f} MB allocated)",
        )
        _line(
            "peak RSS growth per cold clip",
            ", ".join(f"{p:.1f} MiB" for p in peaks) + " (this process; the body is dropped)",
        )
        await _scan(cache)
    finally:
        await client.close()


async def _scan(cache: ClipCache) -> None:
    """Bookkeeping per clip: a cache of many clips (hard links of one real clip)."""
    source = next(p for p in cache.directory.iterdir() if p.suffix == ".mp4")
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp) / "clips"
        directory.mkdir()
        for n in range(SCANNED_CLIPS):
            os.link(source, directory / f"1_{n:012d}-{n + 1:012d}.mp4")
        started = time.perf_counter()
        await ClipCache(directory, max_bytes=1 << 60).async_load()
        elapsed = time.perf_counter() - started
        tracemalloc.start()
        scanned = ClipCache(directory, max_bytes=1 << 60)
        await scanned.async_load()
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        held = sum(
            stat.size
            for stat in snapshot.statistics("filename")
            if stat.traceback[0].filename.endswith(("clip_cache.py", "collections/__init__.py"))
        )
        assert len(scanned) == SCANNED_CLIPS
        _line(
            "cache start-up (scan, codec probe)",
            f"{elapsed / SCANNED_CLIPS * 1000:.2f} ms per clip ({SCANNED_CLIPS} clips)",
        )
        _line("cache bookkeeping in memory", f"{held / SCANNED_CLIPS:.0f} bytes per clip")


async def _main(host: str, port: int, username: str) -> None:
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            entry = await _setup(hass, host, port, username)
            _line("pacing", f"spec x {PACING.command_interval / SPEC_PACING.command_interval:g}")
            await _browse(hass, entry)
            await _clips(hass, entry)
            _line("clip cache directory", str(hass.data[DATA_CLIP_CACHES].root))
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()


def main() -> None:
    """Print the figures."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    simulator = context.Process(target=_simulator_process, args=(theirs,), daemon=True)
    simulator.start()
    try:
        host, port, username = ours.recv()
        asyncio.run(_main(host, port, username))
    finally:
        ours.send("stop")
        simulator.join(timeout=10)


if __name__ == "__main__":
    main()
