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
from contextlib import aclosing
from dataclasses import dataclass, field

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
from .multipart import DEFAULT_MAX_PART_SIZE, MultipartReader, Part, iter_parts
from .rtp import RtpPacket, parse_rtp
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

    def push(self, part: Part) -> list[LiveItem]:
        """Take one part; return what it completed (zero or more items)."""
        stats = self.stats
        stats.parts += 1
        # Video parts come with exactly this type: no need to parse it (once per RTP packet).
        media_type = (
            CONTENT_TYPE_VIDEO
            if part.content_type == CONTENT_TYPE_VIDEO
            else part.media_type or _sniff(part.body)
        )
        if media_type == CONTENT_TYPE_VIDEO:
            return list(self.push_rtp(part.body))
        if media_type == CONTENT_TYPE_JPEG:
            try:
                frame = strip_vendor_blocks(part.body)
            except MediaFormatError:
                stats.bad_jpeg_parts += 1
                return []
            stats.jpeg_frames += 1
            return [frame]
        if media_type.startswith("audio/"):
            try:
                audio = parse_audio_part(part.content_type, part.body)
            except MediaFormatError:
                stats.bad_audio_parts += 1
                return []
            stats.audio_frames += 1
            return [audio]
        stats.unknown_parts += 1
        return []

    def push_rtp(self, data: bytes) -> list[AccessUnit]:
        """Take one RTP packet of video; return the access units it completed."""
        try:
            packet = parse_rtp(data)
        except MediaFormatError:
            self.stats.bad_rtp_packets += 1
            return []
        codec = _CODEC_BY_PAYLOAD_TYPE.get(packet.payload_type) or _codec_from_info(packet)
        if codec is None:
            self.stats.unknown_payload_types += 1
            return []
        depacketizer = self._video.get(codec)
        if depacketizer is None:
            kind = H264Depacketizer if codec is VideoCodec.H264 else H265Depacketizer
            depacketizer = self._video[codec] = kind(self.stats.video)
        elif self._ssrc.get(codec) != packet.ssrc:
            depacketizer.reset()  # a new source: a new stream, from its next keyframe
        self._ssrc[codec] = packet.ssrc
        return depacketizer.push(packet)


def _codec_from_info(packet: RtpPacket) -> VideoCodec | None:
    if not packet.extension:
        return None
    try:
        codec = parse_recorder_info(packet.extension).codec
    except MediaFormatError:
        return None
    return _CODEC_BY_RECORDER_CODEC.get(codec) if isinstance(codec, RecorderCodec) else None


def _sniff(body: bytes) -> str:
    """Guess a part's type from its first bytes when it has no Content-type."""
    if body.startswith(SOI):
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
    """:func:`iter_live` over the parts of a multipart body arriving as ``chunks``."""
    parts = iter_parts(chunks, boundary=boundary, max_part_size=max_part_size, reader=reader)
    async with aclosing(parts), aclosing(iter_live(parts, depacketizer=depacketizer)) as items:
        async for item in items:
            yield item


__all__ = ["LiveDepacketizer", "LiveItem", "LiveStats", "iter_live", "iter_live_body"]
