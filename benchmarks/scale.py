"""Scale and soak figures: a 128-channel recorder, 16 relayed cameras, 1000 live cycles.

Run: .venv/bin/python -m benchmarks.scale [--only channels|relays|cycles]
     [--relay-seconds 60 | --minutes M] [--cycles 1000]

The simulator runs in a process of its own (its work is not counted) on
127.0.0.1, with the recorder's pacing scaled by 0.05 as in the tests; this
process asks it over a pipe for its pacing journal and its sessions. Prints:

1. channels: Home Assistant set up against recorders of 16 and 128 cameras
   (every channel registered): entry setup time (first polls of both
   coordinators included), then 20 polls of each coordinator: recorder
   requests per poll (must not grow with the channel count), CPU and Python
   heap per poll;
2. relays (the soak): 16 cameras streamed at once through one relay, one viewer
   each, for ``--relay-seconds`` (default 60) or ``--minutes``: a row every tenth
   of the run (CPU, RSS, tasks, open files, the recorder's sessions, throughput,
   the slowest viewer's bytes), then CPU, RSS growth from the warm-up's end (a
   tenth of the run, 10 s to a minute) to the end (target <= 5 %), pacing violations
   in the simulator's journal (target 0), the simulator's sessions after the
   relay stopped (target 0);
3. cycles: ``--cycles`` (default 1000) live opens and closes of one camera
   through the relay (the live feed behind it: GOP cache, subscribe,
   unsubscribe): time per cycle, and after the relay stopped the sessions,
   tasks and heap against the baseline before the first cycle.

Each part stays under three minutes with the defaults on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import contextlib
import gc
import multiprocessing
from multiprocessing.connection import Connection
import os
from pathlib import Path
import resource
import tempfile
import time
import tracemalloc
from typing import Any

import aiohttp
from homeassistant import loader
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.helpers import frame
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.spec import SPEC_PACING, PacingPolicy
from custom_components.ipro_nvr.const import CONF_USE_HTTPS, CONF_VERIFY_SSL, DOMAIN
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator import SimulatorConfig, run_simulator

PACING = SPEC_PACING.scaled(0.05)
PASSWORD = "benchmark"  # noqa: S105
CHANNEL_COUNTS = (16, 64, 128)
POLLS = 20
RELAYED_CAMERAS = 16
CYCLE_CHANNEL = 1
LABEL = 46


def _line(label: str, value: str) -> None:
    print(f"{label:<{LABEL}}{value}", flush=True)


# -- the simulator, in a child process, answering questions over a pipe ----------------


async def _serve_simulator(conn: Connection, cameras: int, pacing: PacingPolicy) -> None:
    config = SimulatorConfig(
        password=PASSWORD,
        pacing=pacing,
        cameras=cameras,
        channel_states=dict.fromkeys(range(1, cameras + 1), 1),
    )
    async with run_simulator(config) as sim:
        conn.send((sim.host, sim.port, sim.config.username))
        while True:
            question = await asyncio.to_thread(conn.recv)
            if question == "stop":
                return
            if question == "clear":
                sim.journal.clear()
                conn.send(None)
            elif question == "journal":
                conn.send([(e.time, e.cgi, e.query) for e in sim.journal.entries])
            elif question == "stats":
                conn.send(
                    {
                        "requests": len(sim.journal.entries),
                        "violations": len(sim.journal.violations),
                        "sessions": sim.uids.active_count(),
                    }
                )


def _simulator_process(conn: Connection, cameras: int, pacing: PacingPolicy) -> None:
    asyncio.run(_serve_simulator(conn, cameras, pacing))


class Simulator:
    """A simulator in a child process and the pipe to ask it things."""

    def __init__(self, cameras: int, *, pacing: PacingPolicy = PACING) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_simulator_process, args=(theirs, cameras, pacing), daemon=True
        )
        self._process.start()
        self.host, self.port, self.username = self._conn.recv()

    async def ask(self, question: str) -> Any:
        self._conn.send(question)
        return await asyncio.to_thread(self._conn.recv)

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=10)


def _client(sim: Simulator) -> NvrClient:
    return NvrClient(
        sim.host, port=sim.port, username=sim.username, password=PASSWORD, pacing=PACING
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:  # noqa: PTH123
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- 1. channels -------------------------------------------------------------------------


async def _poll_figures(
    sim: Simulator, refresh: Callable[[], Any], name: str, cameras: int
) -> None:
    await sim.ask("clear")
    tracemalloc.start()
    cpu = _cpu()
    for _ in range(POLLS):
        await refresh()
    cpu = _cpu() - cpu
    heap = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    stats = await sim.ask("stats")
    _line(
        f"  {cameras:3d} ch, {name} poll",
        f"{stats['requests'] / POLLS:.1f} requests, {cpu / POLLS * 1000:.1f} ms CPU, "
        f"peak heap {heap / 1024:.0f} KiB",
    )


async def channels() -> None:
    print("1. Channels: Home Assistant set up against the recorder, then polls", flush=True)
    client_factory.CLIENT_PACING = PACING
    for cameras in CHANNEL_COUNTS:
        sim = Simulator(cameras)
        try:
            with tempfile.TemporaryDirectory() as config_dir:
                async with async_test_home_assistant(config_dir=config_dir) as hass:
                    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load ours from here
                    frame.async_setup(hass)  # as the tests' hass fixture does
                    entry = MockConfigEntry(
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
                    )
                    entry.add_to_hass(hass)
                    started = time.perf_counter()
                    cpu = _cpu()
                    assert await hass.config_entries.async_setup(entry.entry_id)
                    await hass.async_block_till_done()
                    _line(
                        f"  {cameras:3d} ch, entry setup",
                        f"{time.perf_counter() - started:.2f} s ({_cpu() - cpu:.2f} s CPU), "
                        f"{len(hass.states.async_all())} entities enabled",
                    )
                    data = entry.runtime_data
                    await _poll_figures(sim, data.coordinator.async_refresh, "status", cameras)
                    await _poll_figures(sim, data.log_coordinator.async_refresh, "log", cameras)
                    violations = (await sim.ask("stats"))["violations"]
                    _line(f"  {cameras:3d} ch, pacing violations", f"{violations} (target 0)")
                    await hass.config_entries.async_unload(entry.entry_id)
                    await hass.async_block_till_done()
        finally:
            sim.stop()


# -- 2. relays ---------------------------------------------------------------------------


# aiohttp's default total timeout (5 minutes) would end every viewer of a longer soak.
_VIEWER_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=30)


async def _viewer(url: str, stop: asyncio.Event, received: list[int], index: int) -> None:
    async with (
        aiohttp.ClientSession(timeout=_VIEWER_TIMEOUT) as session,
        session.get(url) as response,
    ):
        assert response.status == 200
        async for chunk in response.content.iter_any():
            received[index] += len(chunk)
            if stop.is_set():
                return


def _fds() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


async def relays(seconds: float) -> None:
    """16 relayed cameras for ``seconds``: a row every tenth of the run, then the totals.

    A tenth of the run (10 s to a minute) warms up: every stream started, GOP caches
    and buffers filled; growth counts from its end. Each row's CPU is this process's
    (the relay and the viewers' reads), over that row's interval.
    """
    warm_up = min(max(seconds / 10, 10.0), 60.0)
    rows = 10
    print(
        f"2. Relays: {RELAYED_CAMERAS} cameras, one viewer each, {seconds:g} s"
        f" ({warm_up:g} s warm-up)",
        flush=True,
    )
    sim = Simulator(RELAYED_CAMERAS)
    try:
        client = _client(sim)
        relay = StreamRelay(client)
        stop = asyncio.Event()
        received = [0] * RELAYED_CAMERAS
        urls = [await relay.async_url(channel) for channel in range(1, RELAYED_CAMERAS + 1)]
        viewers = [
            asyncio.create_task(_viewer(url, stop, received, index))
            for index, url in enumerate(urls)
        ]
        await asyncio.sleep(warm_up)
        rss_start, cpu_start, started = _rss_mib(), _cpu(), time.perf_counter()
        tasks_start, fds_start = len(asyncio.all_tasks()), _fds()
        print(
            f"  {'s':>6} {'CPU %':>6} {'RSS MiB':>8} {'tasks':>6} {'fds':>5}"
            f" {'sessions':>8} {'Mbit/s':>7} {'slowest viewer kB':>18}",
            flush=True,
        )
        cpu, then, bytes_then = cpu_start, started, list(received)
        for _ in range(rows):
            await asyncio.sleep((seconds - warm_up) / rows)
            now, cpu_now = time.perf_counter(), _cpu()
            stats = await sim.ask("stats")
            interval = [a - b for a, b in zip(received, bytes_then, strict=True)]
            print(
                f"  {now - started:6.0f} {(cpu_now - cpu) / (now - then) * 100:6.1f}"
                f" {_rss_mib():8.1f} {len(asyncio.all_tasks()):6d} {_fds():5d}"
                f" {stats['sessions']:8d} {sum(interval) * 8 / (now - then) / 1e6:7.1f}"
                f" {min(interval) / 1000:18.0f}",
                flush=True,
            )
            cpu, then, bytes_then = cpu_now, now, list(received)
        cpu, elapsed, rss_end = _cpu() - cpu_start, time.perf_counter() - started, _rss_mib()
        tasks_end, fds_end = len(asyncio.all_tasks()), _fds()
        sessions_running = (await sim.ask("stats"))["sessions"]
        ended_early = sum(viewer.done() for viewer in viewers)
        stop.set()
        await asyncio.gather(*viewers, return_exceptions=True)
        await relay.async_stop()
        await client.close()
        await asyncio.sleep(1)
        stats = await sim.ask("stats")
        growth = (rss_end - rss_start) / rss_start * 100
        _line("  relay CPU", f"{cpu / elapsed * 100:.1f} % of one core for all cameras")
        _line("  received", f"{sum(received) * 8 / (elapsed + warm_up) / 1e6:.1f} Mbit/s")
        _line(
            "  RSS after warm-up -> end",
            f"{rss_start:.1f} -> {rss_end:.1f} MiB ({growth:+.1f} %, target <= 5 %)",
        )
        _line(
            "  tasks, fds after warm-up -> end",
            f"{tasks_start} -> {tasks_end}, {fds_start} -> {fds_end}",
        )
        _line("  viewers ended before the stop", f"{ended_early} (target 0)")
        _line("  sessions while streaming", f"{sessions_running} (the client's live UIDs)")
        _line("  pacing violations", f"{stats['violations']} (target 0)")
        _line("  sessions after stop", f"{stats['sessions']} (target 0)")
    finally:
        sim.stop()


# -- 3. cycles ---------------------------------------------------------------------------


async def _open_close(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url) as response:
        assert response.status == 200
        await response.content.readexactly(188)


async def cycles(count: int) -> None:
    print(f"3. Cycles: {count} live opens and closes of one camera", flush=True)
    sim = Simulator(4)
    try:
        tasks_before = len(asyncio.all_tasks())
        client = _client(sim)
        relay = StreamRelay(client)
        url = await relay.async_url(CYCLE_CHANNEL)
        async with aiohttp.ClientSession() as session:
            await _open_close(session, url)  # the stream runs; the baseline from here
            gc.collect()
            tracemalloc.start()
            heap_before = tracemalloc.get_traced_memory()[0]
            started = time.perf_counter()
            for _ in range(count):
                await _open_close(session, url)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.5)  # the relay's handlers notice the last close
            gc.collect()
            heap_after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        await relay.async_stop()
        await client.close()
        await asyncio.sleep(0.5)
        tasks_after = len(asyncio.all_tasks())
        stats = await sim.ask("stats")
        _line("  per cycle", f"{elapsed / count * 1000:.1f} ms (open, first TS packet, close)")
        _line(
            "  heap after vs. before",
            f"{(heap_after - heap_before) / 1024:+.0f} KiB (GOP cache varies by ~1 GOP)",
        )
        _line("  tasks after stop vs. before", f"{tasks_after - tasks_before:+d} (target 0)")
        _line("  sessions after stop", f"{stats['sessions']} (target 0)")
        _line("  pacing violations", f"{stats['violations']} (target 0)")
    finally:
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relay-seconds", type=float, default=60.0)
    parser.add_argument(
        "--minutes", type=float, help="the relays' soak in minutes (overrides --relay-seconds)"
    )
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument(
        "--only", choices=("channels", "relays", "cycles"), help="run one part only"
    )
    args = parser.parse_args()
    if args.only in (None, "channels"):
        asyncio.run(channels())
    if args.only in (None, "relays"):
        asyncio.run(relays(args.minutes * 60 if args.minutes else args.relay_seconds))
    if args.only in (None, "cycles"):
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(cycles(args.cycles))


if __name__ == "__main__":
    main()
