"""Figures for live video: depacketizer, relay remux, time to first picture, memory.

Run: .venv/bin/python -m benchmarks.live_video [--profile]
(``scripts/bench-setup`` installs the ``ffmpeg`` tool the remux is compared with.)

The video is the simulator's own: its encoder (``nvr_simulator.video``, x264 /
x265 ultrafast) at 1920x1080, 25 fps, a keyframe every 2 s (about 5 Mbit/s
H.264, 3 Mbit/s H.265), packetized by its RTP packetizer (MTU 1400, recorder
TLVs in the first packet of each picture) into the ``push.cgi`` multipart body,
byte for byte as ``nvr_simulator.live`` sends it. Prints:

1. depacketizer throughput on one core (process CPU time): the multipart body
   fed in 64 KiB chunks through ``iter_live_body`` (the live feed's path:
   multipart reader, RTP, H.264/H.265 reassembly, access units), in MB/s of body
   and RTP packets/s; also the synchronous core without the async generators.
   ``--profile`` adds cProfile's hot spots;
2. relay CPU per stream-minute: five minutes of those access units through
   ``TsMuxer`` (what the relay does per viewer), against ``ffmpeg -c copy``
   remuxing the same Annex-B elementary stream to MPEG-TS (child CPU time: a
   1-minute input, and per further minute: a 5-minute input less a 1-second
   one, i.e. without ffmpeg's start-up, as a long-running ffmpeg spends it);
3. time to first picture through the relay (``StreamRelay`` on loopback, a
   viewer reading the MPEG-TS with aiohttp and decoding it with PyAV): cold
   (first viewer: login, ``hdrctl``, ``push.cgi``; with the tests' pacing, the
   recorder's 3 s scaled by 0.05, and once with the spec's pacing), then
   fresh viewers of the warm relay one after another;
4. with 4 cameras streaming, one viewer each: the relay process's CPU per
   stream-minute end to end (HTTP in, depacketize, GOP cache, remux, HTTP out)
   and memory per camera (tracemalloc: Python heap; RSS growth: also FFmpeg's).

The simulator runs in a process of its own (its encoding and sending are not
counted); the relay and the viewers run in this one, figure 4 in a fresh
child process (so that its RSS growth is not hidden by memory freed earlier).
Takes about a minute; MB is 10^6 bytes.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
import cProfile
import dataclasses
import datetime as dt
import multiprocessing
from multiprocessing.connection import Connection
import os
from pathlib import Path
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any

import aiohttp
import av
import yarl

from custom_components.ipro_nvr.api import NvrClient
from custom_components.ipro_nvr.api.media import (
    AccessUnit,
    LiveDepacketizer,
    MultipartReader,
    iter_live_body,
)
from custom_components.ipro_nvr.api.spec import (
    CONTENT_TYPE_VIDEO,
    MULTIPART_BOUNDARY,
    SPEC_PACING,
    PacingPolicy,
)
from custom_components.ipro_nvr.live.relay import StreamRelay
from custom_components.ipro_nvr.live.ts_muxer import TsMuxer
from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.live import LiveStream
from nvr_simulator.simulator import Simulator
from nvr_simulator.video import H264, H265, VideoClip, VideoFormat, cached_video_clip

# The picture: what a recorder's main stream typically carries.
FORMAT = VideoFormat(width=1920, height=1080, fps=25, gop_seconds=2.0, loop_seconds=4.0)
TEST_PACING = SPEC_PACING.scaled(0.05)  # as tests/conftest.py
PASSWORD = "benchmark"  # noqa: S105
BODY_SECONDS = 8  # of video in the depacketizer's input
CHUNK = 64 * 1024  # bytes per socket read
THROUGHPUT_ROUNDS = 12
MUX_SECONDS = 300  # of stream remuxed, relay and ffmpeg (then per minute)
MUX_ROUNDS = 5
WARM_VIEWERS = 20
VIEWER_SPACING = 0.31  # s between warm viewers: they join at different points of the GOP
CAMERAS = 4
CPU_WINDOW = 10.0  # s of 4-camera streaming whose CPU time is measured
MEMORY_WINDOW = 4.0  # s of 4-camera streaming sampled for memory (two GOPs)

TARGET_DEPACKETIZER_MBS = 125.0
TARGET_REMUX_RATIO = 0.5
TARGET_WARM_TTFF_MS = 50.0

LABEL = 44
_DELIMITER = f"--{MULTIPART_BOUNDARY}\r\n".encode("ascii")
_DECODER = {H264: "h264", H265: "hevc"}
_FFMPEG_FORMAT = {H264: "h264", H265: "hevc"}


@dataclasses.dataclass(slots=True)
class Row:
    """One line of the summary table."""

    figure: str
    value: str
    target: str = "-"
    passed: bool | None = None


def _line(label: str, value: str) -> None:
    print(f"{label:<{LABEL}}{value}", flush=True)


# -- the simulator, in a child process ----------------------------------------------------


def _sim_config(pacing: PacingPolicy) -> SimulatorConfig:
    return SimulatorConfig(
        password=PASSWORD,
        pacing=pacing,
        cameras=CAMERAS,
        channel_states={4: 1},  # every camera connected (the default fails channel 4)
        live_width=FORMAT.width,
        live_height=FORMAT.height,
        live_fps=FORMAT.fps,
        live_gop_seconds=FORMAT.gop_seconds,
        live_loop_seconds=FORMAT.loop_seconds,
    )


async def _serve_simulators(conn: Connection) -> None:
    # Encode before serving: a cold start must not wait for the encoder.
    for channel in range(1, CAMERAS + 1):
        cached_video_clip(H264, channel, FORMAT)
    async with (
        run_simulator(_sim_config(TEST_PACING)) as scaled,
        run_simulator(_sim_config(SPEC_PACING)) as spec,
    ):
        conn.send(((scaled.host, scaled.port), (spec.host, spec.port), scaled.config.username))
        await asyncio.to_thread(conn.recv)  # until the benchmark is done


def _simulator_process(conn: Connection) -> None:
    asyncio.run(_serve_simulators(conn))


# -- 1. the depacketizer ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Body:
    """A multipart body of the simulator's live stream, and what it should give."""

    codec: str
    data: bytes
    packets: int
    clip: VideoClip
    pictures: int

    @property
    def chunks(self) -> list[bytes]:
        """The body as a socket would hand it over."""
        return [self.data[i : i + CHUNK] for i in range(0, len(self.data), CHUNK)]

    @property
    def mbit_s(self) -> float:
        """Bit rate of the body (video plus RTP and multipart framing)."""
        return len(self.data) * 8 / BODY_SECONDS / 1e6


