"""HTTPS with the self-signed certificate generated at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
import ipaddress
from pathlib import Path
import ssl
import tempfile

import aiohttp
from cryptography import x509
import pytest

from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator
from nvr_simulator.tls import generate_self_signed

from .helpers import PASSWORD, USERNAME, get, login


@pytest.fixture
async def tls_sim(socket_enabled: None) -> AsyncIterator[RunningSimulator]:
    """A simulator serving HTTPS."""
    config = SimulatorConfig(username=USERNAME, password=PASSWORD, https=True)
    async with run_simulator(config) as running:
        yield running


async def test_https_with_the_generated_certificate(tls_sim: RunningSimulator) -> None:
    assert tls_sim.url == f"https://127.0.0.1:{tls_sim.port}"
    assert tls_sim.https
    middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
    connector = aiohttp.TCPConnector(ssl=tls_sim.client_ssl_context() or True)
    async with aiohttp.ClientSession(
        base_url=tls_sim.url, middlewares=(middleware,), connector=connector
    ) as client:
        uid = await login(client)
        status, body = await get(client, f"/cgi-bin/status.cgi?UID={uid}&PC=AS60")
    assert (status, body) == (200, "<HTML>\r\n</HTML>\r\n")


async def test_untrusted_certificate_is_refused_by_a_verifying_client(
    tls_sim: RunningSimulator,
) -> None:
    async with aiohttp.ClientSession(base_url=tls_sim.url) as client:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2")
    # A client that does not verify (verify_ssl off) gets through.
    middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
    async with aiohttp.ClientSession(
        base_url=tls_sim.url,
        middlewares=(middleware,),
        connector=aiohttp.TCPConnector(ssl=False),
    ) as client:
        assert (await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2"))[0] == 200


async def test_plain_http_to_the_https_port_fails(tls_sim: RunningSimulator) -> None:
    async with aiohttp.ClientSession() as client:
        with pytest.raises(aiohttp.ClientError):
            await get(client, f"http://127.0.0.1:{tls_sim.port}/cgi-bin/as_getinfo.cgi?FILE=2")


async def test_certificate_names(tls_sim: RunningSimulator) -> None:
    assert tls_sim.certificate_pem is not None
    certificate = x509.load_pem_x509_certificate(tls_sim.certificate_pem)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert certificate.issuer == certificate.subject


def test_server_context_leaves_no_key_on_disk() -> None:
    before = set(Path(tempfile.gettempdir()).glob("nvr-simulator-tls-*"))
    context = generate_self_signed().server_context()
    assert isinstance(context, ssl.SSLContext)
    assert set(Path(tempfile.gettempdir()).glob("nvr-simulator-tls-*")) == before


async def test_dropped_connection_over_https(tls_sim: RunningSimulator) -> None:
    tls_sim.faults.drop_connection = True
    middleware = aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD)
    connector = aiohttp.TCPConnector(ssl=tls_sim.client_ssl_context() or True)
    async with aiohttp.ClientSession(
        base_url=tls_sim.url, middlewares=(middleware,), connector=connector
    ) as client:
        with pytest.raises(aiohttp.ClientError):
            await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2")
