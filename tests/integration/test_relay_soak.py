"""A short soak of the relay: four cameras streamed at once, then everything back to baseline.

The long version with figures is ``benchmarks/scale.py`` (16 cameras for a
fixed time). Here: no timing assertion, only what must hold however slow the
machine is: every viewer gets video, the recorder's pacing journal shows no
violation, and once the viewers and the relay are gone no UID, task or stream
is left behind.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator
from tests.conftest import TEST_PACING

CAMERAS = (1, 2, 3, 4)
TS_BYTES = 60_000  # per viewer: several seconds of the simulator's small picture
ROUNDS = 2


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Every camera connected (the default config fails channel 4)."""
    return SimulatorConfig(password="test-password", pacing=TEST_PACING, channel_states={4: 1})


async def _view(url: str) -> int:
    received = 0
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        async for chunk in response.content.iter_any():
            received += len(chunk)
            if received >= TS_BYTES:
                break
    return received


async def test_four_relayed_cameras_leave_nothing_behind(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Two rounds of four viewers: video for all, no pacing violation, no leaked UID or task."""
    tasks_before = asyncio.all_tasks()
    relay = StreamRelay(client)
    try:
        for _ in range(ROUNDS):
            urls = [await relay.async_url(channel) for channel in CAMERAS]
            received = await asyncio.wait_for(
                asyncio.gather(*(_view(url) for url in urls)), timeout=60
            )
            assert all(size >= TS_BYTES for size in received)
            # Every UID the recorder issued is one the client knows it holds.
            assert simulator.uids.active_count() == client.uids_in_use
    finally:
        await relay.async_stop()
        await client.close()
    assert simulator.journal.violations == []
    assert simulator.uids.active_count() == 0
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    stops = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=STOP" in q]
    assert len(starts) >= len(CAMERAS)
    assert len(stops) <= len(starts)
    # The simulator's push handlers end when their next write finds the
    # connection gone (a picture interval later); the relay's tasks are gone already.
    leaked = await _tasks_left(tasks_before)
    assert leaked == [], leaked


async def _tasks_left(before: set[asyncio.Task[object]]) -> list[str]:
    """Tasks started since ``before`` still running once things settled (up to 10 s)."""
    for _ in range(100):
        left = [t for t in asyncio.all_tasks() - before if not t.done()]
        left = [t for t in left if t is not asyncio.current_task()]
        if not left:
            return []
        await asyncio.sleep(0.1)
    return [f"{t.get_name()}: {t.get_coro()!r}" for t in left]
