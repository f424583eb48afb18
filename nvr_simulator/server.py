"""Run a simulated recorder on a loopback port for the length of an ``async with``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
import ssl
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.log import access_logger

from .app import SIMULATOR_KEY, create_app
from .config import SimulatorConfig
from .tls import generate_self_signed

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .faults import Faults
    from .pacing import PacingJournal
    from .simulator import Simulator
    from .uids import UidTable

# In-flight handlers get this long to finish at shutdown. Waits inside the
# simulator end as soon as it closes, so this only bounds a misbehaving handler.
SHUTDOWN_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    """A simulator serving on ``url``; its state is ``simulator``."""

    host: str
    port: int
    url: str  # e.g. "http://127.0.0.1:54321", no trailing slash
    simulator: Simulator
    # PEM of the self-signed certificate when serving HTTPS, else None.
    certificate_pem: bytes | None = None
    _listener: _Listener | None = field(default=None, repr=False, compare=False)

    async def refuse_connections(self) -> None:
        """Stop listening and close every open connection: connecting is then refused
        (ECONNREFUSED), as when the recorder is switched off or unplugged."""
        if self._listener is not None:
            await self._listener.stop()

    async def accept_connections(self) -> None:
        """Listen again on the same address (after :meth:`refuse_connections`)."""
        if self._listener is not None:
            await self._listener.start()

    @property
    def config(self) -> SimulatorConfig:
        """The simulator's (live) configuration."""
        return self.simulator.config

    @property
    def journal(self) -> PacingJournal:
        """The pacing journal of every authenticated request."""
        return self.simulator.journal

    @property
    def faults(self) -> Faults:
        """The fault switches."""
        return self.simulator.faults

    @property
    def uids(self) -> UidTable:
        """The UID table."""
        return self.simulator.uids

    @property
    def https(self) -> bool:
        """Whether this simulator serves HTTPS."""
        return self.certificate_pem is not None

    def client_ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context trusting exactly this simulator's certificate (None for HTTP)."""
        if self.certificate_pem is None:
            return None
        return ssl.create_default_context(cadata=self.certificate_pem.decode("ascii"))

    def cgi_url(self, cgi: str, query: str = "") -> str:
        """Return the URL of ``cgi`` (e.g. ``Cgi.GETINFO``) with an optional raw query."""
        return f"{self.url}/cgi-bin/{cgi}" + (f"?{query}" if query else "")


class _Listener:
    """The listening socket of a running simulator, which tests may close and reopen."""

    def __init__(
        self, runner: web.AppRunner, host: str, port: int, ssl_context: ssl.SSLContext | None
    ) -> None:
        self._runner = runner
        self._host = host
        self.port = port
        self._ssl_context = ssl_context
        self._site: web.TCPSite | None = None

    async def start(self) -> None:
        if self._site is not None:
            return
        self._site = web.TCPSite(self._runner, self._host, self.port, ssl_context=self._ssl_context)
        await self._site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._site is None:
            return
        site, self._site = self._site, None
        await site.stop()
        server = self._runner.server
        for handler in server.connections if server is not None else []:
            if handler.transport is not None:
                handler.transport.abort()


@contextlib.asynccontextmanager
async def run_simulator(
    config: SimulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_requests: bool = False,
) -> AsyncIterator[RunningSimulator]:
    """Serve a new simulated recorder on ``host``:``port`` (0: an ephemeral port).

    On exit the server stops, open connections close, waiting handlers end and
    no task or timer is left behind. ``log_requests`` logs every request on the
    ``aiohttp.access`` logger.
    """
    config = config if config is not None else SimulatorConfig()
    app = create_app(config)
    certificate = generate_self_signed() if config.https else None
    ssl_context = certificate.server_context() if certificate is not None else None
    runner = web.AppRunner(
        app,
        access_log=access_logger if log_requests else None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    try:
        listener = _Listener(runner, host, port, ssl_context)
        await listener.start()
        bound_port = listener.port
        scheme = "https" if certificate is not None else "http"
        url_host = f"[{host}]" if ":" in host else host
        yield RunningSimulator(
            host=host,
            port=bound_port,
            url=f"{scheme}://{url_host}:{bound_port}",
            simulator=app[SIMULATOR_KEY],
            certificate_pem=certificate.certificate_pem if certificate is not None else None,
            _listener=listener,
        )
    finally:
        # Wake waiting handlers first so the runner's graceful wait is short.
        app[SIMULATOR_KEY].close()
        await runner.cleanup()
        await app[SIMULATOR_KEY].live_udp.wait_closed()
