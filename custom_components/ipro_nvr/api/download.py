"""Download of recordings: the multipart body of ``httpdl.cgi`` (spec 6.3).

The body is a multipart stream whose parts carry, besides the file data,
three headers (spec 6.3.1)::

    X-Temp-FileName: filename = "001_231115000000_1000_7f_00_01.tmp"
    X-Prev-Filename: filename = ""
    X-RecData-Satus: 0

Reading (tolerant: the spec spells the headers and the quoting several ways
in its examples): header names match case-insensitively,
``X-Temp-FileName`` and ``X-Temp-Filename`` alike, ``X-RecData-Satus`` (sic)
and ``X-RecData-Status`` alike; ``filename = "…"`` may have spaces around
``=`` and straight or typographic quotes (``"``, ``“``, ``”``), or none. A
missing status header means 0.

Sequence (each part's headers apply before its body):

* ``Prev`` not empty: the file being received is complete and is called that
  (a body in a part with ``Prev`` but no ``Temp`` still belongs to it);
* ``Temp`` not empty: the part's body goes to the file of that temporary
  name, which starts here unless it is the file already being received;
* ``Temp`` empty after the current file was finished: the download is over.

Statuses 1, 2 and 3 raise :class:`NoRecordingError`,
:class:`CodecNotCompatibleError` and :class:`DownloadBusyError`. A body that
ends before the last file was named raises :class:`DownloadInterruptedError`;
a body that breaks the sequence raises :class:`MalformedResponseError`; a
complete body without any file (status 0) is read as :class:`NoRecordingError`.

Names from the recorder are labels, never paths: :func:`sanitize_file_name`
turns one into a safe base name, and :class:`DirectorySink` writes each file
under a hidden temporary name of its own and renames it atomically once it is
complete. Any failure or cancellation calls :meth:`DownloadSink.abort`, which
for :class:`DirectorySink` removes the file in progress and (unless
``keep_completed``) the files this download already completed: a download
gives all its files or none.

Parts are read whole by :class:`~.media.multipart.MultipartReader` (at most
:data:`DOWNLOAD_MAX_PART_SIZE` bytes each), which suits a recorder that sends a
file in several parts; one that sends a large file as a single part would need
a streaming part reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import re
import tempfile
from typing import IO, Final, Protocol, runtime_checkable
import unicodedata

import aiohttp

from .errors import (
    CodecNotCompatibleError,
    DownloadBusyError,
    DownloadInterruptedError,
    MalformedResponseError,
    NoRecordingError,
    NvrError,
)
from .media.multipart import MultipartReader, Part
from .spec import (
    DOWNLOAD_PREV_HEADER,
    DOWNLOAD_STATUS_HEADER,
    DOWNLOAD_TEMP_HEADER,
    MULTIPART_BOUNDARY,
    DownloadStatus,
)

# The largest part accepted (a part is buffered whole before it is written).
DOWNLOAD_MAX_PART_SIZE: Final = 64 * 1024 * 1024
# Longest file name DirectorySink writes (most file systems allow 255 bytes).
MAX_FILE_NAME_LENGTH: Final = 120
DEFAULT_FALLBACK_NAME: Final = "recording"

_TEMP_HEADERS: Final = (DOWNLOAD_TEMP_HEADER.lower(),)  # x-temp-filename, any case
_PREV_HEADERS: Final = (DOWNLOAD_PREV_HEADER.lower(),)
_STATUS_HEADERS: Final = (DOWNLOAD_STATUS_HEADER.lower(), "x-recdata-status")
# Only the key: "(.*?)\s*$" for the value was quadratic in the blanks inside it.
_FILENAME_KEY: Final = re.compile(r"filename\s*=", re.IGNORECASE)
_QUOTES: Final = "\"'\u201c\u201d\u201e\u201f\u2033"
_SAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_EXTENSION: Final = 16
_TEMP_PREFIX: Final = ".ipro-nvr-"
_TEMP_SUFFIX: Final = ".part"

_STATUS_ERRORS: Final[dict[int, tuple[type[NvrError], str]]] = {
    DownloadStatus.NO_RECORDING: (NoRecordingError, "no recording in the requested period"),
    DownloadStatus.CODEC_NOT_COMPATIBLE: (
        CodecNotCompatibleError,
        "the recording cannot be downloaded as MP4 (JPEG camera)",
    ),
    DownloadStatus.TOO_MANY_REQUESTS: (
        DownloadBusyError,
        "the recorder refused the download: too many at once",
    ),
}


# -- events -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileStarted:
    """A new file begins; ``temp_name`` is the recorder's temporary name (a label)."""

    temp_name: str


