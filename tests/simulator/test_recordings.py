"""``httpdl.cgi`` of the simulator (spec 6.3), read over HTTP with a plain Digest session.

The simulator runs on the fake wall clock of ``conftest`` (2024-04-24 12:30
local); its disks' ranges come from ``recordedtime.cgi``'s defaults.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import aiohttp
import av
import pytest

from custom_components.ipro_nvr.api.media import MultipartReader, Part
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator

from .conftest import WALL_START
from .helpers import get, login

LOCAL = dt.timezone(dt.timedelta(hours=9))  # the simulator's default utc_offset
NOW_LOCAL = WALL_START.astimezone(LOCAL).replace(tzinfo=None)  # 2024-04-24 12:30:00


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%y%m%d%H%M%S")


def _target(
    uid: str,
    start: dt.datetime,
    minutes: float = 1,
    *,
    kind: str = "MP4",
    cam: int = 1,
    end: dt.datetime | None = None,
) -> str:
    end = start + dt.timedelta(minutes=minutes) if end is None else end
    return (
        f"/cgi-bin/httpdl.cgi?UID={uid}&STARTTIME={_stamp(start)}&ENDTIME={_stamp(end)}"
        f"&KIND={kind}&CAM={cam}&PC=AS60"
    )


async def _parts(session: aiohttp.ClientSession, target: str) -> list[Part]:
    async with session.get(target) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("multipart/")
        reader = MultipartReader()
        parts = reader.feed(await response.read())
        assert reader.stats.closed
        assert reader.stats.garbage_bytes == 0
        return parts


def _names(part: Part) -> tuple[str | None, str | None, str | None]:
    return (
        part.header("X-Temp-FileName"),
        part.header("X-Prev-Filename"),
        part.header("X-RecData-Satus"),
    )


@pytest.fixture
def config(config: SimulatorConfig) -> SimulatorConfig:
    """Small parts and a split every minute, so that short downloads show both."""
    config.download_part_bytes = 1_000_000
    config.download_split_minutes = 1
    return config


@pytest.fixture
async def uid(client: aiohttp.ClientSession) -> str:
    """A UID of the test's session."""
    return await login(client)


