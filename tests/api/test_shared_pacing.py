"""One pacing queue per recorder (spec 1.3): shared schedulers, no unpaced resend, downloads.

Gaps are asserted only on the command lane, never below 50 ms: the bare
scheduler's grant times (exact) at 100 ms, and the simulator's journal through
its own pacing check. Against the simulator these tests pace at a tenth of the
spec (300 ms): the journal times arrivals in the test's event loop, and the
slack of the check (margin plus tolerance, 40 ms here) must cover a loaded
machine's scheduling delays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
import time

import pytest

from custom_components.ipro_nvr.api import (
    ClientClosedError,
    DirectorySink,
    DownloadKind,
    Priority,
    urls,
)
from custom_components.ipro_nvr.api.errors import ConnectionDroppedError
from custom_components.ipro_nvr.api.scheduler import Scheduler
from custom_components.ipro_nvr.api.spec import SPEC_PACING, Cgi, Lane, PacingPolicy
from custom_components.ipro_nvr.api.transport import Transport
from nvr_simulator import SimulatorConfig
from nvr_simulator.pacing import PacingJournal
from nvr_simulator.server import RunningSimulator

from .conftest import client_for

PACING = PacingPolicy(command_interval=0.1, camera_control_interval=0.01)
SIM_PACING = SPEC_PACING.scaled(0.1)
RECORDER_ZONE = dt.timezone(dt.timedelta(hours=9))  # the simulator's default utc_offset


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """The simulator and its clients pace at a tenth of the spec."""
    sim_config.pacing = SIM_PACING
    return sim_config


def _command_violations(journal: PacingJournal) -> list[str]:
    return [str(v) for v in journal.violations if v.entry.lane is Lane.COMMAND]


# -- the scheduler's shared handles -------------------------------------------------


async def test_handles_of_one_recorder_take_turns_from_one_queue() -> None:
    """Two clients' handles are paced together, each request once."""
    recorder = Scheduler(PACING)
    first, second = recorder.share(), recorder.share()
    started = [
        await first.turn(Lane.COMMAND),
        await second.turn(Lane.COMMAND),
        await first.turn(Lane.COMMAND),
    ]
    assert started[1] - started[0] >= PACING.command_interval
    assert started[2] - started[1] >= PACING.command_interval
    assert second.snapshot()["command"]["started"] == 3


async def test_closing_one_handle_fails_only_its_own_waiters() -> None:
    """A closing client's queued requests fail; another client's keep their turn."""
    recorder = Scheduler(PACING)
    closing, staying = recorder.share(), recorder.share()
    granted = await closing.turn(Lane.COMMAND)
    # The staying client queues first; the closing client's request re-arms
    # the lane's timer, so the staying one depends on that timer still firing.
    staying_turn = asyncio.create_task(staying.turn(Lane.COMMAND, Priority.BACKGROUND))
    await asyncio.sleep(0)
    closing_turn = asyncio.create_task(closing.turn(Lane.COMMAND, Priority.USER))
    await asyncio.sleep(0)
    assert staying.queue_length(Lane.COMMAND) == 2
    closing.close()
    with pytest.raises(ClientClosedError):
        await closing_turn
    with pytest.raises(ClientClosedError):
        await closing.turn(Lane.COMMAND)
    assert await staying_turn - granted >= PACING.command_interval
    assert staying.queue_length(Lane.COMMAND) == 0


async def test_fail_waiting_keeps_other_handles_waiting() -> None:
    """fail_waiting (a client starting to close) leaves other clients in the queue."""
    recorder = Scheduler(PACING)
    closing, staying = recorder.share(), recorder.share()
    granted = await staying.turn(Lane.COMMAND)
    waiting = asyncio.create_task(closing.turn(Lane.COMMAND))
    queued = asyncio.create_task(staying.turn(Lane.COMMAND))
    await asyncio.sleep(0)
    closing.fail_waiting()
    with pytest.raises(ClientClosedError):
        await waiting
    assert await queued - granted >= PACING.command_interval
    # A closing client still gets turns (to log out), paced with the rest.
    assert await closing.turn(Lane.COMMAND) - await queued >= PACING.command_interval


async def test_spacing_counts_from_when_a_request_really_left() -> None:
    """A request that left late (a Digest challenge first) pushes the next turn back."""
    recorder = Scheduler(PACING)
    first = await recorder.turn(Lane.COMMAND)
    queued = asyncio.create_task(recorder.turn(Lane.COMMAND))  # timed for first + spacing
    await asyncio.sleep(PACING.command_interval / 2)  # the challenge round trip
    left = time.monotonic()
    recorder.sent(Lane.COMMAND)
    assert await queued - left >= PACING.command_interval
    assert left - first >= PACING.command_interval / 2
    # An earlier mark than the last start changes nothing; streams are never paced.
    recorder.sent(Lane.STREAM)
    assert recorder.snapshot()["stream"]["last_start_s_ago"] is None


