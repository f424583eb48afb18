"""Fixtures of the simulator's own tests: a simulator on fake clocks and a Digest client.

Most tests here run the simulator on a :class:`FakeClock` (UID lifetimes,
nonce lifetimes and pacing) and a :class:`FakeWallClock` (the recorder's
calendar), so that times are exact and nothing waits for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import datetime as dt

import aiohttp
import pytest

from custom_components.ipro_nvr.api.spec import PacingPolicy
from nvr_simulator import FakeClock, FakeWallClock, SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

from .helpers import PASSWORD, USERNAME

# 2024-04-24 03:30:00 UTC is 12:30:00 in the simulator's default zone (GMT+09:00),
# the time of the spec's event-log example.
WALL_START = dt.datetime(2024, 4, 24, 3, 30, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FakeClock:
    """The simulator's monotonic clock; tests advance it."""
    return FakeClock()


@pytest.fixture
def wall_clock() -> FakeWallClock:
    """The simulator's UTC calendar; tests advance it."""
    return FakeWallClock(WALL_START)


@pytest.fixture
def config(clock: FakeClock, wall_clock: FakeWallClock) -> SimulatorConfig:
    """A simulator on fake clocks with pacing off (pacing has its own tests)."""
    return SimulatorConfig(
        username=USERNAME,
        password=PASSWORD,
        cameras=8,
        clock=clock,
        wall_clock=wall_clock,
        pacing=PacingPolicy(command_interval=0.0, camera_control_interval=0.0),
    )


@pytest.fixture
async def sim(config: SimulatorConfig, socket_enabled: None) -> AsyncIterator[RunningSimulator]:
    """A running simulator built from ``config``."""
    async with run_simulator(config) as running:
        yield running


@pytest.fixture
async def client(sim: RunningSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A session that authenticates like the integration (aiohttp's Digest middleware)."""
    async with aiohttp.ClientSession(
        base_url=sim.url,
        middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),),
    ) as session:
        yield session


@pytest.fixture
async def plain(sim: RunningSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A session without credentials, for hand-made Authorization headers."""
    async with aiohttp.ClientSession(base_url=sim.url) as session:
        yield session
