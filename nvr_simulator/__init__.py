"""A simulated i-PRO network video recorder, served over real HTTP(S) for tests and demos.

    async with run_simulator(SimulatorConfig(password="pw")) as nvr:
        ...  # talk to nvr.url with Digest auth (aiohttp.DigestAuthMiddleware)
        assert nvr.journal.violations == []

State lives in ``nvr.simulator`` (a :class:`Simulator`): ``uids``, ``journal``,
``faults``, ``channel_states``, ``disks``, ``events``/``errors`` with
``add_event``/``add_error``, ``ptz_state(ch)``. Conventions where the spec is
silent are in ``responses`` (status codes), ``config`` (time zone and summer
time) and ``texts`` (bodies). Only ``custom_components.ipro_nvr.api.spec`` is
imported from the integration, so the client's parsing can never hide a bug
shared with the simulator.
"""

from __future__ import annotations

from .app import SIMULATOR_KEY, Simulator, create_app
from .clock import FakeClock, FakeWallClock
from .config import SimulatorConfig
from .server import RunningSimulator, run_simulator

__all__ = [
    "SIMULATOR_KEY",
    "FakeClock",
    "FakeWallClock",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "create_app",
    "run_simulator",
]
