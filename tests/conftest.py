"""Fixtures shared by every test: loopback sockets and a running simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_socket

from custom_components.ipro_nvr.api.spec import SPEC_PACING, PacingPolicy
from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

# Tests run the recorder's pacing rules twenty times faster than the spec so
# that a test with a dozen commands still takes well under a second.
TEST_PACING: PacingPolicy = SPEC_PACING.scaled(0.05)


@pytest.fixture(autouse=True)
def _loopback_only(socket_enabled: None) -> None:
    """Allow real sockets, but only to 127.0.0.1 where the simulator listens."""
    pytest_socket.socket_allow_hosts(["127.0.0.1"])


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Configuration of the simulator a test talks to; tests may adjust it."""
    return SimulatorConfig(password="test-password", pacing=TEST_PACING)


@pytest.fixture
async def simulator(sim_config: SimulatorConfig) -> AsyncIterator[RunningSimulator]:
    """A simulated recorder on an ephemeral 127.0.0.1 port."""
    async with run_simulator(sim_config) as running:
        yield running
