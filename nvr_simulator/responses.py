"""HTTP answers of the simulated recorder.

The spec defines only the 200 answers. Where it is silent the simulator uses
plain status codes with a short ``text/plain`` body that says why (the body is
for people reading logs; clients must go by the status code):

* 400 a parameter is missing, repeated, malformed or out of range;
* 401 Digest authentication missing or wrong (with ``WWW-Authenticate``);
* 403 the command's UID is missing, unknown, expired, released or evicted (or 401 with a
  challenge, when ``invalid_uid_status`` says so);
* 404 unknown CGI; 405 method other than GET;
* 501 a CGI of the spec the simulator does not implement yet;
* 503 the ``busy`` fault.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

# The spec's example answers carry these headers.
_TEXT_HEADERS = {"Cache-Control": "no-cache"}


def text_response(body: str, *, content_type: str = "text/html") -> web.Response:
    """A 200 answer with ``body`` exactly as given (no charset, as the recorder sends)."""
    headers = {**_TEXT_HEADERS, "Content-Type": content_type}
    return web.Response(body=body.encode("ascii", errors="replace"), headers=headers)


def raw_response(body: bytes, *, content_type: str = "text/html") -> web.Response:
    """A 200 answer with arbitrary bytes (used by the ``malformed_body`` fault)."""
    return web.Response(body=body, headers={**_TEXT_HEADERS, "Content-Type": content_type})


def error_response(status: int, reason: str) -> web.Response:
    """A non-200 answer with a one-line explanation."""
    body = f"{status} {HTTPStatus(status).phrase}: {reason}\r\n".encode("ascii", errors="replace")
    return web.Response(status=status, body=body, headers={"Content-Type": "text/plain"})
