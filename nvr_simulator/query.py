"""Strict reading of a CGI query string, as the recorder would check it.

The query is parsed from the raw request target, not from a dictionary, so a
repeated name (``CTRL=FAR&CTRL=START``) keeps every value in order.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from urllib.parse import parse_qsl

_INTEGER = re.compile(r"-?\d+")


class BadRequestError(Exception):
    """A parameter is missing, repeated or out of range: the answer is 400."""


@dataclass(frozen=True, slots=True)
class Query:
    """The parameters of one request, in the order they were sent."""

    raw: str
    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, raw: str) -> Query:
        """Parse ``raw`` (the part after ``?``, exactly as received)."""
        return cls(raw, tuple(parse_qsl(raw, keep_blank_values=True)))

    def getall(self, name: str) -> list[str]:
        """Return every value of ``name`` in order (possibly none)."""
        return [value for key, value in self.pairs if key == name]

    def get(self, name: str) -> str | None:
        """Return the single value of ``name``, None when absent; 400 when repeated."""
        values = self.getall(name)
        if len(values) > 1:
            raise BadRequestError(f"{name} given {len(values)} times")
        return values[0] if values else None

    def require(self, name: str) -> str:
        """Return the single value of ``name``; 400 when absent or repeated."""
        value = self.get(name)
        if value is None:
            raise BadRequestError(f"{name} missing")
        return value

    def require_fixed(self, name: str, expected: str) -> None:
        """Check a fixed parameter such as ``PC=AS60`` (400 unless exactly that)."""
        value = self.require(name)
        if value != expected:
            raise BadRequestError(f"{name}={value!r}, expected {expected!r}")

    def integer(self, name: str, low: int, high: int) -> int:
        """Return ``name`` as an integer within ``low..high``; 400 when absent or not."""
        return _bounded(name, self.require(name), low, high)

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        """Like :meth:`integer`, but None when the parameter is omitted."""
        value = self.get(name)
        return None if value is None else _bounded(name, value, low, high)


def _bounded(name: str, value: str, low: int, high: int) -> int:
    # Plain decimal only: "+3", " 3" or "3.0" would be a client bug worth seeing.
    if not _INTEGER.fullmatch(value):
        raise BadRequestError(f"{name}={value!r} is not an integer")
    number = int(value)
    if not low <= number <= high:
        raise BadRequestError(f"{name}={number} outside {low}..{high}")
    return number
