"""Session manners: the integration never takes the last sessions of a full recorder.

The simulator starts with 14 of its 16 sessions held by other clients (viewers
and apps that keep them alive); a login beyond 16 would evict the oldest, one
of theirs. The integration reads the recorder's sessions in use from its status
poll and logs in only while one is free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
import logging

import aiohttp
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.api import RecorderFullError, UidPurpose, urls
from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import DOMAIN
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator

from .conftest import entry_data

OTHERS = 14
FULL_WARNING = "sessions of the recorder are in use"


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """A 16-session recorder with 14 sessions taken by other clients."""
    sim_config.max_uids = 16
    sim_config.other_clients = OTHERS
    return sim_config


async def _until(condition: Callable[[], bool], hass: HomeAssistant) -> None:
    """Wait for the background work (kept UIDs logging in) to reach ``condition``."""
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110 - polling another component's state
            await asyncio.sleep(0.05)
    await hass.async_block_till_done()


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Everything logged so far: the kept UIDs may log in while the entry sets up."""
    return [*caplog.get_records("setup"), *caplog.get_records("call")]


def _full_warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        1
        for record in _records(caplog)
        if record.levelno == logging.WARNING and FULL_WARNING in record.getMessage()
    )


async def test_full_recorder_evicts_nobody_and_raises_a_repair(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Command UID and one kept live UID fit; the rest waits; the repair comes and goes."""
    others = simulator.uids.others()
    assert len(others) == OTHERS
    runtime = loaded_entry.runtime_data
    client = runtime.client
    # The kept live UIDs log in after the first polls: one fits, the other is refused.
    await _until(lambda: client.recorder_full, hass)
    assert client.uids_in_use == 2  # the command UID and one kept live UID
    assert simulator.uids.active_count() == 16
    assert simulator.uids.others() == others  # nobody evicted
    assert simulator.uids.evicted_total == 0

    # A stream that needs one more UID (camera 1 twice: a UID carries one stream
    # of a camera) is refused without a login.
    logins = simulator.uids.issued_total
    async with (
        client.lease(UidPurpose.LIVE, channel=1),
        client.lease(UidPurpose.LIVE, channel=1) as second,
    ):
        with pytest.raises(RecorderFullError):
            await client.send_on(second, urls.live_setup())
    assert simulator.uids.issued_total == logins
    assert simulator.uids.others() == others
    assert simulator.uids.evicted_total == 0
    assert _full_warnings(caplog) == 1  # said once, not at every refusal

    issue_id = f"{loaded_entry.entry_id}_recorder_full"
    await runtime.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    assert client.recorder_full

    # Two other clients log out: the next status poll sees free sessions.
    assert simulator.uids.release_others(2) == 2
    simulator.journal.clear()
    await runtime.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not client.recorder_full
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    # The kept live UID that was refused logs in now, by itself.
    await _until(lambda: client.uids_in_use == 3, hass)
    assert Cgi.LOGIN in [entry.cgi for entry in simulator.journal.entries]
    async with (
        client.lease(UidPurpose.LIVE, channel=1),
        client.lease(UidPurpose.LIVE, channel=1) as second,
    ):
        await client.send_on(second, urls.live_setup())
    assert simulator.uids.others() == others[:-2]
    assert simulator.uids.evicted_total == 0
    assert _full_warnings(caplog) == 1


async def test_snapshot_degrades_to_the_live_keyframe_until_a_session_is_free(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Camera 1's video runs on the one kept UID that fit; its JPEG stream needs another
    UID, which a full recorder does not get: the snapshot is the video's keyframe, nobody
    is evicted, and the JPEG stream starts by itself once a status poll shows room."""
    others = simulator.uids.others()
    runtime = loaded_entry.runtime_data
    client, relay = runtime.client, runtime.relay
    await _until(lambda: client.recorder_full, hass)
    received = bytearray()

    async def watch(url: str) -> None:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            async for chunk in response.content.iter_any():
                received.extend(chunk)

    viewer = asyncio.create_task(watch(await relay.async_url(1)))
    try:
        await _until(lambda: len(received) > 20_000 or viewer.done(), hass)
        assert not viewer.done()
        logins = simulator.uids.issued_total
        image = await relay.async_snapshot(1, first_wait=1.0)
        assert image is not None
        assert image.startswith(b"\xff\xd8")  # the decoded live keyframe
        assert relay.jpeg_feed(1).failing
        assert relay.jpeg_feed(1).latest_jpeg() is None
        assert simulator.uids.issued_total == logins
        assert simulator.uids.others() == others
        assert _full_warnings(caplog) == 1
        assert not any(
            r.levelno >= logging.WARNING and "Live stream of camera" in r.getMessage()
            for r in _records(caplog)
        )

        simulator.uids.release_others(2)
        await runtime.coordinator.async_refresh()
        await _until(lambda: relay.jpeg_feed(1).latest_jpeg() is not None, hass)
        assert not client.recorder_full
    finally:
        viewer.cancel()
        with suppress(asyncio.CancelledError):
            await viewer
    assert simulator.uids.others() == others[:-2]
    assert simulator.uids.evicted_total == 0


async def test_config_flow_does_not_log_into_a_full_recorder(
    hass: HomeAssistant, simulator: RunningSimulator
) -> None:
    """All 16 sessions taken: the form says the recorder has no free session, and the
    check reads the status (no UID needed) without logging in."""
    simulator.uids.hold_for_others(16 - OTHERS)
    others = simulator.uids.others()
    assert len(others) == 16
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entry_data(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "busy"}
    assert simulator.journal.by_cgi(Cgi.LOGIN) == []
    assert simulator.uids.others() == others
    assert simulator.uids.evicted_total == 0
