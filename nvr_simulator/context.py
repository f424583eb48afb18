"""What a CGI handler receives, and how handlers are registered.

Later features (live streams, playback, downloads) plug in by registering a
:data:`CgiHandler` for their CGI with ``Simulator.register``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from custom_components.ipro_nvr.api.spec import Cgi

    from .query import Query
    from .simulator import Simulator


@dataclass(frozen=True, slots=True)
class CgiContext:
    """One authenticated request on its way to its CGI's handler."""

    simulator: Simulator
    request: web.Request
    cgi: Cgi
    query: Query
    # The request's UID: already checked and refreshed when the handler was
    # registered with needs_uid=True, else whatever was sent (or None).
    uid: str | None
    # config.clock() at arrival.
    now: float


CgiHandler = Callable[[CgiContext], Awaitable["web.StreamResponse"]]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """A registered handler and whether its CGI carries a UID that must be live."""

    handler: CgiHandler
    needs_uid: bool
