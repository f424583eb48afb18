"""Fixtures of the client tests: a simulator and a client that keep the same (scaled) pacing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.spec import PacingPolicy
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator
from tests.conftest import fast_pacing

# Commands fifty times faster than the spec (60 ms), camera controls 50 ms.
# Simulator and client always share one policy.
API_PACING: PacingPolicy = fast_pacing(0.06)
PASSWORD = "test-password"

type ClientFactory = Callable[..., NvrClient]


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """The simulated recorder of these tests: 8 cameras, camera 4 disconnected."""
    return SimulatorConfig(password=PASSWORD, pacing=API_PACING, cameras=8)


def client_for(sim: RunningSimulator, **overrides: Any) -> NvrClient:
    """A client for ``sim`` with the test pacing; ``overrides`` replace any argument."""
    arguments: dict[str, Any] = {
        "port": sim.port,
        "username": sim.config.username,
        "password": sim.config.password,
        "use_https": sim.https,
        "pacing": sim.config.pacing,
    }
    arguments.update(overrides)
    return NvrClient(sim.host, **arguments)


@pytest.fixture
async def client(simulator: RunningSimulator) -> AsyncIterator[NvrClient]:
    """A client of the simulator, closed (every UID logged out) after the test."""
    async with client_for(simulator) as nvr:
        yield nvr
