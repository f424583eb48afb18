"""UIDs: login, logout, leases, keep-alive, transparent re-login, and no leaks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import logging
import random

import aiohttp
import pytest

from custom_components.ipro_nvr.api import (
    ClientClosedError,
    JpegFeed,
    MalformedResponseError,
    NvrClient,
    Priority,
    RecorderFullError,
    UidBudgetExhaustedError,
    UidPurpose,
    urls,
)
from custom_components.ipro_nvr.api.scheduler import Scheduler
from custom_components.ipro_nvr.api.session import RecorderSession
from custom_components.ipro_nvr.api.spec import Cgi, PacingPolicy
from custom_components.ipro_nvr.api.transport import Transport
from nvr_simulator import FakeClock, SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

from .conftest import API_PACING, PASSWORD, client_for


def _uids(simulator: RunningSimulator, cgi: Cgi) -> list[str | None]:
    return [entry.uid for entry in simulator.journal.by_cgi(cgi)]


async def test_close_logs_out_every_uid(simulator: RunningSimulator) -> None:
    """Command UID and stream UIDs are all logged out on close, once each."""
    async with client_for(simulator) as client:
        await client.validate()
        async with (
            client.lease(UidPurpose.LIVE, channel=1),
            client.lease(UidPurpose.PLAYBACK, channel=1),
        ):
            assert client.uids_in_use == 3
            assert simulator.uids.active_count() == 3
            await client.close()  # closing with leases still open
        await client.close()  # twice is fine
    assert simulator.uids.active_count() == 0
    assert simulator.uids.released_total == simulator.uids.issued_total == 3
    assert client.uids_in_use == 0
    with pytest.raises(ClientClosedError):
        await client.get_event_log()


async def test_expired_uid_is_renewed_transparently(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """403 on an expired UID: one new login, the command retried, no error for the caller."""
    await client.get_event_log()
    first = _uids(simulator, Cgi.LOGLIST)[0]
    simulator.faults.expire_uids()
    log = await client.get_event_log()
    assert log.entries
    assert [entry.cgi for entry in simulator.journal.entries] == [
        Cgi.LOGIN,
        Cgi.LOGLIST,
        Cgi.LOGLIST,  # refused: 403
        Cgi.GETINFO,  # sessions in use: another client may have evicted it
        Cgi.LOGIN,
        Cgi.LOGLIST,
    ]
    assert _uids(simulator, Cgi.LOGLIST)[2] != first
    assert client.uids_in_use == simulator.uids.active_count() == 1
    assert simulator.journal.violations == []


async def test_uid_evicted_by_others_is_not_taken_back(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Another client fills the recorder's 16 UIDs; our oldest UID is evicted. Our next
    command reads the sessions in use first and logs in only if one is free: never
    evicting the other client's oldest in turn."""
    await client.validate()
    ours = simulator.uids.active()[0]
    async with aiohttp.ClientSession(
        base_url=simulator.url,
        middlewares=(aiohttp.DigestAuthMiddleware(simulator.config.username, PASSWORD),),
    ) as other:
        for _ in range(16):
            await asyncio.sleep(Scheduler.spacing(API_PACING.command_interval))
            async with other.get("/cgi-bin/dlogin.cgi?UID=-1") as response:
                assert response.status == 200
        assert ours not in simulator.uids.active()
        assert simulator.uids.evicted_total == 1
        await asyncio.sleep(Scheduler.spacing(API_PACING.command_interval))
        with pytest.raises(RecorderFullError):
            await client.get_error_log()
        assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == 17
        assert simulator.uids.evicted_total == 1
        # One of them logs out: the next command finds the free session.
        uid = simulator.uids.active()[-1]
        await asyncio.sleep(Scheduler.spacing(API_PACING.command_interval))
        async with other.get(f"/cgi-bin/logout.cgi?UID={uid}") as response:
            assert response.status == 200
        await asyncio.sleep(Scheduler.spacing(API_PACING.command_interval))
    await client.get_camera_status()
    assert (await client.get_error_log()).entries
    assert simulator.uids.evicted_total == 1
    assert simulator.uids.active_count() == 16
    assert simulator.journal.violations == []


