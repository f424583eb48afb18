"""Exceptions raised by the recorder client.

One small tree, so a caller can catch exactly what it can handle: everything
derives from :class:`NvrError`. Messages are written for people reading logs and
never contain the password, a UID or a digest nonce.
"""

from __future__ import annotations

import re

# A malformed body is quoted in the error so a bug report shows what came back;
# this much is enough to recognise it and short enough for a log line.
SNIPPET_LIMIT = 200

# The value after a key that names a session ID or a digest secret, however the
# recorder spells it: ``UID=123``, ``uid:123``, ``"uid": "123"``, ``session_id=1``,
# ``nonce="abc"`` (a key needs a ``=`` or ``:`` after it).
_SECRET_VALUE = re.compile(
    r"""((?:uid|session[_ -]?id|c?nonce|opaque)["']?[ \t]*[=:][ \t]*["']?)[^\s"'&,;<>]+""",
    re.IGNORECASE | re.ASCII,
)
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def redact(text: str) -> str:
    """Return ``text`` with every UID, session ID and digest nonce value replaced by ``***``.

    Everything the recorder sends may end up in an error message and so in a
    log line; this is the one place its secrets are taken out.
    """
    return _SECRET_VALUE.sub(r"\1***", text)


class NvrError(Exception):
    """Base class of every error of the recorder client.

    Text arguments are redacted (:func:`redact`): a message quoting the
    recorder never carries a session ID or nonce into a log, ``str()`` or ``repr()``.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class CannotConnectError(NvrError):
    """The recorder could not be reached (DNS, TCP, TLS, connection dropped)."""


class ConnectionDroppedError(CannotConnectError):
    """The connection closed or reset before an answer: the request may have arrived."""


class NvrTimeoutError(CannotConnectError):
    """The recorder did not answer in time."""


class AuthenticationError(NvrError):
    """The recorder rejected the user name or password (HTTP 401)."""


class RecorderBusyError(NvrError):
    """The recorder answered 503: it is overloaded or refuses more clients."""


class RecorderFullError(RecorderBusyError):
    """Not logged in: the recorder's sessions are all in use (``USEDUID >= MAXUID``).

    A 17th login would evict another client's session (spec 1.3), so none is
    sent; the caller waits for a free session or makes do with the UIDs it holds.
    """


class UidError(NvrError):
    """A command's UID was refused: invalid, expired, or evicted by a 17th login.

    ``status`` is the HTTP status of the refusal when there was one (403 for an
    unknown UID; the spec defines no error body, so any non-200 answer to a
    command that carries a UID is read as "the UID may be gone").
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MalformedResponseError(NvrError):
    """A 200 answer whose body is not what the spec describes.

    ``snippet`` is the start of the body, printable, at most
    :data:`SNIPPET_LIMIT` characters, with any ``UID=`` value masked.
    """

    def __init__(self, message: str, *, body: bytes | str | None = None) -> None:
        self.snippet = make_snippet(body) if body is not None else ""
        super().__init__(f"{message}: {self.snippet!r}" if self.snippet else message)


class NotSupportedError(NvrError):
    """The recorder does not offer this CGI (HTTP 404 or 501)."""


class UidCommandNotSupportedError(UidError, NotSupportedError):
    """A command carrying a UID was refused with 404 or 501 again on a fresh UID.

    The first refusal may have meant a stale UID (the spec defines no error
    answer); the same refusal after a new login means the recorder lacks the CGI.
    """


class InvalidArgumentError(NvrError, ValueError):
    """An argument was rejected before anything was sent to the recorder."""


class UidBudgetExhaustedError(NvrError):
    """Every UID the client may hold is in use and none can take this lease."""


class ClientClosedError(NvrError):
    """The client was closed; the request was not sent."""


class NoRecordingError(NvrError):
    """A download found no recording in the requested period (``X-RecData-Satus: 1``)."""


class CodecNotCompatibleError(NvrError):
    """The recording cannot be downloaded as asked: MP4 of a JPEG camera (status 2)."""


class DownloadBusyError(RecorderBusyError):
    """The recorder refused a download: too many at once (``X-RecData-Satus: 3``)."""


class DownloadInterruptedError(CannotConnectError):
    """A download ended before its last file was complete (connection lost or cut)."""


def make_snippet(body: bytes | str) -> str:
    """Return a printable, secret-free excerpt of ``body`` for an error message.

    Non-printable characters become ``?`` so the snippet is safe in any log
    line; ``UID=<digits>`` (any spelling, see :func:`redact`) becomes
    ``UID=***`` because a login answer carries a live session identifier.
    """
    text = body.decode("latin-1") if isinstance(body, bytes) else body
    # Mask before truncating so that a cut cannot leave a partial UID behind.
    text = redact(text[: SNIPPET_LIMIT * 4])
    text = _UNPRINTABLE.sub("?", text)
    if len(text) > SNIPPET_LIMIT:
        text = text[: SNIPPET_LIMIT - 3] + "..."
    return text
