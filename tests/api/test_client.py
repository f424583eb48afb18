"""NvrClient against the simulator: status, disks, logs, pacing, priorities, diagnostics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import json
import threading
from zoneinfo import ZoneInfo

import pytest

from custom_components.ipro_nvr.api import (
    ChannelState,
    InvalidArgumentError,
    LogKind,
    LogList,
    NvrClient,
    Priority,
    UidPurpose,
    client as client_module,
    urls,
)
from custom_components.ipro_nvr.api.spec import CGI_LANE, Cgi, Lane
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator
from tests.conftest import assert_paced, record_sends

from .conftest import API_PACING, client_for


async def test_validate_logs_in_and_reads_camera_status(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """validate(): one as_getinfo, then one login (gated by its session counts)."""
    status = await client.validate()
    assert status.registered == tuple(range(1, 9))
    assert status.channels[4] is ChannelState.CONNECTION_ERROR
    assert status.channels[9] is ChannelState.NOT_REGISTERED
    assert len(status.channels) == 128
    assert (status.max_uid, status.used_uid) == (16, 0)  # read before the login
    assert [entry.cgi for entry in simulator.journal.entries] == [Cgi.GETINFO, Cgi.LOGIN]
    assert client.uids_in_use == 1


async def test_logs_come_oldest_first_with_real_instants(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """New entries are read back at the instant they happened, in time order."""
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    simulator.simulator.add_event("SITE(VMD)-3", when)
    simulator.simulator.add_error("MAIN-2 HDD ERROR", when - timedelta(seconds=1))
    events = await client.get_event_log()
    errors = await client.get_error_log(priority=Priority.BACKGROUND)
    assert events.kind is LogKind.EVENT
    assert errors.kind is LogKind.ERROR
    assert events.declared_count == len(events.entries) == len(simulator.simulator.events)
    assert events.latest is not None
    assert (events.latest.text, events.latest.time) == ("SITE(VMD)-3", when)
    assert events.latest.utc_offset == timedelta(hours=9)
    assert errors.entries[-1].text == "MAIN-2 HDD ERROR"
    for log in (events, errors):
        times = [entry.time for entry in log.entries]
        assert times == sorted(times)
    # One UID served both lists; the event log is listed newest first on the wire.
    uids = {entry.uid for entry in simulator.journal.by_cgi(Cgi.LOGLIST)}
    assert len(uids) == 1
    assert simulator.journal.violations == []


@pytest.mark.parametrize("summer_time", [False, True])
async def test_disk_times_use_the_zone_learned_from_the_logs(
    sim_config: SimulatorConfig, simulator: RunningSimulator, summer_time: bool
) -> None:
    """recordedtime has no zone: before a log was read the default tz is used, after it
    the log's GMT offset and summer flag; then the disks' times are exact instants."""
    sim_config.summer_time = summer_time
    # The newest log entry is written with the flag in force now.
    simulator.simulator.add_error("POWER ON")
    expected = simulator.simulator.disks[1].oldest  # MAIN-2: a fixed time
    assert expected is not None
    async with client_for(simulator, default_tz=ZoneInfo("UTC")) as client:
        before = await client.get_disks()
        assert before.disks[1].oldest != expected
        await client.get_error_log()
        assert client.recorder_zone == timedelta(hours=9)
        assert client.recorder_summer_time is summer_time
        after = await client.get_disks()
    assert after.disks[1].slot == "MAIN-2"
    assert after.disks[1].oldest == expected
    assert after.disks[0].flags == ("R",)
    assert after.total_capacity_gb == 4001 + 4001 + 2000 + 4001


async def test_burst_of_mixed_calls_keeps_every_pacing_rule(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Polls and camera controls fired together: every lane spaced by its interval."""
    await client.validate()  # Digest challenge and UID in place
    sends = record_sends(client)
    simulator.journal.clear()
    controls = [
        urls.focus(1, "FAR"),
        urls.iris(2, "OPEN"),
        urls.pan_tilt_zoom(1, pan=5, tilt=-3),
        urls.pan_tilt_zoom(1, pan=0, tilt=0, zoom=0),
        urls.go_to_preset(3, 4),
        urls.store_preset(3, 5),
        urls.center_on(2, 16, 16),
        urls.aux(1, 2, "OPEN"),
    ]
    calls = [client.send(control) for control in controls]
    calls += [client.get_camera_status(priority=Priority.BACKGROUND) for _ in range(2)]
    calls += [client.get_disks(priority=Priority.BACKGROUND), client.get_event_log()]
    calls += [client.get_error_log(priority=Priority.BACKGROUND)]
    results = await asyncio.gather(*calls)
    assert len(results) == len(calls)

    entries = simulator.journal.entries
    assert len(entries) == len(calls) == len(sends.requests)
    # On the client's own turns (arrivals carry the shared event loop's jitter):
    # no gap below interval plus margin in either lane.
    for lane in (Lane.COMMAND, Lane.CAMERA_CONTROL):
        assert_paced(sends, lane, API_PACING)
    # The doubled CTRL arrived intact, and the camera moved.
    assert "CMD=FOCUS&CTRL=FAR&CTRL=START&PC=AS60" in simulator.journal.queries(Cgi.CAMCTL)[0]
    assert simulator.simulator.ptz_state(1).focus == "FAR"
    # Camera control did not wait for the command lane: it started before the second command.
    assert min(sends.turns[Lane.CAMERA_CONTROL]) < sorted(sends.turns[Lane.COMMAND])[1]


