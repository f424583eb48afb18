"""Figures for starting live video and snapshots with the recorder's real pacing (3 s).

Run: .venv/bin/python -m benchmarks.live_start   (about a minute and a half)

Against the simulator with the spec's pacing (3 s between commands), 8 cameras
at 320x180, through :class:`StreamRelay` as the integration runs it. Prints:

1. a cold camera without kept UIDs (login, ``hdrctl``, ``push.cgi`` START on
   the viewer's path, as before kept UIDs): commands the viewer waited for and
   seconds to the first MPEG-TS bytes (the relay writes nothing before the
   first picture);
2. the same with two kept live UIDs logged in and set up ahead (what the
   integration does after setup): the viewer's path is one START;
3. a dashboard of 8 snapshots asked at once (kept UIDs ready): seconds until
   each camera's first picture, and what a snapshot costs once cached (the
   JPEG streams stopped: the last good picture is served while a fresh one
   comes).

Timings are wall-clock; the simulator runs in this process, which does not
matter at this scale (seconds of pacing against milliseconds of work).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from custom_components.ipro_nvr.api import NvrClient, UidPurpose
from custom_components.ipro_nvr.api.spec import SPEC_PACING, Cgi
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

PASSWORD = "bench-password"  # noqa: S105 - the simulator's, for this run only
CAMERAS = 8
LABEL = 58


def _line(label: str, value: str) -> None:
    print(f"{label:<{LABEL}}{value}", flush=True)


def _client(sim: RunningSimulator) -> NvrClient:
    return NvrClient(
        sim.host,
        port=sim.port,
        username=sim.config.username,
        password=PASSWORD,
        pacing=SPEC_PACING,
        uid_budget=5,
    )


async def _first_bytes(url: str) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        await response.content.readany()
    return time.perf_counter() - started


def _commands_since(sim: RunningSimulator, index: int) -> list[str]:
    return [str(entry.cgi) for entry in sim.journal.entries[index:]]


async def _wait_ready(sim: RunningSimulator, kept: int) -> None:
    since = len(sim.journal.entries)

    def set_up() -> int:
        return sum(entry.cgi is Cgi.HDRCTL for entry in sim.journal.entries[since:])

    async with asyncio.timeout(60):
        while set_up() < kept:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await asyncio.sleep(3.2)  # the lane is free again: no earlier command is waited for


async def cold_camera(sim: RunningSimulator, *, kept: bool) -> None:
    """Figures 1 and 2."""
    client = _client(sim)
    relay = StreamRelay(client)
    try:
        if kept:
            client.keep_uids(UidPurpose.LIVE, 2)
            await _wait_ready(sim, 2)
        else:
            await asyncio.sleep(3.2)
        before = len(sim.journal.entries)
        seconds = await _first_bytes(await relay.async_url(1))
        commands = _commands_since(sim, before)
    finally:
        await relay.async_stop()
        await client.close()
    label = "cold camera, kept live UIDs ready" if kept else "cold camera, no kept UID (before)"
    _line(label, f"{seconds:.2f} s to the first picture; commands: {', '.join(commands)}")


async def dashboard(sim: RunningSimulator) -> None:
    """Figure 3: 8 tiles at once, then a refresh while their streams are broken."""
    client = _client(sim)
    relay = StreamRelay(client)
    try:
        client.keep_uids(UidPurpose.LIVE, 2)
        await _wait_ready(sim, 2)
        started = time.perf_counter()
        done: list[float] = []

        async def first(channel: int) -> None:
            assert await relay.async_snapshot(channel, first_wait=60.0) is not None
            done.append(time.perf_counter() - started)

        await asyncio.gather(*(first(channel) for channel in range(1, CAMERAS + 1)))
        _line(
            f"dashboard of {CAMERAS} snapshots at once: pictures after",
            ", ".join(f"{seconds:.1f}" for seconds in sorted(done)) + " s",
        )
        # Let the pictures go stale (older than fresh) while the streams still run,
        # then break them: the recorder forgets the UIDs.
        sim.simulator.uids.expire_all()
        await asyncio.sleep(2.5)
        started = time.perf_counter()
        pictures = await asyncio.gather(*(relay.async_snapshot(ch) for ch in range(1, CAMERAS + 1)))
        elapsed = time.perf_counter() - started
        served = sum(picture is not None for picture in pictures)
        _line(
            f"refresh of {CAMERAS} tiles, streams broken",
            f"{served}/{CAMERAS} pictures (last good ones) in {elapsed:.2f} s",
        )
    finally:
        await relay.async_stop()
        await client.close()


async def main() -> None:
    config = SimulatorConfig(
        password=PASSWORD, pacing=SPEC_PACING, cameras=CAMERAS, channel_states={4: 1}
    )
    async with run_simulator(config) as sim:
        print(f"Live start with the spec's pacing ({SPEC_PACING.command_interval:g} s per command)")
        await cold_camera(sim, kept=False)
        await cold_camera(sim, kept=True)
        await dashboard(sim)


if __name__ == "__main__":
    asyncio.run(main())
