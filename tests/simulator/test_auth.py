"""HTTP Digest authentication (RFC 7616) as the simulated recorder enforces it."""

from __future__ import annotations

import base64

import aiohttp

from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator import FakeClock, SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

from .helpers import PASSWORD, USERNAME, challenge_params, digest_header, get, login

GETINFO = "/cgi-bin/as_getinfo.cgi?FILE=2"


async def _challenge(session: aiohttp.ClientSession, target: str = GETINFO) -> dict[str, str]:
    async with session.get(target) as response:
        assert response.status == 401
        return challenge_params(response.headers["WWW-Authenticate"])


async def test_without_credentials_is_challenged_and_not_journaled(
    sim: RunningSimulator, plain: aiohttp.ClientSession
) -> None:
    async with plain.get("/cgi-bin/dlogin.cgi?UID=-1") as response:
        assert response.status == 401
        challenges = response.headers.getall("WWW-Authenticate")
    assert len(challenges) == 1
    params = challenge_params(challenges[0])
    assert params["realm"] == sim.config.realm
    assert params["qop"] == "auth"
    assert params["algorithm"] == "MD5"
    assert params["nonce"]
    assert params["opaque"]
    assert sim.journal.entries == []
    assert sim.uids.issued_total == 0


async def test_wrong_password_is_refused(sim: RunningSimulator) -> None:
    middleware = aiohttp.DigestAuthMiddleware(USERNAME, "not-the-password")
    async with aiohttp.ClientSession(base_url=sim.url, middlewares=(middleware,)) as session:
        status, _ = await get(session, "/cgi-bin/dlogin.cgi?UID=-1")
    assert status == 401
    assert sim.journal.entries == []
    assert sim.uids.issued_total == 0


async def test_wrong_username_is_refused(sim: RunningSimulator) -> None:
    middleware = aiohttp.DigestAuthMiddleware("operator", PASSWORD)
    async with aiohttp.ClientSession(base_url=sim.url, middlewares=(middleware,)) as session:
        status, _ = await get(session, GETINFO)
    assert status == 401


async def test_digest_middleware_authenticates_once_then_preemptively(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    for _ in range(3):
        status, body = await get(client, GETINFO)
        assert status == 200, body
    # One challenge for the first request; the middleware reuses the nonce with nc 2, 3.
    assert sim.simulator.auth.challenges_sent == 1
    assert [entry.cgi for entry in sim.journal.entries] == [Cgi.GETINFO] * 3


async def test_password_change_applies_to_a_running_simulator(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    assert (await get(client, GETINFO))[0] == 200
    sim.config.password = "changed"
    assert (await get(client, GETINFO))[0] == 401


async def test_sha256_is_offered_first_and_md5_still_accepted(socket_enabled: None) -> None:
    config = SimulatorConfig(
        username=USERNAME, password=PASSWORD, digest_algorithms=("SHA-256", "MD5")
    )
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(base_url=sim.url) as plain,
    ):
        async with plain.get(GETINFO) as response:
            challenges = response.headers.getall("WWW-Authenticate")
        assert [challenge_params(c)["algorithm"] for c in challenges] == ["SHA-256", "MD5"]
        # aiohttp's middleware answers the first challenge: SHA-256.
        middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
        async with aiohttp.ClientSession(base_url=sim.url, middlewares=(middleware,)) as session:
            assert (await get(session, GETINFO))[0] == 200
        # A hand-made MD5 answer to the same nonce is accepted too.
        challenge = challenge_params(challenges[1])
        header = digest_header(challenge, uri=GETINFO, algorithm="MD5")
        async with plain.get(GETINFO, headers={"Authorization": header}) as response:
            assert response.status == 200
        header = digest_header(challenge, uri=GETINFO, nc=2, algorithm="SHA-256")
        async with plain.get(GETINFO, headers={"Authorization": header}) as response:
            assert response.status == 200


async def test_expired_nonce_gets_stale_challenge(
    sim: RunningSimulator, plain: aiohttp.ClientSession, clock: FakeClock
) -> None:
    challenge = await _challenge(plain)
    header = digest_header(challenge, uri=GETINFO)
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 200
    clock.advance(sim.config.nonce_lifetime + 1)
    header = digest_header(challenge, uri=GETINFO, nc=2)
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 401
        fresh = challenge_params(response.headers["WWW-Authenticate"])
    assert fresh["stale"] == "true"
    assert fresh["nonce"] != challenge["nonce"]
    assert len(sim.journal.entries) == 1


async def test_expired_nonce_with_wrong_password_is_not_stale(
    sim: RunningSimulator, plain: aiohttp.ClientSession, clock: FakeClock
) -> None:
    challenge = await _challenge(plain)
    clock.advance(sim.config.nonce_lifetime + 1)
    header = digest_header(challenge, uri=GETINFO, password="wrong")
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 401
        assert "stale" not in challenge_params(response.headers["WWW-Authenticate"])


async def test_middleware_recovers_from_a_stale_nonce(
    sim: RunningSimulator, client: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert (await get(client, GETINFO))[0] == 200
    clock.advance(sim.config.nonce_lifetime + 1)
    assert (await get(client, GETINFO))[0] == 200
    assert sim.simulator.auth.stale_challenges_sent == 1
    assert len(sim.journal.entries) == 2


async def test_replayed_nonce_count_uri_mismatch_and_forged_nonce_are_refused(
    sim: RunningSimulator, plain: aiohttp.ClientSession
) -> None:
    challenge = await _challenge(plain)
    header = digest_header(challenge, uri=GETINFO, nc=5)
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 200
    # The same nc again: a replay.
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 401
    # Counts may arrive out of order (concurrent requests), only reuse is refused.
    header = digest_header(challenge, uri=GETINFO, nc=3)
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 200
    # Credentials computed for another URI.
    header = digest_header(challenge, uri="/cgi-bin/recordedtime.cgi", nc=6)
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 401
    # A nonce the simulator never issued.
    forged = {**challenge, "nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    header = digest_header(forged, uri=GETINFO, nc=7)
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 401
    # Another realm.
    header = digest_header(challenge, uri=GETINFO, nc=8, realm="elsewhere")
    async with plain.get(GETINFO, headers={"Authorization": header}) as response:
        assert response.status == 401
    # Basic authentication is not Digest.
    # Built by hand: aiohttp's BasicAuth is deprecated on the newest line.
    auth = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    async with plain.get(GETINFO, headers={"Authorization": auth}) as response:
        assert response.status == 401
    assert len(sim.journal.entries) == 2


async def test_unknown_cgi_and_wrong_method(
    sim: RunningSimulator, client: aiohttp.ClientSession, plain: aiohttp.ClientSession
) -> None:
    assert (await get(client, "/cgi-bin/nosuch.cgi"))[0] == 404
    assert (await get(client, "/"))[0] == 404
    async with client.post("/cgi-bin/as_getinfo.cgi?FILE=2") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET"
    async with client.head("/cgi-bin/as_getinfo.cgi?FILE=2") as response:
        assert response.status == 405
    # Neither reached a CGI, so neither is in the journal.
    assert sim.journal.entries == []
    async with plain.get("/cgi-bin/nosuch.cgi") as response:
        assert response.status == 401


async def test_uid_of_a_session_is_not_a_credential(
    client: aiohttp.ClientSession, plain: aiohttp.ClientSession
) -> None:
    uid = await login(client)
    async with plain.get(f"/cgi-bin/status.cgi?UID={uid}&PC=AS60") as response:
        assert response.status == 401