def _part(body: bytes) -> bytes:
    """One multipart part, framed as ``nvr_simulator.live`` frames it."""
    head = f"Content-type: {CONTENT_TYPE_VIDEO}\r\nContent-Length: {len(body)}\r\n\r\n"
    return _DELIMITER + head.encode("ascii") + body + b"\r\n"


def _body(codec: str) -> Body:
    """``BODY_SECONDS`` of the ``push.cgi`` body of camera 1, built with the simulator's parts."""
    clip = cached_video_clip(codec, 1, FORMAT)
    live = Simulator(_sim_config(TEST_PACING)).live
    stream = LiveStream(uid="1", channel=1, comp=codec, started_at=0.0)
    packetizer, first_timestamp = live.new_packetizer(codec)
    start = dt.datetime.now(dt.UTC)
    parts: list[bytes] = []
    pictures = BODY_SECONDS * FORMAT.fps
    for index in range(pictures):
        picture = clip.pictures[index % len(clip.pictures)]
        extension = live.recorder_tlvs(stream, live.picture_time(index, start), codec)
        timestamp = first_timestamp + index * 90_000 // FORMAT.fps
        packets = packetizer.packetize(picture.nals, timestamp, extension)
        parts += [_part(packet) for packet in packets]
    return Body(codec, b"".join(parts), packetizer.packets_sent, clip, pictures)


