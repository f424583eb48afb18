"""Recorder playback in ``scripts/develop``, driven as a person would, with real pacing.

Starts the demo (simulator + Home Assistant) on free ports, onboards it, adds the
recorder through the config flow, enables camera 1's playback camera, opens its
MJPEG view (as a dashboard does), then uses the playback actions and the media
player through the REST API and prints a table: time from an action to the first
picture it shows, each control's time, the media player's state after it, and
the CPU per playback stream (Home Assistant's process, while one MJPEG viewer
watches a playing playback, minus the same time idle).

    python -m benchmarks.playback_demo [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
import datetime as dt
import os
from pathlib import Path
import tempfile
import time
from typing import Any

import aiohttp

from e2e import hass_api
from e2e.demo import SIM_HOST, SIM_USER, Demo

START_TIMEOUT = 300
PLAYER = "media_player.camera_1_playback"
CAMERA = "camera.camera_1_playback"
MEASURE_S = 20.0
BOUNDARY = b"--frameboundary"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _find(group: int, needle: str) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[2]) == group and needle in cmdline:
            return int(entry.name)
    raise RuntimeError(f"no process {needle!r} in group {group}")


@dataclass
class Viewer:
    """An MJPEG viewer of the playback camera: when each picture arrived."""

    arrivals: list[tuple[float, bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        async with session.get(url, headers=headers) as response:
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                parts = buffer.split(BOUNDARY)
                for part in parts[1:-1]:
                    body = part.split(b"\r\n\r\n", 1)[-1].rstrip(b"\r\n")
                    self.arrivals.append((time.monotonic(), body))
                    self.arrived.set()
                buffer = BOUNDARY + parts[-1] if len(parts) > 1 else buffer

    async def first_new_after(self, started: float, old: bytes | None, wait: float = 60) -> float:
        async with asyncio.timeout(wait):
            while True:
                for at, body in self.arrivals:
                    if at >= started and body != old:
                        return at - started
                self.arrived.clear()
                await self.arrived.wait()

    def latest(self) -> bytes | None:
        return self.arrivals[-1][1] if self.arrivals else None


async def _rest(
    session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], **kw: Any
) -> Any:
    async with session.request(method, url, headers=headers, **kw) as answer:
        if answer.status >= 400:
            raise RuntimeError(f"{method} {url}: {answer.status} {await answer.text()}")
        if answer.content_type == "application/json":
            return await answer.json()
        return await answer.read()


async def _add_recorder(
    session: aiohttp.ClientSession, demo: Demo, api: str, headers: dict[str, str]
) -> None:
    """The config flow, as a person fills it in; then the playback camera enabled."""
    flow = await _rest(
        session, "POST", f"{api}/config/config_entries/flow", headers, json={"handler": "ipro_nvr"}
    )
    await _rest(
        session,
        "POST",
        f"{api}/config/config_entries/flow/{flow['flow_id']}",
        headers,
        json={
            "host": SIM_HOST,
            "port": demo.sim_port,
            "use_https": False,
            "verify_ssl": False,
            "username": SIM_USER,
            "password": demo.sim_password,
        },
    )


async def _enable_playback_camera(
    session: aiohttp.ClientSession, demo: Demo, token: str, api: str, headers: dict[str, str]
) -> None:
    """Enable the playback camera; Home Assistant reloads the entry 30 s later."""
    async with hass_api.HassWebsocket(session, demo.url, token) as ws:
        await ws.call("config/entity_registry/update", entity_id=CAMERA, disabled_by=None)
    async with asyncio.timeout(120):
        while True:
            async with session.get(f"{api}/states/{CAMERA}", headers=headers) as answer:
                if answer.status == 200 and (await answer.json())["state"] != "unavailable":
                    return
            await asyncio.sleep(1)


@dataclass
class Run:
    """The measurement: REST calls against one demo, with one MJPEG viewer."""

    session: aiohttp.ClientSession
    api: str
    headers: dict[str, str]
    viewer: Viewer
    rows: list[tuple[str, float, float | None, str]] = field(default_factory=list)

    async def act(self, label: str, domain: str, service: str, **data: Any) -> None:
        old = self.viewer.latest()
        started = time.monotonic()
        await _rest(
            self.session,
            "POST",
            f"{self.api}/services/{domain}/{service}",
            self.headers,
            json={"entity_id": PLAYER, **data},
        )
        took = time.monotonic() - started
        try:
            picture: float | None = await self.viewer.first_new_after(started, old, wait=15)
        except TimeoutError:
            picture = None
        state = await _rest(self.session, "GET", f"{self.api}/states/{PLAYER}", self.headers)
        attributes = state["attributes"]
        described = (
            f"{state['state']} {attributes.get('operation')} "
            f"step={attributes.get('speed_step')} {attributes.get('recorded_time')}"
        )
        self.rows.append((label, took, picture, described))

    def table(self) -> None:
        print(f"{'action':40} {'call s':>7} {'picture s':>9}  media player after")
        for label, took, picture, described in self.rows:
            shown = f"{picture:9.2f}" if picture is not None else "        -"
            print(f"{label:40} {took:7.2f} {shown}  {described}")


async def _controls(run: Run, hass_pid: int, idle_cpu: float) -> None:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    await run.act(
        "goto (cold: login, MASK, GOTODATE)", "ipro_nvr", "playback_goto", time=moment.isoformat()
    )
    await asyncio.sleep(2)
    play_start = _cpu_seconds(hass_pid)
    frames_before = len(run.viewer.arrivals)
    await asyncio.sleep(MEASURE_S)
    play_cpu = _cpu_seconds(hass_pid) - play_start
    fps = (len(run.viewer.arrivals) - frames_before) / MEASURE_S
    for label, domain, service, data in (
        ("pause", "media_player", "media_pause", {}),
        ("next picture", "media_player", "media_next_track", {}),
        ("step 5 backward", "ipro_nvr", "playback_step", {"direction": "backward", "count": 5}),
        ("fast forward", "ipro_nvr", "playback_speed", {"direction": "forward"}),
        ("fast forward again", "ipro_nvr", "playback_speed", {"direction": "forward"}),
        ("reverse", "ipro_nvr", "playback_reverse", {}),
        (
            "goto, paused (warm session)",
            "ipro_nvr",
            "playback_goto",
            {"time": (moment - dt.timedelta(minutes=1)).isoformat(), "pause": True},
        ),
        ("goto (warm session)", "ipro_nvr", "playback_goto", {"time": moment.isoformat()}),
    ):
        await run.act(label, domain, service, **data)
    still = await _rest(run.session, "GET", f"{run.api}/camera_proxy/{CAMERA}", run.headers)
    await run.act("stop", "ipro_nvr", "playback_stop")
    print()
    run.table()
    print()
    print(f"playback camera still: {len(still)} bytes JPEG")
    print(
        f"Home Assistant CPU: idle {idle_cpu / MEASURE_S:.1%} of a core, one playback "
        f"playing with one MJPEG viewer {play_cpu / MEASURE_S:.1%} "
        f"({(play_cpu - idle_cpu) / MEASURE_S:.1%} for the playback), "
        f"{fps:.1f} pictures/s to the viewer"
    )


async def main(keep: bool) -> None:
    """Run the demo, measure, print; with ``keep``, leave it running until Ctrl-C."""
    config = Path(tempfile.mkdtemp(prefix="playback-demo-")) / "config"
    with Demo(config, cameras=2) as demo:
        print(f"Home Assistant up after {demo.wait_until_up(START_TIMEOUT):.0f} s")
        async with aiohttp.ClientSession() as session:
            tokens = await hass_api.onboard(session, demo.url)
            headers = {"Authorization": f"Bearer {tokens.access_token}"}
            api = f"{demo.url}/api"
            await _add_recorder(session, demo, api, headers)
            await _enable_playback_camera(session, demo, tokens.access_token, api, headers)
            await asyncio.sleep(20)  # the reloaded entry's polls and first snapshots settle
            group = os.getpgid(demo._process.pid)  # type: ignore[union-attr]  # noqa: SLF001
            hass_pid = _find(group, "hass_launcher")
            idle_start = _cpu_seconds(hass_pid)
            await asyncio.sleep(MEASURE_S)
            idle_cpu = _cpu_seconds(hass_pid) - idle_start
            viewer = Viewer()
            watching = asyncio.create_task(
                viewer.run(session, f"{api}/camera_proxy_stream/{CAMERA}", headers)
            )
            await viewer.arrived.wait()  # the placeholder picture
            await _controls(Run(session, api, headers, viewer), hass_pid, idle_cpu)
            watching.cancel()
            if keep:
                print(f"Demo left running at {demo.url} (Ctrl-C ends it)")
                await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="leave the demo running")
    asyncio.run(main(parser.parse_args().keep))
