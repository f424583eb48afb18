"""Pictures of a playback as JPEG, for the playback camera and the media player's artwork.

The recorder sends H.264/H.265 a GOP at a time (spec 3.3.1); a picture can only
be decoded from its GOP's first picture on. The renderer keeps one decoder on
the GOP shown, so playing forwards decodes each picture once; a request for a
picture before the last one decoded (reverse playback, a step back) decodes the
whole GOP once and keeps all its pictures as JPEG, so the rest of a reverse run
through that GOP costs nothing more. JPEG cameras' pictures are handed out as
they came. Decoding and encoding are CPU work: they run in the executor, one at
a time per camera, and only while someone looks (nothing is decoded for the
media player's state).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final, cast

import av
from av.video.codeccontext import VideoCodecContext
from homeassistant.core import HomeAssistant

from custom_components.ipro_nvr.api import (
    AccessUnit,
    JpegFrame,
    PlaybackFrame,
    VideoCodec,
    join_annexb,
)
from custom_components.ipro_nvr.live.keyframe_snapshot import frame_to_jpeg

_LOGGER = logging.getLogger(__name__)

_DECODERS: Final = {VideoCodec.H264: "h264", VideoCodec.H265: "hevc"}
# Pictures wider than this are scaled down: a dashboard tile needs no 4K JPEG,
# and encoding one costs ten times the CPU.
MAX_WIDTH: Final = 1920


class _GopDecoder:
    """Decodes one GOP forwards; keeps the JPEGs it made (blocking; executor only)."""

    def __init__(self, frame: PlaybackFrame) -> None:
        self.serial = frame.gop_serial
        self.pictures = frame.gop.pictures
        self._decoder: VideoCodecContext | None = None
        self._fed = 0  # pictures fed to the decoder
        # Decoded pictures by index; forwards, those before the one shown are let go.
        self._decoded: dict[int, av.VideoFrame] = {}
        self._count = 0  # pictures the decoder gave out
        self._last_index = -1
        self.jpegs: dict[int, bytes] = {}

    def render(self, index: int) -> bytes | None:
        if index in self.jpegs:
            return self.jpegs[index]
        if index <= self._last_index:
            # Backwards: decode the whole GOP again and keep every picture.
            self._restart()
            self._decode_until(len(self.pictures) - 1)
            for position, picture in self._decoded.items():
                self.jpegs[position] = _encode(picture)
            self._decoded.clear()
            return self.jpegs.get(index)
        self._decode_until(index)
        if index not in self._decoded:
            return None
        picture = self._decoded[index]
        self._last_index = index
        jpeg = self.jpegs[index] = _encode(picture)
        for position in [p for p in self._decoded if p <= index]:
            del self._decoded[position]
        return jpeg

    def _restart(self) -> None:
        self._decoder = None
        self._fed = 0
        self._count = 0
        self._decoded.clear()

    def _take(self, frames: list[av.VideoFrame]) -> None:
        for frame in frames:
            self._decoded[self._count] = frame
            self._count += 1

    def _decode_until(self, index: int) -> None:
        while self._count <= index and self._fed < len(self.pictures):
            unit = self.pictures[self._fed]
            if not isinstance(unit, AccessUnit):
                return
            if self._decoder is None:
                self._decoder = cast(
                    "VideoCodecContext", av.CodecContext.create(_DECODERS[unit.codec], "r")
                )
            data = unit.data
            if self._fed == 0:
                # The decoder needs the parameter sets in band; a GOP may not repeat them.
                sets = unit.parameter_sets
                data = join_annexb(p for p in (sets.vps, sets.sps, sets.pps) if p) + data
            self._fed += 1
            self._take(self._decoder.decode(av.Packet(data)))
            if self._fed == len(self.pictures):
                self._take(self._decoder.decode(None))


def _encode(frame: av.VideoFrame) -> bytes:
    if frame.width > MAX_WIDTH:
        height = round(frame.height * MAX_WIDTH / frame.width) // 2 * 2
        frame = frame.reformat(width=MAX_WIDTH, height=height)
    return frame_to_jpeg(frame)


class PlaybackRenderer:
    """JPEGs of one camera's playback pictures; see the module docstring."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare; nothing is decoded before the first request."""
        self._hass = hass
        self._lock = asyncio.Lock()
        self._gop: _GopDecoder | None = None
        self._latest: tuple[int, bytes] | None = None  # sequence, JPEG
        self._failed_serial: int | None = None
        self.rendered = 0

    async def jpeg(self, frame: PlaybackFrame) -> bytes | None:
        """The picture ``frame`` shows, as JPEG; None when it cannot be decoded."""
        picture = frame.picture
        if isinstance(picture, JpegFrame):
            return picture.data
        async with self._lock:
            latest = self._latest
            if latest is not None and latest[0] == frame.sequence:
                return latest[1]
            if frame.gop_serial == self._failed_serial:
                return None
            gop = self._gop
            if gop is None or gop.serial != frame.gop_serial:
                gop = self._gop = _GopDecoder(frame)
            try:
                jpeg = await self._hass.async_add_executor_job(gop.render, frame.index)
            except (av.FFmpegError, ValueError) as err:
                # A damaged GOP: logged once, its pictures are skipped.
                _LOGGER.warning("A playback picture could not be decoded: %s", err)
                self._failed_serial = frame.gop_serial
                return None
            if jpeg is not None:
                self._latest = (frame.sequence, jpeg)
                self.rendered += 1
            return jpeg