def _depacketize(chunks: list[bytes]) -> list[AccessUnit]:
    """The synchronous core: multipart reader and live depacketizer."""
    reader = MultipartReader()
    live = LiveDepacketizer()
    units: list[AccessUnit] = []
    for chunk in chunks:
        for part in reader.feed(chunk):
            units += [item for item in live.push(part) if isinstance(item, AccessUnit)]
    reader.finish()
    return units


def _check(body: Body, units: list[AccessUnit]) -> None:
    """Every picture came out whole (the figures are of a working path)."""
    pictures = body.clip.pictures
    assert len(units) == body.pictures, (len(units), body.pictures)
    for index, unit in enumerate(units):
        assert unit.data == pictures[index % len(pictures)].annexb, index


async def _async_rounds(chunks: list[bytes], rounds: int) -> list[float]:
    """CPU seconds per pass of ``iter_live_body`` (the live feed's path)."""

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    samples = []
    for _ in range(rounds):
        started = time.process_time()
        async for _item in iter_live_body(source()):
            pass
        samples.append(time.process_time() - started)
    return samples


def _sync_rounds(chunks: list[bytes], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        _depacketize(chunks)
        samples.append(time.process_time() - started)
    return samples


def _profile(body: Body) -> None:
    chunks = body.chunks
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [_depacketize(chunks) for _ in range(3)])
    print(f"\ncProfile of the depacketizer, {body.codec} (3 passes, by own time):")
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(14)


def depacketizer(bodies: list[Body], *, profile: bool) -> list[Row]:
    """Figure 1."""
    rows = []
    for body in bodies:
        chunks = body.chunks
        units = _depacketize(chunks)
        _check(body, units)
        samples = asyncio.run(_async_rounds(chunks, THROUGHPUT_ROUNDS))
        production = statistics.median(samples)
        core = statistics.median(_sync_rounds(chunks, THROUGHPUT_ROUNDS))
        mbs = len(body.data) / production / 1e6
        _line(
            f"depacketizer {body.codec}, iter_live_body",
            f"{mbs:.0f} MB/s (best {len(body.data) / min(samples) / 1e6:.0f}), "
            f"{body.packets / production / 1000:.0f} k RTP packets/s, "
            f"{production / body.packets * 1e6:.1f} us/packet (median of {THROUGHPUT_ROUNDS})",
        )
        _line(
            f"depacketizer {body.codec}, sync core",
            f"{len(body.data) / core / 1e6:.0f} MB/s, {body.packets / core / 1000:.0f} k packets/s"
            f" (MultipartReader.feed + LiveDepacketizer.push)",
        )
        rows.append(
            Row(
                f"depacketizer {body.codec} (1 core)",
                f"{mbs:.0f} MB/s, {body.packets / production / 1000:.0f} k pkt/s",
                f">= {TARGET_DEPACKETIZER_MBS:.0f} MB/s",
                mbs >= TARGET_DEPACKETIZER_MBS,
            )
        )
        if profile:
            _profile(body)
    return rows


# -- 2. relay remux against ffmpeg ----------------------------------------------------------


def _stream_of(units: list[AccessUnit], seconds: float) -> list[AccessUnit]:
    """``seconds`` of video: the units looped, their timestamps running on."""
    step = 90_000 // FORMAT.fps
    first = units[0].timestamp
    return [
        dataclasses.replace(units[i % len(units)], timestamp=first + i * step)
        for i in range(round(seconds * FORMAT.fps))
    ]


def _remux_cpu(units: list[AccessUnit]) -> float:
    """Process CPU seconds for one viewer's TsMuxer over ``units`` (best of a few)."""
    samples = []
    for _ in range(MUX_ROUNDS):
        started = time.process_time()
        muxer = TsMuxer(units[0].codec)
        size = sum(len(muxer.mux(unit)) for unit in units) + len(muxer.close())
        samples.append(time.process_time() - started)
        assert size > sum(len(unit.data) for unit in units)
    return min(samples)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence what C libraries print on file descriptor 2.

    The benchmark's own encoders (libx265 in particular) print banners and
    statistics straight to the console; ``TsMuxer`` itself opens no encoder.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _ffmpeg_cpu(ffmpeg: str, codec: str, units: list[AccessUnit], directory: Path) -> float:
    """Child CPU seconds (user + system) of ``ffmpeg -c copy`` over ``units`` (best of a few)."""
    source = directory / f"in.{_FFMPEG_FORMAT[codec]}"
    source.write_bytes(b"".join(unit.data for unit in units))
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", _FFMPEG_FORMAT[codec], "-i", str(source), "-c", "copy", "-f", "mpegts",
        str(directory / "out.ts"),
    ]  # fmt: skip
    samples = []
    for _ in range(MUX_ROUNDS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True)  # noqa: S603 - our own arguments
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(samples)


