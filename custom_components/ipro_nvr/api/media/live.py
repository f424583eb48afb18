"""The live path end to end: multipart parts in, pictures and audio frames out.

    async with (
        session.get(push_url) as response,
        aclosing(iter_live_body(response.content.iter_any())) as items,
    ):
        async for item in items:
            ...  # AccessUnit, JpegFrame or AudioFrame

(``contextlib.aclosing`` closes the generators at once when the loop is left
early, instead of whenever the garbage collector gets to them.)

Parts are dispatched by content type (sniffed when absent): RTP packets of
payload type 98 go to the H.264 depacketizer, 101 to the H.265 one (another
payload type is accepted when the packet's recorder information names the
codec); ``image/jpeg`` parts lose their vendor blocks; ``audio/*`` parts their
``0x00`` prefix. Damaged parts are skipped and counted in :class:`LiveStats`;
only a multipart framing error (an oversize part) raises.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass, field
from typing import cast

from ..spec import (
    CONTENT_TYPE_JPEG,
    CONTENT_TYPE_VIDEO,
    MULTIPART_BOUNDARY,
    RTP_PAYLOAD_TYPE_H264,
    RTP_PAYLOAD_TYPE_H265,
    RTP_VERSION,
    RecorderCodec,
)
from .access_unit import AccessUnit, VideoCodec
from .audio import AudioFrame, parse_audio_part
from .depacketizer import DepacketizerStats, VideoDepacketizer
from .errors import MediaFormatError
from .h264 import H264Depacketizer
from .h265 import H265Depacketizer
from .jpeg import SOI, JpegFrame, strip_vendor_blocks
from .multipart import (
    DEFAULT_MAX_PART_SIZE,
    MultipartReader,
    Part,
    PartHead,
    StandardFraming,
)
from .rtp import rtp_span
from .tlv import parse_recorder_info

type LiveItem = AccessUnit | JpegFrame | AudioFrame

_CODEC_BY_PAYLOAD_TYPE = {
    RTP_PAYLOAD_TYPE_H264: VideoCodec.H264,
    RTP_PAYLOAD_TYPE_H265: VideoCodec.H265,
}
_CODEC_BY_RECORDER_CODEC = {
    RecorderCodec.H264: VideoCodec.H264,
    RecorderCodec.H265: VideoCodec.H265,
}


@dataclass(slots=True)
class LiveStats:
    """Counters of a :class:`LiveDepacketizer`."""

    parts: int = 0
    video: DepacketizerStats = field(default_factory=DepacketizerStats)
    bad_rtp_packets: int = 0
    unknown_payload_types: int = 0
    jpeg_frames: int = 0
    bad_jpeg_parts: int = 0
    audio_frames: int = 0
    bad_audio_parts: int = 0
    unknown_parts: int = 0


class LiveDepacketizer:
    """Turns the parts of one live stream into access units, JPEG and audio frames."""

    def __init__(self, stats: LiveStats | None = None) -> None:
        self.stats = stats if stats is not None else LiveStats()
        self._video: dict[VideoCodec, VideoDepacketizer] = {}
        self._ssrc: dict[VideoCodec, int] = {}
        # The depacketizer the last packet went to, with its payload type and
        # source: the next packet, alike, goes straight to it.
        self._last_type = -1
        self._last_ssrc = -1
        self._last: VideoDepacketizer | None = None
        # What take_part completed, until take_items collects it.
        self._items: list[LiveItem] = []

    def push(self, part: Part) -> list[LiveItem]:
        """Take one part; return what it completed (zero or more items)."""
        self.stats.parts += 1
        # Video parts come with exactly this type: no need to parse it (once per RTP packet).
        media_type = (
            CONTENT_TYPE_VIDEO
            if part.content_type == CONTENT_TYPE_VIDEO
            else part.media_type or _sniff(part.body)
        )
        if media_type == CONTENT_TYPE_VIDEO:
            return list(self.push_rtp(part.body))
        return self._other(media_type, part.content_type, part.body)

    def take_part(self, head: PartHead, view: memoryview, start: int, end: int) -> None:
        """Take the part ``view[start:end]`` in place (a :data:`~.multipart.PartSink`).

        What it completes is collected by :meth:`take_items`. A video part
        (one RTP packet) is read where it lies, without a copy.
        """
        self.stats.parts += 1
        media_type = head.media_type
        if media_type == CONTENT_TYPE_VIDEO:
            self._take_rtp(view, start, end)
            return
        media_type = media_type or _sniff(view[start : start + len(SOI)])
        if media_type == CONTENT_TYPE_VIDEO:
            self._take_rtp(view, start, end)
        else:
            self._items += self._other(media_type, head.content_type, bytes(view[start:end]))

    def take_run(
        self, buf: bytearray, view: memoryview, pos: int, framing: StandardFraming
    ) -> tuple[int, int, bool]:
        """Take a run of video parts in one loop (a :data:`~.multipart.PartRun`).

        The packets of the source the last one came from go to its
        depacketizer's fused fast path (:meth:`VideoDepacketizer.take_run`);
        what it leaves, and any other part, is read by :meth:`take_part`.
        """
        last = self._last
        if last is None or framing.head.media_type != CONTENT_TYPE_VIDEO:
            return pos, 0, False
        pos, parts, waiting = last.take_run(
            self._items, buf, view, pos, framing, self._last_type, self._last_ssrc
        )
        self.stats.parts += parts
        return pos, parts, waiting

    def take_items(self) -> list[LiveItem]:
        """What :meth:`take_part` completed since the last call."""
        items, self._items = self._items, []
        return items

    def push_rtp(self, data: bytes) -> list[AccessUnit]:
        """Take one RTP packet of video; return the access units it completed."""
        self._take_rtp(data, 0, len(data))
        return cast("list[AccessUnit]", self.take_items())

    def _take_rtp(self, data: bytes | memoryview, start: int, end: int) -> None:
        try:
            _, second, sequence, timestamp, ssrc, extension, payload, end = rtp_span(
                data, start, end
            )
        except MediaFormatError:
            self.stats.bad_rtp_packets += 1
            return
        if (
            second & 0x7F == self._last_type
            and ssrc == self._last_ssrc
            and (last := self._last) is not None
        ):
            depacketizer = last
        else:
            found = self._depacketizer(second & 0x7F, ssrc, data[extension:payload])
            if found is None:
                return
            depacketizer = found
        depacketizer.take(
            self._items,
            data,
            payload,
            end,
            sequence,
            timestamp,
            second & 0x80,
            extension,
        )

    def _depacketizer(
        self, payload_type: int, ssrc: int, extension: bytes | memoryview
    ) -> VideoDepacketizer | None:
        """The depacketizer of a packet's codec; a new source resets it (None: unknown codec)."""
        codec = _CODEC_BY_PAYLOAD_TYPE.get(payload_type)
        if codec is None:
            codec = _codec_from_info(extension)
            if codec is None:
                self.stats.unknown_payload_types += 1
                return None
        depacketizer = self._video.get(codec)
        if depacketizer is None:
            kind = H264Depacketizer if codec is VideoCodec.H264 else H265Depacketizer
            depacketizer = self._video[codec] = kind(self.stats.video)
        elif self._ssrc.get(codec) != ssrc:
            depacketizer.reset()  # a new source: a new stream, from its next keyframe
        self._ssrc[codec] = ssrc
        # Only a payload type that names the codec is remembered: another one
        # is looked up in each packet's recorder information, as it may change.
        if payload_type in _CODEC_BY_PAYLOAD_TYPE:
            self._last_type, self._last_ssrc, self._last = payload_type, ssrc, depacketizer
        else:
            self._last_type = -1
        return depacketizer

    def _other(self, media_type: str, content_type: str, body: bytes) -> list[LiveItem]:
        """A part that is not video: a JPEG picture, an audio frame, or unknown."""
        stats = self.stats
        if media_type == CONTENT_TYPE_JPEG:
            try:
                frame = strip_vendor_blocks(body)
            except MediaFormatError:
                stats.bad_jpeg_parts += 1
                return []
            stats.jpeg_frames += 1
            return [frame]
        if media_type.startswith("audio/"):
            try:
                audio = parse_audio_part(content_type, body)
            except MediaFormatError:
                stats.bad_audio_parts += 1
                return []
            stats.audio_frames += 1
            return [audio]
        stats.unknown_parts += 1
        return []


