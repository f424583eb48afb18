"""The ``push.cgi`` bodies the live-path benchmarks read, made once and cached on disk.

Each input is 60 s of the simulator's 1080p25 picture (its own encoder, x264 /
x265 ultrafast, a keyframe every 2 s) packetized into RTP and framed as a
multipart body, in one of several byte layouts a recorder could send within
the spec (2.3.1, 2.3.3-2.3.7):

* ``simulator``: byte for byte what ``nvr_simulator.live`` sends (MTU 1400,
  recorder TLVs in the first packet of each picture, ``Content-type``);
* ``mtu500-tlv-all``: MTU 500, the TLVs in every packet, ``Content-Type``;
* ``mtu1200-stap``: MTU 1200, small NAL units aggregated (STAP-A / AP), the
  TLVs in every packet, ``CONTENT-TYPE``.

The bodies are cached under ``$XDG_CACHE_HOME/ipro_nvr-benchmarks`` (else
``~/.cache``) with the pictures they carry, keyed by layout, codec and format:
the encoder and the packetizer run once per machine, not once per run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import datetime as dt
import os
from pathlib import Path
import pickle
import struct
from typing import Final

from custom_components.ipro_nvr.api.spec import CONTENT_TYPE_VIDEO, MULTIPART_BOUNDARY
from nvr_simulator import SimulatorConfig, video as simulator_video
from nvr_simulator.live import LiveStream
from nvr_simulator.rtp_packetizer import RtpPacketizer
from nvr_simulator.simulator import Simulator
from nvr_simulator.video import H264, H265, VideoClip, VideoFormat, cached_video_clip

FORMAT: Final = VideoFormat(width=1920, height=1080, fps=25, gop_seconds=2.0, loop_seconds=4.0)
SECONDS: Final = 60
# Cameras of the simulator that serve the clip (the relay benchmarks' 16 at once).
CHANNELS: Final = 16
CODECS: Final = (H264, H265)
_DELIMITER: Final = f"--{MULTIPART_BOUNDARY}\r\n".encode("ascii")
_VERSION: Final = 1  # bump when a layout changes: the cache key includes it


@dataclass(frozen=True, slots=True)
class Layout:
    """How a recorder could frame its stream (all within the spec)."""

    name: str
    mtu: int
    tlvs_on_every_packet: bool
    aggregate: bool
    type_header: str  # the Content-Type header name as sent


LAYOUTS: Final = (
    Layout("simulator", 1400, tlvs_on_every_packet=False, aggregate=False,
           type_header="Content-type"),
    Layout("mtu500-tlv-all", 500, tlvs_on_every_packet=True, aggregate=False,
           type_header="Content-Type"),
    Layout("mtu1200-stap", 1200, tlvs_on_every_packet=True, aggregate=True,
           type_header="CONTENT-TYPE"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LiveInput:
    """One cached body and the pictures (Annex-B) it must give, in order."""

    layout: Layout
    codec: str
    data: bytes
    packets: int
    pictures: tuple[bytes, ...]

    @property
    def name(self) -> str:
        """``layout codec``, for the tables."""
        return f"{self.layout.name} {self.codec}"

    @property
    def mbit_s(self) -> float:
        """Bit rate of the body (video plus RTP and multipart framing)."""
        return len(self.data) * 8 / SECONDS / 1e6

    def chunks(self, size: int = 64 * 1024) -> list[bytes]:
        """The body as a socket would hand it over."""
        return [self.data[i : i + size] for i in range(0, len(self.data), size)]


def cache_dir() -> Path:
    """Where the inputs are kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ipro_nvr-benchmarks"