def remux(bodies: list[Body]) -> list[Row]:
    """Figure 2."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        _line("ffmpeg", "ffmpeg not available (run scripts/bench-setup to install it)")
    rows = []
    for body in bodies:
        units = _depacketize(body.chunks)
        stream = _stream_of(units, MUX_SECONDS)
        with _quiet_stderr():
            relay = _remux_cpu(stream) * 60 / MUX_SECONDS
        # What depacketizing costs per stream-minute, for comparison (once per camera).
        depack = min(_sync_rounds(body.chunks, 3)) * 60 / BODY_SECONDS
        _line(
            f"relay remux {body.codec} (AU -> TsMuxer)",
            f"{relay:.3f} s CPU per stream-minute per viewer",
        )
        _line(
            f"relay depacketize {body.codec}",
            f"{depack:.3f} s CPU per stream-minute per camera (for comparison)",
        )
        if ffmpeg is None:
            rows.append(Row(f"relay remux {body.codec}, s/stream-min", f"{relay:.3f} s"))
            continue
        with tempfile.TemporaryDirectory() as temp:
            directory = Path(temp)
            long_run = _ffmpeg_cpu(ffmpeg, body.codec, stream, directory)
            minute = _ffmpeg_cpu(ffmpeg, body.codec, _stream_of(units, 60), directory)
            startup = _ffmpeg_cpu(ffmpeg, body.codec, _stream_of(units, 1), directory)
        # Per further minute, as a long-running ffmpeg would spend it.
        marginal = (long_run - startup) * 60 / (MUX_SECONDS - 1)
        _line(
            f"ffmpeg -c copy {body.codec} (Annex-B -> TS)",
            f"{minute:.3f} s CPU for a 1-min input (start-up {startup:.3f} s included); "
            f"{marginal:.3f} s per further minute (from a {MUX_SECONDS // 60}-min input)",
        )
        ratio = relay / marginal
        rows.append(
            Row(
                f"relay remux {body.codec}, s/stream-min",
                f"{relay:.3f} s = {ratio:.2f}x ffmpeg ({marginal:.3f} s)",
                f"<= {TARGET_REMUX_RATIO}x ffmpeg",
                ratio <= TARGET_REMUX_RATIO,
            )
        )
        rows.append(
            Row(
                f"  + depacketize {body.codec} (whole relay)",
                f"{relay + depack:.3f} s = {(relay + depack) / marginal:.2f}x ffmpeg",
            )
        )
    return rows


# -- 3. time to first picture -------------------------------------------------------------


class _TsVideo:
    """Just enough of an MPEG-TS demuxer: the video elementary stream's bytes, incrementally."""

    def __init__(self) -> None:
        self._rest = b""
        self._pid: int | None = None

    def feed(self, data: bytes) -> bytes:
        buf = self._rest + data
        whole = len(buf) // 188 * 188
        out = []
        for offset in range(0, whole, 188):
            packet = buf[offset : offset + 188]
            assert packet[0] == 0x47, "lost TS sync"
            start = bool(packet[1] & 0x40)
            pid = ((packet[1] & 0x1F) << 8) | packet[2]
            control = (packet[3] >> 4) & 0x3
            pos = 4 + (1 + packet[4] if control & 0x2 else 0)
            if not control & 0x1:
                continue
            payload = packet[pos:]
            if (
                self._pid is None
                and start
                and payload[:3] == b"\x00\x00\x01"
                and 0xE0 <= payload[3] <= 0xEF  # a video PES
            ):
                self._pid = pid
            if pid != self._pid:
                continue
            out.append(payload[9 + payload[8] :] if start else payload)
        self._rest = buf[whole:]
        return b"".join(out)


