"""Live path figures of issue 15: depacketizer against a plain loop, relay against ffmpeg.

Run: .venv/bin/python -m benchmarks.live_path [--profile]
(``scripts/bench-setup`` installs the ``ffmpeg`` tool the relay is compared with.)

Prints one table:

1. depacketizer, per input (:mod:`.live_inputs`: three byte layouts, H.264 and
   H.265, 60 s of 1080p25 each, made once and cached): the product's
   synchronous core (``LiveBodyReader.feed``: multipart reader, RTP, H.264 /
   H.265 reassembly, access units) against the plain loop and the
   ``bytes.find`` floor of :mod:`.live_yardstick`, all fed the same 64 KiB
   chunks. Process CPU time; five rounds, product and yardstick alternating;
   the ratio is the median of the rounds' ratios (yardstick time / product
   time: 1.0 is as fast as the loop). Also the live feed's own async path,
   ``iter_live_body``, on the simulator's layout. ``--profile`` adds
   cProfile's hot spots;
2. ffmpeg's steady state: ``ffmpeg -c copy`` of the H.264 elementary stream to
   MPEG-TS, child CPU time of a 5-minute input less a 1-minute one, / 4;
3. the relay end to end, one camera and two viewers: the relay process's whole
   CPU time (HTTP in, depacketize, GOP caches, one muxer per camera, HTTP out;
   every thread) per stream-minute, against 2 (``--profile``: then cProfile's
   hot spots of a further window);
4. warm time to first picture: new viewers of a running relay, each reading
   the MPEG-TS and decoding it with PyAV until the first picture;
5. memory per relay (one camera, one viewer): Python heap (tracemalloc) and
   RSS growth, against the camera's GOP;
6. 16 relays at once (16 cameras, a viewer each): the relay process's CPU
   share, and the slowest camera's pictures per second against the 25 sent.

The simulator runs in a process of its own, serving the cached clip on every
channel (its sending is not counted); figures 3-6 run in fresh child
processes. MB is 10^6 bytes.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
import cProfile
import dataclasses
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
import os
from pathlib import Path
import pstats
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from typing import Final

from custom_components.ipro_nvr.api.media import AccessUnit, iter_live_body
from custom_components.ipro_nvr.api.media.live import LiveBodyReader
from custom_components.ipro_nvr.api.spec import SPEC_PACING
from custom_components.ipro_nvr.live.relay import StreamRelay
from nvr_simulator import SimulatorConfig, run_simulator

from .live_inputs import CHANNELS, FORMAT, H264, SECONDS, LiveInput, all_inputs, video_clip
from .live_video import _client, _raw_viewer, _rss, _Viewer
from .live_yardstick import find_floor, plain_loop

TEST_PACING: Final = SPEC_PACING.scaled(0.05)  # as tests/conftest.py
PASSWORD: Final = "benchmark"  # noqa: S105
ROUNDS: Final = 5
CHUNK: Final = 64 * 1024
RELAY_WINDOW: Final = 20.0  # s of streaming whose CPU time is measured
MEMORY_WINDOW: Final = 6.0  # s sampled for memory (three GOPs)
WARM_VIEWERS: Final = 20
VIEWER_SPACING: Final = 0.31  # s between warm viewers: they join at different points of the GOP
MANY: Final = 16

TARGET_RATIO: Final = 1.0
TARGET_RELAY_VS_FFMPEG: Final = 2.0
TARGET_WARM_MS: Final = 50.0
TARGET_MANY_SHARE: Final = 0.5  # "well under one core"
# Memory per relay: at most two GOPs plus this (the feed, its reader and one muxer).
FIXED_OVERHEAD: Final = 512 * 1024
LABEL: Final = 46


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


def _sim_config() -> SimulatorConfig:
    return SimulatorConfig(
        password=PASSWORD,
        pacing=TEST_PACING,
        cameras=CHANNELS,
        channel_states={4: 1},  # every camera connected (the default fails channel 4)
        live_width=FORMAT.width,
        live_height=FORMAT.height,
        live_fps=FORMAT.fps,
        live_gop_seconds=FORMAT.gop_seconds,
        live_loop_seconds=FORMAT.loop_seconds,
    )


async def _serve(conn: Connection) -> None:
    video_clip(H264)  # the cached clip on every channel: nothing to encode
    async with run_simulator(_sim_config()) as simulator:
        conn.send(((simulator.host, simulator.port), simulator.config.username))
        await asyncio.to_thread(conn.recv)  # until the benchmark is done


def _simulator_process(conn: Connection) -> None:
    asyncio.run(_serve(conn))


# -- 1. the depacketizer ------------------------------------------------------------------


def _product(chunks: list[bytes]) -> list[bytes]:
    body = LiveBodyReader()
    return [
        item.data for chunk in chunks for item in body.feed(chunk) if isinstance(item, AccessUnit)
    ]


def _cpu[T](work: Callable[[], T]) -> tuple[float, T]:
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def _depacketizer_row(live: LiveInput) -> Row:
    chunks = live.chunks(CHUNK)
    h265 = live.codec != H264
    product, yardstick, floor, ratios = [], [], [], []
    for round_ in range(ROUNDS):
        # Alternate which goes first: neither always meets a cold cache or a busy neighbour.
        if round_ % 2:
            ours, pictures = _cpu(lambda: _product(chunks))
            theirs, loop_pictures = _cpu(lambda: plain_loop(chunks, h265=h265))
        else:
            theirs, loop_pictures = _cpu(lambda: plain_loop(chunks, h265=h265))
            ours, pictures = _cpu(lambda: _product(chunks))
        product.append(ours)
        yardstick.append(theirs)
        ratios.append(theirs / ours)
        floor.append(_cpu(lambda: find_floor(chunks))[0])
    # Both did the whole work: every picture, byte for byte.
    assert pictures == list(live.pictures), live.name
    assert loop_pictures == list(live.pictures), live.name
    size = len(live.data) / 1e6
    ratio = statistics.median(ratios)
    _line(
        f"depacketizer {live.name}",
        f"{size / statistics.median(product):4.0f} MB/s; plain loop "
        f"{size / statistics.median(yardstick):4.0f} MB/s; find floor "
        f"{size / statistics.median(floor):5.0f} MB/s; ratio {ratio:.2f} "
        f"(rounds {min(ratios):.2f}-{max(ratios):.2f}); "
        f"{statistics.median(product) / live.packets * 1e6:.1f} us/packet",
    )
    return Row(
        f"depacketizer {live.name} / plain loop",
        f"{ratio:.2f}x ({size / statistics.median(product):.0f} MB/s, "
        f"{len(live.data) / live.packets:.0f} B/part)",
        f">= {TARGET_RATIO:.1f}x",
        ratio >= TARGET_RATIO,
    )


async def _iter_live_body(chunks: list[bytes]) -> int:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return sum([1 async for _ in iter_live_body(source())])


def _async_row(live: LiveInput) -> Row:
    """The live feed's own path: ``iter_live_body`` over an async iterator of the chunks."""
    chunks = live.chunks(CHUNK)
    ratios, times = [], []
    for _ in range(ROUNDS):
        ours, count = _cpu(lambda: asyncio.run(_iter_live_body(chunks)))
        theirs, _ = _cpu(lambda: plain_loop(chunks, h265=live.codec != H264))
        assert count == len(live.pictures)
        ratios.append(theirs / ours)
        times.append(ours)
    ratio = statistics.median(ratios)
    rate = len(live.data) / statistics.median(times) / 1e6
    _line(f"iter_live_body {live.name}", f"{rate:.0f} MB/s; ratio {ratio:.2f} to the plain loop")
    return Row(f"iter_live_body {live.name} / plain loop", f"{ratio:.2f}x ({rate:.0f} MB/s)")


