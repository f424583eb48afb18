"""Errors of the media path: every malformed stream raises one of these, nothing else.

They derive from :class:`~..errors.MalformedResponseError`
so a caller that already handles "the recorder answered something that is not
what the spec describes" handles these too. Damage a stream can recover from
(garbage between parts, a lost RTP packet) is not raised: it is skipped and
counted in the stats of the reader or depacketizer.
"""

from __future__ import annotations

from ..errors import MalformedResponseError

# Binary data is quoted in the message only this far: enough to recognise it.
_QUOTE_LIMIT = 48


class MediaFormatError(MalformedResponseError):
    """Binary media data that cannot be what the spec describes.

    ``data`` (optional) is quoted in the message, shortened and printable.
    """

    def __init__(self, message: str, data: bytes | bytearray | memoryview | None = None) -> None:
        super().__init__(message, body=bytes(data[:_QUOTE_LIMIT]) if data is not None else None)


class PartTooLargeError(MediaFormatError):
    """A multipart part announces (or runs to) more bytes than the reader accepts."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"multipart part of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class BoundaryError(MediaFormatError, ValueError):
    """A multipart boundary the reader cannot use: empty, over 70 characters, not Latin-1.

    The boundary comes from the recorder's ``Content-Type``, so this is bad
    input (a typed error the caller reports), not a programming error; it is a
    ``ValueError`` too for callers that pass their own boundary.
    """

    def __init__(self, boundary: str) -> None:
        super().__init__(
            f"multipart boundary of {len(boundary)} characters is unusable"
            " (RFC 2046: 1 to 70 characters)",
            boundary[:64].encode("latin-1", "replace"),
        )


class AccessUnitTooLargeError(MediaFormatError):
    """A picture in reassembly grew past the depacketizer's cap (it never ended)."""

    def __init__(self, codec: str, size: int, limit: int) -> None:
        super().__init__(f"{codec} picture of {size}+ bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit
