"""HTTP(S) to the recorder: URLs, Digest authentication, TLS, timeouts, error mapping.

Digest authentication is aiohttp's own :class:`aiohttp.DigestAuthMiddleware`,
passed with every request, so a session shared with other code (Home
Assistant's) is never changed. The transport neither paces nor knows about UID
lifetimes; it sends one request and says how it went, as a body or as one of the
exceptions of :mod:`.errors`:

=========================  ==========================================
503                        :class:`RecorderBusyError`
other non-200, UID request :class:`UidError` (the UID may be gone), 401 too
401                        :class:`AuthenticationError`
404, 501                   :class:`NotSupportedError`
other non-200              :class:`NvrError`
no connection, TLS failure :class:`CannotConnectError`
connection dropped         :class:`ConnectionDroppedError` (a CannotConnectError)
no answer in time          :class:`NvrTimeoutError`
=========================  ==========================================

No request is ever sent twice here. aiohttp's client resends an idempotent
request once, at once, when the connection drops before the answer
(``ClientSession._request``: ``retry_persistent_connection`` on
``ServerDisconnectedError``/``ClientOSError``, for a pooled keep-alive
connection the server closed); that resend bypasses the recorder's pacing
queue (spec 1.3). A per-request middleware turns those errors into one aiohttp
does not retry, raised here as :class:`ConnectionDroppedError`; the session
resends on its next paced turn if it wants to.

Nothing secret reaches a log line or an exception message: request paths are
logged with the UID masked, aiohttp's messages are scrubbed of the UID and the
password, and exceptions are raised without aiohttp's as their cause because
some of those quote the full URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import logging
import ssl
from typing import Any

import aiohttp
from yarl import URL

from .errors import (
    AuthenticationError,
    CannotConnectError,
    ConnectionDroppedError,
    InvalidArgumentError,
    MalformedResponseError,
    NotSupportedError,
    NvrError,
    NvrTimeoutError,
    RecorderBusyError,
    UidError,
)
from .models import Uid
from .urls import Request

_LOGGER = logging.getLogger(__name__)

# Text answers are small (a full 1000-entry log is under 100 kB); anything far
# bigger is not one of them and is not read to the end.
MAX_TEXT_BODY = 4 * 1024 * 1024
# The answers of a recorder that does not offer a CGI.
NOT_SUPPORTED_STATUSES = frozenset({404, 501})


class _DroppedError(aiohttp.ClientConnectionError):
    """A dropped connection, in a form aiohttp's client does not resend by itself."""


