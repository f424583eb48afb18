"""The yardsticks the product's depacketizer is measured against (benchmark code only).

:func:`plain_loop` is the straightforward depacketizer anyone would write for
the recorder's exact framing, with no loss handling, no tolerance, no typed
errors: ``bytes.find`` for ``Content-Length: `` and the blank line, ``struct``
for the RTP header and its extension, FU-A / FU reassembly (and STAP-A / AP
unpacking) into a ``bytearray``, a picture at each marker bit. It gives the
same Annex-B pictures as the product, so both do the same work.

:func:`find_floor` is the floor: one ``bytes.find`` per part over the same
chunks, nothing parsed.
"""

from __future__ import annotations

import struct

_RTP = struct.Struct(">BBHII")
_EXT = struct.Struct(">HH")
_SIZE = struct.Struct(">H")
_LENGTH = b"Content-Length: "
_START = b"\x00\x00\x00\x01"


def plain_loop(chunks: list[bytes], *, h265: bool) -> list[bytes]:  # noqa: PLR0912, PLR0915
    """Annex-B pictures of a multipart body of RTP parts; no checks, no recovery."""
    buf = bytearray()
    pictures: list[bytes] = []
    picture = bytearray()
    header_size = 2 if h265 else 1  # NAL unit header
    fragmented = 49 if h265 else 28  # FU / FU-A
    aggregated = 48 if h265 else 24  # AP / STAP-A
    for chunk in chunks:
        buf += chunk
        pos = 0
        while True:
            field = buf.find(_LENGTH, pos)
            if field < 0:
                break
            line_end = buf.find(b"\r\n", field)
            blank = buf.find(b"\r\n\r\n", field)
            if line_end < 0 or blank < 0:
                break
            start = blank + 4
            end = start + int(buf[field + len(_LENGTH) : line_end])
            if end > len(buf):
                break
            first, second, _seq, _ts, _ssrc = _RTP.unpack_from(buf, start)
            p = start + 12 + 4 * (first & 0x0F)
            if first & 0x10:
                p += 4 + 4 * _EXT.unpack_from(buf, p)[1]
            kind = (buf[p] >> 1) & 0x3F if h265 else buf[p] & 0x1F
            if kind == fragmented:
                fu = buf[p + header_size]
                if fu & 0x80:
                    picture += _START
                    if h265:
                        picture.append((buf[p] & 0x81) | ((fu & 0x3F) << 1))
                        picture.append(buf[p + 1])
                    else:
                        picture.append((buf[p] & 0xE0) | (fu & 0x1F))
                picture += buf[p + header_size + 1 : end]
            elif kind == aggregated:
                q = p + header_size
                while q < end:
                    size = _SIZE.unpack_from(buf, q)[0]
                    picture += _START
                    picture += buf[q + 2 : q + 2 + size]
                    q += 2 + size
            else:
                picture += _START
                picture += buf[p:end]
            if second & 0x80:
                pictures.append(bytes(picture))
                picture.clear()
            pos = end + 2
        del buf[:pos]
    return pictures


def find_floor(chunks: list[bytes]) -> int:
    """Parts found with one ``bytes.find`` each over the same chunks: the floor."""
    buf = bytearray()
    found = 0
    for chunk in chunks:
        buf += chunk
        pos = 0
        while (index := buf.find(_LENGTH, pos)) >= 0:
            found += 1
            pos = index + 1
        del buf[: max(0, len(buf) - len(_LENGTH) + 1)]
    return found


__all__ = ["find_floor", "plain_loop"]
