"""UID issuance, lifetime, cap and release (spec 1.3, 6.1, 6.2)."""

from __future__ import annotations

import re

import aiohttp

from custom_components.ipro_nvr.api.spec import MAX_UIDS, UID_LIFETIME
from nvr_simulator import FakeClock, SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

from .helpers import PASSWORD, USERNAME, get, login


async def _status(client: aiohttp.ClientSession, uid: str) -> int:
    return (await get(client, f"/cgi-bin/status.cgi?UID={uid}&PC=AS60"))[0]


async def _used_uids(client: aiohttp.ClientSession) -> int:
    status, body = await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2")
    assert status == 200
    match = re.search(r"\r\nUSEDUID=(\d+)\r\n", body)
    assert match is not None, body
    return int(match[1])


async def test_login_answer_format(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    async with client.get("/cgi-bin/dlogin.cgi?UID=-1") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html"
        body = await response.read()
    match = re.fullmatch(rb"<HTML>\r\nUID=(\d{1,19})\r\n</HTML>\r\n", body)
    assert match is not None, body
    uid = match[1].decode()
    assert len(uid) == 19  # the default issues the widest UIDs the spec allows
    assert sim.uids.active() == [uid]
    assert sim.uids.issued_total == 1


async def test_uid_width_is_configurable(config: SimulatorConfig, socket_enabled: None) -> None:
    config.uid_digits = 5
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(
            base_url=sim.url, middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),)
        ) as client,
    ):
        uids = {await login(client) for _ in range(20)}
    assert len(uids) == 20
    assert all(re.fullmatch(r"[1-9]\d{4}", uid) for uid in uids)


async def test_login_requires_uid_minus_one(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    assert (await get(client, "/cgi-bin/dlogin.cgi"))[0] == 400
    assert (await get(client, "/cgi-bin/dlogin.cgi?UID=0"))[0] == 400
    assert sim.uids.issued_total == 0


async def test_keep_alive_and_logout(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    uid = await login(client)
    status, body = await get(client, f"/cgi-bin/status.cgi?UID={uid}&PC=AS60")
    assert (status, body) == (200, "<HTML>\r\n</HTML>\r\n")
    assert (await get(client, f"/cgi-bin/status.cgi?UID={uid}"))[0] == 400  # PC=AS60 missing
    assert (await get(client, f"/cgi-bin/logout.cgi?UID={uid}"))[0] == 200
    assert sim.uids.active() == []
    assert sim.uids.released_total == 1
    # A released UID is gone: keep-alive and a second logout answer 403.
    status, body = await get(client, f"/cgi-bin/status.cgi?UID={uid}&PC=AS60")
    assert status == 403
    assert body.startswith("403 Forbidden")
    assert await _status(client, uid) == 403
    assert (await get(client, f"/cgi-bin/logout.cgi?UID={uid}"))[0] == 403


async def test_commands_without_a_valid_uid_answer_403(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    assert (await get(client, "/cgi-bin/status.cgi?PC=AS60"))[0] == 403
    assert (await get(client, "/cgi-bin/status.cgi?UID=12345&PC=AS60"))[0] == 403
    target = "/cgi-bin/loglist.cgi?UID=-1&KIND=ERR&HTML=as_errorlog.html"
    assert (await get(client, target))[0] == 403
    # The UID check comes before the parameters: a bad KIND with a bad UID is 403.
    assert (await get(client, "/cgi-bin/loglist.cgi?UID=1&KIND=XX"))[0] == 403
    # Requests that failed only the UID check still reached the recorder.
    assert len(sim.journal.entries) == 4


async def test_uid_expires_90_s_after_its_last_command(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert sim.config.uid_lifetime == UID_LIFETIME == 90.0
    uid = await login(client)
    clock.advance(89.0)
    assert await _status(client, uid) == 200  # refreshes the lifetime
    clock.advance(89.0)
    assert await _status(client, uid) == 200
    assert sim.uids.is_active(uid)
    clock.advance(90.0)
    assert not sim.uids.is_active(uid)
    assert await _status(client, uid) == 403
    assert sim.uids.expired_total == 1


async def test_uid_free_commands_do_not_refresh_a_uid(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    uid = await login(client)
    clock.advance(60.0)
    # as_getinfo takes no UID: carrying one does not keep it alive.
    assert (await get(client, f"/cgi-bin/as_getinfo.cgi?FILE=2&UID={uid}"))[0] == 200
    clock.advance(31.0)
    assert await _status(client, uid) == 403


async def test_seventeenth_login_evicts_the_oldest(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    uids = []
    for _ in range(MAX_UIDS):
        uids.append(await login(client))
        clock.advance(1.0)
    assert await _used_uids(client) == MAX_UIDS
    # Refreshing the first UID does not save it: eviction goes by issue order.
    assert await _status(client, uids[0]) == 200
    newest = await login(client)
    assert sim.uids.evicted_total == 1
    assert sim.uids.active() == [*uids[1:], newest]
    assert await _status(client, uids[0]) == 403
    assert await _status(client, uids[1]) == 200
    assert await _used_uids(client) == MAX_UIDS


async def test_used_uid_counts_live_uids(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert await _used_uids(client) == 0
    first = await login(client)
    clock.advance(30.0)
    await login(client)
    assert await _used_uids(client) == 2
    assert (await get(client, f"/cgi-bin/logout.cgi?UID={first}"))[0] == 200
    assert await _used_uids(client) == 1
    clock.advance(91.0)
    assert await _used_uids(client) == 0
    assert sim.uids.active_count() == 0


async def test_expire_all(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    uids = [await login(client) for _ in range(3)]
    assert sim.uids.expire_all() == 3
    assert sim.uids.active() == []
    for uid in uids:
        assert await _status(client, uid) == 403
    # New logins still work, with new numbers.
    assert await login(client) not in uids
    assert sim.uids.issued_total == 4


async def test_other_clients_hold_sessions_that_never_expire(
    config: SimulatorConfig, clock: FakeClock, socket_enabled: None
) -> None:
    """``other_clients`` pre-fills sessions kept alive by other clients; a 17th login
    evicts one of them, and ``release_others`` frees them."""
    config.other_clients = 14
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(
            base_url=sim.url, middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),)
        ) as client,
    ):
        others = sim.uids.others()
        assert len(others) == 14
        assert await _used_uids(client) == 14
        clock.advance(10 * UID_LIFETIME)  # their clients keep them alive
        assert sim.uids.others() == others
        ours = [await login(client), await login(client)]
        assert await _used_uids(client) == MAX_UIDS
        assert sim.uids.evicted_total == 0
        await login(client)  # the 17th: the oldest issued, another client's, is evicted
        assert sim.uids.evicted_total == 1
        assert sim.uids.others() == others[1:]
        assert all(sim.uids.is_active(uid) for uid in ours)
        assert sim.uids.release_others(2) == 2
        assert sim.uids.others() == others[1:-2]
        assert await _used_uids(client) == MAX_UIDS - 2
