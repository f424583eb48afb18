"""Downloads (``httpdl.cgi``, spec 6.3) through the client, over loopback HTTP to the simulator.

The client is real (no mocks); files are checked by decoding them with PyAV.
The parser's tolerance of header spellings and chunking has property tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import av
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ipro_nvr.api import (
    CodecNotCompatibleError,
    DirectorySink,
    DownloadBusyError,
    DownloadedFile,
    DownloadInterruptedError,
    DownloadKind,
    InvalidArgumentError,
    MalformedResponseError,
    NoRecordingError,
    NvrClient,
    sanitize_file_name,
)
from custom_components.ipro_nvr.api.download import (
    DownloadParser,
    FileData,
    FileFinished,
    FileStarted,
    parse_file_name,
)
from custom_components.ipro_nvr.api.spec import Cgi
from nvr_simulator import SimulatorConfig
from nvr_simulator.server import RunningSimulator

from .conftest import client_for

RECORDER_ZONE = dt.timezone(dt.timedelta(hours=9))  # the simulator's default utc_offset
FPS = 10


@pytest.fixture
async def nvr(simulator: RunningSimulator) -> AsyncIterator[NvrClient]:
    """A client that reads recorder times in the simulator's zone."""
    async with client_for(simulator, default_tz=RECORDER_ZONE) as client:
        yield client


def _minutes_ago(minutes: int) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=minutes)


def _local_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(RECORDER_ZONE).strftime("%y%m%d%H%M%S")


def _decode(path: Path) -> tuple[int, float, list[str]]:
    """Frames decoded, video duration in seconds, and the stream types."""
    with av.open(str(path)) as container:
        kinds = [stream.type for stream in container.streams]
        video = container.streams.video[0]
        frames = list(container.decode(video))
        last = frames[-1]
        assert last.time is not None
        return len(frames), last.time + 1 / FPS, kinds


