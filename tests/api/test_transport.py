"""HTTP(S), Digest authentication, TLS, timeouts and the mapping of failures to errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
import logging
import socket
import ssl

import aiohttp
import pytest

from custom_components.ipro_nvr.api import (
    AuthenticationError,
    CannotConnectError,
    MalformedResponseError,
    NotSupportedError,
    NvrClient,
    NvrError,
    NvrTimeoutError,
    RecorderBusyError,
    UidError,
    urls,
)
from custom_components.ipro_nvr.api.spec import Cgi, Lane
from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

from .conftest import API_PACING, PASSWORD, client_for


@pytest.fixture
async def https_simulator() -> AsyncIterator[RunningSimulator]:
    """A simulator serving HTTPS with a fresh self-signed certificate."""
    config = SimulatorConfig(password=PASSWORD, pacing=API_PACING, cameras=8, https=True)
    async with run_simulator(config) as running:
        yield running


async def test_wrong_password_is_an_authentication_error(simulator: RunningSimulator) -> None:
    """401 after the Digest exchange: AuthenticationError, nothing reaches a handler."""
    async with client_for(simulator, password="wrong") as client:
        with pytest.raises(AuthenticationError):
            await client.validate()
        with pytest.raises(AuthenticationError):
            await client.get_camera_status()
        assert client.uids_in_use == 0
    assert simulator.journal.entries == []
    assert simulator.uids.active_count() == 0


async def test_https_with_the_certificate_trusted(https_simulator: RunningSimulator) -> None:
    """Verification on, the simulator's self-signed certificate as the only CA."""
    assert https_simulator.certificate_pem is not None
    context = ssl.create_default_context(cadata=https_simulator.certificate_pem.decode())
    async with client_for(https_simulator, ssl_context=context) as client:
        assert client.base_url.startswith("https://")
        status = await client.validate()
        assert status.registered == tuple(range(1, 9))
    assert https_simulator.uids.active_count() == 0


async def test_https_without_verification(https_simulator: RunningSimulator) -> None:
    """verify_ssl=False accepts the recorder's self-signed certificate."""
    async with client_for(https_simulator, verify_ssl=False) as client:
        log = await client.get_event_log()
        assert log.entries
    assert https_simulator.uids.active_count() == 0


async def test_untrusted_certificate_cannot_connect(https_simulator: RunningSimulator) -> None:
    """Verification on and the certificate unknown: CannotConnectError, no UID issued."""
    async with client_for(https_simulator, verify_ssl=True) as client:
        with pytest.raises(CannotConnectError, match="certificate"):
            await client.validate()
    assert https_simulator.uids.issued_total == 0


async def test_plain_http_to_an_https_recorder_cannot_connect(
    https_simulator: RunningSimulator,
) -> None:
    """Speaking HTTP to a TLS port is a connection problem, not a crash."""
    async with client_for(https_simulator, use_https=False) as client:
        with pytest.raises(CannotConnectError):
            await client.get_camera_status()


async def test_slow_answer_is_a_timeout(simulator: RunningSimulator) -> None:
    """No answer within the request timeout: NvrTimeoutError (a CannotConnectError)."""
    simulator.faults.slow_response = 2.0
    async with client_for(simulator, request_timeout=0.2) as client:
        with pytest.raises(NvrTimeoutError):
            await client.get_camera_status()
        simulator.faults.clear()
        # The client is still usable afterwards.
        assert (await client.get_camera_status()).registered


async def test_busy_recorder(simulator: RunningSimulator, client: NvrClient) -> None:
    """503 is RecorderBusyError, also on a UID command, and causes no re-login."""
    await client.validate()
    simulator.faults.busy = True
    with pytest.raises(RecorderBusyError):
        await client.get_camera_status()
    with pytest.raises(RecorderBusyError):
        await client.get_error_log()
    assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == 1
    simulator.faults.clear()


async def test_malformed_body_without_uid(simulator: RunningSimulator, client: NvrClient) -> None:
    """A garbage 200 to as_getinfo: MalformedResponseError with a printable snippet."""
    simulator.faults.malformed_body = True
    simulator.faults.only = {Cgi.GETINFO}
    with pytest.raises(MalformedResponseError) as caught:
        await client.get_camera_status()
    assert "simulated garbage" in caught.value.snippet
    assert caught.value.snippet.isprintable()
    assert len(caught.value.snippet) <= 200


