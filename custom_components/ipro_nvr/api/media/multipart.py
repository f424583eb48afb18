"""Incremental reader of the endless multipart body of ``push.cgi`` (spec 2.3.3-2.3.7).

The body is a ``multipart/x-mixed-replace``-style stream that never ends::

    --myboundary<CR><LF>
    Content-type: application/octet-stream<CR><LF>
    Content-Length: 1234<CR><LF>
    <CR><LF>
    <1234 bytes><CR><LF>
    --myboundary<CR><LF>
    ...

Tolerances (spec 2.2 shows one well-formed body only): line ends may be CRLF or LF; header names
are matched case-insensitively; a part without ``Content-Length`` runs to the
next boundary; a missing blank line after the headers is accepted when the
body plainly starts (a byte no header line can start with). Garbage between
parts is skipped and counted, and the reader resynchronises on the next
boundary. The reader buffers at most one part (up to ``max_part_size``) plus the
chunk being fed; a part announcing more than ``max_part_size`` raises
:class:`~.errors.PartTooLargeError`.

Parts framed exactly as the recorder frames them (the drawing above, CRLF line
ends) take a fast path: one regular-expression match per part head instead of
the line-by-line tolerant parser, which reads every other head. Both give the
same parts and stats for the same bytes, however they are chunked.

The core (:class:`MultipartReader`) is push-style and synchronous: feed it
chunks of any size, collect the finished parts. :func:`iter_parts` drives it
from an async iterator of chunks, such as aiohttp's
``response.content.iter_any()``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass
from enum import Enum, auto
import re
from typing import Final

from ..spec import MULTIPART_BOUNDARY
from .errors import BoundaryError, MediaFormatError, PartTooLargeError

# A JPEG of a 4K camera is well under this; anything larger is not a live part.
DEFAULT_MAX_PART_SIZE: Final = 8 * 1024 * 1024
# The headers of one part (a few short lines in practice).
DEFAULT_MAX_HEADER_SIZE: Final = 4096
# RFC 2046 5.1.1: a boundary has 1 to 70 characters.
MAX_BOUNDARY_LENGTH: Final = 70

# A header line: a token, a colon, printable text (RFC 9110 field syntax, loosely).
# No "[ \t]*" after the colon: the value class holds blanks too, and the two
# would share them out in quadratic time when the line does not match. The value
# is stripped instead.
_HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:([\x20-\x7e\x80-\xff\t]*)")
# Bytes that may start a header line; a body byte outside this set ends the headers.
_TOKEN_START = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_HEADER_OR_BLANK = _TOKEN_START | frozenset(b"\r\n")
_BLANK = b" \t\r\n"
# Around a boundary these are framing, not garbage ("--" covers "----myboundary").
_FRAMING = b" \t\r\n-"
# Boundary characters are printable ASCII (RFC 2046 5.1.1); a header value
# aiohttp decoded from other bytes must not reach the reader's latin-1 encoding.
_BOUNDARY_PARAM = re.compile(r'boundary\s*=\s*"?([!#-+\--:<-~]+)"?', re.IGNORECASE)
# The part head exactly as the recorder (and the simulator) sends it, after the
# CRLF that ends the previous body (if any); group 1 is the header block, 2 the
# content type, 3 the length. The value classes are chosen so that the tolerant parser
# would take the same headers from these bytes: printable ASCII without
# surrounding blanks (it strips those), at most 18 digits (no huge ints). Any
# other head, or one not yet complete in the buffer, goes to that parser.
_STANDARD_HEAD = (
    rb"(?:\r\n)?%s\r\n"
    rb"(Content-type: ([!-~](?:[ -~]*[!-~])?)\r\nContent-Length: ([0-9]{1,18})\r\n)\r\n"
)


class Part:
    """One part of the multipart body.

    ``headers`` keeps every header in order with its name lower-cased;
    ``content_type`` is the ``Content-type`` value as sent ("" when absent).

    A plain slotted class rather than a frozen dataclass (one is built per RTP
    packet): immutable by convention, ``Final`` to mypy; it compares, hashes and
    prints like the dataclass it replaces.
    """

    __slots__ = ("body", "content_type", "headers")
    __match_args__ = ("content_type", "headers", "body")

    content_type: Final[str]
    headers: Final[tuple[tuple[str, str], ...]]
    body: Final[bytes]

    def __init__(
        self, content_type: str, headers: tuple[tuple[str, str], ...], body: bytes
    ) -> None:
        self.content_type = content_type
        self.headers = headers
        self.body = body

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Part) and other.__class__ is self.__class__:
            return (self.content_type, self.headers, self.body) == (
                other.content_type,
                other.headers,
                other.body,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.content_type, self.headers, self.body))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(content_type={self.content_type!r}, "
            f"headers={self.headers!r}, body={self.body!r})"
        )

    @property
    def media_type(self) -> str:
        """The content type lower-cased, without parameters (``image/jpeg``)."""
        return self.content_type.partition(";")[0].strip().lower()

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (any case), None when absent."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None


@dataclass(slots=True)
class MultipartStats:
    """What a reader has seen so far: parts, and the damage it skipped."""

    parts: int = 0
    bytes_received: int = 0
    # Bytes skipped outside any part that were not framing (CR, LF, spaces, dashes).
    garbage_bytes: int = 0
    # Times the reader lost a part's framing and looked for the next boundary.
    resyncs: int = 0
    # A closing delimiter ("--myboundary--") was seen.
    closed: bool = False
    # Input ended in the middle of a part (see MultipartReader.finish).
    truncated: bool = False


class _State(Enum):
    SEEK = auto()  # looking for the next delimiter line
    HEADERS = auto()  # reading header lines
    BODY = auto()  # reading the body


def boundary_from_content_type(content_type: str | None) -> str:
    """Return the ``boundary`` parameter of a Content-Type header, else ``myboundary``."""
    if content_type:
        match = _BOUNDARY_PARAM.search(content_type)
        if match:
            return match[1].removeprefix("--") or MULTIPART_BOUNDARY
    return MULTIPART_BOUNDARY


class MultipartReader:
    """Push-style parser of an endless multipart body; see the module docstring."""

    def __init__(
        self,
        boundary: str = MULTIPART_BOUNDARY,
        *,
        max_part_size: int = DEFAULT_MAX_PART_SIZE,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
    ) -> None:
        # The boundary comes from the recorder's Content-Type: a bad one is bad input.
        if not boundary or len(boundary) > MAX_BOUNDARY_LENGTH:
            raise BoundaryError(boundary)
        try:
            self._delimiter = b"--" + boundary.encode("latin-1")
        except UnicodeEncodeError:
            raise BoundaryError(boundary) from None
        # A part without Content-Length ends before a delimiter at the start of a line.
        self._line_delimiter = b"\n" + self._delimiter
        self._max_part = max_part_size
        self._max_header = max_header_size
        self._buf = bytearray()
        self._pos = 0
        # Where the next search may start (no rescanning of bytes already searched).
        self._scan = 0
        self._state = _State.SEEK
        self._garbage_pending = False
        # The stretch between parts is counted as garbage from its first to its last
        # byte that is not framing; it may arrive over several chunks, so the framing
        # after its last garbage byte so far is held until the stretch goes on
        # (then it was garbage) or a delimiter ends it (then it was framing).
        self._stretch_has_garbage = False
        self._stretch_framing = 0
        self._headers: list[tuple[str, str]] = []
        self._header_start = 0
        self._length: int | None = None
        self._standard_head = re.compile(_STANDARD_HEAD % re.escape(self._delimiter))
        # The headers of the last part read by the fast path, reused while the
        # content type stays the same (it does, part after part).
        self._standard_type = b""
        self._standard_headers: tuple[str, tuple[str, str]] = ("", ("", ""))
        self.stats = MultipartStats()

    @property
    def buffered(self) -> int:
        """Bytes held back, waiting for the rest of a part (or of a delimiter)."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes | bytearray | memoryview) -> list[Part]:
        """Add the next chunk of the body; return the parts it completed, in order."""
        self.stats.bytes_received += len(data)
        self._buf += data
        parts: list[Part] = []
        # One view of the buffer while it is not resized: a body sliced from it is
        # copied once (a bytearray slice turned into bytes would be copied twice).
        with memoryview(self._buf) as view:
            while True:
                state = self._state
                if state is _State.SEEK:
                    progressed = self._read_standard_parts(view, parts) or self._seek()
                elif state is _State.HEADERS:
                    progressed = self._read_header_line()
                else:
                    part = self._read_body(view)
                    progressed = part is not None
                    if part is not None:
                        parts.append(part)
                if not progressed:
                    break
        self._compact()
        return parts

    def finish(self) -> None:
        """Mark the end of the input: a part begun but not complete is counted as truncated."""
        if self._state is not _State.SEEK:
            self.stats.truncated = True
        self._garbage_pending = False
        self._end_stretch()
        self._buf.clear()
        self._pos = self._scan = 0
        self._state = _State.SEEK

    # -- states -------------------------------------------------------------------

    def _read_standard_parts(self, view: memoryview, parts: list[Part]) -> bool:
        """Fast path: read parts whose head is the standard one; False when none was.

        The recorder sends every part the same way (``_STANDARD_HEAD``); one
        anchored match per part replaces the line-by-line tolerant parser
        (``_seek`` and ``_read_header_line``), which is left everything else: a
        head that differs in any way, is not complete yet, or that it would
        reject (too long, an oversize part). The parts, headers and stats are
        the same as that parser gives for the same bytes.
        """
        buf = self._buf
        pos = self._pos
        match = self._standard_head.match
        found = False
        while (head := match(buf, pos)) is not None:
            header_start = head.start(1)
            body_start = head.end()
            length = int(head[3])
            if length > self._max_part or body_start - 1 - header_start > self._max_header:
                break  # the tolerant parser raises or resynchronises, with its stats
            found = True
            if self._garbage_pending:
                self.stats.resyncs += 1
                self._garbage_pending = False
            if head[2] != self._standard_type:
                self._standard_type = head[2]
                text = self._standard_type.decode("ascii")
                self._standard_headers = (text, ("content-type", text))
            content_type, type_header = self._standard_headers
            headers = (type_header, ("content-length", head[3].decode("ascii")))
            end = body_start + length
            if end > len(buf):
                # The body is still to come: read it as the tolerant parser would.
                self._headers = list(headers)
                self._length = length
                self._header_start = header_start
                self._pos = self._scan = body_start
                self._state = _State.BODY
                return True
            self.stats.parts += 1
            parts.append(Part(content_type, headers, bytes(view[body_start:end])))
            pos = end
        if found:
            self._pos = self._scan = pos
            self._end_stretch()
        return found

    def _skip(self, end: int, *, stretch_ends: bool) -> None:
        """Drop ``_buf[_pos:end]`` outside any part, counting what is not framing.

        ``stretch_ends``: a delimiter follows, so framing held back is framing.
        """
        if end > self._pos:
            skipped = bytes(self._buf[self._pos : end])
            body = skipped.rstrip(_FRAMING)
            if body:
                if self._stretch_has_garbage:
                    self.stats.garbage_bytes += self._stretch_framing + len(body)
                else:
                    self.stats.garbage_bytes += len(body.lstrip(_FRAMING))
                self._stretch_has_garbage = True
                self._stretch_framing = len(skipped) - len(body)
                self._garbage_pending = True
            elif self._stretch_has_garbage:
                self._stretch_framing += len(skipped)
            self._pos = end
        self._scan = max(self._scan, self._pos)
        if stretch_ends:
            self._end_stretch()

    def _end_stretch(self) -> None:
        self._stretch_has_garbage = False
        self._stretch_framing = 0

    def _seek(self) -> bool:
        """Find the next delimiter line; False when more data is needed."""
        buf = self._buf
        index = buf.find(self._delimiter, max(self._scan, self._pos))
        if index < 0:
            # Keep just enough to recognise a delimiter split across chunks.
            self._skip(max(self._pos, len(buf) - len(self._delimiter) + 1), stretch_ends=False)
            return False
        self._skip(index, stretch_ends=True)
        after = index + len(self._delimiter)
        newline = buf.find(b"\n", after)
        if newline < 0:
            if len(buf) - after > self._max_header:
                self._lost_framing(after)
                return True
            self._scan = index  # wait here for the rest of the line
            return False
        rest = bytes(buf[after:newline]).strip(_BLANK)
        if rest.startswith(b"--"):
            # The closing delimiter: the body says it ends; keep reading anyway.
            self.stats.closed = True
            self._pos = self._scan = newline + 1
            return True
        if rest:
            # "--myboundaryX...": some other boundary sharing our prefix.
            self._lost_framing(after)
            return True
        if self._garbage_pending:
            self.stats.resyncs += 1
            self._garbage_pending = False
        self._pos = self._scan = self._header_start = newline + 1
        self._headers = []
        self._length = None
        self._state = _State.HEADERS
        return True

    def _lost_framing(self, resume: int) -> None:
        """Treat what was read as garbage and look for the next delimiter from ``resume``."""
        self.stats.garbage_bytes += max(resume - self._pos, 1)
        self._garbage_pending = True
        self._end_stretch()
        self._pos = self._scan = resume
        self._state = _State.SEEK

    def _read_header_line(self) -> bool:
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            return False
        if self._body_starts_here(buf[pos]):
            # No blank line, but the body plainly starts here (binary, not a header).
            self._state = _State.BODY
            return True
        newline = buf.find(b"\n", max(self._scan, pos))
        too_long = (newline if newline >= 0 else len(buf)) - self._header_start > self._max_header
        if too_long:
            self._lost_framing(self._header_start)
        elif newline < 0:
            self._scan = len(buf)
            return False
        else:
            self._header_line(bytes(buf[pos:newline]).rstrip(b"\r"), newline + 1)
        return True

    def _body_starts_here(self, first: int) -> bool:
        return bool(self._headers) and self._length is not None and first not in _HEADER_OR_BLANK

    def _header_line(self, line: bytes, next_line: int) -> None:
        """Take one header line (or the blank line ending the headers)."""
        if not line.strip(_BLANK):
            self._pos = self._scan = next_line
            self._state = _State.BODY
            return
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            if self._headers and self._length is not None:
                self._state = _State.BODY  # the body starts on this line (see above)
            else:
                self._lost_framing(self._header_start)
            return
        name = match[1].decode("ascii").lower()
        value = match[2].decode("latin-1").strip()
        if name == "content-length":
            if not (value.isascii() and value.isdigit()):
                self._lost_framing(self._header_start)
                return
            length = int(value)
            if length > self._max_part:
                raise PartTooLargeError(length, self._max_part)
            self._length = length
        self._headers.append((name, value))
        self._pos = self._scan = next_line

    def _read_body(self, view: memoryview) -> Part | None:
        buf = self._buf
        start = self._pos
        if self._length is not None:
            end = start + self._length
            if len(buf) < end:
                return None
            body = bytes(view[start:end])
            self._pos = self._scan = end
        else:
            # From one byte back: an empty body puts the delimiter right after the blank line.
            index = buf.find(self._line_delimiter, max(self._scan, start, 1) - 1)
            if index < 0:
                if len(buf) - start > self._max_part:
                    raise PartTooLargeError(len(buf) - start, self._max_part)
                self._scan = max(start, len(buf) - len(self._line_delimiter) + 1)
                return None
            end = index - 1 if index > start and buf[index - 1] == 0x0D else index
            body = bytes(view[start : max(start, end)])
            self._pos = self._scan = index + 1
        self._state = _State.SEEK
        self.stats.parts += 1
        content_type = next((v for k, v in self._headers if k == "content-type"), "")
        return Part(content_type, tuple(self._headers), body)

    def _compact(self) -> None:
        # Drop consumed bytes once they are a good share of the buffer: amortised
        # O(1) per byte, and never more than one part plus one chunk held. The
        # headers being read are kept: broken ones are searched again for a boundary.
        keep = min(self._pos, self._header_start) if self._state is _State.HEADERS else self._pos
        if keep and (keep >= len(self._buf) // 2 or keep > 65536):
            del self._buf[:keep]
            self._pos -= keep
            self._scan -= keep
            self._header_start = max(self._header_start - keep, 0)


async def iter_parts(
    chunks: AsyncIterable[bytes],
    *,
    boundary: str = MULTIPART_BOUNDARY,
    max_part_size: int = DEFAULT_MAX_PART_SIZE,
    reader: MultipartReader | None = None,
) -> AsyncGenerator[Part]:
    """Yield the parts of a multipart body arriving as ``chunks`` of any size.

    Pass your own ``reader`` to read its :attr:`MultipartReader.stats` afterwards
    (``boundary`` and ``max_part_size`` are then the reader's).
    """
    parser = (
        reader if reader is not None else MultipartReader(boundary, max_part_size=max_part_size)
    )
    async for chunk in chunks:
        for part in parser.feed(chunk):
            yield part
    parser.finish()


__all__ = [
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_PART_SIZE",
    "MediaFormatError",
    "MultipartReader",
    "MultipartStats",
    "Part",
    "PartTooLargeError",
    "boundary_from_content_type",
    "iter_parts",
]
