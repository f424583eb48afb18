"""dlogin.cgi answers and plain acknowledgements."""

from __future__ import annotations

import pytest

from custom_components.ipro_nvr.api import MalformedResponseError, Uid
from custom_components.ipro_nvr.api.parsers import check_acknowledgement, parse_login

from .spec_examples import LOGIN


def test_spec_example() -> None:
    """``UID=13313`` in an HTML page."""
    assert parse_login(LOGIN) == Uid("13313")


@pytest.mark.parametrize(
    ("body", "uid"),
    [
        (b"UID=1234567890123456789", "1234567890123456789"),  # 19 digits, beyond int64
        (b"<html><body>uid = 0042</body></html>", "0042"),  # kept as text
        (b"UID=-1\r\nUID=77\r\n", "77"),  # the request echoed back is skipped
    ],
)
def test_uid_anywhere_in_the_body(body: bytes, uid: str) -> None:
    """The UID is found anywhere, kept digit for digit."""
    assert parse_login(body).value == uid


@pytest.mark.parametrize(
    "body",
    [b"", b"<HTML>\r\n</HTML>\r\n", b"UID=-1", b"UID=12345678901234567890", b"UID=\xff\x00"],
)
def test_rejects_answers_without_a_uid(body: bytes) -> None:
    """No UID, only -1, 20 digits, or not text at all."""
    with pytest.raises(MalformedResponseError):
        parse_login(body)


def test_uid_is_masked_in_text_forms() -> None:
    """Logging a Uid by mistake does not show it."""
    uid = Uid("9876543210123")
    assert "9876543210123" not in repr(uid)
    assert "9876543210123" not in str(uid)
    assert f"{uid}".endswith("23")


def test_malformed_login_snippet_masks_the_uid() -> None:
    """An error quoting a login body never carries the UID."""
    with pytest.raises(MalformedResponseError) as caught:
        parse_login(b"UID=123456789012345678901234\r\n")
    assert "1234567890" not in str(caught.value)
    assert "UID=***" in caught.value.snippet


def test_acknowledgement() -> None:
    """Any text acknowledges a command; a body that is not text does not."""
    check_acknowledgement(b"<HTML>\r\n</HTML>\r\n")
    check_acknowledgement(b"")
    with pytest.raises(MalformedResponseError):
        check_acknowledgement(b"\x00\x01binary")
