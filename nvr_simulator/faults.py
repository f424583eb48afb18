"""Fault switches that tests flip to see how a client copes with a bad recorder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custom_components.ipro_nvr.api.spec import Cgi

    from .uids import UidTable

# What ``malformed_body`` answers: not the expected text, not even text.
MALFORMED_BODY = b"\xff\xfe<!-- simulated garbage -->\x00\x01#@!%\r\nUID\r\nCAM_CONN"


@dataclass(frozen=True, slots=True)
class FaultAction:
    """The faults applied to one request, decided when it arrives."""

    drop_connection: bool
    malformed_body: bool
    slow_response: float
    busy: bool
    drop_mid_response: bool
    truncate_body: float | None

    @property
    def after_handler(self) -> bool:
        """Whether the handler's answer is needed first (to cut it)."""
        return self.drop_mid_response or self.truncate_body is not None


@dataclass(slots=True)
class Faults:
    """Switches read at the arrival of every authenticated request.

    Precedence when several are on: ``slow_response`` delays first, then
    ``drop_connection`` closes the connection without an answer, else ``busy``
    answers 503, else ``malformed_body`` answers 200 with garbage. A dropped,
    busy or malformed request does not reach its command handler (so, for
    example, no UID is issued), but it is recorded in the pacing journal.

    Two switches cut the handler's own answer instead (so the command did
    happen: a login issued its UID): ``drop_mid_response`` sends the headers
    (with the full ``Content-Length``) and half the body, then closes the
    connection (a recorder crashing while it answers); ``truncate_body`` sends a
    complete 200 whose text is cut after that fraction of its bytes (an answer
    the recorder itself cut short). Streaming answers (``push.cgi``,
    ``httpdl.cgi``) are left alone: ``nvr_simulator.live`` has its own switches.

    ``only`` limits the faults to some CGIs; ``count`` limits them to the next
    N matching requests (None: every one). ``applied`` counts the requests a
    fault was applied to.

    Two switches shape the log lists of ``loglist.cgi`` instead (read by its
    handler, on until cleared, not limited by ``only``/``count``):
    ``log_list_cut`` lists at most that many entries while still declaring
    them all (an answer cut at an entry boundary); ``log_number_offset`` numbers
    entries from ``1 + offset`` (a recorder that renumbered its lists).

    Note: a plain aiohttp client silently resends an idempotent request once, at
    once, when the server disconnects, so ``drop_connection`` with ``count=1`` is
    invisible to it; use ``count=2`` (or None) to make it see the drop. The
    integration's client never lets aiohttp resend (it would break the pacing):
    it sends a dropped request again once, on its next paced turn.
    """

    drop_connection: bool = False
    malformed_body: bool = False
    slow_response: float = 0.0
    busy: bool = False
    drop_mid_response: bool = False
    truncate_body: float | None = None
    only: set[Cgi] | None = None
    count: int | None = None
    applied: int = 0
    log_list_cut: int | None = None
    log_number_offset: int = 0
    uids: UidTable | None = field(default=None, repr=False, compare=False)

    @property
    def armed(self) -> bool:
        """Whether any switch is on (regardless of ``only`` and ``count``)."""
        return (
            self.drop_connection
            or self.malformed_body
            or self.busy
            or self.slow_response > 0
            or self.drop_mid_response
            or self.truncate_body is not None
        )

    def take(self, cgi: Cgi) -> FaultAction | None:
        """Return the faults for a request of ``cgi`` now arriving, consuming ``count``."""
        if not self.armed or (self.only is not None and cgi not in self.only):
            return None
        if self.count is not None:
            if self.count <= 0:
                return None
            self.count -= 1
        self.applied += 1
        return FaultAction(
            drop_connection=self.drop_connection,
            malformed_body=self.malformed_body,
            slow_response=max(self.slow_response, 0.0),
            busy=self.busy,
            drop_mid_response=self.drop_mid_response,
            truncate_body=self.truncate_body,
        )

    def expire_uids(self) -> int:
        """Expire every live UID now (as a recorder restart would); return how many."""
        return self.uids.expire_all() if self.uids is not None else 0

    def clear(self) -> None:
        """Turn every switch off."""
        self.drop_connection = False
        self.malformed_body = False
        self.slow_response = 0.0
        self.busy = False
        self.drop_mid_response = False
        self.truncate_body = None
        self.only = None
        self.count = None
        self.log_list_cut = None
        self.log_number_offset = 0