@dataclass(frozen=True, slots=True)
class FileData:
    """The next bytes of the file being received."""

    data: bytes


@dataclass(frozen=True, slots=True)
class FileFinished:
    """The file being received is complete; ``name`` is its final name (a label)."""

    name: str
    temp_name: str


type DownloadEvent = FileStarted | FileData | FileFinished


@dataclass(frozen=True, slots=True)
class DownloadedFile:
    """One file of a finished download.

    ``name`` is the recorder's name for it (untrusted: show it, never use it
    as a path); ``path`` is where the sink stored it (None for sinks that do
    not store files); ``size`` in bytes.
    """

    name: str
    temp_name: str
    size: int
    path: Path | None


# -- header reading ---------------------------------------------------------------


def _recover_utf8(value: str) -> str:
    # The multipart reader decodes header bytes as Latin-1; names (and the
    # typographic quotes of the spec's examples) are more likely UTF-8.
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def parse_file_name(value: str) -> str:
    """Return the name in a header value such as ``filename = "x.tmp"`` ("" when empty)."""
    text = _recover_utf8(value).strip()
    if match := _FILENAME_KEY.match(text):
        text = text[match.end() :].strip()
    if text[:1] and text[0] in _QUOTES:
        text = text[1:]
    if text[-1:] and text[-1] in _QUOTES:
        text = text[:-1]
    return text.strip()


def _header(part: Part, names: tuple[str, ...]) -> str | None:
    for key, value in part.headers:
        if key in names:
            return value
    return None


def _status(part: Part) -> int:
    value = _header(part, _STATUS_HEADERS)
    if value is None or not value.strip():
        return DownloadStatus.NORMAL
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise MalformedResponseError("download status is not a number", body=value)
    return int(text)


def status_error(status: int) -> NvrError:
    """The error a non-zero ``X-RecData-Satus`` stands for."""
    known = _STATUS_ERRORS.get(status)
    if known is None:
        return MalformedResponseError(f"unknown download status {status}")
    error_type, message = known
    return error_type(message)


# -- the parser -------------------------------------------------------------------


class DownloadParser:
    """Push-style reader of a download body: feed chunks, get :data:`DownloadEvent` items."""

    def __init__(
        self, boundary: str = MULTIPART_BOUNDARY, *, max_part_size: int = DOWNLOAD_MAX_PART_SIZE
    ) -> None:
        self._reader = MultipartReader(boundary, max_part_size=max_part_size)
        self._temp: str | None = None
        self._files = 0
        self._done = False

    @property
    def complete(self) -> bool:
        """Whether the final part (empty ``Temp`` after the last file) was read."""
        return self._done

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[DownloadEvent]:
        """Add the next chunk of the body; return what it completed, in order.

        Raises the status errors and :class:`MalformedResponseError`.
        """
        events: list[DownloadEvent] = []
        for part in self._reader.feed(chunk):
            events += self._part(part)
        if self._reader.stats.garbage_bytes:
            # A part whose framing broke was skipped: its file cannot be trusted.
            raise MalformedResponseError("the download body has damaged parts")
        return events

    def close(self) -> None:
        """Mark the end of the body; raise when it ended before the last file was named."""
        self._reader.finish()
        if self._reader.stats.garbage_bytes:
            raise MalformedResponseError("the download body has damaged parts")
        if not self._done:
            raise DownloadInterruptedError("the download ended before its last file was complete")
        if not self._files:
            raise NoRecordingError("the recorder sent no file")

    def _part(self, part: Part) -> list[DownloadEvent]:
        status = _status(part)
        if status != DownloadStatus.NORMAL:
            raise status_error(status)
        temp = parse_file_name(_header(part, _TEMP_HEADERS) or "")
        prev = parse_file_name(_header(part, _PREV_HEADERS) or "")
        body = part.body
        if self._done:
            if temp or prev or body:
                raise MalformedResponseError("download data after the last file")
            return []
        events: list[DownloadEvent] = []
        if prev:
            if self._temp is None:
                raise MalformedResponseError("the download names a file it never started")
            if body and not temp:
                events.append(FileData(body))
                body = b""
            events.append(FileFinished(prev, self._temp))
            self._temp = None
        if temp and temp != self._temp:
            if self._temp is not None:
                raise MalformedResponseError("a download file started before the last one ended")
            self._temp = temp
            self._files += 1
            events.append(FileStarted(temp))
        if body:
            if self._temp is None:
                raise MalformedResponseError("download data outside any file")
            events.append(FileData(body))
        if self._temp is None and (self._files or not (temp or prev)):
            self._done = True
        return events


