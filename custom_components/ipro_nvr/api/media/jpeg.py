"""JPEG parts of the live stream: strip the vendor blocks, hand out the bare JPEG.

Spec 2.3.5, whose figure came out garbled; the working interpretation: zero
or more blocks ``FF D8 FF FE`` + u16 length + TLVs (first the recorder's, then
the camera's), then the JPEG image, which starts with ``FF D8``. Whether the
length counts its own two bytes (as a JPEG comment segment's does) is not
said, so both readings are walked; the first walk that lands on ``FF D8``
wins. Where neither adds up, the image is the first ``FF D8`` not followed
by ``FF FE``.

One more case matters in practice: a JPEG may itself start with a comment
segment, i.e. with ``FF D8 FF FE`` (FFmpeg's encoder writes one). A walk reaching
such a block tells it from a vendor block by what follows it: a vendor block is
followed by ``FF D8``, a comment segment by another JPEG marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..spec import JPEG_VENDOR_BLOCK_ID
from .errors import MediaFormatError
from .tlv import RecorderInfo, parse_recorder_info

SOI: Final = b"\xff\xd8"
_BLOCK_HEADER: Final = len(JPEG_VENDOR_BLOCK_ID) + 2  # chunk id + u16 length
# The smallest thing worth calling a JPEG: SOI, one marker, EOI.
_MIN_JPEG: Final = 6


@dataclass(frozen=True, slots=True)
class JpegFrame:
    """One live JPEG picture: the bare image and the vendor blocks' information.

    ``info`` comes from the first vendor block (the recorder's), ``camera_info``
    from the second (the camera's), each None when absent or unreadable.
    ``blocks`` is how many vendor blocks preceded the image.
    """

    data: bytes
    info: RecorderInfo | None = None
    camera_info: RecorderInfo | None = None
    blocks: int = 0


def _is_marker(data: bytes, pos: int) -> bool:
    """Whether ``data[pos:]`` starts with a JPEG marker other than SOI (``FF xx``)."""
    return pos + 1 < len(data) and data[pos] == 0xFF and data[pos + 1] not in (0x00, 0xFF, 0xD8)


def _walk(data: bytes, *, counts_itself: bool) -> tuple[int, list[tuple[int, int]]] | None:
    """Walk the vendor blocks with one length reading.

    Return the offset of the image and the (start, end) of each block's TLVs,
    or None when this reading does not land on an image.
    """
    blocks: list[tuple[int, int]] = []
    pos = 0
    size = len(data)
    while data.startswith(JPEG_VENDOR_BLOCK_ID, pos):
        if pos + _BLOCK_HEADER > size:
            return None
        length = int.from_bytes(data[pos + 4 : pos + 6])
        after = pos + 4 + length if counts_itself else pos + _BLOCK_HEADER + length
        if counts_itself and length < 2:
            return None
        if data.startswith(SOI, after):
            blocks.append((pos + _BLOCK_HEADER, after))
            pos = after
            continue
        # Not a vendor block here: a JPEG that starts with a comment segment?
        if _is_marker(data, pos + 4 + length):
            return pos, blocks
        return None
    if data.startswith(SOI, pos):
        return pos, blocks
    return None


def _info(data: bytes, span: tuple[int, int] | None) -> RecorderInfo | None:
    if span is None:
        return None
    try:
        return parse_recorder_info(memoryview(data)[span[0] : span[1]])
    except MediaFormatError:
        return None


def strip_vendor_blocks(data: bytes) -> JpegFrame:
    """Return the bare JPEG of a live JPEG part and what its vendor blocks say."""
    found = _walk(data, counts_itself=True) or _walk(data, counts_itself=False)
    if found is not None:
        start, blocks = found
    else:
        start = _fallback(data)
        blocks = []
    if len(data) - start < _MIN_JPEG:
        raise MediaFormatError("JPEG part: the image is missing or too short", data)
    return JpegFrame(
        data=data[start:],
        info=_info(data, blocks[0] if blocks else None),
        camera_info=_info(data, blocks[1] if len(blocks) > 1 else None),
        blocks=len(blocks),
    )


def _fallback(data: bytes) -> int:
    """The first ``FF D8`` that starts an image; error when there is none.

    That is an ``FF D8`` not followed by ``FF FE``, or followed by a comment
    segment whose length leads to another JPEG marker.
    """
    pos = data.find(SOI)
    while pos >= 0:
        if not data.startswith(b"\xff\xfe", pos + 2):
            return pos
        if pos + _BLOCK_HEADER <= len(data):
            length = int.from_bytes(data[pos + 4 : pos + 6])
            if length >= 2 and _is_marker(data, pos + 4 + length):
                return pos
        pos = data.find(SOI, pos + 2)
    raise MediaFormatError("JPEG part: no JPEG image (no FF D8 outside vendor blocks)", data)


__all__ = ["JpegFrame", "strip_vendor_blocks"]