class LiveBodyReader:
    """The live path's synchronous core: chunks of a ``push.cgi`` body in, items out.

    The multipart reader hands each part over where it lies in its buffer, and
    the live depacketizer reads the RTP packet there: one parse per part, one
    copy of each payload (into its picture), no object per part or packet.
    Most parts (the next fragment of a NAL unit) take the fused fast path:
    one loop reads their heads, RTP headers and payloads into the picture
    (:meth:`LiveDepacketizer.take_run`); the reader and the depacketizer's
    general code read every other part.
    """

    def __init__(
        self,
        reader: MultipartReader | None = None,
        depacketizer: LiveDepacketizer | None = None,
    ) -> None:
        self.reader = reader if reader is not None else MultipartReader()
        self.depacketizer = depacketizer if depacketizer is not None else LiveDepacketizer()

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[LiveItem]:
        """Add the next chunk of the body; return what it completed, in order."""
        depacketizer = self.depacketizer
        self.reader.feed_into(chunk, depacketizer.take_part, depacketizer.take_run)
        return depacketizer.take_items()

    def finish(self) -> None:
        """Mark the end of the body (see :meth:`MultipartReader.finish`)."""
        self.reader.finish()


def _codec_from_info(extension: bytes | memoryview) -> VideoCodec | None:
    if not extension:
        return None
    try:
        codec = parse_recorder_info(extension).codec
    except MediaFormatError:
        return None
    return _CODEC_BY_RECORDER_CODEC.get(codec) if isinstance(codec, RecorderCodec) else None