async def test_dropped_connection(simulator: RunningSimulator, client: NvrClient) -> None:
    """The recorder closes the connection without answering: CannotConnectError.

    A dropped request goes once more on its next paced turn (never at once, as
    aiohttp's own resend would), so the error comes when the second try drops too.
    """
    simulator.faults.drop_connection = True
    with pytest.raises(CannotConnectError):
        await client.get_disks()
    assert len(simulator.journal.by_cgi(Cgi.RECORDEDTIME)) == 2
    assert [v for v in simulator.journal.violations if v.entry.lane is Lane.COMMAND] == []
    simulator.faults.clear()
    assert (await client.get_disks()).disks


async def test_nobody_listening() -> None:
    """A closed port: CannotConnectError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with NvrClient(
        "127.0.0.1", port=port, username="u", password="p", pacing=API_PACING
    ) as client:
        with pytest.raises(CannotConnectError):
            await client.validate()


async def test_cgi_the_recorder_does_not_offer(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """501 without a UID: NotSupportedError; with a UID the refusal is a UidError (after
    one re-login and one retry, since the spec defines no error answer)."""
    simulator.simulator.unregister(Cgi.GETINFO)
    with pytest.raises(NotSupportedError):
        await client.get_camera_status()
    simulator.simulator.unregister(Cgi.HDRCTL)
    with pytest.raises(UidError) as caught:
        await client.send(urls.live_setup())
    assert caught.value.status == 501
    assert len(simulator.journal.by_cgi(Cgi.HDRCTL)) == 2
    assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == 2


async def test_bad_request_on_a_uid_command(simulator: RunningSimulator, client: NvrClient) -> None:
    """A camera that is not registered (400): re-login once, retry once, then UidError."""
    with pytest.raises(UidError) as caught:
        await client.send(urls.pan_tilt_zoom(99, pan=1))
    assert caught.value.status == 400
    assert len(simulator.journal.by_cgi(Cgi.DIRECTCTRL)) == 2


async def test_shared_session_is_left_open(simulator: RunningSimulator) -> None:
    """A caller's ClientSession (Home Assistant's) is used, and not closed by the client."""
    async with aiohttp.ClientSession() as shared:
        async with client_for(simulator, session=shared) as client:
            await client.validate()
        assert not shared.closed
        assert client.diagnostics()["transport"]["own_session"] is False
    assert simulator.uids.active_count() == 0


async def test_streaming_request(simulator: RunningSimulator, client: NvrClient) -> None:
    """A response read incrementally; a refused UID is renewed before streaming."""
    async with client.stream(urls.recorded_time()) as response:
        first = await response.content.readline()
        assert first.startswith(b"Recording information")
    assert response.closed
    await client.validate()
    simulator.faults.expire_uids()
    async with client.stream(urls.error_log()) as response:
        assert (await response.read()).startswith(b"FILENAME=as_errorlog.html")
    assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == 2


async def test_no_secret_in_logs_or_errors(
    simulator: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Password, UIDs and Digest nonces never reach a log line or an error message."""
    nonces: list[str] = []
    authenticator = simulator.simulator.auth
    original = authenticator.challenges

    def recording(*, stale: bool = False) -> list[str]:
        values = original(stale=stale)
        nonces.extend(value.split('nonce="')[1].split('"')[0] for value in values)
        return values

    authenticator.challenges = recording  # type: ignore[method-assign]
    messages: list[str] = []
    caplog.set_level(logging.DEBUG)
    async with client_for(simulator) as client:
        await client.validate()
        await client.get_event_log()
        simulator.faults.expire_uids()  # forces a re-login
        await client.get_error_log()
        for fault in ("malformed_body", "busy", "drop_connection"):
            setattr(simulator.faults, fault, True)
            # Three: a refused UID's re-login reads the sessions in use first.
            simulator.faults.count = 3
            try:
                await client.get_error_log()
            except NvrError as err:
                messages.append(str(err))
            simulator.faults.clear()
        simulator.simulator.unregister(Cgi.CAMCTL)
        try:
            await client.send(urls.focus(1, "FAR"))
        except NvrError as err:
            messages.append(str(err))
    assert len(messages) == 4
    uids = {entry.uid for entry in simulator.journal.entries if entry.uid not in (None, "-1")}
    assert len(uids) >= 3
    secrets = {simulator.config.password, *uids, *nonces}
    assert nonces
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert ours  # something was logged, with UIDs masked
    for text in [*ours, *messages]:
        for secret in secrets:
            assert secret not in text
