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

Part heads take a fast path. The reader keeps the last head it read as a
template, every byte but the ``Content-Length`` digits: a head exactly as the
recorder sends it (the drawing above) is taken as the template at once; any
other shape (other header case, order, an extra header) once the tolerant
parser has read it. Each following part
whose head is that template with other digits (the recorder sends part after
part the same way) costs a ``find`` for the blank line, two comparisons and
an ``int``; any other head, or one not yet complete in the buffer, goes to the
tolerant parser. Both give the same parts and stats for the same bytes,
however they are chunked.

The core (:class:`MultipartReader`) is push-style and synchronous: feed it
chunks of any size, collect the finished parts; or, with
:meth:`MultipartReader.feed_into`, have each part handed over where it lies in
the reader's buffer, with its :class:`PartHead` (no object, no copy per part),
and offer each run of parts framed like the last one to a :data:`PartRun` (the
live path's fused fast path) before reading them itself.
:func:`iter_parts` drives it from an async iterator of chunks, such as
aiohttp's ``response.content.iter_any()``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Callable
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
# The part head exactly as the recorder (and the simulator) sends it, between
# the delimiter line and the blank line. The value classes are chosen so that
# the tolerant parser would take the same headers from these bytes: printable
# ASCII without surrounding blanks (it strips those), at most 18 digits.
_STANDARD_HEAD = re.compile(rb"Content-type: [!-~](?:[ -~]*[!-~])?\r\nContent-Length: [0-9]{1,18}")
# The blank line that ends a part head on the fast path.
_HEAD_END = b"\r\n\r\n"
# Content-Length digits a template takes: no huge ints (the tolerant parser
# rejects such a part as too large anyway).
_MAX_LENGTH_DIGITS: Final = 18


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


class PartHead:
    """The headers of a part, as :meth:`MultipartReader.feed_into` hands them over.

    One object serves a whole run of parts whose heads differ only in their
    ``Content-Length``: :meth:`headers` gives a part's own headers (what
    :attr:`Part.headers` holds) from its body's length.
    """

    __slots__ = ("_after", "_before", "_exact", "content_type", "media_type")

    content_type: Final[str]
    media_type: Final[str]

    def __init__(
        self,
        headers: tuple[tuple[str, str], ...],
        *,
        length_at: int | None = None,
    ) -> None:
        """``headers`` in order; ``length_at``: where the one Content-Length is, in a template."""
        self.content_type = next((v for k, v in headers if k == "content-type"), "")
        # As Part.media_type: without parameters, lower-cased.
        self.media_type = self.content_type.partition(";")[0].strip().lower()
        self._exact = headers if length_at is None else None
        self._before = headers[:length_at] if length_at is not None else ()
        self._after = headers[length_at + 1 :] if length_at is not None else ()

    def headers(self, length: int) -> tuple[tuple[str, str], ...]:
        """The headers of the part whose body has ``length`` bytes."""
        if self._exact is not None:
            return self._exact
        return (*self._before, ("content-length", str(length)), *self._after)


type PartSink = Callable[[PartHead, memoryview, int, int], None]
"""Takes a part read by :meth:`MultipartReader.feed_into`: its head, the reader's
buffer and where the body lies in it (``start``, ``end``). The buffer is only
valid during the call: keep a copy of what is needed, never the view."""


class StandardFraming:
    """What a :data:`PartRun` needs to read parts framed as the fast path reads them.

    ``next_line`` is the delimiter line after a body (CRLF, ``--boundary``,
    CRLF); a part's head is ``prefix``, its Content-Length digits, ``suffix``,
    then the blank line (found within ``head_limit`` bytes); ``head`` is the
    :class:`PartHead` every such part has; a part above ``max_part`` bytes is
    not one the run may take (the tolerant parser raises for it).

    The same rules as a run reads them: the bytes before the digits
    (``lead``: the delimiter line and ``prefix``), those after them (``tail``:
    ``suffix`` and the blank line), which end at most ``tail_within`` bytes
    after the digits start (at most 18 digits, and the head within its limit).
    Such a part's head is exactly ``lead``, plain digits, ``tail``: the
    first blank line after ``prefix`` is the one ``tail`` ends with, as
    neither the digits nor ``suffix`` hold a blank line.
    """

    __slots__ = (
        "head",
        "head_limit",
        "lead",
        "max_part",
        "next_line",
        "prefix",
        "suffix",
        "tail",
        "tail_within",
    )

    def __init__(  # noqa: PLR0917 - one value per framing rule
        self,
        next_line: bytes,
        prefix: bytes,
        suffix: bytes,
        head: PartHead,
        head_limit: int,
        max_part: int,
    ) -> None:
        self.next_line = next_line
        self.prefix = prefix
        self.suffix = suffix
        self.head = head
        self.head_limit = head_limit
        self.max_part = max_part
        self.lead = next_line + prefix
        self.tail = suffix + _HEAD_END
        self.tail_within = min(_MAX_LENGTH_DIGITS + len(self.tail), head_limit - len(prefix))


type PartRun = Callable[[bytearray, memoryview, int, StandardFraming], tuple[int, int, bool]]
"""Reads, from ``pos`` in the reader's buffer, a run of parts framed as
:class:`StandardFraming` says, each one exactly as the fast path of
:meth:`MultipartReader.feed_into` would read it and hand it to the sink; it
stops before the first part it leaves to the reader (any doubt) and returns
where that part's delimiter line starts, how many parts it took, and whether
that part is one to wait for: its head exactly ``lead``, plain digits (no
leading zero) of at most ``max_part``, ``tail``, and its body not all in the
buffer; or the buffer ending within ``lead`` after the delimiter line (the
tolerant parser would be reading its header lines: whichever reads it once
the rest has come, the parts are the same). False when in doubt: the reader
then looks at it itself. The buffer (and its view) is only read."""


class _HeadTemplate:
    """A part head the tolerant parser read, as bytes around its Content-Length digits."""

    __slots__ = ("framing", "parts")

    def __init__(self, prefix: bytes, suffix: bytes, head: PartHead) -> None:
        # The bytes before the digits, those after them, and the head they give.
        self.parts = (prefix, suffix, head)
        # The template as a PartRun reads it, made when first offered.
        self.framing: StandardFraming | None = None


def _learn_head(block: bytes) -> _HeadTemplate | None:
    """A template of the header lines ``block`` (CRLF between them), None when unusual.

    Only a head the tolerant parser takes line by line, with exactly one
    Content-Length of plain digits (no leading zero), becomes a template: then
    any head that equals it but for other plain digits gives, in that parser,
    the same headers with that length. Anything else is left to that parser.
    """
    headers: list[tuple[str, str]] = []
    length_at: int | None = None
    digits_start = digits_end = 0
    offset = 0
    for line in block.split(b"\r\n"):
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            return None
        name = match[1].decode("ascii").lower()
        text = match[2].decode("latin-1")
        value = text.strip()
        if name == "content-length":
            plain = len(value) <= _MAX_LENGTH_DIGITS and value.isascii() and value.isdigit()
            if length_at is not None or not plain or str(int(value)) != value:
                return None
            length_at = len(headers)
            digits_start = offset + match.start(2) + len(text) - len(text.lstrip())
            digits_end = digits_start + len(value)
        headers.append((name, value))
        offset += len(line) + 2
    if length_at is None:
        return None
    head = PartHead(tuple(headers), length_at=length_at)
    return _HeadTemplate(block[:digits_start], block[digits_end:], head)


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
        # The delimiter line as the fast path expects it, first or after a body.
        self._delimiter_line = self._delimiter + b"\r\n"
        self._next_delimiter_line = b"\r\n" + self._delimiter_line
        # The head of the last part read by the fast path (see _learn_head).
        self._template: _HeadTemplate | None = None
        # The head of the part whose body is being read, when the fast path read it.
        self._head: PartHead | None = None
        # A part of the template's shape whose body is not all in (or whose
        # head is cut short after its delimiter line), left before its
        # delimiter line for a PartRun to read whole (see feed_into).
        self._waiting = False
        self.stats = MultipartStats()

    @property
    def buffered(self) -> int:
        """Bytes held back, waiting for the rest of a part (or of a delimiter)."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes | bytearray | memoryview) -> list[Part]:
        """Add the next chunk of the body; return the parts it completed, in order."""
        parts: list[Part] = []

        def collect(head: PartHead, view: memoryview, start: int, end: int) -> None:
            # One copy: a bytearray slice turned into bytes would be copied twice.
            parts.append(Part(head.content_type, head.headers(end - start), bytes(view[start:end])))

        self.feed_into(data, collect)
        return parts

    def feed_into(
        self,
        data: bytes | bytearray | memoryview,
        sink: PartSink,
        run: PartRun | None = None,
    ) -> None:
        """Add the next chunk of the body; hand each part it completed to ``sink``, in order.

        The sink reads the body where it lies in the reader's buffer (see
        :data:`PartSink`); nothing is built per part. ``run``, when given, is
        offered the buffer first whenever parts of the template's shape may
        follow (see :data:`PartRun`): the parts it takes are not handed to
        ``sink``; the reader reads the next one, then offers the rest again.
        With a run, a part of the template's shape whose body is not all in
        (or, as the run says, whose head is cut short after its delimiter
        line) waits before its delimiter line, for the run to read it whole
        once the rest has come.
        """
        self.stats.bytes_received += len(data)
        self._buf += data
        # One view of the buffer while it is not resized.
        with memoryview(self._buf) as view:
            while True:
                state = self._state
                if state is _State.SEEK:
                    if run is None:
                        progressed = self._read_standard_parts(view, sink) or self._seek()
                    else:
                        progressed = not self._offer_run(view, run) and (
                            self._read_standard_parts(view, sink, once=True)
                            or (not self._waiting and self._seek())
                        )
                elif state is _State.HEADERS:
                    progressed = self._read_header_line()
                else:
                    progressed = self._read_body(view, sink)
                if not progressed:
                    break
        self._compact()

    def finish(self) -> None:
        """Mark the end of the input: a part begun but not complete is counted as truncated."""
        if self._state is not _State.SEEK or self._waiting:
            self.stats.truncated = True
        self._waiting = False
        self._garbage_pending = False
        self._end_stretch()
        self._buf.clear()
        self._pos = self._scan = 0
        self._state = _State.SEEK

    # -- states -------------------------------------------------------------------

    def _offer_run(self, view: memoryview, run: PartRun) -> bool:
        """Let ``run`` take the parts of the template's shape from here (see :data:`PartRun`).

        Only between parts with nothing skipped pending: then the fast path
        below, reading the same parts, would change nothing but the position
        and the part count, which is what is done here. True when the run
        stopped at a part to wait for (see :data:`PartRun`): the reader waits
        there for the next chunk (once a chunk, this saves it reading that
        part's head again, or starting the tolerant parser on a head cut short).
        """
        template = self._template
        if template is None or self._garbage_pending or self._stretch_has_garbage:
            return False
        framing = template.framing
        if framing is None:
            prefix, suffix, head = template.parts
            framing = template.framing = StandardFraming(
                self._next_delimiter_line,
                prefix,
                suffix,
                head,
                self._max_header + 1,
                self._max_part,
            )
        pos, parts, waiting = run(self._buf, view, self._pos, framing)
        if parts:
            self.stats.parts += parts
            self._pos = self._scan = pos
        if waiting:  # as _read_standard_parts(once=True) leaves such a part
            self._waiting = True
            self._end_stretch()
        return waiting

    def _read_standard_parts(  # noqa: PLR0912, PLR0915
        self, view: memoryview, sink: PartSink, *, once: bool = False
    ) -> bool:
        """Fast path: read parts whose head fits the template; False when none did.

        ``once``: stop after one part (a :data:`PartRun` is offered the rest).

        One ``find`` (the blank line), two comparisons (the template's bytes
        around the length digits) and an ``int`` per part replace the
        line-by-line tolerant parser (``_seek`` and ``_read_header_line``),
        which is left everything else: a head that differs in any way, is not
        complete yet, or that it would reject (too long, an oversize part).
        The parts, headers and stats are the same as that parser gives for the
        same bytes.
        """
        buf = self._buf
        size = len(buf)
        pos = self._pos
        first_line = self._delimiter_line
        next_line = self._next_delimiter_line
        head_limit = self._max_header + 1  # the blank line's LF at most max_header on
        max_part = self._max_part
        template = self._template
        prefix, suffix, head = (b"", b"", None) if template is None else template.parts
        self._waiting = False
        found = False
        parts = 0
        try:
            while True:
                if buf.startswith(next_line, pos):
                    head_start = pos + len(next_line)
                elif buf.startswith(first_line, pos):
                    head_start = pos + len(first_line)
                else:
                    break
                blank = buf.find(_HEAD_END, head_start, head_start + head_limit)
                if blank < 0:
                    break
                if head is None or not (
                    buf.startswith(prefix, head_start) and buf.endswith(suffix, head_start, blank)
                ):
                    block = bytes(buf[head_start:blank])
                    if _STANDARD_HEAD.fullmatch(block) is None:
                        break  # the tolerant parser reads it (and makes it the template)
                    template = self._template = _learn_head(block)
                    if template is None:
                        break
                    prefix, suffix, head = template.parts
                digits = buf[head_start + len(prefix) : blank - len(suffix)]
                if (
                    not digits.isdigit()
                    or len(digits) > _MAX_LENGTH_DIGITS
                    or (digits[0] == 0x30 and len(digits) > 1)  # "0": leading zeros
                ):
                    break
                length = int(digits)
                if length > max_part:
                    break  # the tolerant parser raises, with its stats
                if not found:
                    found = True
                    if self._garbage_pending:
                        self.stats.resyncs += 1
                        self._garbage_pending = False
                start = blank + len(_HEAD_END)
                end = start + length
                if end > size:
                    if once:
                        # A run (see feed_into) reads the whole part once its body is in:
                        # wait for it before the delimiter line rather than in the body.
                        self._waiting = True
                        self._end_stretch()
                        found = False  # no progress: nothing else may read it now
                        break
                    # The body is still to come: read it as the tolerant parser would.
                    self._head = head
                    self._length = length
                    self._header_start = head_start
                    self._pos = self._scan = start
                    self._state = _State.BODY
                    break
                parts += 1
                pos = end
                sink(head, view, start, end)
                if once:
                    break
        finally:
            # Once per call rather than per part (this is the hot loop of every live stream).
            if parts:
                self.stats.parts += parts
                if self._state is _State.SEEK:
                    self._pos = self._scan = pos
        if found:
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
        self._head = None
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

    def _learn_template(self, blank: int, body: int) -> None:
        """Make the head just read the fast path's template, if it can be one.

        Only a head framed as the fast path reads it: CRLF line ends, the blank
        line bare (``blank`` and ``body`` are where it starts and ends).
        """
        buf = self._buf
        end = blank - 2
        if body - blank == 2 and end > self._header_start and buf[end:blank] == b"\r\n":
            template = _learn_head(bytes(buf[self._header_start : end]))
            if template is not None:
                self._template = template

    def _body_starts_here(self, first: int) -> bool:
        return bool(self._headers) and self._length is not None and first not in _HEADER_OR_BLANK

    def _header_line(self, line: bytes, next_line: int) -> None:
        """Take one header line (or the blank line ending the headers)."""
        if not line.strip(_BLANK):
            self._learn_template(self._pos, next_line)
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

    def _read_body(self, view: memoryview, sink: PartSink) -> bool:
        buf = self._buf
        start = self._pos
        if self._length is not None:
            end = start + self._length
            if len(buf) < end:
                return False
            self._pos = self._scan = end
        else:
            # From one byte back: an empty body puts the delimiter right after the blank line.
            index = buf.find(self._line_delimiter, max(self._scan, start, 1) - 1)
            if index < 0:
                if len(buf) - start > self._max_part:
                    raise PartTooLargeError(len(buf) - start, self._max_part)
                self._scan = max(start, len(buf) - len(self._line_delimiter) + 1)
                return False
            end = index - 1 if index > start and buf[index - 1] == 0x0D else index
            end = max(start, end)
            self._pos = self._scan = index + 1
        self._state = _State.SEEK
        self.stats.parts += 1
        head = self._head if self._head is not None else PartHead(tuple(self._headers))
        self._head = None
        sink(head, view, start, end)
        return True

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
    "PartHead",
    "PartRun",
    "PartSink",
    "PartTooLargeError",
    "StandardFraming",
    "boundary_from_content_type",
    "iter_parts",
]
