"""Parsers of the session answers: ``dlogin.cgi`` (spec 6.1.1) and plain acknowledgements.

``dlogin.cgi?UID=-1`` answers a small HTML page containing ``UID=<digits>``
(up to 19 digits, more than a signed 64-bit integer holds, so the UID is kept as
text). Commands whose answer the spec does not describe (logout, keep-alive,
camera control, playback control) are acknowledged by the status code alone;
their body is only checked to be text, so that a garbage answer counts as "a
200 without the expected content".
"""

from __future__ import annotations

import re

from ..errors import MalformedResponseError
from ..models import Uid
from ..spec import UID_MAX_DIGITS
from .text import decode_text

_UID = re.compile(r"UID\s*=\s*(-?\d+)", re.IGNORECASE | re.ASCII)
# A login answer exists to carry a session ID, so any long number in one may
# be it, whatever key (if any) precedes it: an error quoting the answer hides them.
_LONG_NUMBER = re.compile(rb"\d{6,}")


def parse_login(body: bytes) -> Uid:
    """Return the UID issued in a ``dlogin.cgi`` answer."""
    text = decode_text(body, "login")
    for match in _UID.finditer(text):
        digits = match[1]
        if digits.startswith("-"):
            # "UID=-1" echoed back is the request, not an issued UID.
            continue
        if len(digits) > UID_MAX_DIGITS:
            raise MalformedResponseError("login: UID longer than 19 digits", body=_quotable(body))
        return Uid(digits)
    raise MalformedResponseError("login: no UID in the answer", body=_quotable(body))


def _quotable(body: bytes) -> bytes:
    return _LONG_NUMBER.sub(b"***", body)


def check_acknowledgement(body: bytes) -> None:
    """Accept the answer to a command the spec gives no answer format for.

    Only a body that is not text at all is refused: the spec defines no error
    body, so anything else would be guesswork.
    """
    decode_text(body, "acknowledgement")
