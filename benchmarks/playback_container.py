"""Figures for the playback containers (spec 3.3): parsing a GOP as it streams in.

Run: .venv/bin/python -m benchmarks.playback_container
Prints the time to parse one simulator GOP (H.264, 10 pictures) fed in 16 KiB
chunks, and the throughput on a large synthetic GOP (300 pictures of 30 KB,
about what a 4K camera sends per second at high quality), in 64 KiB chunks.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from custom_components.ipro_nvr.api.media import PlaybackVideoParser
from nvr_simulator.playback_container import RecordedPicture, recorded_gop, video_container
from nvr_simulator.video import H264, VideoFormat

ROUNDS = 30


def _parse(body: bytes, chunk: int) -> int:
    parser = PlaybackVideoParser()
    view = memoryview(body)
    count = 0
    for offset in range(0, len(body), chunk):
        count += len(parser.feed(view[offset : offset + chunk]))
    return count + len(parser.finish())


def _timed(body: bytes, chunk: int) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        _parse(body, chunk)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    """Print the figures."""
    small = video_container(H264, 1, recorded_gop(H264, 1, VideoFormat(), 0))
    seconds = _timed(small, 16 * 1024)
    print(f"simulator GOP ({len(small)} bytes, 10 pictures): {seconds * 1e6:.0f} µs per GOP")
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    pictures = [
        RecordedPicture(b"\x00\x00\x00\x01\x41" + bytes([i % 250 + 1]) * 30_000, when)
        for i in range(300)
    ]
    large = video_container(H264, 1, pictures)
    seconds = _timed(large, 64 * 1024)
    rate = len(large) / seconds / 1e6
    size = len(large) / 1e6
    print(f"large GOP ({size:.1f} MB, 300 pictures): {seconds * 1e3:.1f} ms, {rate:.0f} MB/s")


if __name__ == "__main__":
    main()
