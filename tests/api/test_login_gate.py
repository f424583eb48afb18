"""The login gate: no login while the recorder's sessions are all in use (spec 1.3).

A login beyond the recorder's maximum evicts another client's UID; the client
reads the sessions in use from every status answer (``as_getinfo FILE=2``) and
refuses to log in, with :class:`RecorderFullError`, while none is free.
"""

from __future__ import annotations

import asyncio

import pytest

from custom_components.ipro_nvr.api import NvrClient, RecorderFullError, UidPurpose
from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """A 16-session recorder with 14 sessions taken by other clients."""
    sim_config.max_uids = 16
    sim_config.other_clients = 14
    return sim_config


def _logins(simulator: RunningSimulator) -> int:
    return len(simulator.journal.by_cgi(Cgi.LOGIN))


async def test_no_login_into_a_full_recorder(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Two UIDs fit; the third is refused without a login, and nobody is evicted."""
    others = simulator.uids.others()
    status = await client.get_camera_status()
    assert (status.used_uid, status.max_uid) == (14, 16)
    await client.get_event_log()  # the command UID: 15
    async with client.lease(UidPurpose.LIVE, channel=1):  # 16
        assert not client.recorder_full
        logins = _logins(simulator)
        with pytest.raises(RecorderFullError):
            async with client.lease(UidPurpose.PLAYBACK, channel=1):
                pass
        assert _logins(simulator) == logins
        assert client.recorder_full
        assert client.uids_in_use == 2
    assert simulator.uids.others() == others
    assert simulator.uids.evicted_total == 0


async def test_own_logouts_count_without_a_new_status(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """The counts are corrected by the client's own logins and logouts since the answer."""
    await client.get_camera_status()  # 14 of 16, read once
    async with client.lease(UidPurpose.LIVE, channel=1):
        async with client.lease(UidPurpose.PLAYBACK, channel=1):
            with pytest.raises(RecorderFullError):
                await client.get_event_log()
        # The playback UID was logged out: room for the command UID, no status needed.
        polls = len(simulator.journal.by_cgi(Cgi.GETINFO))
        await client.get_event_log()
        assert len(simulator.journal.by_cgi(Cgi.GETINFO)) == polls
    assert simulator.uids.active_count() == 15
    assert simulator.uids.evicted_total == 0


async def test_waiting_stream_starts_when_a_status_shows_room(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """A lease that may wait gets its UID once a status answer shows a free session."""
    await client.get_camera_status()
    await client.get_event_log()
    started = asyncio.Event()
    done = asyncio.Event()

    async def playback() -> None:
        async with client.lease(UidPurpose.PLAYBACK, channel=1, wait=60):
            started.set()
            await done.wait()

    async with client.lease(UidPurpose.LIVE, channel=1):
        waiting = asyncio.create_task(playback())
        await client.get_disks()  # a turn for the waiting lease to be refused first
        assert not started.is_set()
        assert client.recorder_full
        simulator.uids.release_others(1)
        await client.get_camera_status()  # 15 of 16 now
        await started.wait()
        assert not client.recorder_full
        assert client.uids_in_use == 3
        done.set()
        await waiting
    assert simulator.uids.evicted_total == 0
    assert len(simulator.uids.others()) == 13


async def test_evicted_uid_is_not_renewed_into_a_full_recorder(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Another client's login evicted our UID from a full recorder: it holds our place,
    so the re-login is refused instead of evicting someone else in turn."""
    simulator.uids.release_others(14)
    await client.get_event_log()  # our command UID, the oldest issued
    simulator.uids.hold_for_others(15)
    status = await client.get_camera_status()
    assert (status.used_uid, status.max_uid) == (16, 16)
    simulator.uids.hold_for_others(1)  # the 17th login evicts ours
    others = simulator.uids.others()
    assert len(others) == 16
    logins = len(simulator.journal.by_cgi(Cgi.LOGIN))
    with pytest.raises(RecorderFullError):
        await client.get_event_log()  # refused UID: no re-login into a full recorder
    assert len(simulator.journal.by_cgi(Cgi.LOGIN)) == logins
    assert simulator.uids.others() == others
    assert client.uids_in_use == 0