async def test_split_download_follows_the_spec_sequence(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    start = NOW_LOCAL - dt.timedelta(hours=2)
    parts = await _parts(client, _target(uid, start, 2))
    stem = f"001_{_stamp(start)}"
    first, second = (f"{stem}_{n}000_7f_00_01" for n in (1, 2))
    heads = [_names(part) for part in parts]
    # 2.7 MB per minute in parts of 1 MB: three parts per file, then the final part.
    assert heads == [
        (f'filename = "{first}.tmp"', 'filename = ""', "0"),
        (f'filename = "{first}.tmp"', 'filename = ""', "0"),
        (f'filename = "{first}.tmp"', 'filename = ""', "0"),
        (f'filename = "{second}.tmp"', f'filename = "{first}.mp4"', "0"),
        (f'filename = "{second}.tmp"', 'filename = ""', "0"),
        (f'filename = "{second}.tmp"', 'filename = ""', "0"),
        ('filename = ""', f'filename = "{second}.mp4"', "0"),
    ]
    assert parts[-1].body == b""
    for data in (b"".join(p.body for p in parts[:3]), b"".join(p.body for p in parts[3:6])):
        with av.open(io.BytesIO(data)) as container:
            assert [s.type for s in container.streams] == ["video", "audio"]
            assert sum(1 for _ in container.decode(video=0)) == 600
    assert sim.journal.violations == []


async def test_same_request_same_bytes_from_the_cache(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    start = NOW_LOCAL - dt.timedelta(minutes=30)
    target = _target(uid, start, 1, kind="MP4VO")
    first = [p.body for p in await _parts(client, target)]
    second = [p.body for p in await _parts(client, target)]
    assert first == second
    assert sim.simulator.recordings.generated == 1


async def test_n3_and_list_are_opaque_blobs(client: aiohttp.ClientSession, uid: str) -> None:
    start = NOW_LOCAL - dt.timedelta(minutes=30)
    for kind, extension in (("N3", "n3r"), ("N3VO", "n3r"), ("LIST", "n3n")):
        parts = await _parts(client, _target(uid, start, 1, kind=kind))
        assert parts[-1].header("X-Prev-Filename") == (
            f'filename = "001_{_stamp(start)}_1000_7f_00_01.{extension}"'
        )
        assert parts[0].body.startswith(f"N3SIM {kind} CH1 ".encode())


async def test_statuses_follow_the_recorded_range(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    # The oldest recording (MAIN-2) as recordedtime.cgi reports it.
    status, body = await get(client, "/cgi-bin/recordedtime.cgi")
    assert status == 200
    line = next(line for line in body.splitlines() if line.startswith("MAIN-2,"))
    fields = line.split(",")
    oldest = dt.datetime.strptime(f"{fields[3]} {fields[5]}", "%Y/%m/%d %H:%M:%S")  # noqa: DTZ007
    before = oldest.replace(second=0) - dt.timedelta(minutes=1)

    async def status_of(target: str) -> str | None:
        (part,) = await _parts(client, target)
        assert part.body == b""
        assert part.header("X-Temp-FileName") == part.header("X-Prev-Filename") == 'filename = ""'
        return part.header("X-RecData-Satus")

    assert await status_of(_target(uid, before, 1)) == "1"
    parts = await _parts(client, _target(uid, before, 3))  # overlaps the range: served
    assert parts[-1].header("X-RecData-Satus") == "0"
    future = NOW_LOCAL + dt.timedelta(minutes=5)
    assert await status_of(_target(uid, future, 1)) == "1"
    # Camera 4 is in connection error: no recording.
    assert await status_of(_target(uid, NOW_LOCAL - dt.timedelta(hours=1), cam=4)) == "1"
    sim.config.recording_codecs[2] = "JPEG"
    assert await status_of(_target(uid, NOW_LOCAL - dt.timedelta(hours=1), cam=2)) == "2"
    parts = await _parts(client, _target(uid, NOW_LOCAL - dt.timedelta(hours=1), cam=2, kind="N3"))
    assert parts[-1].header("X-RecData-Satus") == "0"
    sim.config.download_max_concurrent = 0
    assert await status_of(_target(uid, NOW_LOCAL - dt.timedelta(hours=1))) == "3"


async def test_concurrent_downloads_are_limited(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    sim.config.download_max_concurrent = 1
    start = NOW_LOCAL - dt.timedelta(hours=3)
    # 27 MB: more than the socket buffers hold while nobody reads.
    async with client.get(_target(uid, start, 10, kind="MP4VO")) as held:
        assert held.status == 200
        await held.content.readexactly(1000)
        assert sim.simulator.recordings.active == 1
        (part,) = await _parts(client, _target(uid, start, 1))
        assert part.header("X-RecData-Satus") == "3"
    for _ in range(100):
        if sim.simulator.recordings.active == 0:
            break
        await asyncio.sleep(0.01)
    assert sim.simulator.recordings.active == 0
    (*_, last) = await _parts(client, _target(uid, start, 1))
    assert last.header("X-RecData-Satus") == "0"


@pytest.mark.parametrize(
    ("query_start", "query_end", "extra"),
    [
        ("240424110030", "240424110100", ""),  # seconds must be 00
        ("240424110000", "240424120100", ""),  # more than one hour
        ("240424110000", "240424110000", ""),  # end not after start
        ("240424110000", "240424100000", ""),
        ("2404241100", "240424110100", ""),  # not yymmddhhmmss
        ("240424110000", "240424110100", "KIND"),
        ("240424110000", "240424110100", "CAM"),
        ("240424110000", "240424110100", "PC"),
    ],
)
async def test_bad_requests_answer_400(
    client: aiohttp.ClientSession, uid: str, query_start: str, query_end: str, extra: str
) -> None:
    kind = "MP5" if extra == "KIND" else "MP4"
    cam = "9" if extra == "CAM" else "1"  # 8 cameras registered
    pc = "AS61" if extra == "PC" else "AS60"
    target = (
        f"/cgi-bin/httpdl.cgi?UID={uid}&STARTTIME={query_start}&ENDTIME={query_end}"
        f"&KIND={kind}&CAM={cam}&PC={pc}"
    )
    status, _ = await get(client, target)
    assert status == 400


async def test_unknown_uid_is_refused(client: aiohttp.ClientSession) -> None:
    status, _ = await get(client, _target("12345", NOW_LOCAL - dt.timedelta(hours=1)))
    assert status == 403


async def test_drop_fault_cuts_the_body_mid_file(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    sim.simulator.recordings.faults.drop_after_bytes = 500_000
    received = bytearray()

    async def read() -> None:
        async with client.get(_target(uid, NOW_LOCAL - dt.timedelta(hours=1))) as response:
            async for chunk in response.content.iter_any():
                received.extend(chunk)

    with pytest.raises(aiohttp.ClientPayloadError):
        await read()
    assert 500_000 < len(received) < 600_000
    assert sim.simulator.recordings.faults.applied == 1
    assert not sim.simulator.recordings.downloads[-1].completed


async def test_rename_fault_sends_hostile_names(
    sim: RunningSimulator, client: aiohttp.ClientSession, uid: str
) -> None:
    sim.simulator.recordings.faults.rename = lambda name: "../" + name
    parts = await _parts(client, _target(uid, NOW_LOCAL - dt.timedelta(hours=1)))
    temp = parts[0].header("X-Temp-FileName")
    assert temp is not None
    assert temp.startswith('filename = "../001_')
