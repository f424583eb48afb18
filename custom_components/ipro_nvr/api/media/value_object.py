"""Equality, hashing and printing for the media path's plain slotted classes.

The per-packet and per-picture types (:class:`~.rtp.RtpPacket`,
:class:`~.access_unit.AccessUnit`) are plain slotted classes rather than
frozen dataclasses, which pay an ``object.__setattr__`` per field on every
construction. This base gives them the dataclass's value semantics: two
objects of the same class are equal when their ``_fields()`` are, and they
print as ``Name(field=value, ...)`` in ``__match_args__`` order.
"""

from __future__ import annotations

from typing import ClassVar


class SlottedValue:
    """Value semantics from ``_fields()`` (values in ``__match_args__`` order)."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _fields(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SlottedValue) and other.__class__ is self.__class__:
            return self._fields() == other._fields()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        values = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self.__match_args__, self._fields(), strict=True)
        )
        return f"{type(self).__name__}({values})"
