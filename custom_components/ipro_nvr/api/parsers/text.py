"""Helpers shared by the text parsers: decoding and line splitting."""

from __future__ import annotations

import re

from ..errors import MalformedResponseError

# Control characters other than tab, CR and LF never occur in the recorder's
# text answers; their presence means the body is not text at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(body: bytes, what: str) -> str:
    """Return ``body`` as text, or raise :class:`MalformedResponseError`.

    The answers are ASCII; UTF-8 (with or without a byte-order mark) is
    accepted for log texts, and Latin-1 as a last resort so that one odd byte in
    a log text does not cost the whole list.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    if _CONTROL.search(text):
        raise MalformedResponseError(f"{what}: the answer is not text", body=body)
    return text


def split_lines(text: str) -> list[str]:
    """Split on CRLF, LF or CR, keeping empty lines."""
    return re.split(r"\r\n|\n|\r", text)


def is_tag_line(line: str) -> bool:
    """Whether ``line`` holds nothing but an HTML tag (the frame around some answers).

    That is: blanks, ``<``, an optional ``/``, blanks, an ASCII letter, anything
    but ``<`` and ``>``, then ``>`` and blanks. Written with string methods, not a
    regular expression: every step is linear in the line, however it is made.
    """
    text = line.strip()
    if len(text) < 3 or text[0] != "<" or text[-1] != ">":
        return False
    inner = text[1:-1]
    if "<" in inner or ">" in inner:
        return False
    first = inner.removeprefix("/").lstrip()[:1]
    return first.isascii() and first.isalpha()
