"""Playback video bodies of ``camera.cgi`` (spec 3.3.1): one GOP (or one JPEG) per body.

Layout (spec 3.3.1.1 H.264, 3.3.1.2 H.265, 3.3.1.3 JPEG; every number big-endian):

1. Chunk header: u16 ``0xFF15`` (H.264) or ``0xFF16`` (H.265) and a u16 length
   of the recorder-information TLVs that follow; JPEG opens with ``FF D8 FF FE``
   and a u16 length instead.
2. The recorder-information TLVs (spec 7.1), optional camera-information TLVs,
   12 reserved bytes.
3. One record per picture: ``FF 06 00 44`` (stream header; 0x44 = 68 bytes with
   the two information blocks); GOP information (16 reserved, u32 end time,
   {10 ms, TZ hours, TZ minutes, TZ info}, u32 start time, {same}); PIC
   information (16 reserved, u32 picture time, u8 10 ms + 3 reserved, 8
   reserved); ``FF 05`` + u16 count of zero bytes after the video data; the
   packet header (u32 length of the video data, 16 reserved); the video data
   (Annex-B with start codes for H.264/H.265, the JPEG file for JPEG); the zero
   padding. Camera-information TLVs may precede a record.
4. Zero padding to a 4 KiB boundary.

Tolerances (the spec's figures are garbled; this is the working reading):

* the chunk length is tried as counting the TLVs only, then as counting its
  own 4-byte header too (JPEG: also its own two length bytes); TLVs that
  parse with no reading are ignored (:attr:`PlaybackVideoStats.bad_info`);
* records are found by their ``FF 06 00 44`` signature. Between records, zero
  words and TLVs (camera information) are skipped; any other bytes are skipped
  up to the next signature and counted (:attr:`PlaybackVideoStats.skipped_bytes`):
  before the first record they are the reserved bytes, after it they mean a
  lost record (raised at the end). A padding count that disagrees with the
  bytes after the data is counted, not trusted;
* a record whose header does not add up (no ``FF 05``, a length over
  ``max_picture_size``, data that is not Annex-B or not a JPEG) is counted in
  :attr:`PlaybackVideoStats.bad_records` and the search resumes after its
  signature, so the pictures after it are still delivered; so is a record
  whose data holds another record's header (its length swallowed it);
* a body with no record at all falls back to the bare data after the chunk
  header: Annex-B NAL units split into pictures at access-unit delimiters
  (H.264/H.265), or the first JPEG image.

Nothing ends silently: :meth:`PlaybackVideoParser.finish` raises
:class:`~.errors.MediaFormatError` for a truncated body, a damaged record,
unreadable bytes between records, no picture, or fewer pictures than the
frame-count TLV (0x0008) announces; every picture delivered before stays
delivered (a picture whose length was too long may have been delivered with
the bytes it swallowed: the error says the GOP is damaged).

Each picture comes out as the live path's types: an :class:`AccessUnit` (H.264,
H.265) or a :class:`JpegFrame` (JPEG), whose ``info`` is the chunk's recorder
information with ``time``, ``utc_offset`` and ``summer_time`` set to the
picture's recorded time (PIC information, zone from the GOP information). An
access unit's ``timestamp`` is that time in 90 kHz ticks since the Unix epoch.

The parser is push-style (:meth:`PlaybackVideoParser.feed` takes chunks of any
size) and linear: no byte is searched twice, consumed bytes are dropped.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum, auto
import re
import struct
from typing import Final

from ..spec import (
    JPEG_VENDOR_BLOCK_ID,
    PLAYBACK_CHUNK_H264,
    PLAYBACK_CHUNK_H265,
    PLAYBACK_CHUNK_RESERVED,
    PLAYBACK_INFO_SIZE,
    PLAYBACK_PACKET_RESERVED,
    PLAYBACK_PADDING_ID,
    PLAYBACK_STREAM_HEADER,
    RTP_VIDEO_CLOCK_RATE,
    TLV_HEADER_SIZE,
)
from .access_unit import (
    START_CODE,
    AccessUnit,
    ParameterSets,
    VideoCodec,
    is_keyframe_nal,
    nal_unit_type,
    split_annexb,
)
from .errors import MediaFormatError
from .jpeg import SOI, JpegFrame
from .playback_time import UNIX_EPOCH, RecordedTime, recorded_time
from .tlv import RecorderInfo, parse_recorder_info

type PlaybackPicture = AccessUnit | JpegFrame

# A picture of a 4K camera is well under this; a larger length is a damaged header.
DEFAULT_MAX_PICTURE_SIZE: Final = 16 * 1024 * 1024
# Bytes held while no record has been found (for the fallback); a GOP is far smaller.
DEFAULT_MAX_BODY_SIZE: Final = 64 * 1024 * 1024

_U16 = struct.Struct(">H")
_CHUNK = struct.Struct(">HH")
# GOP information (spec 3.3.1 *3): 16 reserved, end time + {10 ms, TZ h, TZ m, TZ info},
# start time + {same}.
_GOP = struct.Struct(">16xIBBBBIBBBB")
# PIC information (spec 3.3.1 *4): 16 reserved, picture time, 10 ms, 3 + 8 reserved.
_PIC = struct.Struct(">16xIB11x")
_PADDING = struct.Struct(">HH")  # 0xFF05, number of padding bytes
_PACKET = struct.Struct(">I")  # length of the video data, then 16 reserved
_SIGNATURE: Final = PLAYBACK_STREAM_HEADER
_GOP_AT: Final = len(_SIGNATURE)
_PIC_AT: Final = _GOP_AT + PLAYBACK_INFO_SIZE
_PADDING_AT: Final = _PIC_AT + PLAYBACK_INFO_SIZE
_PACKET_AT: Final = _PADDING_AT + _PADDING.size
_PADDING_MARK: Final = PLAYBACK_PADDING_ID.to_bytes(2)
_DATA_AT: Final = _PACKET_AT + _PACKET.size + PLAYBACK_PACKET_RESERVED  # 92
_JPEG_CHUNK: Final = len(JPEG_VENDOR_BLOCK_ID) + 2
_ZERO_WORD: Final = b"\x00" * 4
# A word and the three bytes after it: where a signature off the word grid may start.
_NEAR: Final = 2 * len(_ZERO_WORD) - 1
_NONZERO = re.compile(rb"[^\x00]")
# A camera-information TLV between records: an id below the 0xFFxx chunk ids
# and a length that is a whole number of words (spec 7.1.2 uses 8 and 12).
_MAX_GAP_TLV: Final = 1024
_EOI: Final = b"\xff\xd9"


class ContainerCodec(StrEnum):
    """What a playback video body carries (its chunk id)."""

    H264 = "h264"
    H265 = "h265"
    JPEG = "jpeg"


_CODEC_BY_CHUNK: Final = {
    PLAYBACK_CHUNK_H264: ContainerCodec.H264,
    PLAYBACK_CHUNK_H265: ContainerCodec.H265,
}


@dataclass(slots=True)
class PlaybackVideoStats:
    """What a :class:`PlaybackVideoParser` has seen, including the damage it tolerated."""

    bytes_received: int = 0
    records: int = 0  # picture records read (each gives one picture)
    pictures: int = 0  # pictures handed out (records, or the fallback's)
    camera_tlvs: int = 0  # camera-information TLVs between records
    skipped_bytes: int = 0  # bytes outside records that were neither zero nor TLVs
    bad_records: int = 0  # records whose header or data did not add up
    padding_mismatches: int = 0  # FF05 counts not matching the zero bytes after the data
    bad_info: bool = False  # the chunk's TLVs did not parse
    fallback: bool = False  # no record: pictures were cut from the bare Annex-B / JPEG


@dataclass(frozen=True, slots=True)
class GopInfo:
    """The recorded span of a GOP (GOP information of its records)."""

    start: RecordedTime
    end: RecordedTime


@dataclass(frozen=True, slots=True)
class PlaybackGop:
    """A whole playback video body: see :func:`parse_playback_video`."""

    codec: ContainerCodec
    info: RecorderInfo | None
    gop: GopInfo | None
    pictures: tuple[PlaybackPicture, ...]
    stats: PlaybackVideoStats = field(compare=False)


class _State(Enum):
    HEADER = auto()
    GAP = auto()
    RECORD = auto()


class PlaybackVideoParser:
    """Push-style parser of one playback video body; see the module docstring.

    One parser per body (per ``camera.cgi`` response): feed the chunks, then
    call :meth:`finish`.
    """

    def __init__(
        self,
        *,
        max_picture_size: int = DEFAULT_MAX_PICTURE_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.stats = PlaybackVideoStats()
        self.codec: ContainerCodec | None = None
        self.info: RecorderInfo | None = None  # the chunk's recorder information
        self.gop: GopInfo | None = None  # from the first record
        self._max_picture = max_picture_size
        self._max_body = max_body_size
        self._buf = bytearray()
        self._pos = 0
        self._state = _State.HEADER
        self._unframed_start = 0  # first byte after the chunk TLVs (for the fallback)
        self._camera_tlvs = bytearray()  # camera TLVs since the last record
        self._parameter_sets: dict[int, bytes] = {}
        self._finished = False
        # Bytes skipped after a record was read: a record was lost, or a length was wrong.
        self._skipped_after_records = 0
        self._garbage_run = 0  # bytes skipped since the last thing that made sense

    # -- input ------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[PlaybackPicture]:
        """Add the next chunk of the body; return the pictures it completed, in order."""
        if self._finished:
            raise RuntimeError("the parser has finished; use a new one for the next body")
        self.stats.bytes_received += len(data)
        self._buf += data
        out: list[PlaybackPicture] = []
        while self._step(out, final=False):
            pass
        self._compact()
        return out

    def finish(self) -> list[PlaybackPicture]:
        """Mark the end of the body; return any last pictures (the fallback's).

        Raise :class:`MediaFormatError` when the body was truncated, a record was
        damaged, no picture was found, or pictures are missing (fewer than the frame count, or
        unreadable bytes between records).
        """
        if self._finished:
            return []
        self._finished = True
        out: list[PlaybackPicture] = []
        while self._step(out, final=True):
            pass
        stats = self.stats
        if self._state is _State.HEADER:
            raise MediaFormatError(
                f"playback video: {stats.bytes_received} bytes end inside the chunk header",
                self._buf,
            )
        if self._state is _State.RECORD:
            raise MediaFormatError(
                f"playback video: truncated inside picture record {stats.records + 1} "
                f"(body of {stats.bytes_received} bytes)",
                self._buf[self._pos :],
            )
        if stats.records == 0 and stats.bad_records == 0:
            out += self._fallback()
        self._buf.clear()
        if stats.bad_records:
            raise MediaFormatError(
                f"playback video: {stats.bad_records} damaged or truncated picture record(s) "
                f"skipped, {stats.pictures} pictures read"
            )
        if self._skipped_after_records:
            raise MediaFormatError(
                f"playback video: {self._skipped_after_records} bytes between picture records "
                f"are neither padding nor information; {stats.pictures} pictures read"
            )
        count = self.info.frame_count if self.info is not None else None
        if count is not None and stats.pictures < count:
            raise MediaFormatError(
                f"playback video: {stats.pictures} pictures, the recorder announced {count}"
            )
        return out

    # -- states -------------------------------------------------------------------------

    def _step(self, out: list[PlaybackPicture], *, final: bool) -> bool:
        if self._state is _State.HEADER:
            return self._read_header()
        if self._state is _State.GAP:
            return self._read_gap(final=final)
        return self._read_record(out, final=final)

    def _read_header(self) -> bool:
        buf = self._buf
        if len(buf) < _CHUNK.size:
            return False
        chunk_id, length = _CHUNK.unpack_from(buf)
        if chunk_id in _CODEC_BY_CHUNK:
            codec, start = _CODEC_BY_CHUNK[chunk_id], _CHUNK.size
        elif buf.startswith(JPEG_VENDOR_BLOCK_ID):
            if len(buf) < _JPEG_CHUNK:
                return False
            codec, start = ContainerCodec.JPEG, _JPEG_CHUNK
            length = _U16.unpack_from(buf, len(JPEG_VENDOR_BLOCK_ID))[0]
        else:
            raise MediaFormatError(
                "playback video: no chunk header (0xFF15, 0xFF16 or FF D8 FF FE)", buf
            )
        if len(buf) < start + length:
            return False
        self.codec = codec
        end = start + length
        # The length counts the TLVs; or, read as a TLV's would be, its own header too;
        # or (JPEG, whose header is a comment segment) its own two bytes.
        readings: tuple[int, ...] = (end, end - TLV_HEADER_SIZE)
        if codec is ContainerCodec.JPEG:
            readings += (end - 2,)
        for info_end in readings:
            if info_end < start:
                continue
            try:
                self.info = parse_recorder_info(bytes(buf[start:info_end]))
            except MediaFormatError:
                continue
            self._pos = info_end
            break
        else:
            self.stats.bad_info = True
            self._pos = start
        self._unframed_start = self._pos
        self._state = _State.GAP
        return True

    def _read_gap(self, *, final: bool) -> bool:
        """Skip to the next record: zero words, TLVs and reserved bytes go by."""
        buf = self._buf
        size = len(buf)
        pos = self._pos
        while size - pos >= len(_SIGNATURE):
            if buf.startswith(_SIGNATURE, pos):
                self._garbage_run = 0
                self._pos = pos
                self._state = _State.RECORD
                return True
            if buf.startswith(_ZERO_WORD, pos):
                match = _NONZERO.search(buf, pos)
                run = (match.start() if match else size) - pos
                pos += run - run % len(_ZERO_WORD)
                continue
            tlv_id, length = _CHUNK.unpack_from(buf, pos)
            if (
                0 < tlv_id < 0xFF00
                and TLV_HEADER_SIZE <= length <= _MAX_GAP_TLV
                and length % 4 == 0
            ):
                if size - pos < length:
                    if not final:
                        break
                    self._skipped(pos, size)
                    pos = size
                    break
                self._garbage_run = 0
                self._camera_tlvs += buf[pos : pos + length]
                self.stats.camera_tlvs += 1
                pos += length
                continue
            # Reserved bytes (spec 3.3.1: 12 after the chunk's TLVs) go word by
            # word, so camera TLVs after them are still read; longer runs of
            # damaged bytes are skipped to the next signature at once.
            if size - pos < _NEAR and not final:
                break  # a signature may start just past the buffer's end
            near = buf.find(_SIGNATURE, pos + 1, pos + _NEAR)  # off the word grid
            if near >= 0:
                stop = near
            elif self._garbage_run < PLAYBACK_CHUNK_RESERVED:
                stop = pos + len(_ZERO_WORD)
            else:
                found = buf.find(_SIGNATURE, pos + 1)
                stop = found if found >= 0 else size - len(_SIGNATURE) + 1
            self._skipped(pos, stop)
            self._garbage_run += stop - pos
            pos = stop
            continue
        if final and size - pos and buf[pos:size].strip(b"\x00"):
            self._skipped(pos, size)
        self._pos = pos if not final else size
        return False

    def _skipped(self, start: int, stop: int) -> None:
        # Zero bytes are padding wherever they are; only the others count.
        count = stop - start - self._buf.count(0, start, stop)
        self.stats.skipped_bytes += count
        if self.stats.records:
            self._skipped_after_records += count

    def _read_record(self, out: list[PlaybackPicture], *, final: bool) -> bool:
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < _DATA_AT:
            return False
        padding_id, padding = _PADDING.unpack_from(buf, pos + _PADDING_AT)
        (length,) = _PACKET.unpack_from(buf, pos + _PACKET_AT)
        if padding_id != PLAYBACK_PADDING_ID or length == 0 or length > self._max_picture:
            return self._bad_record()
        data_end = pos + _DATA_AT + length
        # Wait for the padding and the word after it: what follows tells whether
        # the length was right (a record, zero padding or a TLV must come next).
        if len(buf) < data_end + padding + len(_SIGNATURE) and not final:
            return False
        after = buf[data_end : data_end + padding]
        next_pos = data_end + padding
        if len(buf) >= data_end and (len(after) != padding or after.strip(b"\x00")):
            self.stats.padding_mismatches += 1
            next_pos = data_end
        # A length past the end of the body, or followed by what cannot follow a
        # record, is wrong; so is data that is not what the chunk id says.
        data = bytes(buf[pos + _DATA_AT : data_end])
        picture = (
            self._picture(pos, data)
            if len(buf) >= data_end and self._may_follow(next_pos) and not _holds_record(data)
            else None
        )
        if picture is None:
            return self._bad_record()
        out.append(picture)
        self.stats.records += 1
        self.stats.pictures += 1
        self._pos = next_pos
        self._state = _State.GAP
        return True

    def _may_follow(self, pos: int) -> bool:
        """Whether a record may end at ``pos``: the body's end, zeros, a TLV or a record."""
        buf = self._buf
        word = bytes(buf[pos : pos + len(_SIGNATURE)])
        if len(word) < len(_SIGNATURE):  # the end of the body
            return not word.strip(b"\x00")
        if word in {_SIGNATURE, _ZERO_WORD}:
            return True
        # Up to three padding bytes the count left out, then the next record.
        if word[0] == 0 and word.lstrip(b"\x00") and _SIGNATURE.startswith(word.lstrip(b"\x00")):
            return True
        return _is_gap_tlv(*_CHUNK.unpack(word))

    def _bad_record(self) -> bool:
        """Count a record that does not add up; search again after its signature."""
        self.stats.bad_records += 1
        self._pos += len(_SIGNATURE)
        self._state = _State.GAP
        return True

    # -- pictures -----------------------------------------------------------------------

    def _picture(self, pos: int, data: bytes) -> PlaybackPicture | None:
        buf = self._buf
        end_s, end_t, end_h, end_m, end_z, start_s, start_t, start_h, start_m, start_z = (
            _GOP.unpack_from(buf, pos + _GOP_AT)
        )
        gop = GopInfo(
            recorded_time(start_s, start_t, start_h, start_m, start_z),
            recorded_time(end_s, end_t, end_h, end_m, end_z),
        )
        seconds, ticks = _PIC.unpack_from(buf, pos + _PIC_AT)
        zone = gop.start
        when = recorded_time(seconds, ticks, 0, 0, 0)
        when = RecordedTime(when.time, zone.utc_offset, zone.summer_time)
        camera = bytes(self._camera_tlvs)
        self._camera_tlvs.clear()
        if self.codec is ContainerCodec.JPEG:
            if not data.startswith(SOI):
                return None
            picture: PlaybackPicture = JpegFrame(
                data=data, info=self._info_at(when), camera_info=_camera_info(camera)
            )
        else:
            if not data.startswith((START_CODE, START_CODE[1:])):
                return None
            nals = split_annexb(data)
            if not nals:
                return None
            picture = self._access_unit(nals, when)
        if self.gop is None:
            self.gop = gop
        return picture

    def _info_at(self, when: RecordedTime) -> RecorderInfo:
        base = self.info if self.info is not None else RecorderInfo()
        return replace(
            base, time=when.time, utc_offset=when.utc_offset, summer_time=when.summer_time
        )

    def _access_unit(self, nals: list[bytes], when: RecordedTime) -> AccessUnit:
        codec = VideoCodec.H264 if self.codec is ContainerCodec.H264 else VideoCodec.H265
        sets = self._parameter_sets
        keyframe = False
        for nal in nals:
            kind = nal_unit_type(codec, nal)
            keyframe = keyframe or is_keyframe_nal(codec, kind)
            if kind in _PARAMETER_SET_KINDS[codec]:
                sets[kind] = nal
        sps, pps, vps = (sets.get(kind) for kind in _PARAMETER_SET_ORDER[codec])
        return AccessUnit(
            codec=codec,
            timestamp=when.timestamp,
            keyframe=keyframe,
            data=START_CODE + START_CODE.join(nals),
            parameter_sets=ParameterSets(sps=sps, pps=pps, vps=vps),
            info=self._info_at(when),
        )

    def _fallback(self) -> list[PlaybackPicture]:
        """No record in the body: cut pictures from the bare data after the chunk header."""
        region = bytes(self._buf[self._unframed_start :])
        info = self.info
        start = (
            RecordedTime(info.time, info.utc_offset, info.summer_time)
            if info and info.time
            else None
        )
        self.stats.fallback = True
        if self.codec is ContainerCodec.JPEG:
            first = region.find(SOI)
            last = region.rfind(_EOI)
            if first < 0 or last < first:
                raise MediaFormatError("playback video: no picture record and no JPEG image")
            image = region[first : last + len(_EOI)]
            self.stats.pictures += 1
            when = start or RecordedTime(UNIX_EPOCH)
            return [JpegFrame(data=image, info=self._info_at(when))]
        codec = VideoCodec.H264 if self.codec is ContainerCodec.H264 else VideoCodec.H265
        aud = _AUD[codec]
        groups: list[list[bytes]] = []
        for nal in split_annexb(region):
            if not groups or nal_unit_type(codec, nal) == aud:
                groups.append([])
            groups[-1].append(nal)
        if not groups:
            raise MediaFormatError("playback video: no picture record and no NAL units")
        rate = info.frame_rate if info and info.frame_rate else None
        out: list[PlaybackPicture] = []
        for index, nals in enumerate(groups):
            when = start or RecordedTime(UNIX_EPOCH)
            unit = self._access_unit(nals, when)
            if rate:
                unit = unit.with_timestamp(
                    unit.timestamp + round(index * RTP_VIDEO_CLOCK_RATE / rate)
                )
            out.append(unit)
        self.stats.pictures += len(out)
        return out

    def _compact(self) -> None:
        # While no record was found, the bytes after the chunk TLVs are kept for
        # the fallback (bounded); otherwise consumed bytes go once they are a
        # good share of the buffer (amortised O(1) per byte).
        if self.stats.records == 0 and self._state is not _State.HEADER:
            if len(self._buf) - self._unframed_start > self._max_body:
                raise MediaFormatError(
                    f"playback video: no picture record in the first {self._max_body} bytes"
                )
            return
        keep = self._pos
        if keep and (keep >= len(self._buf) // 2 or keep > 65536):
            del self._buf[:keep]
            self._pos = 0


def _holds_record(data: bytes) -> bool:
    """Whether ``data`` holds a whole record header: a length too long swallowed it.

    A signature followed, 68 bytes on, by ``FF 05`` does not happen by chance
    in video data (one in 2**48 per position).
    """
    found = data.find(_SIGNATURE)
    while found >= 0:
        if data[found + _PADDING_AT : found + _PADDING_AT + 2] == _PADDING_MARK:
            return True
        found = data.find(_SIGNATURE, found + 1)
    return False


def _is_gap_tlv(tlv_id: int, length: int) -> bool:
    """Whether a word between records reads as a TLV header (camera information)."""
    return 0 < tlv_id < 0xFF00 and TLV_HEADER_SIZE <= length <= _MAX_GAP_TLV and length % 4 == 0


def _camera_info(data: bytes) -> RecorderInfo | None:
    if not data:
        return None
    try:
        return parse_recorder_info(data)
    except MediaFormatError:
        return None


# Parameter-set NAL unit types of each codec, and their order in ParameterSets (sps, pps, vps).
_PARAMETER_SET_ORDER: Final = {VideoCodec.H264: (7, 8, -1), VideoCodec.H265: (33, 34, 32)}
_PARAMETER_SET_KINDS: Final = {
    codec: frozenset(k for k in kinds if k >= 0) for codec, kinds in _PARAMETER_SET_ORDER.items()
}
_AUD: Final = {VideoCodec.H264: 9, VideoCodec.H265: 35}


def parse_playback_video(
    body: bytes | bytearray | memoryview, *, max_picture_size: int = DEFAULT_MAX_PICTURE_SIZE
) -> PlaybackGop:
    """Parse a whole playback video body (raises :class:`MediaFormatError` as ``finish`` does)."""
    parser = PlaybackVideoParser(max_picture_size=max_picture_size)
    pictures = parser.feed(body)
    pictures += parser.finish()
    if parser.codec is None:  # pragma: no cover - finish() raised
        raise MediaFormatError("playback video: no chunk header")
    return PlaybackGop(parser.codec, parser.info, parser.gop, tuple(pictures), parser.stats)


async def iter_playback_video(
    chunks: AsyncIterable[bytes], *, parser: PlaybackVideoParser | None = None
) -> AsyncGenerator[PlaybackPicture]:
    """Yield the pictures of a playback video body arriving as ``chunks`` of any size.

    Pass your own ``parser`` to read its stats, codec and GOP information afterwards.
    """
    reader = parser if parser is not None else PlaybackVideoParser()
    async for chunk in chunks:
        for picture in reader.feed(chunk):
            yield picture
    for picture in reader.finish():
        yield picture


__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_PICTURE_SIZE",
    "ContainerCodec",
    "GopInfo",
    "PlaybackGop",
    "PlaybackPicture",
    "PlaybackVideoParser",
    "PlaybackVideoStats",
    "iter_playback_video",
    "parse_playback_video",
]
