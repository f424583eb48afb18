"""Server side of HTTP Digest authentication (RFC 7616), as the recorder does it.

Only ``qop=auth`` is offered and accepted, with MD5 (what clients and recorders
use) or SHA-256. Nonces are self-validating: random bytes, the issue time on
``config.clock`` and an HMAC under a per-simulator secret. So the simulator can
tell an expired nonce of its own (answer ``stale=true``, the client retries
silently) from a forged or foreign one, without keeping every nonce it issued.
Nonce counts are remembered per live nonce to refuse replays; counts may arrive
out of order, because one client may send several requests concurrently.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum, auto
import hashlib
import hmac
import re
import secrets
import struct
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from .config import SimulatorConfig

# RFC 7616 algorithm name -> hashlib name.
_HASHES: dict[str, str] = {"MD5": "md5", "SHA-256": "sha256"}
# Live nonces whose counts we remember; beyond this the oldest are forgotten
# (their next use then looks like a replay and gets a fresh challenge).
_MAX_TRACKED_NONCES = 1024
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)')
_NC = re.compile(r"[0-9a-fA-F]{8}")
_REQUIRED = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
_NONCE_BYTES = 32  # 8 random + 8 issue time + 16 HMAC


class AuthOutcome(Enum):
    """Result of checking one request's Authorization header."""

    OK = auto()
    # No header, another scheme, wrong credentials, forged nonce...: a fresh challenge.
    REJECTED = auto()
    # Correct credentials on one of our nonces that has expired: challenge with stale=true.
    STALE = auto()


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Outcome and, for rejections, why (kept for debugging, never sent)."""

    outcome: AuthOutcome
    reason: str = ""


def parse_digest_header(header: str) -> dict[str, str] | None:
    """Return the parameters of a ``Digest ...`` header, None if it is not one."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        name, quoted, token = match.groups()
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
        params[name.lower()] = value
    return params


class DigestAuthenticator:
    """Issues challenges and checks answers for one simulated recorder."""

    def __init__(self, config: SimulatorConfig) -> None:
        # Credentials, realm and lifetimes are read from the config at every
        # check, so a test may change them on a running simulator.
        self._config = config
        self._secret = secrets.token_bytes(32)
        self._opaque = secrets.token_hex(16)
        self._seen_counts: OrderedDict[str, set[int]] = OrderedDict()
        self.challenges_sent = 0
        self.stale_challenges_sent = 0

    # -- challenges ---------------------------------------------------------

    def challenges(self, *, stale: bool = False) -> list[str]:
        """Return the ``WWW-Authenticate`` values, preferred algorithm first."""
        self.challenges_sent += 1
        if stale:
            self.stale_challenges_sent += 1
        nonce = self._new_nonce()
        realm = self._config.realm.replace("\\", "\\\\").replace('"', '\\"')
        values = []
        for algorithm in self._config.digest_algorithms:
            value = (
                f'Digest realm="{realm}", qop="auth", algorithm={algorithm}, '
                f'nonce="{nonce}", opaque="{self._opaque}"'
            )
            if stale:
                value += ", stale=true"
            values.append(value)
        return values

    def _new_nonce(self) -> str:
        body = secrets.token_bytes(8) + struct.pack(">d", self._config.clock())
        mac = hmac.new(self._secret, body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(body + mac).decode("ascii")

    def _nonce_issue_time(self, nonce: str) -> float | None:
        """Return when we issued ``nonce``, or None if it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(nonce.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return None
        if len(raw) != _NONCE_BYTES:
            return None
        body, mac = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, body, hashlib.sha256).digest()[:16]):
            return None
        issued: float = struct.unpack(">d", body[8:])[0]
        return issued

    # -- checking -----------------------------------------------------------

    def check(self, method: str, raw_target: str, header: str | None) -> AuthResult:
        """Check the Authorization ``header`` of a ``method`` request for ``raw_target``."""
        params = parse_digest_header(header) if header else None
        if params is None:
            return AuthResult(AuthOutcome.REJECTED, "no Digest Authorization header")
        nonce = params.get("nonce", "")
        issued = self._nonce_issue_time(nonce)
        problem = self._form_problem(params, raw_target) or self._credential_problem(
            params, method, issued
        )
        if problem is not None or issued is None:
            return AuthResult(AuthOutcome.REJECTED, problem or "unknown nonce")
        # The credentials are right from here on.
        if self._config.clock() - issued > self._config.nonce_lifetime:
            self._seen_counts.pop(nonce, None)
            return AuthResult(AuthOutcome.STALE, "nonce expired")
        if not self._first_use(nonce, int(params["nc"], 16)):
            return AuthResult(AuthOutcome.REJECTED, f"replayed nc {params['nc']}")
        return AuthResult(AuthOutcome.OK)

    def _form_problem(self, params: dict[str, str], raw_target: str) -> str | None:
        """Return what is wrong with the header's form, None when it may be checked."""
        missing = [name for name in _REQUIRED if name not in params]
        if missing:
            return f"missing {', '.join(missing)}"
        algorithm = params.get("algorithm", "MD5").upper()
        checks = (
            (algorithm in _HASHES, f"unsupported algorithm {algorithm}"),
            (params["qop"] == "auth", f"unsupported qop {params['qop']}"),
            (params["realm"] == self._config.realm, "wrong realm"),
            (params.get("opaque") == self._opaque, "opaque missing or changed"),
            (_uri_matches(params["uri"], raw_target), "uri does not match the request"),
            (_NC.fullmatch(params["nc"]) is not None, "malformed nc"),
        )
        return next((reason for ok, reason in checks if not ok), None)

    def _credential_problem(
        self, params: dict[str, str], method: str, issued: float | None
    ) -> str | None:
        """Return what is wrong with nonce or credentials, None when they are right."""
        if issued is None:
            return "unknown nonce"
        hash_name = _HASHES[params.get("algorithm", "MD5").upper()]
        expected = _expected(params, method, hash_name, self._config.password)
        if not (
            _same(params["username"], self._config.username)
            and _same(params["response"].lower(), expected)
        ):
            return "wrong username or password"
        return None

    def _first_use(self, nonce: str, count: int) -> bool:
        """Remember nonce count ``count`` of ``nonce``; False when already used."""
        seen = self._seen_counts.setdefault(nonce, set())
        self._seen_counts.move_to_end(nonce)
        while len(self._seen_counts) > _MAX_TRACKED_NONCES:
            self._seen_counts.popitem(last=False)
        if count in seen:
            return False
        seen.add(count)
        return True


def _same(a: str, b: str) -> bool:
    # Constant-time, and on bytes: compare_digest refuses non-ASCII str.
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _uri_matches(uri: str, raw_target: str) -> bool:
    # RFC 7616 wants the request-target; clients differ in whether they send it
    # percent-encoded (aiohttp uses the decoded path and query), so compare
    # both the exact and the decoded forms.
    return uri == raw_target or unquote(uri) == unquote(raw_target)


def _expected(params: dict[str, str], method: str, hash_name: str, password: str) -> str:
    def digest(*parts: str) -> str:
        return hashlib.new(hash_name, ":".join(parts).encode("utf-8")).hexdigest()

    ha1 = digest(params["username"], params["realm"], password)
    ha2 = digest(method.upper(), params["uri"])
    return digest(ha1, params["nonce"], params["nc"], params["cnonce"], params["qop"], ha2)
