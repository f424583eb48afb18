"""Text answers in the spec's exact formats (chapter 5): camera states, disks, logs."""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest

from custom_components.ipro_nvr.api.spec import LOG_CAPACITY
from nvr_simulator import FakeWallClock, SimulatorConfig, run_simulator
from nvr_simulator.disks import DiskSlot
from nvr_simulator.server import RunningSimulator

from .conftest import WALL_START
from .helpers import PASSWORD, USERNAME, get, login, split_log_fields

ERR_LIST = "KIND=ERR&HTML=as_errorlog.html"
EVENT_LIST = "KIND=EVENT&HTML=as_eventlog.html"


async def _log(client: aiohttp.ClientSession, uid: str, kind_query: str) -> str:
    async with client.get(f"/cgi-bin/loglist.cgi?UID={uid}&{kind_query}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html"
        return (await response.read()).decode("ascii")


def _utc(local_text: str, hours: int = 9) -> dt.datetime:
    """The UTC time of a recorder-local ``YYYY/MM/DD HH:MM:SS`` in zone GMT+hours."""
    local = dt.datetime.strptime(local_text, "%Y/%m/%d %H:%M:%S")  # noqa: DTZ007 - recorder-local
    return (local - dt.timedelta(hours=hours)).replace(tzinfo=dt.UTC)


# -- as_getinfo.cgi (5.3.1) ---------------------------------------------------


async def test_camera_connection_info_default(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    async with client.get("/cgi-bin/as_getinfo.cgi?FILE=2") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html"
        assert response.headers["Cache-Control"] == "no-cache"
        body = (await response.read()).decode("ascii")
    assert body.endswith("\r\n")
    assert "\n" not in body.replace("\r\n", "")
    lines = body.split("\r\n")[:-1]
    # 8 cameras, channel 4 in connection error by default, 128 channels in all.
    expected = ["<HTML>"]
    expected += [f"CAM_CONNECT_{ch:02d}CH={2 if ch == 4 else 1}" for ch in range(1, 9)]
    expected += [f"CAM_CONNECT_{ch:02d}CH=0" for ch in range(9, 129)]
    expected += ["MAXUID=16", "USEDUID=0", "</HTML>"]
    assert lines == expected
    assert "CAM_CONNECT_09CH=0" in lines
    assert "CAM_CONNECT_99CH=0" in lines
    assert "CAM_CONNECT_100CH=0" in lines
    assert lines[-4] == "CAM_CONNECT_128CH=0"


async def test_camera_states_follow_config_and_live_changes(
    config: SimulatorConfig, socket_enabled: None
) -> None:
    config.cameras = 3
    config.max_channels = 32
    config.channel_states = {2: 2, 7: 1}
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(
            base_url=sim.url, middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),)
        ) as client,
    ):
        await login(client)
        body = (await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2"))[1]
        lines = body.split("\r\n")
        states = [line.split("=")[1] for line in lines if line.startswith("CAM_CONNECT_")]
        assert states == ["1", "2", "1", "0", "0", "0", "1"] + ["0"] * 25
        assert "USEDUID=1" in lines
        sim.simulator.channel_states[1] = 2
        body = (await get(client, "/cgi-bin/as_getinfo.cgi?FILE=2"))[1]
        assert "\r\nCAM_CONNECT_01CH=2\r\n" in body


async def test_camera_connection_info_needs_file_2(client: aiohttp.ClientSession) -> None:
    assert (await get(client, "/cgi-bin/as_getinfo.cgi"))[0] == 400
    assert (await get(client, "/cgi-bin/as_getinfo.cgi?FILE=1"))[0] == 400


# -- recordedtime.cgi (5.2.1) -------------------------------------------------

EMPTY_SLOTS = [f"MAIN-{n},,,,,,,," for n in range(5, 10)] + [
    f"EXT{unit}-{n},,,,,,,," for unit in range(1, 6) for n in range(1, 10)
]


async def test_recorded_time_default(sim: RunningSimulator, client: aiohttp.ClientSession) -> None:
    async with client.get("/cgi-bin/recordedtime.cgi") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain"
        body = (await response.read()).decode("ascii")
    # The wall clock reads 2024-04-24 03:30:00 UTC = 12:30:00 at GMT+09:00.
    assert body.split("\r\n") == [
        "Recording information",
        "",
        "Disk,Capacity,Remain capacity,Recorded time range",
        "MAIN-1,4001GB(R),1529GB,2024/03/15,0,10:00:00,2024/04/24,0,12:30:00",
        "MAIN-2,4001GB,12GB,2024/01/20,0,05:30:00,2024/03/15,0,09:58:56",
        "MAIN-3,2000GB,1811GB,2024/04/21,0,07:18:00,2024/04/24,0,12:30:00",
        "MAIN-4,4001GB,3710GB,,,,,,",
        *EMPTY_SLOTS,
        "",
    ]
    assert all(len(line.split(",")) == 9 for line in body.split("\r\n")[3:-1])


async def test_recorded_time_follows_the_clock_summer_time_and_disks(
    sim: RunningSimulator, client: aiohttp.ClientSession, wall_clock: FakeWallClock
) -> None:
    wall_clock.advance(3600 + 42)
    sim.config.summer_time = True
    sim.simulator.disks[3] = DiskSlot(
        "MAIN-4",
        capacity_gb=8002,
        remain_gb=0,
        oldest=dt.datetime(2023, 12, 31, 15, 0, 5, tzinfo=dt.UTC),
        newest=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    sim.simulator.disks[8].capacity_gb = 1000  # MAIN-9: installed, no recording yet
    lines = (await get(client, "/cgi-bin/recordedtime.cgi"))[1].split("\r\n")
    assert lines[3] == "MAIN-1,4001GB(R),1529GB,2024/03/15,1,11:00:00,2024/04/24,1,14:30:42"
    assert lines[6] == "MAIN-4,8002GB,0GB,2024/01/01,1,01:00:05,2024/01/02,1,13:04:05"
    assert lines[11] == "MAIN-9,1000GB,,,,,,,"


# -- loglist.cgi (5.1) --------------------------------------------------------


async def test_log_lists_reproduce_the_spec_examples(
    config: SimulatorConfig, socket_enabled: None
) -> None:
    config.log_wrap_width = 0
    config.utc_offset = dt.timedelta(hours=3)
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(
            base_url=sim.url, middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),)
        ) as client,
    ):
        sim.simulator.errors.clear()
        sim.simulator.events.clear()
        sim.simulator.add_error("CAM 3 COMMUNICATION RECOVERED", _utc("2021/11/14 14:48:00", 3))
        sim.simulator.add_error("CAM 3 COMMUNICATION ERROR", _utc("2021/11/14 14:10:00", 3))
        sim.simulator.add_event("SITE(VMD)-1", _utc("2024/04/24 11:45:00", 3))
        sim.simulator.add_event("SITE(VMD)-2", _utc("2024/04/24 12:30:00", 3))
        uid = await login(client)
        errors = await _log(client, uid, ERR_LIST)
        events = await _log(client, uid, EVENT_LIST)
    assert errors == (
        "FILENAME=as_errorlog.html\r\n"
        "ERROR_LOG_NO=2\r\n"
        'ERROR_LOG="001","2021/11/14 14:10:00","0","CAM 3 COMMUNICATION ERROR","GMT+03:00",'
        '"002","2021/11/14 14:48:00","0","CAM 3 COMMUNICATION RECOVERED","GMT+03:00"\r\n'
        "\r\n"
    )
    # The event log lists the newest first.
    assert events == (
        "FILENAME=as_eventlog.html\r\n"
        "EVENT_LOG_NO=2\r\n"
        'EVENT_LOG="001","2024/04/24 12:30:00","0","SITE(VMD)-2","GMT+03:00",'
        '"002","2024/04/24 11:45:00","0","SITE(VMD)-1","GMT+03:00"\r\n'
        "\r\n"
    )


