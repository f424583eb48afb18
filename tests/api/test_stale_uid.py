"""A UID the recorder no longer knows: the client logs in again, whatever the refusal says.

The spec defines no answer for a stale UID (spec 6.1, 6.2 give only the good ones). The simulator
answers 403 by default; a recorder may also answer 401 with a fresh Digest challenge (a
UID is part of its authorisation), which aiohttp's Digest middleware answers once more
before handing the 401 over. Neither may look like a wrong password: the client logs in
again (that login carries no UID, so a wrong password would show there) and retries.
"""

from __future__ import annotations

import pytest

from custom_components.ipro_nvr.api import AuthenticationError, LogKind, NvrClient
from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator


@pytest.fixture(params=[403, 401], ids=["403", "401"])
def sim_config(sim_config: SimulatorConfig, request: pytest.FixtureRequest) -> SimulatorConfig:
    """The usual test recorder, refusing stale UIDs with 403 or with 401."""
    sim_config.invalid_uid_status = request.param
    return sim_config


async def test_a_stale_uid_means_a_new_login_and_one_retry(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The recorder forgot every UID (a reboot): the next log read logs in again and works."""
    assert (await client.get_event_log()).kind is LogKind.EVENT
    assert simulator.uids.expire_all() == 1
    simulator.journal.clear()
    log = await client.get_event_log()
    assert log.entries
    cgis = [entry.cgi for entry in simulator.journal.entries]
    # A 401 with a challenge is answered once more by the Digest middleware.
    refusals = 2 if simulator.config.invalid_uid_status == 401 else 1
    # Then the sessions in use (someone's logins may have evicted it), a login, the retry.
    assert cgis == [Cgi.LOGLIST] * refusals + [Cgi.GETINFO, Cgi.LOGIN, Cgi.LOGLIST]
    assert client.uids_in_use == 1
    assert simulator.uids.active_count() == 1


async def test_a_stale_uid_and_a_changed_password_is_an_authentication_error(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Stale UID and new password: the new login is refused, and that is what is raised."""
    await client.get_event_log()
    simulator.uids.expire_all()
    simulator.config.password = "changed-on-the-recorder"
    with pytest.raises(AuthenticationError):
        await client.get_event_log()
    # The refusal may have been the password's alone: the UID is kept listed (the
    # login gate counts it) until it is logged out or its lifetime has passed.
    assert client.uids_in_use == 1
    assert simulator.uids.active_count() == 0
