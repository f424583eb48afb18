"""Access units in, MPEG-TS bytes out, with PyAV's muxer (no re-encoding)."""

from __future__ import annotations

from contextlib import suppress
from fractions import Fraction
import io
from typing import Any

import av

from .api.media import AccessUnit, VideoCodec

_TIME_BASE = Fraction(1, 90_000)
_CODEC_NAMES = {VideoCodec.H264: "h264", VideoCodec.H265: "hevc"}


class _Sink(io.RawIOBase):
    """Collects what the muxer writes until the caller takes it."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


class TsMuxer:
    """Mux one viewer's access units into an MPEG-TS byte stream.

    Timestamps start near zero for every viewer (the first picture's timestamp
    is the origin) and follow the feed's 90 kHz clock, which only grows.
    """

    def __init__(self, codec: VideoCodec) -> None:
        """Open the muxer; the TS header goes out with the first picture."""
        self._sink = _Sink()
        self._container: Any = av.open(self._sink, mode="w", format="mpegts")
        self._stream: Any = self._container.add_stream(_CODEC_NAMES[codec])
        self._stream.time_base = _TIME_BASE
        self._origin: int | None = None

    def mux(self, unit: AccessUnit) -> bytes:
        """Return the TS bytes for ``unit`` (possibly empty while the muxer buffers)."""
        if self._origin is None:
            self._origin = unit.timestamp
        packet = av.Packet(unit.data)
        packet.stream = self._stream
        packet.time_base = _TIME_BASE
        packet.pts = packet.dts = unit.timestamp - self._origin
        packet.is_keyframe = unit.keyframe
        self._container.mux(packet)
        return self._sink.take()

    def close(self) -> bytes:
        """Flush the muxer and return the last bytes."""
        # Nothing muxed yet means no header either, and closing then fails.
        with suppress(av.FFmpegError, ValueError):
            self._container.close()
        return self._sink.take()