async def test_concurrent_failures_renew_once(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Several commands fail on the same expired UID: a single re-login serves them all."""
    await client.validate()
    simulator.faults.expire_uids()
    results = await asyncio.gather(
        client.get_event_log(),
        client.get_error_log(),
        client.send(urls.focus(2, "NEAR")),
        client.send(urls.go_to_preset(2, 3)),
    )
    assert len(results) == 4
    assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == 2
    assert client.uids_in_use == simulator.uids.active_count() == 1


async def test_garbled_answer_renews_once_then_raises(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A 200 without the expected content: re-login, retry; the garbled UID is released."""
    await client.validate()
    simulator.faults.malformed_body = True
    simulator.faults.only = {Cgi.LOGLIST}
    simulator.faults.count = 1
    assert (await client.get_error_log()).entries
    # Recovered on a new UID; the old one was logged out in the background (the
    # simulator counts it gone before the client has read the logout's answer).
    for _ in range(250):
        if simulator.uids.active_count() == client.uids_in_use == 1:
            break
        await asyncio.sleep(0.02)
    assert simulator.uids.active_count() == client.uids_in_use == 1
    simulator.faults.count = None
    with pytest.raises(MalformedResponseError):
        await client.get_error_log()
    assert len(simulator.journal.by_cgi(Cgi.LOGLIST)) == 4  # twice per call, no more


async def test_lease_rules(simulator: RunningSimulator) -> None:
    """Same camera twice: another UID; other cameras share; live and playback never share;
    budget spent: UidBudgetExhaustedError; the last lease of a UID logs it out."""
    async with client_for(simulator, uid_budget=4) as client:
        async with client.lease(UidPurpose.LIVE, channel=3) as live3:
            async with client.lease(UidPurpose.LIVE, channel=3) as live3b:
                assert live3b.uid != live3.uid
                async with client.lease(UidPurpose.LIVE, channel=[4, 5]) as live45:
                    assert live45.uid == live3.uid
                    async with client.lease(UidPurpose.PLAYBACK, channel=4) as play4:
                        assert play4.uid not in (live3.uid, live3b.uid)
                        with pytest.raises(UidBudgetExhaustedError):
                            async with client.lease(UidPurpose.PLAYBACK, channel=4):
                                pass
                        async with client.lease(UidPurpose.PLAYBACK, channel=9) as play9:
                            assert play9.uid == play4.uid
                        # The leased UID is the one commands carry.
                        await client.send_on(play4, urls.keep_alive())
                        assert _uids(simulator, Cgi.STATUS)[-1] == play4.uid.value
                        assert simulator.uids.active_count() == 3
                assert simulator.uids.active_count() == 2  # playback UID logged out
            assert simulator.uids.active_count() == 1
            assert client.uids_in_use == 1
        assert simulator.uids.active_count() == 0
        logins = len(simulator.journal.by_cgi(Cgi.LOGIN))
        assert logins == 3


async def test_sixteen_streams_per_uid(simulator: RunningSimulator) -> None:
    """Up to 16 cameras share a UID; the 17th camera gets another one."""
    async with (
        client_for(simulator, uid_budget=3) as client,
        client.lease(UidPurpose.LIVE, channel=range(1, 17)) as first,
        client.lease(UidPurpose.LIVE, channel=17) as second,
    ):
        assert second.uid != first.uid
        with pytest.raises(UidBudgetExhaustedError):
            async with client.lease(UidPurpose.PLAYBACK, channel=1):
                pass


async def test_lease_waits_for_room_when_asked(simulator: RunningSimulator) -> None:
    """With ``wait``, a lease beyond the budget starts once another ends; it still times out."""
    async with client_for(simulator, uid_budget=2) as client:
        first = await client._session.acquire(UidPurpose.PLAYBACK, channel=1)
        with pytest.raises(UidBudgetExhaustedError):
            await client._session.acquire(UidPurpose.LIVE, channel=1, wait=0.2)
        waiting = asyncio.create_task(client._session.acquire(UidPurpose.LIVE, channel=1, wait=10))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        first_uid = first.uid
        await client._session.release(first)
        second = await asyncio.wait_for(waiting, 5)
        assert second.uid != first_uid
        assert client.uids_in_use == simulator.uids.active_count() == 1  # first logged out
        await client._session.release(second)
    assert simulator.uids.active_count() == 0


async def test_cancelled_stream_gives_its_uid_back(simulator: RunningSimulator) -> None:
    """A task holding a lease is cancelled: its UID is still logged out."""
    async with client_for(simulator) as client:
        holding = asyncio.Event()

        async def stream() -> None:
            async with client.lease(UidPurpose.LIVE, channel=2):
                holding.set()
                await asyncio.sleep(10)

        task = asyncio.create_task(stream())
        await holding.wait()
        assert simulator.uids.active_count() == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert simulator.uids.active_count() == 0
        assert client.uids_in_use == 0


async def test_login_abandoned_by_its_caller_is_logged_out(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The caller gives up while the recorder is still issuing its UID: the client,
    still open, logs that UID out as soon as it arrives."""
    simulator.faults.slow_response = 0.3
    simulator.faults.only = {Cgi.LOGIN}
    task = asyncio.create_task(client.get_event_log())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    simulator.faults.clear()
    for _ in range(100):
        if simulator.uids.released_total and not client.uids_in_use:
            break
        await asyncio.sleep(0.02)
    assert simulator.uids.issued_total == simulator.uids.released_total == 1
    assert simulator.uids.active_count() == client.uids_in_use == 0
    # The client still works afterwards.
    assert (await client.get_event_log()).entries


async def test_no_uid_leaks_over_200_open_close_cycles(socket_enabled: None) -> None:
    """Open, use, cancel, close: racing close against logins and cancelling requests at
    random points never leaves a UID on the recorder, and every UID is logged out."""
    pacing = PacingPolicy(command_interval=0.002, camera_control_interval=0.001)
    config = SimulatorConfig(password=PASSWORD, pacing=pacing, cameras=4)
    rng = random.Random(7)  # noqa: S311 - test data, not security
    outcomes: list[str] = []
    async with run_simulator(config) as sim, aiohttp.ClientSession() as shared:
        for cycle in range(200):
            client = client_for(sim, pacing=pacing, session=shared)
            variant = cycle % 5
            if variant == 0:
                async with client:
                    await client.validate()
            elif variant == 1:
                # close() races the login in flight.
                task = asyncio.create_task(client.validate())
                # Mostly a random point of the login; every fourth time late enough
                # that the validation (status, login) has won, however busy the machine.
                late = (cycle // 5) % 4 == 3
                await asyncio.sleep(0.3 if late else rng.random() * 0.03)
                await client.close()
                (result,) = await asyncio.gather(task, return_exceptions=True)
                outcomes.append(type(result).__name__)
            elif variant == 2:
                # The caller gives up while its login is in flight.
                task = asyncio.create_task(client.get_event_log())
                await asyncio.sleep(rng.random() * 0.02)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await client.close()
            elif variant == 3:
                async with client:
                    lease_task = asyncio.create_task(_hold_lease(client))
                    await asyncio.sleep(rng.random() * 0.02)
                    lease_task.cancel()
                    await asyncio.gather(lease_task, return_exceptions=True)
            else:
                async with client:
                    await asyncio.gather(client.get_error_log(), client.send(urls.focus(1, "AUTO")))
            assert client.uids_in_use == 0
        assert sim.uids.active_count() == 0
        # The races really happened: some validations lost to close(), some won.
        assert "ClientClosedError" in outcomes
        assert "CameraStatus" in outcomes
        assert sim.uids.issued_total > 150
        assert sim.uids.released_total == sim.uids.issued_total
        assert sim.uids.expired_total == sim.uids.evicted_total == 0


async def _hold_lease(client: NvrClient) -> None:
    async with client.lease(UidPurpose.LIVE, channel=1):
        await asyncio.sleep(1)


# -- keep-alive ---------------------------------------------------------------


@pytest.fixture
async def fake_clock_sim() -> AsyncIterator[tuple[RunningSimulator, FakeClock]]:
    """A simulator whose UID lifetimes run on a fake clock (pacing checked elsewhere)."""
    clock = FakeClock()
    config = SimulatorConfig(
        password=PASSWORD,
        clock=clock,
        pacing=PacingPolicy(command_interval=0.0, camera_control_interval=0.0),
    )
    async with run_simulator(config) as running:
        yield running, clock


async def test_keepalive_only_for_idle_uids(
    fake_clock_sim: tuple[RunningSimulator, FakeClock], socket_enabled: None
) -> None:
    """With one fake clock for client and recorder: a UID used by polls is never pinged,
    idle stream UIDs are pinged once per 60 s of idleness, and none ever expires."""
    sim, clock = fake_clock_sim
    transport = Transport(sim.host, port=sim.port, username="admin", password=PASSWORD)
    session = RecorderSession(
        transport,
        Scheduler(PacingPolicy(command_interval=0.002, camera_control_interval=0.001)),
        clock=clock,
        uid_lifetime=90.0,
        keepalive_margin=30.0,
        auto_keepalive=False,
    )
    try:
        await session.command(urls.keep_alive())  # logs in the command UID
        live = await session.acquire(UidPurpose.LIVE, channel=1)
        playback = await session.acquire(UidPurpose.PLAYBACK, channel=1)
        assert session.keep_alive_due() == []
        sim.journal.clear()
        for _ in range(80):  # 400 s in 5 s steps
            clock.advance(5.0)
            if clock.now % 20 == 0:
                await session.command(urls.error_log(), priority=Priority.BACKGROUND)
            await session.send_due_keepalives()
            assert sim.uids.active_count() == 3
        pings = _uids(sim, Cgi.STATUS)
        assert pings.count(live.uid.value) == 6  # every 60 s over 400 s
        assert pings.count(playback.uid.value) == 6
        command_uid = _uids(sim, Cgi.LOGLIST)[0]
        assert command_uid not in pings
        assert session.keepalives_sent == 12
        clock.advance(60.0)
        assert sorted(session.keep_alive_due()) == sorted(
            [UidPurpose.COMMAND, UidPurpose.LIVE, UidPurpose.PLAYBACK]
        )
        await session.release(live)
        await session.release(playback)
    finally:
        await session.close()
        await transport.close()
    assert sim.uids.active_count() == 0


async def test_keepalive_task_keeps_an_idle_uid_alive(socket_enabled: None) -> None:
    """The internal task wakes at each deadline: a UID with a 0.5 s lifetime, idle for
    2 s, stays valid; the task ends with close()."""
    config = SimulatorConfig(password=PASSWORD, pacing=API_PACING, uid_lifetime=0.5)
    async with run_simulator(config) as sim:
        transport = Transport(sim.host, port=sim.port, username="admin", password=PASSWORD)
        session = RecorderSession(
            transport, Scheduler(API_PACING), uid_lifetime=0.5, keepalive_margin=0.2
        )
        try:
            async with session.lease(UidPurpose.LIVE, channel=1) as lease:
                await asyncio.sleep(2.0)
                assert sim.uids.is_active(lease.uid.value)
                pings = len(sim.journal.by_cgi(Cgi.STATUS))
                assert 4 <= pings <= 9  # about one per 0.3 s of idleness
                assert session.keepalives_sent == pings
        finally:
            await session.close()
            await transport.close()
        assert session._keepalive_task is not None
        assert session._keepalive_task.done()
        assert sim.uids.active_count() == 0
        assert sim.journal.violations == []


async def test_failed_keepalive_does_not_stop_the_others(
    fake_clock_sim: tuple[RunningSimulator, FakeClock],
    socket_enabled: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each due UID gets its try; after a failure the next round waits a tenth of the
    lifetime, so an unreachable recorder is not hammered."""
    sim, clock = fake_clock_sim
    transport = Transport(sim.host, port=sim.port, username="admin", password=PASSWORD)
    session = RecorderSession(
        transport,
        Scheduler(PacingPolicy(command_interval=0.002, camera_control_interval=0.001)),
        clock=clock,
        auto_keepalive=False,
    )
    try:
        await session.ensure_command_uid()
        live = await session.acquire(UidPurpose.LIVE, channel=1)
        clock.advance(61.0)
        sim.faults.busy = True
        assert await session.send_due_keepalives() == 0
        assert len(sim.journal.by_cgi(Cgi.STATUS)) == 2  # both were tried
        assert "Keep-alive of a live UID failed" in caplog.text
        assert session._next_keepalive_in() == pytest.approx(9.0)
        sim.faults.clear()
        clock.advance(9.0)
        assert await session.send_due_keepalives() == 2
        assert session.keep_alive_due() == []
        await session.release(live)
    finally:
        await session.close()
        await transport.close()
    assert sim.uids.active_count() == 0


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):  # a guard against a hang, not a timing
        while not condition():  # noqa: ASYNC110 - polling the simulator's state
            await asyncio.sleep(0.02)


async def test_spare_uid_saves_the_stream_its_login(simulator: RunningSimulator) -> None:
    """A spare playback UID is logged in ahead: the lease finds it (no login of its own),
    it stays after the lease for the next one, and is logged out once idle."""
    journal = simulator.journal
    async with client_for(simulator, uid_budget=3) as client:
        client.prepare_uid(UidPurpose.PLAYBACK, idle=0.5)
        client.prepare_uid(UidPurpose.PLAYBACK, idle=0.5)  # one spare is enough
        session = client._session
        await _until(lambda: [u.purpose for u in session.usage()] == [UidPurpose.PLAYBACK])
        async with client.lease(UidPurpose.PLAYBACK, channel=2) as first:
            spare = first.uid
        async with client.lease(UidPurpose.PLAYBACK, channel=2) as second:
            assert second.uid == spare  # still there for the next clip
        assert len(journal.by_cgi(Cgi.LOGIN)) == 1
        assert session.spares_used == 2
        await _until(lambda: not client.uids_in_use)
        assert simulator.uids.active_count() == 0
        assert journal.by_cgi(Cgi.STATUS) == []  # no keep-alive spent on it
    assert journal.violations == []


@pytest.mark.parametrize("logged_in", [True, False], ids=["spare-ready", "spare-logging-in"])
async def test_spare_uid_makes_room_for_another_purpose(
    simulator: RunningSimulator, logged_in: bool
) -> None:
    """The budget is full with an idle spare (logged in, or its login still under way):
    a live stream logs the spare out first instead of failing; a spare is never logged
    in beyond the budget."""
    async with client_for(simulator, uid_budget=2) as client:
        await client.validate()  # the command UID
        if not logged_in:
            simulator.faults.slow_response = 2.0  # its answer is on the way meanwhile
            simulator.faults.only = {Cgi.LOGIN}
        client.prepare_uid(UidPurpose.PLAYBACK, idle=30)
        # The spare's login reached the recorder (and, without the fault, was answered).
        await _until(lambda: len(simulator.journal.by_cgi(Cgi.LOGIN)) == 2)
        if logged_in:
            await _until(lambda: simulator.uids.active_count() == 2)
        async with client.lease(UidPurpose.LIVE, channel=1) as live:
            assert simulator.uids.active_count() == 2  # the spare made room
            client.prepare_uid(UidPurpose.PLAYBACK, idle=30)  # no room: nothing sent
            assert live.uid is not None
        assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == 3
    assert simulator.uids.active_count() == 0
    assert simulator.uids.issued_total == simulator.uids.released_total == 3
    assert simulator.journal.violations == []


async def test_close_gives_up_the_logouts_when_the_recorder_is_gone(
    socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The recorder stops with us (connection refused): the first logout fails and the
    others are not tried, each a paced turn later, only to fail the same way."""
    config = SimulatorConfig(password=PASSWORD, pacing=API_PACING, cameras=4)
    async with run_simulator(config) as sim:
        client = client_for(sim)
        await client.validate()
        await client._session.acquire(UidPurpose.LIVE, channel=1)
        await client._session.acquire(UidPurpose.PLAYBACK, channel=1)
        assert client.uids_in_use == 3
    caplog.set_level(logging.DEBUG, logger="custom_components.ipro_nvr.api.session")
    await client.close()
    assert caplog.text.count("not trying the other UIDs") == 1
    assert "3 UID(s) could not be logged out" in caplog.text
    assert client.uids_in_use == 0


async def test_a_stream_raises_a_kept_uids_background_login_and_its_setup(
    simulator: RunningSimulator,
) -> None:
    """A kept UID logs in and sets up in the background, behind requests of its level
    queued before. A stream waiting for it, raised meanwhile (someone waits for the
    picture), raises both its login and its hdrctl: they go ahead of those requests."""
    async with client_for(simulator) as client:
        await client.get_camera_status()  # the lane is busy from here on
        queued = [
            asyncio.create_task(client.get_camera_status(priority=Priority.NORMAL))
            for _ in range(6)
        ]
        await asyncio.sleep(0)
        client.keep_uids(UidPurpose.LIVE, 1)
        await asyncio.sleep(0)
        # A background fetch of a picture: its START waits for the kept UID's login ...
        feed = JpegFeed(client, 1)
        picture = asyncio.create_task(feed.jpeg(wait=20))
        async with asyncio.timeout(20):
            while feed._urgency is None:  # noqa: ASYNC110 - its START is queued
                await asyncio.sleep(0.005)
        # ... when someone starts waiting for it (a tile with no picture).
        feed.hurry()
        assert await picture is not None
        await feed.close()
        await asyncio.gather(*queued)
        order = [entry.cgi for entry in simulator.journal.entries]
    statuses = [i for i, cgi in enumerate(order) if cgi is Cgi.GETINFO]
    logins = [i for i, cgi in enumerate(order) if cgi is Cgi.LOGIN]
    setups = [i for i, cgi in enumerate(order) if cgi is Cgi.HDRCTL]
    starts = [i for i, cgi in enumerate(order) if cgi is Cgi.PUSH]
    # Login, hdrctl and START of the stream went ahead of requests still queued.
    assert logins[0] < setups[0] < starts[0] < statuses[-1]
    assert simulator.journal.violations == []