def _sniff(body: bytes | memoryview) -> str:
    """Guess a part's type from its first bytes when it has no Content-type."""
    if body[: len(SOI)] == SOI:
        return CONTENT_TYPE_JPEG
    if body and body[0] >> 6 == RTP_VERSION:
        return CONTENT_TYPE_VIDEO
    return ""


async def iter_live(
    parts: AsyncIterable[Part], *, depacketizer: LiveDepacketizer | None = None
) -> AsyncGenerator[LiveItem]:
    """Yield the access units, JPEG frames and audio frames of a stream of parts.

    Pass your own ``depacketizer`` to read its :attr:`LiveDepacketizer.stats`.
    """
    live = depacketizer if depacketizer is not None else LiveDepacketizer()
    async for part in parts:
        for item in live.push(part):
            yield item


async def iter_live_body(
    chunks: AsyncIterable[bytes],
    *,
    boundary: str = MULTIPART_BOUNDARY,
    max_part_size: int = DEFAULT_MAX_PART_SIZE,
    reader: MultipartReader | None = None,
    depacketizer: LiveDepacketizer | None = None,
) -> AsyncGenerator[LiveItem]:
    """:func:`iter_live` over the parts of a multipart body arriving as ``chunks``.

    Pass your own ``reader`` and ``depacketizer`` to read their stats.
    """
    body = LiveBodyReader(
        reader if reader is not None else MultipartReader(boundary, max_part_size=max_part_size),
        depacketizer,
    )
    async for chunk in chunks:
        for item in body.feed(chunk):
            yield item
    body.finish()


__all__ = [
    "LiveBodyReader",
    "LiveDepacketizer",
    "LiveItem",
    "LiveStats",
    "iter_live",
    "iter_live_body",
]