# -- clients sharing a recorder's scheduler -------------------------------------------


async def test_clients_of_one_recorder_never_send_too_close(simulator: RunningSimulator) -> None:
    """Two clients logging in, polling and logging out at once: one queue, no violation."""
    recorder = Scheduler(SIM_PACING)
    first = client_for(simulator, scheduler=recorder)
    second = client_for(simulator, scheduler=recorder)
    await asyncio.gather(first.validate(), second.validate(), second.get_disks())
    # One closes (logout) while the other keeps polling: neither fails nor waits forever.
    await asyncio.gather(first.close(), second.get_error_log(), second.get_event_log())
    await second.close()
    journal = simulator.journal
    assert [entry.cgi for entry in journal.by_cgi(Cgi.LOGIN)] == [Cgi.LOGIN] * 2
    assert len(journal.by_cgi(Cgi.LOGOUT)) == 2
    assert _command_violations(journal) == []
    assert simulator.uids.active_count() == 0


async def test_a_client_alone_is_paced_as_before(simulator: RunningSimulator) -> None:
    """Without a shared scheduler a client keeps its own queue with ``pacing``."""
    async with client_for(simulator) as client:
        await client.validate()
        await client.get_disks()
    assert len(simulator.journal.by_lane(Lane.COMMAND)) == 4
    assert _command_violations(simulator.journal) == []


# -- no resend outside the queue -------------------------------------------------------


async def test_transport_never_resends_a_dropped_request(simulator: RunningSimulator) -> None:
    """aiohttp would resend a GET at once after a drop; the transport raises instead."""
    transport = Transport(
        simulator.host,
        port=simulator.port,
        username=simulator.config.username,
        password=simulator.config.password,
    )
    try:
        simulator.faults.drop_connection = True
        simulator.faults.count = 1
        with pytest.raises(ConnectionDroppedError) as caught:
            await transport.fetch(urls.camera_connection_info())
        assert "closed the connection" in str(caught.value)
        assert len(simulator.journal.by_cgi(Cgi.GETINFO)) == 1
        await asyncio.sleep(SIM_PACING.command_interval * 1.2)
        assert b"CAM_CONNECT" in await transport.fetch(urls.camera_connection_info())
    finally:
        await transport.close()


async def test_transport_reports_each_leg_leaving(simulator: RunningSimulator) -> None:
    """Both legs of the first Digest exchange are reported; later requests go preemptively."""
    lanes: list[Lane] = []
    transport = Transport(
        simulator.host,
        port=simulator.port,
        username=simulator.config.username,
        password=simulator.config.password,
        on_send=lambda request: lanes.append(request.lane),
    )
    try:
        await transport.fetch(urls.camera_connection_info())
        assert lanes == [Lane.COMMAND, Lane.COMMAND]  # challenged, then answered
        await asyncio.sleep(SIM_PACING.command_interval * 1.2)
        await transport.fetch(urls.camera_connection_info())
        assert lanes == [Lane.COMMAND] * 3
    finally:
        await transport.close()


async def test_dropped_request_goes_again_on_its_next_turn(simulator: RunningSimulator) -> None:
    """The session resends a dropped request once, paced like any other."""
    async with client_for(simulator) as client:
        simulator.faults.drop_connection = True
        simulator.faults.count = 1
        assert (await client.get_camera_status()).channels
    tries = simulator.journal.by_cgi(Cgi.GETINFO)
    assert len(tries) == 2
    assert _command_violations(simulator.journal) == []


# -- downloads -------------------------------------------------------------------------


async def test_download_requests_are_paced_as_commands(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """Spec 6.3.2's "download command": two downloads at once start a command interval apart."""
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
    end = start + dt.timedelta(minutes=1)
    async with client_for(simulator, default_tz=RECORDER_ZONE) as client:
        results = await asyncio.gather(
            *(
                client.download(channel, start, end, DownloadKind.N3, sink=DirectorySink(folder))
                for channel, folder in ((1, tmp_path / "1"), (2, tmp_path / "2"))
            )
        )
    assert [len(files) for files in results] == [1, 1]
    downloads = simulator.journal.by_cgi(Cgi.HTTPDL)
    assert [entry.lane for entry in downloads] == [Lane.COMMAND] * 2
    assert _command_violations(simulator.journal) == []