def _first_frame(decoder: Any, data: bytes) -> bool:
    """Parse ``data`` and decode until a picture comes out (not the pictures after it)."""
    return any(decoder.decode(packet) for packet in decoder.parse(data))


class _Viewer:
    """A relay viewer: reads the MPEG-TS, decodes until the first picture, then just reads."""

    def __init__(self, url: str, codec: str = H264) -> None:
        self.first_bytes: float | None = None  # seconds after the request
        self.first_picture: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.decode_seconds = 0.0  # the viewer's own demux and decode time until then
        self.received = 0
        self._url = url
        self._codec = codec
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        video = _TsVideo()
        decoder: Any = av.CodecContext.create(_DECODER[self._codec], "r")
        try:
            async with aiohttp.ClientSession() as session:
                started = time.perf_counter()
                async with session.get(self._url) as response:
                    assert response.status == 200
                    async for chunk in response.content.iter_any():
                        self.received += len(chunk)
                        if self.first_bytes is None:
                            self.first_bytes = time.perf_counter() - started
                        if self.first_picture.done():
                            continue
                        decode_start = time.perf_counter()
                        decoded = _first_frame(decoder, video.feed(chunk))
                        now = time.perf_counter()
                        self.decode_seconds += now - decode_start
                        if decoded:
                            self.first_picture.set_result(now - started)
        except Exception as err:
            if not self.first_picture.done():
                self.first_picture.set_exception(err)
            raise

    async def picture(self, timeout: float = 30.0) -> float:  # noqa: ASYNC109
        """Seconds from the request to the first decoded picture."""
        async with asyncio.timeout(timeout):
            return await self.first_picture

    async def stop(self) -> None:
        """Stop reading."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _client(address: tuple[str, int], username: str, pacing: PacingPolicy) -> NvrClient:
    host, port = address
    return NvrClient(
        host, port=port, username=username, password=PASSWORD, pacing=pacing, uid_budget=5
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def _cold(address: tuple[str, int], username: str, pacing: PacingPolicy) -> float:
    """Seconds from the first viewer's request to its first decoded picture."""
    client = _client(address, username, pacing)
    relay = StreamRelay(client)
    try:
        viewer = _Viewer(await relay.async_url(1))
        seconds = await viewer.picture()
        await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()
    return seconds


async def first_picture(scaled: tuple[str, int], spec: tuple[str, int], username: str) -> list[Row]:
    """Figure 3."""
    client = _client(scaled, username, TEST_PACING)
    relay = StreamRelay(client)
    try:
        url = await relay.async_url(1)
        first = _Viewer(url)
        cold = await first.picture()
        _line(
            "cold start, pacing x0.05 (first viewer)",
            f"{_ms(cold)} to the first decoded picture (first bytes {_ms(first.first_bytes or 0)})",
        )
        await asyncio.sleep(1.0)  # the relay is warm: a stream runs, its GOP is cached
        pictures, firsts, decodes = [], [], []
        for _ in range(WARM_VIEWERS):
            viewer = _Viewer(url)
            pictures.append(await viewer.picture())
            firsts.append(viewer.first_bytes or 0.0)
            decodes.append(viewer.decode_seconds)
            await viewer.stop()
            await asyncio.sleep(VIEWER_SPACING)
        assert first.received > 0
        await first.stop()
    finally:
        await relay.async_stop()
        await client.close()
    median = statistics.median(pictures)
    _line(
        f"warm relay, {WARM_VIEWERS} new viewers: first bytes",
        f"median {_ms(statistics.median(firsts))}, max {_ms(max(firsts))}",
    )
    _line(
        "  first decoded picture",
        f"median {_ms(median)}, p90 {_ms(_p90(pictures))}, max {_ms(max(pictures))}",
    )
    relay_side = [p - d for p, d in zip(pictures, decodes, strict=True)]
    _line(
        "  of which the viewer's TS demux + decode",
        f"median {_ms(statistics.median(decodes))}; the rest (relay, loopback, aiohttp): "
        f"median {_ms(statistics.median(relay_side))}, max {_ms(max(relay_side))}",
    )
    spec_cold = await _cold(spec, username, SPEC_PACING)
    _line("cold start, spec pacing (3 s per command)", f"{spec_cold:.2f} s to the first picture")
    return [
        Row(
            "warm relay: new viewer to 1st picture",
            f"median {_ms(median)}, p90 {_ms(_p90(pictures))}",
            f"<= {TARGET_WARM_TTFF_MS:.0f} ms",
            median <= TARGET_WARM_TTFF_MS / 1000,
        ),
        Row("cold start (pacing x0.05)", _ms(cold)),
        Row("cold start (spec pacing)", f"{spec_cold:.2f} s"),
    ]


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