# -- sinks ------------------------------------------------------------------------


@runtime_checkable
class DownloadSink(Protocol):
    """Where the files of a download go.

    Called in this order for each file: :meth:`open`, :meth:`write` (any
    number of times), :meth:`finish`. :meth:`abort` is called once instead
    when the download fails or is cancelled, possibly with a file open; it
    must not raise, and should not wait (it also runs during cancellation).
    """

    async def open(self, temp_name: str) -> None:
        """Start a file; ``temp_name`` is the recorder's untrusted label."""

    async def write(self, data: bytes) -> None:
        """Append to the open file."""

    async def finish(self, name: str) -> Path | None:
        """Complete the open file, named ``name`` by the recorder; return where it is."""

    async def complete(self, files: list[DownloadedFile]) -> None:
        """The body ended well: ``files`` are all there is.

        Called as soon as the recorder's last part is read, before the
        download gives its connection and UID back (a logout waits for the
        recorder's pacing): whoever waits for the files can go on at once.
        """

    async def abort(self) -> None:
        """Drop the open file (and whatever else the sink promises to undo)."""


def sanitize_file_name(
    name: str,
    *,
    fallback: str = DEFAULT_FALLBACK_NAME,
    max_length: int = MAX_FILE_NAME_LENGTH,
) -> str:
    """Turn a recorder-supplied name into a safe base name of at most ``max_length`` characters.

    Only the last path component is kept (``/`` and ``\\`` both separate);
    control and format characters (NUL included) are removed; characters
    other than ASCII letters, digits, ``.``, ``_`` and ``-`` become ``_``;
    leading and trailing dots and spaces go, so the result is never ``.``,
    ``..`` or hidden. A name with nothing left becomes ``fallback`` (itself
    sanitized; ``recording`` if that is empty too). Long names keep their
    extension.
    """
    text = unicodedata.normalize("NFKC", name) if isinstance(name, str) else ""
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _SAFE.sub("_", text).strip(" ._")
    if not text.strip("_-"):
        if fallback == DEFAULT_FALLBACK_NAME:
            return fallback
        return sanitize_file_name(fallback, max_length=max_length)
    limit = max(8, max_length)
    if len(text) > limit:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= _MAX_EXTENSION:
            text = f"{stem[: limit - len(extension) - 1].rstrip(' ._')}.{extension}"
        else:
            text = text[:limit].rstrip(" ._")
    return text


