"""Fixtures shared by every test: loopback sockets and a running simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
import itertools

import pytest
import pytest_socket

from custom_components.ipro_nvr.api import NvrClient, Priority
from custom_components.ipro_nvr.api.scheduler import Scheduler, Urgency
from custom_components.ipro_nvr.api.spec import Lane, PacingPolicy
from custom_components.ipro_nvr.api.urls import Request
from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

# The smallest pacing gap a test relies on. Below about 50 ms, timer and scheduling jitter
# on a loaded 2-core machine decides whether a burst keeps its order and spacing (the spec's
# 0.2 s camera-control gap scaled like the 3 s command gap came to a few milliseconds).
SMALLEST_TESTED_GAP = 0.05


def fast_pacing(command_interval: float) -> PacingPolicy:
    """The spec's pacing sped up for tests, never below ``SMALLEST_TESTED_GAP``.

    Commands come ``command_interval`` apart (3 s in the spec), camera controls 50 ms
    (0.2 s in the spec): not one uniform scale, so that the camera-control lane keeps a
    gap jitter cannot eat while a test with a dozen commands stays well under a second.
    """
    return PacingPolicy(
        command_interval=max(command_interval, SMALLEST_TESTED_GAP),
        camera_control_interval=SMALLEST_TESTED_GAP,
    )


# Commands twenty times faster than the spec (150 ms), camera controls 50 ms.
TEST_PACING: PacingPolicy = fast_pacing(0.15)


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


@dataclass(slots=True)
class Sends:
    """What a client sent, in the order it sent it, and when each lane granted a turn."""

    requests: list[Request]
    turns: dict[Lane, list[float]]

    def queries(self, lane: Lane) -> list[str]:
        """Queries (without UID) of the requests sent in ``lane``, in send order."""
        return [request.query for request in self.requests if request.lane is lane]


def record_sends(client: NvrClient) -> Sends:
    """Record what ``client`` sends from now on, and its lanes' turns.

    The simulator journals arrivals, and in a test those carry the event loop's jitter
    (client and simulator share one loop; on a loaded 2-core machine one arrival can
    lag by tens of milliseconds). Burst tests assert the client's own decisions instead:
    the order it sent requests in, and the times its scheduler granted their turns.
    """
    sends = Sends([], {lane: [] for lane in Lane})
    transport = client._session._transport
    scheduler = client._scheduler
    told = transport._on_send
    turn = scheduler.turn

    def on_send(request: Request) -> None:
        sends.requests.append(request)
        if told is not None:
            told(request)

    async def recorded_turn(
        lane: Lane, priority: Priority | Urgency = Priority.NORMAL, *, due: float | None = None
    ) -> float:
        started = await turn(lane, priority, due=due)
        sends.turns[lane].append(started)
        return started

    transport._on_send = on_send
    scheduler.turn = recorded_turn  # type: ignore[method-assign]
    return sends


def assert_paced(sends: Sends, lane: Lane, pacing: PacingPolicy) -> None:
    """The lane's turns were granted at least its interval plus the margin apart."""
    times = sorted(sends.turns[lane])
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps, "fewer than two requests in the lane"
    assert min(gaps) >= Scheduler.spacing(pacing.interval(lane))