async def test_user_request_overtakes_queued_polls(
    simulator: RunningSimulator, client: NvrClient
) -> None:
    """Polls queued first, a user's request after them: the recorder sees the user's second."""
    polls = []
    for _ in range(3):
        polls.append(asyncio.create_task(client.get_disks(priority=Priority.BACKGROUND)))
        await asyncio.sleep(0)
    user = asyncio.create_task(client.get_camera_status(priority=Priority.USER))
    await asyncio.gather(*polls, user)
    assert [entry.cgi for entry in simulator.journal.entries] == [
        Cgi.RECORDEDTIME,
        Cgi.GETINFO,
        Cgi.RECORDEDTIME,
        Cgi.RECORDEDTIME,
    ]


async def test_invalid_arguments_send_nothing(simulator: RunningSimulator) -> None:
    """Bad arguments fail before any request: the recorder's journal stays empty."""
    with pytest.raises(InvalidArgumentError):
        client_for(simulator, uid_budget=17)
    with pytest.raises(InvalidArgumentError):
        client_for(simulator, port=0)
    with pytest.raises(InvalidArgumentError):
        NvrClient("http://192.0.2.1", username="u", password="p")
    async with client_for(simulator) as client:
        with pytest.raises(InvalidArgumentError):
            await client.send(urls.pan_tilt_zoom(1, pan=17))
        with pytest.raises(InvalidArgumentError):
            async with client.lease(UidPurpose.LIVE, channel=0):
                pass
        with pytest.raises(InvalidArgumentError):
            async with client.lease(UidPurpose.COMMAND, channel=1):
                pass
        assert client.uids_in_use == 0
    assert simulator.journal.entries == []


async def test_diagnostics_hold_no_secrets(simulator: RunningSimulator, client: NvrClient) -> None:
    """Queues, counts and ages, but no UID, password or host."""
    await client.validate()
    async with client.lease(UidPurpose.LIVE, channel=2):
        diagnostics = client.diagnostics()
    text = json.dumps(diagnostics)
    assert simulator.config.password not in text
    assert "127.0.0.1" not in text
    for entry in simulator.journal.entries:
        if entry.uid is not None and entry.uid != "-1":
            assert entry.uid not in text
    session = diagnostics["session"]
    assert session["uids_in_use"] == 2
    assert sorted(uid["purpose"] for uid in session["uids"]) == ["command", "live"]
    assert set(diagnostics["scheduler"]) == {lane.value for lane in Lane}
    assert diagnostics["scheduler"]["command"]["started"] >= 3


def test_base_url_and_default_ports() -> None:
    """Port empty: 80 for HTTP, 443 for HTTPS; IPv6 hosts are bracketed."""
    assert NvrClient("192.0.2.1", username="u", password="p").base_url == "http://192.0.2.1"
    secure = NvrClient("nvr.local", username="u", password="p", use_https=True)
    assert secure.base_url == "https://nvr.local"
    assert NvrClient("::1", username="u", password="p", port=8080).base_url == "http://[::1]:8080"


def test_every_cgi_has_a_lane() -> None:
    """The spec module gives each CGI a lane (the scheduler relies on it)."""
    assert set(CGI_LANE) == set(Cgi)


async def test_a_log_list_beyond_any_real_size_is_parsed_off_the_event_loop(
    simulator: RunningSimulator, client: NvrClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A normal log list is parsed in the loop; one over ``INLINE_PARSE_LIMIT`` (here
    5000 entries, ~300 kB) in a worker thread, with the same result."""
    parsed_in: list[bool] = []
    real_parse = client_module.parse_log_list

    def spy(body: bytes, *, kind: LogKind | None = None) -> LogList:
        parsed_in.append(threading.current_thread() is threading.main_thread())
        return real_parse(body, kind=kind)

    monkeypatch.setattr(client_module, "parse_log_list", spy)
    await client.get_event_log()
    simulator.config.log_capacity = 5000
    simulator.simulator.events.capacity = 5000
    base = datetime(2030, 1, 1, tzinfo=UTC)
    for i in range(5000):
        simulator.simulator.add_event(f"SITE(VMD)-{i % 8 + 1}", base + timedelta(seconds=i))
    events = await client.get_event_log()
    assert len(events.entries) == events.declared_count == 5000
    assert events.latest is not None
    assert events.latest.time == base + timedelta(seconds=4999)
    assert parsed_in == [True, False]