class DirectorySink:
    """Writes the files of a download into ``directory`` (created when missing).

    Each file is written under a hidden temporary name of the sink's own
    (``.ipro-nvr-*.part``) and renamed, when complete, to
    :func:`sanitize_file_name` of the recorder's name. A name already used
    gets ``-2``, ``-3``… before its extension unless ``overwrite`` (names are
    always unique within one download). File operations run in worker threads.
    Subclasses may act on a finished file (:meth:`finish`) or on the end of
    the download (:meth:`complete`) before the client's :meth:`download` returns.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        keep_completed: bool = False,
        fallback_name: str = DEFAULT_FALLBACK_NAME,
    ) -> None:
        self.directory = Path(directory)
        self._overwrite = overwrite
        self._keep_completed = keep_completed
        self._fallback = fallback_name
        self._file: IO[bytes] | None = None
        self._temp_path: Path | None = None
        self._used: set[str] = set()
        self.completed: list[Path] = []

    async def open(self, temp_name: str) -> None:
        """Start a file under a temporary name of the sink's own."""
        if self._file is not None:
            raise RuntimeError("a file is already open")
        created = asyncio.get_running_loop().run_in_executor(None, self._create)
        try:
            self._file, self._temp_path = await asyncio.shield(created)
        except asyncio.CancelledError:
            # The thread creates the file anyway: know it, so that abort() removes it.
            with contextlib.suppress(BaseException):
                await asyncio.wait([created])
                self._file, self._temp_path = created.result()
            raise

    def _create(self) -> tuple[IO[bytes], Path]:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, path = tempfile.mkstemp(
            dir=self.directory, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX
        )
        return os.fdopen(handle, "wb"), Path(path)

    async def write(self, data: bytes) -> None:
        """Append ``data`` to the open file."""
        if self._file is None:
            raise RuntimeError("no file is open")
        await asyncio.to_thread(self._file.write, data)

    async def finish(self, name: str) -> Path:
        """Close the open file and rename it to the safe form of ``name``."""
        if self._file is None or self._temp_path is None:
            raise RuntimeError("no file is open")
        target = await asyncio.to_thread(self._commit, self._file, self._temp_path, name)
        self._file = self._temp_path = None
        self.completed.append(target)
        return target

    def _commit(self, file: IO[bytes], temp_path: Path, name: str) -> Path:
        file.close()
        safe = sanitize_file_name(name, fallback=self._fallback)
        stem, dot, extension = safe.rpartition(".")
        if not dot or not stem:
            stem, dot, extension = safe, "", ""
        candidate = safe
        counter = 1
        while candidate in self._used or (
            not self._overwrite and (self.directory / candidate).exists()
        ):
            counter += 1
            candidate = f"{stem}-{counter}{dot}{extension}"
        target = self.directory / candidate
        temp_path.replace(target)
        self._used.add(candidate)
        return target

    async def complete(self, files: list[DownloadedFile]) -> None:
        """Nothing to do: every file is in place already."""

    async def abort(self) -> None:
        """Remove the file in progress and, unless ``keep_completed``, the completed ones.

        Synchronous on purpose: it must run to the end even while the task is
        being cancelled (a few unlink calls).
        """
        file, temp_path = self._file, self._temp_path
        self._file = self._temp_path = None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
        if temp_path is not None:
            with contextlib.suppress(OSError):
                temp_path.unlink(missing_ok=True)
        if not self._keep_completed:
            for path in self.completed:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            self.completed.clear()


# -- driving a download -------------------------------------------------------------


async def receive_download(
    chunks: AsyncIterable[bytes],
    sink: DownloadSink,
    *,
    boundary: str = MULTIPART_BOUNDARY,
    max_part_size: int = DOWNLOAD_MAX_PART_SIZE,
) -> list[DownloadedFile]:
    """Read a download body arriving as ``chunks`` into ``sink``; return its files.

    The sink's :meth:`~DownloadSink.complete` hears of the files first, as
    soon as the body has ended well.
    On any error or cancellation the sink is aborted and the error raised;
    connection errors while reading become :class:`DownloadInterruptedError`.
    """
    parser = DownloadParser(boundary, max_part_size=max_part_size)
    files: list[DownloadedFile] = []
    size = 0
    try:
        try:
            async for chunk in chunks:
                for event in parser.feed(chunk):
                    if isinstance(event, FileData):
                        await sink.write(event.data)
                        size += len(event.data)
                    elif isinstance(event, FileStarted):
                        await sink.open(event.temp_name)
                        size = 0
                    else:
                        path = await sink.finish(event.name)
                        files.append(DownloadedFile(event.name, event.temp_name, size, path))
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as err:
            raise DownloadInterruptedError(f"the download was interrupted: {err}") from err
        parser.close()
        await sink.complete(files)
    except BaseException:
        with contextlib.suppress(Exception):
            await sink.abort()
        raise
    return files


__all__ = [
    "DOWNLOAD_MAX_PART_SIZE",
    "MAX_FILE_NAME_LENGTH",
    "DirectorySink",
    "DownloadEvent",
    "DownloadParser",
    "DownloadSink",
    "DownloadedFile",
    "FileData",
    "FileFinished",
    "FileStarted",
    "parse_file_name",
    "receive_download",
    "sanitize_file_name",
    "status_error",
]
