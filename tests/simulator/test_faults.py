"""Fault switches: how the simulated recorder misbehaves on request."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import aiohttp
import pytest

from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.faults import MALFORMED_BODY
from nvr_simulator.server import RunningSimulator

from .helpers import PASSWORD, USERNAME, get, login

GETINFO = "/cgi-bin/as_getinfo.cgi?FILE=2"


async def test_drop_connection(
    sim: RunningSimulator, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp retries an idempotent request once when the server disconnects, so a
    # client only sees the drop when two requests in a row are dropped.
    sim.faults.drop_connection = True
    sim.faults.count = 2
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await get(client, GETINFO)
    # Dropped requests reached the recorder: both attempts are journaled.
    assert [e.cgi for e in sim.journal.entries] == [Cgi.GETINFO, Cgi.GETINFO]
    assert sim.faults.applied == 2
    # The count is used up: the next request is answered normally.
    assert (await get(client, GETINFO))[0] == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_single_drop_is_retried_by_aiohttp(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    sim.faults.drop_connection = True
    sim.faults.count = 1
    assert (await get(client, GETINFO))[0] == 200
    assert len(sim.journal.entries) == 2


async def test_malformed_body(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    sim.faults.malformed_body = True
    async with client.get("/cgi-bin/dlogin.cgi?UID=-1") as response:
        assert response.status == 200
        body = await response.read()
    assert body == MALFORMED_BODY
    assert b"UID=" not in body.replace(b"\r\nUID\r\n", b"")
    # The command itself did not run.
    assert sim.uids.issued_total == 0
    status, text = await get(client, GETINFO)
    assert status == 200
    assert "CAM_CONNECT_01CH" not in text


async def test_busy(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    sim.faults.busy = True
    status, body = await get(client, "/cgi-bin/dlogin.cgi?UID=-1")
    assert status == 503
    assert body.startswith("503 Service Unavailable")
    assert sim.uids.issued_total == 0


async def test_only_and_count_scope_the_faults(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    uid = await login(client)
    sim.faults.busy = True
    sim.faults.only = {Cgi.LOGLIST, Cgi.STATUS}
    sim.faults.count = 2
    loglist = f"/cgi-bin/loglist.cgi?UID={uid}&KIND=ERR&HTML=as_errorlog.html"
    assert (await get(client, GETINFO))[0] == 200  # not in scope, does not use up count
    assert (await get(client, loglist))[0] == 503
    assert (await get(client, f"/cgi-bin/status.cgi?UID={uid}&PC=AS60"))[0] == 503
    assert (await get(client, loglist))[0] == 200  # count used up
    assert sim.faults.count == 0
    assert sim.faults.applied == 2
    sim.faults.clear()
    assert not sim.faults.armed
    assert sim.faults.only is None


async def test_slow_response(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    sim.faults.slow_response = 0.3
    started = time.monotonic()
    status, body = await get(client, GETINFO)
    elapsed = time.monotonic() - started
    assert status == 200
    assert body.startswith("<HTML>\r\nCAM_CONNECT_01CH=")
    assert elapsed >= 0.3


async def test_slow_response_with_client_timeout_does_not_delay_shutdown(
    config: SimulatorConfig, socket_enabled: None
) -> None:
    started = time.monotonic()
    async with run_simulator(config) as sim:
        sim.faults.slow_response = 30.0
        middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
        timeout = aiohttp.ClientTimeout(total=0.2)
        async with aiohttp.ClientSession(
            base_url=sim.url, middlewares=(middleware,), timeout=timeout
        ) as client:
            with pytest.raises(asyncio.TimeoutError):
                await get(client, GETINFO)
    # The simulator closed at once although a handler was still waiting.
    assert time.monotonic() - started < 1.5


async def test_close_cuts_a_slow_response_short(
    config: SimulatorConfig, socket_enabled: None
) -> None:
    async with run_simulator(config) as sim:
        sim.faults.slow_response = 30.0
        middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
        async with aiohttp.ClientSession(base_url=sim.url, middlewares=(middleware,)) as client:
            pending = asyncio.ensure_future(get(client, GETINFO))
            await asyncio.sleep(0.1)  # the request is now waiting in the simulator
            assert len(sim.journal.entries) == 1
            started = time.monotonic()
            sim.simulator.close()  # what leaving run_simulator does first
            async with asyncio.timeout(5):
                status, _ = await pending
            assert status == 200  # the wait ended early and the answer went out
            assert time.monotonic() - started < 1.0


async def test_expire_uids(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    uids = [await login(client), await login(client)]
    assert sim.faults.expire_uids() == 2
    for uid in uids:
        assert (await get(client, f"/cgi-bin/status.cgi?UID={uid}&PC=AS60"))[0] == 403
    assert sim.uids.active() == []


async def test_log_list_cut_and_renumbered(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    """``log_list_cut`` lists fewer entries than it declares; the offset renumbers them."""
    uid = await login(client)
    url = f"/cgi-bin/loglist.cgi?UID={uid}&KIND=ERR&HTML=as_errorlog.html"
    total = len(sim.simulator.errors)
    sim.faults.log_list_cut = 2
    sim.faults.log_number_offset = 40
    status, text = await get(client, url)
    assert status == 200
    flat = "".join(text.split("\r\n")[2:])
    assert f"ERROR_LOG_NO={total}" in text
    assert flat.count('","') == 2 * 5 - 1
    assert flat.startswith('ERROR_LOG="041",')
    assert '"042"' in flat
    sim.faults.clear()
    _, text = await get(client, url)
    assert "".join(text.split("\r\n")[2:]).count('","') == total * 5 - 1


async def test_drop_mid_response_sends_half_the_promised_body(
    sim: RunningSimulator, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    sim.faults.drop_mid_response = True
    sim.faults.count = 1  # a broken body is not resent by aiohttp
    with pytest.raises(aiohttp.ClientPayloadError):
        await get(client, "/cgi-bin/dlogin.cgi?UID=-1")
    # The command ran (a UID was issued), only its answer was lost.
    assert sim.uids.issued_total >= 1
    assert (await get(client, GETINFO))[0] == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_truncated_body_is_a_complete_answer_cut_short(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    whole = (await get(client, GETINFO))[1]
    sim.faults.truncate_body = 0.25
    status, text = await get(client, GETINFO)
    assert status == 200
    assert text == whole[: len(whole.encode()) // 4]
    assert "</HTML>" not in text


async def test_refused_connections_then_accepted_on_the_same_port(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    assert (await get(client, GETINFO))[0] == 200
    await sim.refuse_connections()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(client, GETINFO)
    await sim.accept_connections()
    assert (await get(client, GETINFO))[0] == 200


async def test_reboot_forgets_sessions_renumbers_and_says_power_on(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    await login(client)
    sim.uids.hold_for_others(2)
    before = sim.config.wall_clock()
    sim.simulator.reboot(clock_jump=-dt.timedelta(hours=1), renumber=7)
    assert sim.uids.active_count() == 0
    assert sim.faults.log_number_offset == 7
    assert sim.config.wall_clock() < before
    assert sim.simulator.errors.entries[-1].text == "POWER ON"