async def test_long_log_lists_wrap_even_inside_fields(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    uid = await login(client)
    body = await _log(client, uid, EVENT_LIST)
    lines = body.split("\r\n")
    assert lines[0] == "FILENAME=as_eventlog.html"
    count = int(lines[1].removeprefix("EVENT_LOG_NO="))
    assert count == len(sim.simulator.events) > 20
    assert lines[2].startswith('EVENT_LOG="001","')
    assert lines[-2:] == ["", ""]  # the list ends with an empty line
    list_lines = lines[2:-2]
    assert len(list_lines) > 10
    assert all(len(line) == 100 for line in list_lines[:-1])
    # Some breaks fall inside a quoted field, as in the spec's example.
    assert any(line.count('"') % 2 == 1 for line in list_lines)
    fields = split_log_fields(body, "EVENT_LOG")
    assert len(fields) == 5 * count
    entries = [fields[i : i + 5] for i in range(0, len(fields), 5)]
    assert [entry[0] for entry in entries] == [f"{n:03d}" for n in range(1, count + 1)]
    times = [dt.datetime.strptime(e[1], "%Y/%m/%d %H:%M:%S") for e in entries]  # noqa: DTZ007 - local
    assert times == sorted(times, reverse=True)
    assert {entry[2] for entry in entries} == {"0"}
    assert {entry[4] for entry in entries} == {"GMT+09:00"}
    known = ("SITE(VMD)-", "SITE(ALARM)-", "TRM(ALARM)-", "COM(ALARM)-")
    assert all(entry[3].startswith(known) for entry in entries)


async def test_error_log_is_oldest_first_and_agrees_with_camera_states(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    uid = await login(client)
    body = await _log(client, uid, ERR_LIST)
    fields = split_log_fields(body, "ERROR_LOG")
    entries = [fields[i : i + 5] for i in range(0, len(fields), 5)]
    assert body.startswith(f"FILENAME=as_errorlog.html\r\nERROR_LOG_NO={len(entries)}\r\n")
    times = [dt.datetime.strptime(e[1], "%Y/%m/%d %H:%M:%S") for e in entries]  # noqa: DTZ007 - local
    assert times == sorted(times)
    texts = [entry[3] for entry in entries]
    assert texts[0] == "POWER ON"
    # Camera 4 is in connection error: its last log line is an unrecovered error.
    camera_4 = [text for text in texts if text.startswith("CAM 4 ")]
    assert camera_4[-1] == "CAM 4 COMMUNICATION ERROR"
    assert any(text.endswith("COMMUNICATION RECOVERED") for text in texts)


async def test_log_lists_hold_at_most_1000_entries(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    sim.simulator.events.clear()
    sim.simulator.errors.clear()
    start = WALL_START - dt.timedelta(days=1)
    for n in range(1, 1101):
        sim.simulator.add_event(f"SITE(VMD)-{n % 8 + 1}", start + dt.timedelta(seconds=n))
        sim.simulator.add_error(
            f"CAM {n % 8 + 1} COMMUNICATION ERROR", start + dt.timedelta(seconds=n)
        )
    uid = await login(client)
    for kind_query, prefix in ((EVENT_LIST, "EVENT_LOG"), (ERR_LIST, "ERROR_LOG")):
        body = await _log(client, uid, kind_query)
        assert f"\r\n{prefix}_NO={LOG_CAPACITY}\r\n" in body
        fields = split_log_fields(body, prefix)
        assert len(fields) == 5 * LOG_CAPACITY
        numbers = fields[0::5]
        assert numbers[0] == "001"
        assert numbers[-1] == "1000"
        times = fields[1::5]
        # The 1000 newest survive: the last added is 2024/04/23 12:48:20 local.
        newest, oldest = "2024/04/23 12:48:20", "2024/04/23 12:31:41"
        if prefix == "EVENT_LOG":
            assert (times[0], times[-1]) == (newest, oldest)
        else:
            assert (times[0], times[-1]) == (oldest, newest)


async def test_log_list_parameters_are_checked(client: aiohttp.ClientSession) -> None:
    uid = await login(client)
    base = f"/cgi-bin/loglist.cgi?UID={uid}"
    assert (await get(client, f"{base}&KIND=ALL&HTML=as_errorlog.html"))[0] == 400
    assert (await get(client, f"{base}&KIND=ERR&HTML=as_eventlog.html"))[0] == 400
    assert (await get(client, f"{base}&KIND=EVENT"))[0] == 400
    assert (await get(client, f"{base}&{EVENT_LIST}"))[0] == 200


async def test_event_log_grows_with_the_wall_clock(
    config: SimulatorConfig, wall_clock: FakeWallClock, socket_enabled: None
) -> None:
    config.event_interval = 20.0
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(
            base_url=sim.url, middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),)
        ) as client,
    ):
        before = len(sim.simulator.events)
        uid = await login(client)
        wall_clock.advance(65)
        body = await _log(client, uid, EVENT_LIST)
    fields = split_log_fields(body, "EVENT_LOG")
    assert int(body.split("\r\n")[1].removeprefix("EVENT_LOG_NO=")) == before + 3
    # Newest first: start + 60 s, + 40 s, + 20 s (12:30:00 local at start).
    assert fields[1::5][:3] == ["2024/04/24 12:31:00", "2024/04/24 12:30:40", "2024/04/24 12:30:20"]


