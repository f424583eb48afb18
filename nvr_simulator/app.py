"""The aiohttp application of a simulated recorder."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from custom_components.ipro_nvr.api.spec import CGI_PREFIX, Cgi

from .auth import AuthOutcome
from .config import SimulatorConfig
from .responses import error_response
from .simulator import Simulator

__all__ = ["SIMULATOR_KEY", "Simulator", "create_app"]

SIMULATOR_KEY = web.AppKey("simulator", Simulator)

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _digest_auth(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Answer 401 with a challenge unless the request carries valid Digest credentials.

    Every path is protected, unknown ones included (a 404 is only for those who
    may know), and a rejected request never reaches a handler or the journal.
    """
    simulator = request.app[SIMULATOR_KEY]
    result = simulator.auth.check(
        request.method, request.raw_path, request.headers.get("Authorization")
    )
    if result.outcome is AuthOutcome.OK:
        return await handler(request)
    response = error_response(401, "authentication required")
    for challenge in simulator.auth.challenges(stale=result.outcome is AuthOutcome.STALE):
        response.headers.add("WWW-Authenticate", challenge)
    return response


def _route(cgi: Cgi) -> _Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await request.app[SIMULATOR_KEY].handle(cgi, request)

    return handle


async def _on_shutdown(app: web.Application) -> None:
    app[SIMULATOR_KEY].close()


def create_app(config: SimulatorConfig | None = None) -> web.Application:
    """Return the application of a new simulated recorder configured by ``config``."""
    simulator = Simulator(config if config is not None else SimulatorConfig())
    app = web.Application(middlewares=[_digest_auth])
    app[SIMULATOR_KEY] = simulator
    for cgi in Cgi:
        # GET only: HEAD and every other method answer 405 (after authentication).
        app.router.add_get(f"{CGI_PREFIX}{cgi.value}", _route(cgi), allow_head=False)
    app.on_shutdown.append(_on_shutdown)
    return app
