"""Recorder text reaches error messages (and so logs) only with its secrets taken out."""

from __future__ import annotations

import logging

import pytest

from custom_components.ipro_nvr.api.errors import (
    MalformedResponseError,
    NvrError,
    UidError,
    make_snippet,
    redact,
)
from custom_components.ipro_nvr.api.media.errors import BoundaryError, MediaFormatError
from custom_components.ipro_nvr.api.media.multipart import (
    MultipartReader,
    boundary_from_content_type,
)
from custom_components.ipro_nvr.api.parsers.login import parse_login

SESSION_ID = "7309541862093417265"


@pytest.mark.parametrize(
    "spelling",
    [
        f"UID={SESSION_ID}",
        f"uid:{SESSION_ID}",
        f"Uid = {SESSION_ID}",
        f'"uid": "{SESSION_ID}"',
        f"'UID':'{SESSION_ID}'",
        f"session_id={SESSION_ID}",
        f"SessionID: {SESSION_ID}",
        f'nonce="{SESSION_ID}abc", qop="auth"',
        f"cnonce={SESSION_ID}",
        f"/cgi-bin/status.cgi?UID={SESSION_ID}&PC=AS60",
    ],
)
def test_every_spelling_of_a_secret_is_redacted(spelling: str) -> None:
    text = redact(f"<HTML>{spelling}</HTML>")
    assert SESSION_ID not in text
    assert "***" in text
    assert SESSION_ID not in make_snippet(spelling.encode())


def test_text_without_secrets_is_left_alone() -> None:
    text = "uid_budget=5 outside 1..16; the UID may be gone; CAM_CONNECT_01CH=1"
    assert redact(text) == text


@pytest.mark.parametrize("error_type", [NvrError, UidError, MalformedResponseError])
def test_every_nvr_error_redacts_its_message(
    error_type: type[NvrError], caplog: pytest.LogCaptureFixture
) -> None:
    """str(), repr() and a logged traceback of the error: no session ID."""
    error = error_type(f"login: answer uid:{SESSION_ID}")
    assert SESSION_ID not in str(error)
    assert SESSION_ID not in repr(error)
    try:
        raise error
    except NvrError:
        logging.getLogger("test").exception("failed: %s", error)
    assert SESSION_ID not in caplog.text
    assert "uid:***" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        f"uid:{SESSION_ID}",
        f"Session {SESSION_ID}",  # no key at all: a login answer hides every long number
        f"UID={SESSION_ID}{SESSION_ID}",  # too long to be a UID
    ],
)
def test_login_answer_is_quoted_without_any_long_number(body: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        parse_login(f"<HTML>\r\n{body}\r\n</HTML>\r\n".encode())
    assert SESSION_ID not in str(caught.value)
    assert "<HTML>" in caught.value.snippet  # the answer is still quoted


@pytest.mark.parametrize("boundary", ["b" * 71, "x" * 5000, "bound\u0101ry", ""])
def test_unusable_boundary_is_a_typed_media_error(boundary: str) -> None:
    with pytest.raises(BoundaryError) as caught:
        MultipartReader(boundary)
    assert isinstance(caught.value, MediaFormatError)
    assert isinstance(caught.value, NvrError)
    assert len(str(caught.value)) < 300


def test_boundary_of_70_characters_is_fine() -> None:
    boundary = boundary_from_content_type(f"multipart/x-mixed-replace; boundary={'b' * 70}")
    reader = MultipartReader(boundary)
    parts = reader.feed(f"--{boundary}\r\nContent-Length: 1\r\n\r\nx\r\n".encode())
    assert [p.body for p in parts] == [b"x"]