def depacketizer(inputs: list[LiveInput], *, profile: bool) -> list[Row]:
    """Figure 1."""
    rows = [_depacketizer_row(live) for live in inputs]
    rows.append(_async_row(inputs[0]))
    if profile:
        for live in inputs[:1] + inputs[2:3]:
            chunks = live.chunks(CHUNK)
            profiler = cProfile.Profile()
            profiler.runcall(_product, chunks)
            print(f"\ncProfile of the depacketizer, {live.name} (by own time):")
            pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(12)
    return rows


# -- 2. ffmpeg ---------------------------------------------------------------------------


def _ffmpeg_cpu(ffmpeg: str, source: Path, target: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(  # noqa: S603 - our own arguments
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "h264", "-i", str(source),
         "-c", "copy", "-f", "mpegts", str(target)],
        check=True,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def ffmpeg_steady_state(live: LiveInput) -> float | None:
    """Figure 2: CPU seconds per further stream-minute of ``ffmpeg -c copy``, None without it."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        _line("ffmpeg", "not available (run scripts/bench-setup to install it)")
        return None
    minute = b"".join(live.pictures[: FORMAT.fps * 60])
    assert SECONDS >= 60
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        one, five = directory / "1.h264", directory / "5.h264"
        one.write_bytes(minute)
        five.write_bytes(minute * 5)
        short, long = [], []
        for _ in range(ROUNDS):
            long.append(_ffmpeg_cpu(ffmpeg, five, directory / "out.ts"))
            short.append(_ffmpeg_cpu(ffmpeg, one, directory / "out.ts"))
    steady = (statistics.median(long) - statistics.median(short)) / 4
    _line(
        "ffmpeg -c copy H264 -> MPEG-TS",
        f"1-min input {statistics.median(short):.3f} s CPU, 5-min {statistics.median(long):.3f} s;"
        f" steady state {steady:.3f} s per stream-minute (medians of {ROUNDS})",
    )
    return steady


# -- 3.-6. the relay, in child processes ----------------------------------------------------


async def _drain(urls: list[str]) -> None:
    await asyncio.gather(*(_raw_viewer(url) for url in urls))


def _viewers_process(urls: list[str]) -> None:
    """Raw viewers of ``urls``, in a process of their own: their reading is not the relay's."""
    asyncio.run(_drain(urls))


class _Relay:
    """A relay with cameras 1..``cameras`` streaming, ``viewers`` raw viewers each.

    The viewers read in a process of their own, so that the relay process's
    CPU time is the relay's alone (Home Assistant's stream worker, which reads
    the relay, is not the relay).
    """

    def __init__(self, address: tuple[str, int], username: str, cameras: int, viewers: int) -> None:
        self._client = _client(address, username, TEST_PACING)
        self.relay = StreamRelay(self._client)
        self.cameras = cameras
        self._viewers_each = viewers
        self._viewers: BaseProcess | None = None

    async def start(self) -> None:
        urls = []
        for channel in range(1, self.cameras + 1):
            url = await self.relay.async_url(channel)
            urls += [url] * self._viewers_each
        if urls:
            context = multiprocessing.get_context("spawn")
            self._viewers = context.Process(target=_viewers_process, args=(urls,), daemon=True)
            self._viewers.start()
        gop = FORMAT.gop * 3 // 2  # streaming, and each GOP cache filled once
        async with asyncio.timeout(90):
            while min(self.pictures()) < gop:  # noqa: ASYNC110 - polling the feeds' counters
                await asyncio.sleep(0.05)

    def pictures(self) -> list[int]:
        return [self.relay.feed(ch).stats.access_units for ch in range(1, self.cameras + 1)]

    def gop_bytes(self) -> int:
        """The current GOP's bytes as the relay keeps it for new viewers (its MPEG-TS).

        The feed keeps only the keyframe while the broadcast keeps the GOP; the
        maximum over a window is one whole GOP.
        """
        broadcasts = self.relay._broadcasts  # noqa: SLF001 - what the cache holds
        return sum(
            broadcasts[ch]._gop_bytes  # noqa: SLF001
            for ch in range(1, self.cameras + 1)
            if ch in broadcasts
        )

    async def stop(self) -> None:
        if self._viewers is not None:
            self._viewers.terminate()
            await asyncio.to_thread(self._viewers.join, 10)
        await self.relay.async_stop()
        await self._client.close()


@dataclasses.dataclass(frozen=True, slots=True)
class _Usage:
    cpu: float  # s, user + system, every thread
    wall: float  # s
    pictures: list[int]  # per camera


async def _measure(relay: _Relay, window: float) -> _Usage:
    before, wall, pictures = (
        resource.getrusage(resource.RUSAGE_SELF),
        time.perf_counter(),
        relay.pictures(),
    )
    await asyncio.sleep(window)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return _Usage(
        after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
        time.perf_counter() - wall,
        [now - then for now, then in zip(relay.pictures(), pictures, strict=True)],
    )


async def _warm_up(address: tuple[str, int], username: str) -> None:
    """One camera until its first picture: imports, pools and codecs loaded before measuring."""
    relay = _Relay(address, username, 1, 0)
    try:
        viewer = _Viewer(await relay.relay.async_url(1))
        await viewer.picture()
        await viewer.stop()
    finally:
        await relay.stop()


async def _one_camera(
    address: tuple[str, int], username: str, *, profile: bool = False
) -> dict[str, float]:
    """Figures 3 and 5: one camera, two viewers (CPU); one viewer (memory).

    ``profile``: then a second window under cProfile (the main thread's CPU
    time), printed; the figure comes from the first window, unprofiled.
    """
    await _warm_up(address, username)
    relay = _Relay(address, username, 1, 2)
    try:
        await relay.start()
        usage = await _measure(relay, RELAY_WINDOW)
        if profile:
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            await asyncio.sleep(RELAY_WINDOW)
            profiler.disable()
            print("\ncProfile of the relay, 1 camera x 2 viewers (main thread CPU, by own time):")
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("tottime").print_stats(15)
            stats.sort_stats("cumtime").print_stats(25)
    finally:
        await relay.stop()
    figures = {"cpu": usage.cpu, "minutes": usage.pictures[0] / FORMAT.fps / 60}
    rss_before = _rss()
    relay = _Relay(address, username, 1, 1)
    try:
        await relay.start()
        rss, gops = [], []
        end = time.perf_counter() + MEMORY_WINDOW
        while time.perf_counter() < end:
            rss.append(_rss())
            gops.append(relay.gop_bytes())
            await asyncio.sleep(0.1)
    finally:
        await relay.stop()
    figures |= {"rss": statistics.mean(rss) - rss_before, "gop_max": max(gops)}
    tracemalloc.start()
    relay = _Relay(address, username, 1, 1)
    try:
        await relay.start()
        heap = []
        end = time.perf_counter() + MEMORY_WINDOW
        while time.perf_counter() < end:
            heap.append(tracemalloc.get_traced_memory()[0])
            await asyncio.sleep(0.1)
    finally:
        await relay.stop()
        tracemalloc.stop()
    return figures | {"heap_mean": statistics.mean(heap), "heap_max": max(heap)}


async def _many(address: tuple[str, int], username: str) -> dict[str, float]:
    """Figure 6: ``MANY`` cameras, a viewer each."""
    await _warm_up(address, username)
    relay = _Relay(address, username, MANY, 1)
    try:
        await relay.start()
        usage = await _measure(relay, RELAY_WINDOW)
    finally:
        await relay.stop()
    return {
        "share": usage.cpu / usage.wall,
        "slowest_fps": min(usage.pictures) / usage.wall,
        "minutes": sum(usage.pictures) / FORMAT.fps / 60,
        "cpu": usage.cpu,
    }


async def _warm_first_picture(
    address: tuple[str, int], username: str
) -> list[tuple[float, float, float]]:
    """Figure 4: new viewers of a warm relay, seconds from request to first decoded picture.

    With each: seconds to the first bytes, and the viewer's own demuxing and
    decoding time until the picture.
    """
    await _warm_up(address, username)
    relay = _Relay(address, username, 1, 1)
    try:
        await relay.start()
        url = await relay.relay.async_url(1)
        pictures = []
        for _ in range(WARM_VIEWERS):
            viewer = _Viewer(url)
            picture = await viewer.picture()
            pictures.append((picture, viewer.first_bytes or 0.0, viewer.decode_seconds))
            await viewer.stop()
            await asyncio.sleep(VIEWER_SPACING)
    finally:
        await relay.stop()
    return pictures


def _child(
    conn: Connection, name: str, address: tuple[str, int], username: str, profile: bool
) -> None:
    if name == "one":
        conn.send(asyncio.run(_one_camera(address, username, profile=profile)))
        return
    work = {"many": _many, "warm": _warm_first_picture}[name]
    conn.send(asyncio.run(work(address, username)))


def _in_child(
    name: str, address: tuple[str, int], username: str, *, profile: bool = False
) -> object:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_child, args=(theirs, name, address, username, profile))
    process.start()
    result = ours.recv()
    process.join(timeout=30)
    return result


