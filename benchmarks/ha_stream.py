"""Home Assistant's stream component against the integration: open/close cycles, and
polling while 16 cameras start.

Run: .venv/bin/python -m benchmarks.ha_stream [--cycles 1000] [--skip-cycles] [--skip-polls]

The simulator runs in a process of its own (``benchmarks.scale.Simulator``).

1. cycles: ``--cycles`` times, camera 1's HLS stream is requested the way the
   frontend does (``camera.async_request_stream``: Home Assistant's stream
   component starts its worker, which reads the relay), its first LL-HLS part is
   waited for, and the output is closed as Home Assistant closes one nobody
   fetches (``Stream.remove_provider``: the last output stops the worker). Before
   the first and after the last
   cycle (the relay's idle stop included): the recorder's sessions, asyncio
   tasks, threads, open file descriptors, RSS and Python heap. Pacing scaled by
   0.05 as in the tests.
2. polls: the spec's real pacing (3 s between commands), 16 cameras, the log
   poll every 15 s (its floor). Right after setup every camera's live stream is
   requested at once (a dashboard of 16 live tiles): about 20 commands of the
   recorder's queue. The figure is the longest gap between two polls (log or
   status) while the cameras start, against the poll interval; the whole part
   takes about two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import suppress
import gc
import itertools
import logging
import os
import tempfile
import threading
import time
import tracemalloc
from typing import Any

from homeassistant import loader
from homeassistant.components.camera import async_request_stream
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, frame
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

import custom_components.ipro_nvr as integration
from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api.spec import SPEC_PACING, Cgi, PacingPolicy
from custom_components.ipro_nvr.const import (
    CONF_EVENT_SCAN_INTERVAL,
    CONF_USE_HTTPS,
    CONF_VERIFY_SSL,
    DOMAIN,
)

from .scale import PACING, PASSWORD, Simulator, _cpu, _fds, _line, _rss_mib

FIRST_PART_TIMEOUT = 20.0
PROGRESS_EVERY = int(os.environ.get("HA_STREAM_PROGRESS", "100"))
POLL_CAMERAS = 16
LOG_POLL_INTERVAL = 15


def _entry(sim: Simulator, **options: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="i-PRO NVR (benchmark)",
        unique_id=f"{sim.host}:{sim.port}",
        data={
            CONF_HOST: sim.host,
            CONF_PORT: sim.port,
            CONF_USE_HTTPS: False,
            CONF_VERIFY_SSL: False,
            CONF_USERNAME: sim.username,
            CONF_PASSWORD: PASSWORD,
        },
        options=options,
    )


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load ours from here
    frame.async_setup(hass)  # as the tests' hass fixture does
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _camera_id(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
    )
    assert entity_id is not None
    return entity_id


# -- 1. cycles ---------------------------------------------------------------------------


async def _cycle(hass: HomeAssistant, entity_id: str) -> float | None:
    """One open and close: seconds from the request to the first LL-HLS part (None: none
    came within the timeout).

    Closed the way Home Assistant closes an output nobody fetches any more (its idle
    timer's callback): ``Stream.remove_provider``, which clears the output's idle timer
    and, being the last output, stops the worker. ``Stream.stop`` alone (the first
    version of this benchmark) leaves that timer armed on the camera's one ``Stream``;
    30 s later it removed whichever HLS output was current, i.e. a later cycle's, and
    stopped the stream under it: 18 of 100 cycles got no part, one per ~16 cycles.
    """
    started = time.perf_counter()
    await async_request_stream(hass, entity_id, "hls")
    camera = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert camera is not None
    stream = camera.stream
    assert stream is not None
    hls = stream.outputs()["hls"]
    # What the frontend's playlist request does (stream/hls.py): without it Home
    # Assistant ends an output nobody fetched 60 s after it started.
    hls.idle_timer.awake()
    try:
        async with asyncio.timeout(FIRST_PART_TIMEOUT):
            while not await hls.part_recv(timeout=FIRST_PART_TIMEOUT):
                pass
    except TimeoutError:
        return None
    finally:
        first_part = time.perf_counter() - started
        await stream.remove_provider(hls)
    return first_part


async def _baseline(sim: Simulator) -> dict[str, float]:
    gc.collect()
    stats = await sim.ask("stats")
    return {
        "sessions": stats["sessions"],
        "tasks": len(asyncio.all_tasks()),
        "threads": threading.active_count(),
        "fds": _fds(),
        "rss": _rss_mib(),
        "heap": tracemalloc.get_traced_memory()[0] / 1024,
    }


async def cycles(count: int) -> None:
    print(f"1. {count} live open/close cycles through Home Assistant's stream", flush=True)
    client_factory.CLIENT_PACING = PACING
    integration.PREFETCH_SNAPSHOTS = False
    sim = Simulator(4)
    try:
        with tempfile.TemporaryDirectory() as config_dir:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                entry = _entry(sim)
                await _setup(hass, entry)
                entity_id = _camera_id(hass, entry, 1)
                await _cycle(hass, entity_id)  # the relay, its feed and the live UIDs up
                await asyncio.sleep(1)
                tracemalloc.start()
                before = await _baseline(sim)
                times: list[float] = []
                failed = 0
                cpu, started = _cpu(), time.perf_counter()
                for index in range(count):
                    first_part = await _cycle(hass, entity_id)
                    if first_part is not None:
                        times.append(first_part)
                    else:
                        failed += 1
                        print(f"  cycle {index + 1}: no first part in 20 s", flush=True)
                    if (index + 1) % PROGRESS_EVERY == 0:
                        now = await _baseline(sim)
                        print(
                            f"  ... {index + 1} cycles: "
                            + ", ".join(f"{key} {value:.0f}" for key, value in now.items()),
                            flush=True,
                        )
                cpu, elapsed = _cpu() - cpu, time.perf_counter() - started
                violations = (await sim.ask("stats"))["violations"]
                await asyncio.sleep(1)
                after = await _baseline(sim)
                tracemalloc.stop()
                times.sort()
                _line("  cycles without a first part", f"{failed} of {count}")
                if times:
                    _line(
                        "  request to first part",
                        f"median {times[len(times) // 2]:.2f} s, "
                        f"p95 {times[int(len(times) * 0.95)]:.2f} s, max {times[-1]:.2f} s",
                    )
                _line(
                    "  per cycle (request, first part, stop)",
                    f"{elapsed / count:.2f} s wall, {cpu / count * 1000:.0f} ms CPU"
                    " (this process: Home Assistant, the relay, the stream worker)",
                )
                for key, unit in (
                    ("sessions", ""),
                    ("tasks", ""),
                    ("threads", ""),
                    ("fds", ""),
                    ("rss", " MiB"),
                    ("heap", " KiB"),
                ):
                    _line(
                        f"  {key} before -> after",
                        f"{before[key]:.0f}{unit} -> {after[key]:.0f}{unit} "
                        f"({after[key] - before[key]:+.0f})",
                    )
                _line("  pacing violations", f"{violations} (target 0)")
                await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
                await asyncio.sleep(0.5)
                _line("  sessions after unload", f"{(await sim.ask('stats'))['sessions']}")
    finally:
        sim.stop()


# -- 2. polls while 16 cameras start -------------------------------------------------------


async def polls(pacing: PacingPolicy) -> None:
    print(
        f"2. Polls while {POLL_CAMERAS} cameras start (pacing {pacing.command_interval:g} s,"
        f" log poll every {LOG_POLL_INTERVAL} s)",
        flush=True,
    )
    client_factory.CLIENT_PACING = pacing
    integration.PREFETCH_SNAPSHOTS = False
    sim = Simulator(POLL_CAMERAS, pacing=pacing)
    try:
        with tempfile.TemporaryDirectory() as config_dir:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                entry = _entry(sim, **{CONF_EVENT_SCAN_INTERVAL: LOG_POLL_INTERVAL})
                await _setup(hass, entry)
                cameras = [_camera_id(hass, entry, ch) for ch in range(1, POLL_CAMERAS + 1)]
                requests = [
                    asyncio.create_task(async_request_stream(hass, camera, "hls"))
                    for camera in cameras
                ]
                for request in requests:
                    with suppress(Exception):
                        await request
                # Every camera's START sent (the recorder's journal says so), then one
                # more log poll interval.
                while True:
                    journal = await sim.ask("journal")
                    starts = [e for e in journal if e[1] == Cgi.PUSH and "CMD=START" in e[2]]
                    if len(starts) >= POLL_CAMERAS - 1:  # camera 4-style failures aside
                        break
                    await asyncio.sleep(1)
                await asyncio.sleep(LOG_POLL_INTERVAL + pacing.command_interval)
                journal = await sim.ask("journal")
                for camera in cameras:
                    component = hass.data[DATA_COMPONENT].get_entity(camera)
                    if component is not None and component.stream is not None:
                        await component.stream.stop()
                await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
        polled = [(t, cgi) for t, cgi, _query in journal if cgi in (Cgi.LOGLIST, Cgi.GETINFO)]
        starts = [t for t, cgi, query in journal if cgi == Cgi.PUSH and "CMD=START" in query]
        window = [(t, cgi) for t, cgi in polled if t <= max(starts) + pacing.command_interval]
        gaps = [(b[0] - a[0], a, b) for a, b in itertools.pairwise(window)]
        longest, (since, since_cgi), (until, until_cgi) = max(gaps)
        _line("  commands in the run", f"{len(journal)}, of which {len(starts)} STARTs")
        _line(
            "  cameras started",
            f"{len(starts)} in {max(starts) - min(starts):.0f} s "
            f"(first {min(starts) - journal[0][0]:.0f} s after the first command)",
        )
        _line(
            "  longest gap between polls meanwhile",
            f"{longest:.1f} s (log poll interval {LOG_POLL_INTERVAL} s)",
        )
        _line(
            "    from / to (s after the first command)",
            f"{since_cgi} at {since - journal[0][0]:.1f} /"
            f" {until_cgi} at {until - journal[0][0]:.1f}",
        )
        every = "; ".join(f"{cgi.split('.')[0]} {t - journal[0][0]:.0f}" for t, cgi in window)
        _line("    poll commands (s after the first command)", every)
        _line("  setup to last START", f"{max(starts) - journal[0][0]:.0f} s")
    finally:
        sim.stop()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--skip-cycles", action="store_true")
    parser.add_argument("--skip-polls", action="store_true")
    parser.add_argument("--pacing", type=float, default=1.0, help="scale of the spec's pacing")
    args = parser.parse_args()
    if not args.skip_cycles:
        asyncio.run(cycles(args.cycles))
    if not args.skip_polls:
        asyncio.run(polls(SPEC_PACING.scaled(args.pacing)))


if __name__ == "__main__":
    main()