async def test_history_is_deterministic_per_seed(
    config: SimulatorConfig, socket_enabled: None
) -> None:
    async with run_simulator(config) as first, run_simulator(config) as second:
        assert first.simulator.events.entries == second.simulator.events.entries
        assert first.simulator.errors.entries == second.simulator.errors.entries
        # ...but two simulators do not share state.
        first.simulator.add_event("TRM(ALARM)-1")
        assert len(first.simulator.events) == len(second.simulator.events) + 1
        assert first.port != second.port
    config.seed = 2
    async with run_simulator(config) as third:
        assert third.simulator.events.entries != first.simulator.events.entries


async def test_add_event_defaults_to_now_and_summer_flag(
    sim: RunningSimulator, client: aiohttp.ClientSession
) -> None:
    sim.config.summer_time = True
    entry = sim.simulator.add_event("COM(ALARM)-5")
    assert entry.time == WALL_START
    uid = await login(client)
    fields = split_log_fields(await _log(client, uid, EVENT_LIST), "EVENT_LOG")
    assert fields[:5] == ["001", "2024/04/24 13:30:00", "1", "COM(ALARM)-5", "GMT+09:00"]
    with pytest.raises(ValueError, match="timezone-aware"):
        sim.simulator.add_error("POWER ON", dt.datetime(2024, 1, 1))  # noqa: DTZ001


async def test_negative_zone_label(config: SimulatorConfig, socket_enabled: None) -> None:
    config.utc_offset = -dt.timedelta(hours=3, minutes=30)
    async with (
        run_simulator(config) as sim,
        aiohttp.ClientSession(
            base_url=sim.url, middlewares=(aiohttp.DigestAuthMiddleware(USERNAME, PASSWORD),)
        ) as client,
    ):
        sim.simulator.add_error("HDD 2 ERROR")
        uid = await login(client)
        fields = split_log_fields(await _log(client, uid, ERR_LIST), "ERROR_LOG")
    number = f"{len(fields) // 5:03d}"
    assert fields[-5:] == [number, "2024/04/24 00:00:00", "0", "HDD 2 ERROR", "GMT-03:30"]
