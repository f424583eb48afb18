"""Figures for recordings in the media browser, against the simulator.

Run: .venv/bin/python -m benchmarks.media_source
Starts the simulator in a process of its own (so that its work and memory are
not counted) and a test Home Assistant in this one (the integration and
media_source set up, the clip view served by aiohttp's test server on
loopback, like the tests' ``hass_client``), and prints:

- browsing a camera with 1000 events: time per events page (100 clips);
- a 10-minute clip through the signed clip view, cold (download from the
  simulator, remux, serve) and from the cache: time to the first byte and to
  the first playable bytes (a fragmented MP4's index and first fragment, or a
  fast-start MP4's index and the start of its media data; checked by decoding
  that prefix with PyAV), the whole clip, and a Range request;
- the clip cache: disk per clip, this process's peak memory growth while a
  clip is made, and what the cache's bookkeeping costs in memory and start-up
  time (scan and codec probe) per cached clip.

Pacing is the tests' (the recorder's 3 s between commands scaled by 0.05)
unless ``--pacing 1`` asks for the spec's real pacing (3 s, 0.2 s), under
which a cold clip waits for its playback login in the recorder's queue. A real
recorder also sends the recording at its own speed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import datetime as dt
import io
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
import av
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
from custom_components.ipro_nvr.api.spec import SPEC_PACING, PacingPolicy
from custom_components.ipro_nvr.const import CONF_USE_HTTPS, CONF_VERIFY_SSL, DOMAIN
from custom_components.ipro_nvr.recordings.clip_cache import ClipCache
from custom_components.ipro_nvr.recordings.views import DATA_CLIP_CACHES, ClipRef, async_clip_cache
from nvr_simulator import SimulatorConfig, run_simulator

PACING = SPEC_PACING.scaled(0.05)  # --pacing changes it
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


async def _serve_simulator(conn: Connection, pacing: PacingPolicy) -> None:
    async with run_simulator(SimulatorConfig(password=PASSWORD, pacing=pacing)) as sim:
        # 1000 events of one camera (the log's capacity), one a minute up to an hour ago.
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        for n in range(EVENTS):
            when = now - dt.timedelta(minutes=60 + EVENTS - n)
            sim.simulator.add_event(f"SITE(VMD)-{CHANNEL}", when)
        conn.send((sim.host, sim.port, sim.config.username))
        await asyncio.to_thread(conn.recv)  # until the benchmark is done


def _simulator_process(conn: Connection, pacing: PacingPolicy) -> None:
    asyncio.run(_serve_simulator(conn, pacing))


# -- measuring ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """One request for a clip: seconds to the first byte, to playable bytes, to the end."""

    first_byte: float
    playable: float
    whole: float
    size: int
    fragmented: bool


def _boxes(data: bytes | bytearray) -> list[tuple[str, int, int]]:
    """The complete top-level MP4 boxes at the start of ``data``: (type, start, end)."""
    boxes = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = bytes(data[offset + 4 : offset + 8]).decode("latin-1")
        if size == 1 and offset + 16 <= len(data):
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8 or offset + size > len(data):
            boxes.append((kind, offset, -1))  # begun, not complete
            break
        boxes.append((kind, offset, offset + size))
        offset += size
    return boxes


_START_OF_MEDIA = 256 * 1024  # of a fast-start MP4's media data: its first pictures


def _playable(data: bytearray) -> bool:
    """Whether a player has what it needs to start: the index and the first media."""
    kinds = [(kind, end) for kind, _start, end in _boxes(data)]
    complete = [kind for kind, end in kinds if end >= 0]
    if "moov" not in complete:
        return False
    if "moof" in complete:  # fragmented: a whole first fragment
        return "mdat" in complete[complete.index("moof") :]
    media = [start for kind, start, _end in _boxes(data) if kind == "mdat"]
    return bool(media) and len(data) >= media[0] + _START_OF_MEDIA


def _first_frame(data: bytes) -> bool:
    """Whether PyAV decodes a picture from these bytes (checked off the clock)."""
    try:
        with av.open(io.BytesIO(data), format="mp4") as container:
            for _frame in container.decode(video=0):
                return True
    except av.FFmpegError:
        return False
    return False


async def _timed_get(client: TestClient[Any, Any], url: str, **headers: str) -> Timing:
    """Fetch a clip, noting when its first and its first playable bytes arrived."""
    started = time.perf_counter()
    response = await client.get(url, headers=headers)
    assert response.status in (200, 206), await response.text()
    data = bytearray()
    first_byte = playable = 0.0
    prefix = b""
    while chunk := await response.content.readany():
        if not data:
            first_byte = time.perf_counter() - started
        data += chunk
        if not playable and _playable(data):
            playable = time.perf_counter() - started
            prefix = bytes(data)
    whole = time.perf_counter() - started
    if response.status == 200:
        assert _first_frame(prefix), "the bytes counted as playable decode no picture"
    return Timing(first_byte, playable, whole, len(data), b"moof" in data[:4096])


async def _median_ms(rounds: int, func: Callable[[], Awaitable[object]]) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _ms(timings: list[Timing], field: str) -> str:
    return f"{statistics.median(getattr(t, field) for t in timings) * 1000:.1f} ms"


def _seconds(timings: list[Timing], field: str) -> str:
    return ", ".join(f"{getattr(t, field):.2f}" for t in timings) + " s"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _disk_bytes(directory: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file())


# -- the figures -------------------------------------------------------------------------


async def _setup(
    hass: HomeAssistant, host: str, port: int, username: str, pacing: PacingPolicy
) -> MockConfigEntry:
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load custom_components/ from here
    client_factory.CLIENT_PACING = pacing  # type: ignore[misc]
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
    # Setup does not wait for the first log poll; the events pages need it.
    await entry.runtime_data.log_coordinator.async_refresh()
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


async def _settle(hass: HomeAssistant, cache: ClipCache) -> None:
    """Until the clip being made is in the cache (it is made on after the viewer got it)."""
    idle = getattr(cache, "async_idle", None)  # the same script measures older versions
    if idle is not None:
        await idle()
    await hass.async_block_till_done()


async def _clips(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    cache = await async_clip_cache(hass, entry)
    client: TestClient[Any, Any] = TestClient(TestServer(hass.http.app))
    await client.start_server()
    try:
        hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        colds: list[Timing] = []
        peaks: list[float] = []
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
            colds.append(await _timed_get(client, url))
            await _settle(hass, cache)
            peaks.append(_peak_rss_mib() - before)
        cached = [await _timed_get(client, urls[0]) for _ in range(ROUNDS)]
        ranged = [await _timed_get(client, urls[0], Range="bytes=1000000-") for _ in range(ROUNDS)]
        kind = "fragmented MP4" if colds[0].fragmented else "fast-start MP4"
        _line(
            f"clip cold ({CLIP_MINUTES}-min clip)",
            f"{colds[0].size / 1e6:.1f} MB, served as a {kind}",
        )
        _line("  time to first byte", _seconds(colds, "first_byte"))
        _line("  time to first playable bytes", _seconds(colds, "playable"))
        _line("  time to the whole clip", _seconds(colds, "whole"))
        kind = "fragmented MP4" if cached[0].fragmented else "fast-start MP4"
        _line("clip from the cache", f"a {kind} (median of {ROUNDS})")
        _line("  time to first byte", _ms(cached, "first_byte"))
        _line("  time to first playable bytes", _ms(cached, "playable"))
        _line("  time to first byte, Range", _ms(ranged, "first_byte"))
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


async def _main(host: str, port: int, username: str, pacing: PacingPolicy) -> None:
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            entry = await _setup(hass, host, port, username, pacing)
            _line("pacing", f"spec x {pacing.command_interval / SPEC_PACING.command_interval:g}")
            await _browse(hass, entry)
            await _clips(hass, entry)
            _line("clip cache directory", str(hass.data[DATA_CLIP_CACHES].root))
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--pacing",
        type=float,
        default=PACING.command_interval / SPEC_PACING.command_interval,
        help="the spec's pacing times this (default: the tests' 0.05; 1: the real pacing)",
    )
    pacing = SPEC_PACING.scaled(parser.parse_args().pacing)
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    simulator = context.Process(target=_simulator_process, args=(theirs, pacing), daemon=True)
    simulator.start()
    try:
        host, port, username = ours.recv()
        asyncio.run(_main(host, port, username, pacing))
    finally:
        ours.send("stop")
        simulator.join(timeout=10)


if __name__ == "__main__":
    main()