def relay_rows(
    address: tuple[str, int], username: str, ffmpeg: float | None, *, profile: bool = False
) -> list[Row]:
    """Figures 3-6 (``profile``: with cProfile's hot spots of the relay)."""
    one = _in_child("one", address, username, profile=profile)
    assert isinstance(one, dict)
    per_minute = one["cpu"] / one["minutes"]
    _line(
        "relay, 1 camera x 2 viewers, whole process",
        f"{per_minute:.3f} s CPU per stream-minute ({one['cpu']:.2f} s over "
        f"{one['minutes'] * 60:.0f} s of stream)",
    )
    rows = [
        Row(
            "relay end to end (1 cam, 2 viewers) / ffmpeg",
            f"{per_minute / ffmpeg:.2f}x ({per_minute:.3f} vs {ffmpeg:.3f} s/stream-min)"
            if ffmpeg
            else f"{per_minute:.3f} s/stream-min (no ffmpeg)",
            f"<= {TARGET_RELAY_VS_FFMPEG:.0f}x",
            per_minute / ffmpeg <= TARGET_RELAY_VS_FFMPEG if ffmpeg else None,
        )
    ]
    viewers = _in_child("warm", address, username)
    assert isinstance(viewers, list)
    warm = [picture for picture, _, _ in viewers]
    median = statistics.median(warm)
    relay_side = statistics.median(picture - decode for picture, _, decode in viewers)
    _line(
        f"warm relay, {WARM_VIEWERS} new viewers",
        f"first decoded picture median {median * 1000:.1f} ms, max {max(warm) * 1000:.1f} ms; "
        f"first bytes median {statistics.median(b for _, b, _ in viewers) * 1000:.1f} ms; "
        f"the viewer's demux + decode median "
        f"{statistics.median(d for _, _, d in viewers) * 1000:.1f} ms",
    )
    rows.append(
        Row(
            "warm relay: new viewer to 1st picture",
            f"median {median * 1000:.0f} ms (less the viewer's decode {relay_side * 1000:.0f} ms)",
            f"<= {TARGET_WARM_MS:.0f} ms",
            median * 1000 <= TARGET_WARM_MS,
        )
    )
    mib = 2**20
    gop = one["gop_max"]
    _line(
        "memory per relay (1 camera, 1 viewer)",
        f"heap mean {one['heap_mean'] / mib:.1f} MiB, max {one['heap_max'] / mib:.1f} MiB; "
        f"GOP cache up to {gop / mib:.2f} MiB; RSS growth {one['rss'] / mib:.1f} MiB "
        "(memory freed earlier in the process hides most of it)",
    )
    rows.append(
        Row(
            "memory per relay (Python heap, max)",
            f"{one['heap_max'] / mib:.1f} MiB; 1 GOP = {gop / mib:.1f} MiB",
            f"<= 2 GOPs + {FIXED_OVERHEAD / mib:.1f} MiB",
            one["heap_max"] <= 2 * gop + FIXED_OVERHEAD,
        )
    )
    many = _in_child("many", address, username)
    assert isinstance(many, dict)
    behind = many["slowest_fps"] < FORMAT.fps * 0.95
    _line(
        f"{MANY} relays at once, a viewer each",
        f"{many['share'] * 100:.0f}% of a core; {many['cpu'] / many['minutes']:.3f} s CPU per "
        f"stream-minute; slowest camera {many['slowest_fps']:.1f} pictures/s of {FORMAT.fps}",
    )
    rows.append(
        Row(
            f"{MANY} relays at once: CPU share",
            f"{many['share'] * 100:.0f}% of a core, slowest {many['slowest_fps']:.1f} fps"
            + (" (behind)" if behind else ""),
            f"< {TARGET_MANY_SHARE * 100:.0f}%, none behind",
            many["share"] < TARGET_MANY_SHARE and not behind,
        )
    )
    return rows