def _leftovers(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


async def _no_uids(simulator: RunningSimulator, nvr: NvrClient) -> None:
    for _ in range(100):
        if nvr.uids_in_use == 0 and not simulator.uids.active():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("a UID was left behind")


# -- downloads that work ------------------------------------------------------------


async def test_mp4_download_decodes_with_the_right_duration(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    start = _minutes_ago(30)
    files = await nvr.download(
        1, start, start + dt.timedelta(minutes=1), sink=DirectorySink(tmp_path)
    )
    assert [f.name for f in files] == [f"001_{_local_stamp(start)}_1000_7f_00_01.mp4"]
    (file,) = files
    assert file.path == tmp_path / file.name
    assert file.size == file.path.stat().st_size > 0
    frames, duration, kinds = _decode(file.path)
    assert frames == 60 * FPS
    assert duration == pytest.approx(60.0, abs=1 / FPS)
    assert kinds == ["video", "audio"]
    assert _leftovers(tmp_path) == [file.name]
    query = simulator.journal.queries(Cgi.HTTPDL)[0]
    assert f"STARTTIME={_local_stamp(start)}&" in query
    assert query.endswith("&KIND=MP4&CAM=1&PC=AS60")
    await _no_uids(simulator, nvr)
    assert simulator.journal.violations == []


class _CompletionSink(DirectorySink):
    """Notes what the recorder knew when the sink heard that the body had ended."""

    def __init__(self, directory: Path, simulator: RunningSimulator) -> None:
        super().__init__(directory)
        self.simulator = simulator
        self.heard: list[tuple[list[str], int]] = []

    async def complete(self, files: list[DownloadedFile]) -> None:
        logouts = len(self.simulator.journal.by_cgi(Cgi.LOGOUT))
        self.heard.append(([f.name for f in files], logouts))


async def test_the_sink_hears_of_the_end_before_the_logout(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    """The files are usable before the playback UID's logout, which waits for the pacing."""
    start = _minutes_ago(30)
    sink = _CompletionSink(tmp_path, simulator)
    files = await nvr.download(1, start, start + dt.timedelta(minutes=1), sink=sink)
    assert sink.heard == [([f.name for f in files], 0)]
    assert len(simulator.journal.by_cgi(Cgi.LOGOUT)) == 1
    await _no_uids(simulator, nvr)


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """Files split every minute, so that a short download is split."""
    sim_config.download_split_minutes = 1
    return sim_config


async def test_split_download_gives_every_file_under_its_name(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    start = _minutes_ago(20)
    end = start + dt.timedelta(minutes=3)
    files = await nvr.download(2, start, end, DownloadKind.MP4VO, sink=DirectorySink(tmp_path))
    stamp = _local_stamp(start)
    names = [f"002_{stamp}_{n}000_7f_00_01.mp4" for n in (1, 2, 3)]
    assert [f.name for f in files] == names
    assert _leftovers(tmp_path) == names
    for file in files:
        assert file.path is not None
        frames, duration, kinds = _decode(file.path)
        assert (frames, kinds) == (60 * FPS, ["video"])
        assert duration == pytest.approx(60.0, abs=1 / FPS)
    # Same request, same bytes: the recordings depend only on time.
    again = await nvr.download(
        2, start, end, DownloadKind.MP4VO, sink=DirectorySink(tmp_path / "again")
    )
    for first, second in zip(files, again, strict=True):
        assert first.path is not None
        assert second.path is not None
        assert first.path.read_bytes() == second.path.read_bytes()
    assert simulator.journal.violations == []


async def test_list_download_is_an_opaque_file(nvr: NvrClient, tmp_path: Path) -> None:
    start = _minutes_ago(10)
    files = await nvr.download(
        3, start, start + dt.timedelta(minutes=1), "LIST", sink=DirectorySink(tmp_path)
    )
    assert [f.name.rpartition(".")[2] for f in files] == ["n3n"]
    assert files[0].size > 0


# -- refusals -------------------------------------------------------------------------


async def test_status_1_no_recording(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    start = _minutes_ago(200 * 24 * 60)  # before the oldest disk's recordings
    with pytest.raises(NoRecordingError):
        await nvr.download(1, start, start + dt.timedelta(minutes=5), sink=DirectorySink(tmp_path))
    assert _leftovers(tmp_path) == []
    await _no_uids(simulator, nvr)


async def test_status_2_mp4_of_a_jpeg_camera(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    simulator.config.recording_codecs[2] = "JPEG"
    start = _minutes_ago(10)
    with pytest.raises(CodecNotCompatibleError):
        await nvr.download(2, start, start + dt.timedelta(minutes=1), sink=DirectorySink(tmp_path))
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(("kind", "extension"), [("N3", "n3r"), ("N3VO", "n3r")])
async def test_a_jpeg_camera_downloads_as_n3(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path, kind: str, extension: str
) -> None:
    """MP4 of a JPEG camera is status 2; its N3 (with or without audio) is the way out."""
    simulator.config.recording_codecs[2] = "JPEG"
    start = _minutes_ago(10)
    files = await nvr.download(
        2, start, start + dt.timedelta(minutes=1), kind, sink=DirectorySink(tmp_path)
    )
    assert [f.name for f in files] == [f"002_{_local_stamp(start)}_1000_7f_00_01.{extension}"]
    assert _leftovers(tmp_path) == [files[0].name]
    assert files[0].path is not None
    assert files[0].path.read_bytes().startswith(b"N3SIM")


async def test_successive_downloads_keep_the_command_interval(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    """Spec 6.3.2 calls httpdl.cgi a command: back-to-back downloads are paced as commands."""
    start = _minutes_ago(30)
    for n, kind in enumerate(("MP4VO", "N3VO", "LIST")):
        await nvr.download(
            1, start, start + dt.timedelta(minutes=1), kind, sink=DirectorySink(tmp_path / str(n))
        )
    requests = simulator.journal.by_cgi(Cgi.HTTPDL)
    assert ["KIND=" + e.query.split("KIND=")[1].split("&")[0] for e in requests] == [
        "KIND=MP4VO",
        "KIND=N3VO",
        "KIND=LIST",
    ]
    interval = simulator.config.pacing.command_interval
    gaps = [b.time - a.time for a, b in itertools.pairwise(requests)]
    assert min(gaps) >= interval - simulator.config.pacing_tolerance
    assert simulator.journal.violations == []


class _GatedSink(DirectorySink):
    """A directory sink whose first write waits until the test opens the gate."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.writing = asyncio.Event()
        self.gate = asyncio.Event()

    async def write(self, data: bytes) -> None:
        await super().write(data)
        self.writing.set()
        await self.gate.wait()


async def test_status_3_too_many_downloads(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    simulator.config.download_max_concurrent = 1
    start = _minutes_ago(15)
    # Long enough (27 MB) not to fit in the socket buffers while the sink holds it.
    end = start + dt.timedelta(minutes=10)
    held = _GatedSink(tmp_path / "first")
    first = asyncio.create_task(nvr.download(1, start, end, sink=held))
    await asyncio.wait_for(held.writing.wait(), 10)
    with pytest.raises(DownloadBusyError):
        await nvr.download(2, start, end, sink=DirectorySink(tmp_path / "second"))
    held.gate.set()
    assert len(await first) == 10
    assert _leftovers(tmp_path / "second") == []
    assert simulator.journal.violations == []


async def test_longer_than_an_hour_is_refused_before_sending(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    start = _minutes_ago(120)
    with pytest.raises(InvalidArgumentError):
        await nvr.download(1, start, start + dt.timedelta(minutes=61), sink=DirectorySink(tmp_path))
    assert simulator.journal.by_cgi(Cgi.HTTPDL) == []


# -- hostile and broken downloads ----------------------------------------------------------


async def test_hostile_file_names_are_neutralised(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    hostile = iter(["../../evil.tmp", "../x.mp4", "/etc/evil.tmp", "/etc/passwd", "..", ".."])
    simulator.simulator.recordings.faults.rename = lambda _name: next(hostile)
    out = tmp_path / "out"
    start = _minutes_ago(40)
    files = await nvr.download(
        1, start, start + dt.timedelta(minutes=3), DownloadKind.MP4VO, sink=DirectorySink(out)
    )
    assert [f.name for f in files] == ["../x.mp4", "/etc/passwd", ".."]
    assert [f.path for f in files] == [out / "x.mp4", out / "passwd", out / "recording"]
    assert _leftovers(tmp_path) == ["out", "out/passwd", "out/recording", "out/x.mp4"]


async def test_a_control_character_in_a_name_fails_cleanly(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    simulator.simulator.recordings.faults.rename = lambda name: "a\x00b" + name
    start = _minutes_ago(40)
    with pytest.raises(MalformedResponseError):
        await nvr.download(1, start, start + dt.timedelta(minutes=1), sink=DirectorySink(tmp_path))
    assert _leftovers(tmp_path) == []


async def test_dropped_download_leaves_nothing(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    simulator.simulator.recordings.faults.drop_after_bytes = 3_000_000  # in the second file
    start = _minutes_ago(50)
    with pytest.raises(DownloadInterruptedError):
        await nvr.download(1, start, start + dt.timedelta(minutes=2), sink=DirectorySink(tmp_path))
    assert simulator.simulator.recordings.faults.applied == 1
    assert _leftovers(tmp_path) == []
    await _no_uids(simulator, nvr)


async def test_cancelled_download_leaves_no_file_and_no_uid(
    simulator: RunningSimulator, nvr: NvrClient, tmp_path: Path
) -> None:
    sink = _GatedSink(tmp_path)
    start = _minutes_ago(25)
    task = asyncio.create_task(nvr.download(1, start, start + dt.timedelta(minutes=1), sink=sink))
    await asyncio.wait_for(sink.writing.wait(), 10)
    assert any(name.endswith(".part") for name in _leftovers(tmp_path))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _leftovers(tmp_path) == []
    await _no_uids(simulator, nvr)
    assert simulator.journal.violations == []


# -- the parser -----------------------------------------------------------------------


_TEMP_NAMES = st.sampled_from(["X-Temp-FileName", "X-Temp-Filename", "x-temp-filename"])
_PREV_NAMES = st.sampled_from(["X-Prev-Filename", "X-Prev-FileName", "X-PREV-FILENAME"])
_STATUS_NAMES = st.sampled_from(["X-RecData-Satus", "X-RecData-Status", "x-recdata-satus", None])
_VALUE_FORMS = st.sampled_from(
    [
        'filename = "{}"',
        'filename="{}"',
        "filename = \u201c{}\u201d",
        'filename = "{}\u201c',
        "filename={}",
        "FileName =  '{}'",
    ]
)
_FILE_NAMES = st.from_regex(r"[0-9]{3}_[0-9]{12}_[0-9]{4}_7f_00_01", fullmatch=True)


@st.composite
def _bodies(draw: Any) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A download body in some spelling, and the (name, content) of its files."""
    temp_h, prev_h, status_h = draw(_TEMP_NAMES), draw(_PREV_NAMES), draw(_STATUS_NAMES)
    form = draw(_VALUE_FORMS)
    files = draw(
        st.lists(st.tuples(_FILE_NAMES, st.lists(st.binary(min_size=1), max_size=3)), min_size=1)
    )

    def part(temp: str, prev: str, body: bytes) -> bytes:
        head = f"--myboundary\r\n{temp_h}: {form.format(temp)}\r\n"
        head += f"{prev_h}: {form.format(prev)}\r\n"
        if status_h is not None:
            head += f"{status_h}: 0\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        return head.encode("utf-8") + body + b"\r\n"

    out = b""
    prev = ""
    for name, chunks in files:
        for chunk in chunks or [b""]:
            out += part(f"{name}.tmp", prev, chunk)
            prev = ""
        prev = f"{name}.mp4"
    out += part("", prev, b"") + b"--myboundary--\r\n"
    expected = [(f"{name}.mp4", b"".join(chunks)) for name, chunks in files]
    return out, expected


@given(body=_bodies(), cuts=st.lists(st.integers(min_value=0), max_size=8))
@settings(max_examples=150, deadline=None)
def test_parser_reads_every_spelling_in_any_chunking(
    body: tuple[bytes, list[tuple[str, bytes]]], cuts: list[int]
) -> None:
    data, expected = body
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    parser = DownloadParser()
    events = []
    for low, high in itertools.pairwise(points):
        events += parser.feed(data[low:high])
    parser.close()
    files: list[tuple[str, bytes]] = []
    current = b""
    for event in events:
        if isinstance(event, FileStarted):
            assert event.temp_name.endswith(".tmp")
            current = b""
        elif isinstance(event, FileData):
            current += event.data
        else:
            assert isinstance(event, FileFinished)
            files.append((event.name, current))
    assert files == expected


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ('filename = "001_231115000000_3000_7f_00_01.tmp"', "001_231115000000_3000_7f_00_01.tmp"),
        (
            'filename = "001_231115000000_3000_7f_00_01.mp4\u201c',
            "001_231115000000_3000_7f_00_01.mp4",
        ),
        ('filename = ""', ""),
        ("filename=", ""),
        ("a.mp4", "a.mp4"),
    ],
)
def test_parse_file_name(value: str, name: str) -> None:
    # The multipart reader hands header values over decoded as Latin-1.
    assert parse_file_name(value.encode("utf-8").decode("latin-1")) == name
    assert parse_file_name(value) == name


@pytest.mark.parametrize(
    ("status", "error"),
    [(1, NoRecordingError), (2, CodecNotCompatibleError), (3, DownloadBusyError)],
)
def test_status_parts_raise_typed_errors(status: int, error: type[Exception]) -> None:
    body = (
        f'--myboundary\r\nX-Temp-FileName: filename = ""\r\nX-Prev-Filename: filename = ""\r\n'
        f"X-RecData-Satus: {status}\r\nContent-Length: 0\r\n\r\n\r\n--myboundary--\r\n"
    )
    with pytest.raises(error):
        DownloadParser().feed(body.encode())


def test_a_body_that_stops_mid_file_is_interrupted() -> None:
    body = b'--myboundary\r\nX-Temp-FileName: filename="a.tmp"\r\nContent-Length: 3\r\n\r\nabc\r\n'
    parser = DownloadParser()
    assert parser.feed(body) == [FileStarted("a.tmp"), FileData(b"abc")]
    with pytest.raises(DownloadInterruptedError):
        parser.close()


@given(st.text())
def test_sanitized_names_stay_in_their_folder(name: str) -> None:
    safe = sanitize_file_name(name)
    assert safe
    assert len(safe) <= 120
    assert not safe.startswith(".")
    assert "/" not in safe
    assert "\\" not in safe
    assert "\x00" not in safe
    assert safe.isascii()
    assert safe.isprintable()
    assert (Path("/base") / safe).parent == Path("/base")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../x", "x"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("a\x00b.mp4", "ab.mp4"),
        ("..", "recording"),
        ("", "recording"),
        ("001_231115000000_3000_7f_00_01.mp4", "001_231115000000_3000_7f_00_01.mp4"),
        ("x" * 300 + ".mp4", "x" * 116 + ".mp4"),
    ],
)
def test_sanitize_file_name(name: str, safe: str) -> None:
    assert sanitize_file_name(name) == safe