def _pickled[T](name: str, build: Callable[[], T]) -> T:
    path = cache_dir() / name
    if path.exists():
        with path.open("rb") as file:
            cached: T = pickle.load(file)  # noqa: S301 - our own cache
        return cached
    built = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as file:
        pickle.dump(built, file, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
    return built


def video_clip(codec: str) -> VideoClip:
    """The simulator's clip of camera 1 in ``FORMAT``, encoded once per machine.

    Also seeds the simulator's own cache, for every channel (``CHANNELS``): a
    simulator in this process then serves it without encoding.
    """
    fmt = FORMAT
    name = f"v{_VERSION}-clip-{codec}-{fmt.width}x{fmt.height}-{fmt.fps}-{fmt.loop_seconds}s.pickle"
    clip = _pickled(name, lambda: cached_video_clip(codec, 1, fmt))
    for channel in range(1, CHANNELS + 1):
        simulator_video._cache.setdefault(("video", codec, channel, fmt), clip)  # noqa: SLF001
    return clip


def live_input(layout: Layout, codec: str) -> LiveInput:
    """The input of ``layout`` and ``codec``, built at first use and cached on disk."""
    fmt = FORMAT
    name = f"v{_VERSION}-{layout.name}-{codec}-{fmt.width}x{fmt.height}-{fmt.fps}-{SECONDS}s.pickle"
    return _pickled(name, lambda: _build(layout, codec))


def all_inputs() -> list[LiveInput]:
    """Every layout for both codecs."""
    return [live_input(layout, codec) for layout in LAYOUTS for codec in CODECS]


def _build(layout: Layout, codec: str) -> LiveInput:
    clip = video_clip(codec)
    config = SimulatorConfig(
        live_width=FORMAT.width,
        live_height=FORMAT.height,
        live_fps=FORMAT.fps,
        live_gop_seconds=FORMAT.gop_seconds,
        live_loop_seconds=FORMAT.loop_seconds,
    )
    live = Simulator(config).live
    stream = LiveStream(uid="1", channel=1, comp=codec, started_at=0.0)
    first_packetizer, first_timestamp = live.new_packetizer(codec)
    start = dt.datetime.now(dt.UTC)
    sample = live.recorder_tlvs(stream, start, codec)
    extension_size = 4 + (len(sample) + 3) // 4 * 4
    # With TLVs in every packet, each packet leaves room for them.
    mtu = layout.mtu - (extension_size if layout.tlvs_on_every_packet else 0)
    packetizer = RtpPacketizer(
        codec=codec,
        sequence=first_packetizer.sequence,
        ssrc=first_packetizer.ssrc,
        mtu=mtu,
        aggregate=layout.aggregate,
    )
    head = f"{layout.type_header}: {CONTENT_TYPE_VIDEO}\r\nContent-Length: %d\r\n\r\n"
    parts: list[bytes] = []
    pictures: list[bytes] = []
    count = SECONDS * FORMAT.fps
    for index in range(count):
        picture = clip.pictures[index % len(clip.pictures)]
        extension = live.recorder_tlvs(stream, live.picture_time(index, start), codec)
        timestamp = first_timestamp + index * 90_000 // FORMAT.fps
        packets = packetizer.packetize(picture.nals, timestamp, extension)
        if layout.tlvs_on_every_packet:
            packets = [packets[0]] + [_with_extension(p, extension) for p in packets[1:]]
        parts += [_DELIMITER + (head % len(p)).encode("ascii") + p + b"\r\n" for p in packets]
        pictures.append(picture.annexb)
    return LiveInput(layout, codec, b"".join(parts), packetizer.packets_sent, tuple(pictures))


def _with_extension(packet: bytes, extension: bytes) -> bytes:
    """``packet`` (no extension) with the X bit set and ``extension`` after its header."""
    padded = extension + b"\x00" * (-len(extension) % 4)
    first = packet[0] | 0x10
    return (
        bytes((first,))
        + packet[1:12]
        + struct.pack(">HH", 0, len(padded) // 4)
        + padded
        + packet[12:]
    )


__all__ = [
    "CODECS",
    "FORMAT",
    "H264",
    "H265",
    "LAYOUTS",
    "SECONDS",
    "Layout",
    "LiveInput",
    "all_inputs",
    "live_input",
]