# -- 4. four cameras: CPU and memory -------------------------------------------------------


async def _raw_viewer(url: str) -> None:
    """A viewer that reads and drops the MPEG-TS (a plain socket: no buffers of its own)."""
    parsed = yarl.URL(url)
    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
    try:
        writer.write(f"GET {parsed.raw_path_qs} HTTP/1.1\r\nHost: {parsed.host}\r\n\r\n".encode())
        while await reader.read(1 << 16):
            pass
    finally:
        writer.close()


class _Cameras:
    """A relay with ``CAMERAS`` cameras streaming, one viewer each."""

    def __init__(self, address: tuple[str, int], username: str) -> None:
        self._client = _client(address, username, TEST_PACING)
        self.relay = StreamRelay(self._client)
        self._viewers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for channel in range(1, CAMERAS + 1):
            url = await self.relay.async_url(channel)
            self._viewers.append(loop.create_task(_raw_viewer(url)))
        # Streaming, and each GOP cache filled once.
        gop = FORMAT.gop * 3 // 2
        async with asyncio.timeout(30):
            while any(  # noqa: ASYNC110 - polling the feeds' counters
                self.relay.feed(channel).stats.access_units < gop
                for channel in range(1, CAMERAS + 1)
            ):
                await asyncio.sleep(0.05)

    def access_units(self) -> int:
        return sum(self.relay.feed(ch).stats.access_units for ch in range(1, CAMERAS + 1))

    async def stop(self) -> None:
        for task in self._viewers:
            task.cancel()
        await asyncio.gather(*self._viewers, return_exceptions=True)
        await self.relay.async_stop()
        await self._client.close()


def _rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


async def _sampled(window: float, sample: Callable[[], int]) -> list[int]:
    values = []
    end = time.perf_counter() + window
    while time.perf_counter() < end:
        values.append(sample())
        await asyncio.sleep(0.1)
    return values


async def _warm_up(address: tuple[str, int], username: str) -> None:
    """One camera until its first picture: imports, pools and codecs loaded before measuring."""
    client = _client(address, username, TEST_PACING)
    relay = StreamRelay(client)
    try:
        viewer = _Viewer(await relay.async_url(1))
        await viewer.picture()
        await viewer.stop()
    finally:
        await relay.async_stop()
        await client.close()


