"""The application, run_simulator and the handler registry."""

from __future__ import annotations

import aiohttp
from aiohttp import web
import pytest

from custom_components.ipro_nvr.api.spec import CGI_LANE, Cgi
from nvr_simulator import SIMULATOR_KEY, Simulator, SimulatorConfig, create_app, run_simulator
from nvr_simulator.context import CgiContext
from nvr_simulator.responses import text_response
from nvr_simulator.server import RunningSimulator

from .helpers import PASSWORD, USERNAME, get, login

NOT_YET = (Cgi.CAMERA, Cgi.PLAYAUDIO)


def test_create_app_routes_every_cgi() -> None:
    app = create_app(SimulatorConfig())
    assert isinstance(app[SIMULATOR_KEY], Simulator)
    paths = {resource.canonical for resource in app.router.resources()}
    assert paths == {f"/cgi-bin/{cgi.value}" for cgi in Cgi}
    assert set(CGI_LANE) == set(Cgi)


async def test_later_cgis_answer_501_but_are_authenticated_and_journaled(
    sim: RunningSimulator, client: aiohttp.ClientSession, plain: aiohttp.ClientSession
) -> None:
    uid = await login(client)
    for cgi in NOT_YET:  # every CGI is simulated now: take two away
        sim.simulator.unregister(cgi)
    for cgi in NOT_YET:
        status, body = await get(client, f"/cgi-bin/{cgi.value}?UID={uid}")
        assert status == 501
        assert cgi.value in body
        assert (await get(plain, f"/cgi-bin/{cgi.value}?UID={uid}"))[0] == 401
    assert [e.cgi for e in sim.journal.entries] == [Cgi.LOGIN, *NOT_YET]


async def test_register_plugs_in_a_handler(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    seen: list[CgiContext] = []

    async def hdrctl(ctx: CgiContext) -> web.StreamResponse:
        seen.append(ctx)
        return text_response("ok")

    sim.simulator.register(Cgi.HDRCTL, hdrctl)
    assert (await get(client, "/cgi-bin/hdrctl.cgi?UID=1&SCREEN=16X&PC=AS60"))[0] == 403
    uid = await login(client)
    assert await get(client, f"/cgi-bin/hdrctl.cgi?UID={uid}&SCREEN=16X&PC=AS60") == (200, "ok")
    assert [(c.cgi, c.uid, c.query.get("SCREEN")) for c in seen] == [(Cgi.HDRCTL, uid, "16X")]
    sim.simulator.unregister(Cgi.HDRCTL)
    assert (await get(client, f"/cgi-bin/hdrctl.cgi?UID={uid}"))[0] == 501


async def test_running_simulator_and_shutdown(
    config: SimulatorConfig, socket_enabled: None
) -> None:
    async with run_simulator(config) as first, run_simulator(config) as second:
        assert first.url == f"http://127.0.0.1:{first.port}"
        assert first.port != second.port
        assert first.config is config
        assert first.journal is first.simulator.journal
        assert first.faults is first.simulator.faults
        assert first.certificate_pem is None
        assert not first.https
        assert first.client_ssl_context() is None
        assert first.cgi_url(Cgi.GETINFO, "FILE=2") == f"{first.url}/cgi-bin/as_getinfo.cgi?FILE=2"
        # One Digest middleware per recorder, as the client keeps one per transport: since
        # aiohttp 3.14 a middleware answers challenges of its first request's origin only.
        to_first = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
        to_second = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
        async with aiohttp.ClientSession() as client:
            login = first.cgi_url(Cgi.LOGIN, "UID=-1")
            async with client.get(login, middlewares=(to_first,)) as response:
                assert response.status == 200
            # The UID belongs to the first recorder only.
            uid = first.uids.active()[0]
            status = second.cgi_url(Cgi.STATUS, f"UID={uid}&PC=AS60")
            async with client.get(status, middlewares=(to_second,)) as response:
                assert response.status == 403
        url = first.url
    assert first.simulator.closing.is_set()
    async with aiohttp.ClientSession() as client:
        with pytest.raises(aiohttp.ClientConnectorError):
            await get(client, f"{url}/cgi-bin/as_getinfo.cgi?FILE=2")