# -- the table ----------------------------------------------------------------------------


def _table(rows: list[Row]) -> None:
    width = max(len(row.figure) for row in rows)
    value_width = max(len(row.value) for row in rows)
    print()
    print(f"{'figure':<{width}}  {'measured':<{value_width}}  {'target':<26}  result")
    for row in rows:
        verdict = "-" if row.passed is None else "PASS" if row.passed else "FAIL"
        print(f"{row.figure:<{width}}  {row.value:<{value_width}}  {row.target:<26}  {verdict}")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the depacketizer and the relay"
    )
    parser.add_argument("--no-relay", action="store_true", help="figures 1 and 2 only")
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; "
        f"{FORMAT.width}x{FORMAT.height} {FORMAT.fps} fps, keyframe every "
        f"{FORMAT.gop_seconds:g} s",
        flush=True,
    )
    inputs = all_inputs()
    for live in inputs:
        _line(
            f"input {live.name}",
            f"{len(live.data) / 1e6:.1f} MB for {SECONDS} s ({live.mbit_s:.1f} Mbit/s), "
            f"{live.packets} parts of {len(live.data) / live.packets:.0f} B",
        )
    rows = depacketizer(inputs, profile=args.profile)
    steady = ffmpeg_steady_state(inputs[0])
    if not args.no_relay:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        simulator = context.Process(target=_simulator_process, args=(theirs,), daemon=True)
        simulator.start()
        try:
            address, username = ours.recv()
            rows += relay_rows(address, username, steady, profile=args.profile)
        finally:
            ours.send("stop")
            simulator.join(timeout=10)
    _table(rows)


if __name__ == "__main__":
    main()