async def cameras(address: tuple[str, int], username: str) -> list[Row]:
    """Figure 4 (in a fresh process of its own, so that RSS growth means something)."""
    await _warm_up(address, username)
    # CPU and RSS, without tracemalloc (it slows every allocation down).
    rss_before = _rss()
    running = _Cameras(address, username)
    try:
        await running.start()
        units = running.access_units()
        usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        rss = await _sampled(CPU_WINDOW, _rss)
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
        pictures = running.access_units() - units
    finally:
        await running.stop()
    user, system = after.ru_utime - usage.ru_utime, after.ru_stime - usage.ru_stime
    stream_minutes = pictures / FORMAT.fps / 60
    per_minute = (user + system) / stream_minutes
    rss_per_camera = (statistics.mean(rss) - rss_before) / CAMERAS / 2**20
    _line(
        f"relay process CPU, {CAMERAS} cameras x 1 viewer",
        f"{per_minute:.2f} s per stream-minute (user {user / stream_minutes:.2f} + system "
        f"{system / stream_minutes:.2f}); {(user + system) / wall * 100:.0f}% of a core for "
        f"{CAMERAS} streams, HTTP in and out included",
    )
    _line(
        "RSS growth per camera (feed + 1 viewer)",
        f"{rss_per_camera:.1f} MiB (mean over {CPU_WINDOW:g} s; includes FFmpeg's muxer)",
    )

    # The Python heap, with tracemalloc on from before the feeds start.
    tracemalloc.start()
    running = _Cameras(address, username)
    try:
        await running.start()
        traced = await _sampled(MEMORY_WINDOW, lambda: tracemalloc.get_traced_memory()[0])
        snapshot = tracemalloc.take_snapshot()
    finally:
        await running.stop()
        tracemalloc.stop()
    mean, peak = statistics.mean(traced) / CAMERAS / 2**20, max(traced) / CAMERAS / 2**20
    top = sorted(snapshot.statistics("filename"), key=lambda s: s.size, reverse=True)[:3]
    where = ", ".join(
        f"{Path(s.traceback[0].filename).name} {s.size / CAMERAS / 2**20:.2f}" for s in top
    )
    _line(
        "Python heap per camera (tracemalloc)",
        f"mean {mean:.2f} MiB, peak {peak:.2f} MiB over {MEMORY_WINDOW:g} s",
    )
    _line("  largest at the end, MiB per camera", f"{where} (depacketizer.py: the GOP cache)")
    return [
        Row(f"relay CPU end to end ({CAMERAS} cams)", f"{per_minute:.2f} s per stream-minute"),
        Row(
            "memory per camera (feed+GOP+viewer)",
            f"heap {mean:.1f} MiB (peak {peak:.1f}), RSS {rss_per_camera:.1f} MiB",
        ),
    ]


def _cameras_process(conn: Connection, address: tuple[str, int], username: str) -> None:
    conn.send(asyncio.run(cameras(address, username)))


# -- the table ----------------------------------------------------------------------------


def _table(rows: list[Row]) -> None:
    width = max(len(row.figure) for row in rows)
    value_width = max(len(row.value) for row in rows)
    print()
    print(f"{'figure':<{width}}  {'measured':<{value_width}}  {'target':<18}  result")
    for row in rows:
        verdict = "-" if row.passed is None else "PASS" if row.passed else "FAIL"
        print(f"{row.figure:<{width}}  {row.value:<{value_width}}  {row.target:<18}  {verdict}")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--profile", action="store_true", help="cProfile the depacketizer")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    simulator = context.Process(target=_simulator_process, args=(theirs,), daemon=True)
    simulator.start()
    try:
        print(
            f"video: simulator's encoder, {FORMAT.width}x{FORMAT.height} {FORMAT.fps} fps, "
            f"keyframe every {FORMAT.gop_seconds:g} s; {os.cpu_count()} CPUs",
            flush=True,
        )
        bodies = [_body(H264), _body(H265)]
        for body in bodies:
            _line(
                f"multipart body {body.codec}",
                f"{len(body.data) / 1e6:.1f} MB for {BODY_SECONDS} s ({body.mbit_s:.1f} Mbit/s), "
                f"{body.packets} RTP packets, {len(body.data) / body.packets:.0f} B/part",
            )
        scaled, spec, username = ours.recv()  # the simulator has encoded its cameras
        rows = depacketizer(bodies, profile=args.profile)
        rows += remux(bodies)
        rows += asyncio.run(first_picture(scaled, spec, username))
        mine, relay_side = context.Pipe()
        relay = context.Process(target=_cameras_process, args=(relay_side, scaled, username))
        relay.start()
        rows += mine.recv()
        relay.join(timeout=10)
    finally:
        ours.send("stop")
        simulator.join(timeout=10)
    _table(rows)
    if not args.profile and any(
        row.passed is False for row in rows if row.figure.startswith("depacketizer")
    ):
        print("(run with --profile for the depacketizer's hot spots)")


if __name__ == "__main__":
    main()