async def _no_resend(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Client middleware: let a connection dropped before the answer end the request.

    Failures to connect are left as they are (aiohttp never resends those).
    """
    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as err:
        raise _DroppedError(f"{type(err).__name__}: {err}") from err


class Transport:
    """Sends requests to one recorder over HTTP or HTTPS with Digest authentication."""

    def __init__(
        self,
        host: str,
        *,
        username: str,
        password: str,
        port: int | None = None,
        use_https: bool = False,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 10.0,
        on_send: Callable[[Request], None] | None = None,
    ) -> None:
        scheme = "https" if use_https else "http"
        try:
            self._base = str(URL.build(scheme=scheme, host=host, port=port))
        except ValueError as err:
            raise InvalidArgumentError(f"not a host name or address: {host!r}") from err
        self._host = host
        self._password = password
        self._digest = aiohttp.DigestAuthMiddleware(username, password)
        # ssl=True: verify as usual; False: accept any certificate (recorders ship
        # self-signed ones). An explicit context (a test trusting the simulator's
        # certificate, a pinned recorder certificate) wins over the switch.
        self._ssl: ssl.SSLContext | bool = True
        if use_https:
            self._ssl = ssl_context if ssl_context is not None else bool(verify_ssl)
        self._session = session
        self._own_session = session is None
        self._timeout = request_timeout
        self._closed = False
        # Told as each HTTP request leaves, the second leg of a Digest exchange
        # included: the pacing counts from when the recorder gets the command,
        # not from when its turn was granted (see Scheduler.sent).
        self._on_send = on_send

    @property
    def base_url(self) -> str:
        """``scheme://host[:port]`` of the recorder, without a trailing slash."""
        return self._base.rstrip("/")

    @property
    def request_timeout(self) -> float:
        """Seconds a text request may take in total."""
        return self._timeout

    def url(self, request: Request, uid: Uid | None) -> URL:
        """Return the URL of ``request``, exactly as built: nothing re-encoded or merged."""
        return URL(self.base_url + request.target(uid), encoded=True)

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise NvrError("the transport is closed")
        if self._session is None:
            # Created lazily: a ClientSession wants a running event loop.
            self._session = aiohttp.ClientSession()
        return self._session

    async def fetch(self, request: Request, uid: Uid | None = None) -> bytes:
        """Send ``request`` and return the body of its 200 answer."""
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        response = await self._get(request, uid, timeouts=timeout)
        try:
            return await self._read_body(request, uid, response)
        finally:
            response.release()

    async def open_stream(
        self, request: Request, uid: Uid | None = None, *, read_timeout: float | None = None
    ) -> aiohttp.ClientResponse:
        """Send ``request`` and return its 200 response for incremental reading.

        The connection must open within the request timeout; the headers may
        take the longer of it and ``read_timeout`` (a recorder prepares a
        download's file before it answers), and afterwards each read may wait
        ``read_timeout`` (default: the request timeout). The caller must
        ``close()`` or ``release()`` the response.
        """
        read = read_timeout if read_timeout is not None else self._timeout
        answer = max(self._timeout, read)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self._timeout,
            sock_connect=self._timeout,
            sock_read=read,
        )
        try:
            async with asyncio.timeout(answer):
                return await self._get(request, uid, timeouts=timeout)
        except TimeoutError:
            raise NvrTimeoutError(
                f"{request.cgi}: no answer from {self._host} within {answer:g} s"
            ) from None

    async def _get(
        self, request: Request, uid: Uid | None, *, timeouts: aiohttp.ClientTimeout
    ) -> aiohttp.ClientResponse:
        url = self.url(request, uid)
        _LOGGER.debug("GET %s", request.describe())
        try:
            response = await self._client().get(
                url,
                # _no_resend first: it wraps both legs of the Digest exchange,
                # and the send mark last: it sees each leg leave.
                middlewares=(_no_resend, self._digest, self._send_mark(request)),
                ssl=self._ssl,
                timeout=timeouts,
                allow_redirects=False,
            )
        except NvrError:
            raise
        except TimeoutError:
            raise NvrTimeoutError(
                f"{request.cgi}: no answer from {self._host} within {self._timeout:g} s"
            ) from None
        except _DroppedError as err:
            raise ConnectionDroppedError(
                f"{request.cgi}: {self._host} closed the connection without an answer "
                f"({self._scrub(err, uid)})"
            ) from None
        except aiohttp.ClientConnectorCertificateError as err:
            raise CannotConnectError(
                f"{self._host}: the certificate is not trusted ({self._scrub(err, uid)})"
            ) from None
        except (aiohttp.ClientError, OSError, ValueError) as err:
            # ValueError: aiohttp's Digest middleware on a malformed challenge.
            raise CannotConnectError(
                f"{request.cgi}: cannot talk to {self._host}: {self._scrub(err, uid)}"
            ) from None
        if response.status != 200:
            status = response.status
            response.release()
            _LOGGER.debug("%s answered %s", request.describe(), status)
            raise _status_error(request, status, self._host)
        return response

    async def _read_body(
        self, request: Request, uid: Uid | None, response: aiohttp.ClientResponse
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MAX_TEXT_BODY:
                    raise MalformedResponseError(
                        f"{request.cgi}: answer larger than {MAX_TEXT_BODY} bytes",
                        body=b"".join(chunks),
                    )
                chunks.append(chunk)
        except NvrError:
            raise
        except TimeoutError:
            raise NvrTimeoutError(
                f"{request.cgi}: the answer from {self._host} did not complete within "
                f"{self._timeout:g} s"
            ) from None
        except (aiohttp.ClientError, OSError) as err:
            raise CannotConnectError(
                f"{request.cgi}: the answer from {self._host} broke off: {self._scrub(err, uid)}"
            ) from None
        return b"".join(chunks)

    def _send_mark(self, sending: Request) -> aiohttp.ClientMiddlewareType:
        on_send = self._on_send

        async def mark(
            request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
        ) -> aiohttp.ClientResponse:
            if on_send is not None:
                on_send(sending)
            return await handler(request)

        return mark

    def _scrub(self, err: BaseException, uid: Uid | None) -> str:
        """Describe ``err`` without the UID or the password."""
        text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        if uid is not None:
            text = text.replace(uid.value, "***")
        if self._password:
            text = text.replace(self._password, "***")
        return text

    async def close(self) -> None:
        """Close the HTTP session if this transport created it (a shared one stays open)."""
        self._closed = True
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def diagnostics(self) -> Mapping[str, Any]:
        """How the transport talks to the recorder (no host, no credentials)."""
        return {
            "https": self._base.startswith("https"),
            "verify_ssl": self._ssl is not False,
            "own_session": self._own_session,
            "request_timeout_s": self._timeout,
        }


def _status_error(request: Request, status: int, host: str) -> NvrError:
    where = f"{request.cgi} on {host}"
    if status == 503:
        return RecorderBusyError(f"{where}: the recorder is busy (503)")
    if request.needs_uid:
        # The spec defines no error answer (spec 6.1, 6.2 give only the good
        # ones): any refusal of a command carrying a UID may mean the UID is gone, a 401
        # too (a recorder may refuse a stale UID that way). The session logs in
        # again, and that login (no UID) tells whether the password is wrong.
        return UidError(f"{where}: refused with {status}; the UID may be gone", status=status)
    if status == 401:
        return AuthenticationError(f"{where}: user name or password rejected (401)")
    if status in NOT_SUPPORTED_STATUSES:
        return NotSupportedError(f"{where}: not supported by this recorder ({status})")
    return NvrError(f"{where}: unexpected answer {status}")
