"""Onboard a fresh Home Assistant through its API and talk to its websocket.

The same calls the frontend makes: ``/api/onboarding/users`` (returns an auth code),
``/auth/token``, the ``core_config``, ``analytics`` and ``integration`` steps, then the
websocket with the access token.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import itertools
from typing import Any, Self

import aiohttp

USERNAME = "demo"
PASSWORD = "demo-password"  # noqa: S105 - a throwaway user of a throwaway instance
ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")


class HassApiError(RuntimeError):
    """Home Assistant answered a call with an error."""


@dataclass
class Tokens:
    """What the token endpoint gave for the onboarded user."""

    access_token: str
    refresh_token: str
    expires_in: int


def client_id(base_url: str) -> str:
    """Return the client id the frontend uses (its own URL)."""
    return f"{base_url}/"


async def onboard(session: aiohttp.ClientSession, base_url: str) -> Tokens:
    """Finish every onboarding step of a fresh Home Assistant; return the user's tokens."""
    cid = client_id(base_url)
    async with session.get(f"{base_url}/api/onboarding") as answer:
        steps = await _json(answer)
    if any(step["done"] for step in steps):
        raise HassApiError(f"Home Assistant is onboarded already: {steps}")
    async with session.post(
        f"{base_url}/api/onboarding/users",
        json={
            "client_id": cid,
            "name": "Demo",
            "username": USERNAME,
            "password": PASSWORD,
            "language": "en",
        },
    ) as answer:
        auth_code = (await _json(answer))["auth_code"]
    tokens = await exchange_code(session, base_url, auth_code)
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": cid, "redirect_uri": f"{cid}?auth_callback=1"}),
    ):
        async with session.post(
            f"{base_url}/api/onboarding/{step}", json=body, headers=headers
        ) as answer:
            await _json(answer)
    return tokens


async def exchange_code(session: aiohttp.ClientSession, base_url: str, code: str) -> Tokens:
    """Trade an authorization code for tokens, as the frontend does after login."""
    async with session.post(
        f"{base_url}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": client_id(base_url)},
    ) as answer:
        data = await _json(answer)
    return Tokens(data["access_token"], data["refresh_token"], int(data["expires_in"]))


async def _json(answer: aiohttp.ClientResponse) -> Any:
    if answer.status >= 400:
        raise HassApiError(
            f"{answer.method} {answer.url.path}: {answer.status} {await answer.text()}"
        )
    return await answer.json()


class HassWebsocket:
    """An authenticated websocket connection to Home Assistant, one call at a time."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, access_token: str) -> None:
        self._session = session
        self._url = f"{base_url}/api/websocket"
        self._token = access_token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        self._ws = await self._session.ws_connect(self._url, max_msg_size=0)
        hello = await self._ws.receive_json()
        if hello.get("type") != "auth_required":
            raise HassApiError(f"unexpected greeting {hello}")
        await self._ws.send_json({"type": "auth", "access_token": self._token})
        answer = await self._ws.receive_json()
        if answer.get("type") != "auth_ok":
            raise HassApiError(f"websocket authentication failed: {answer}")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def call(self, message_type: str, wait: float = 60, **data: Any) -> Any:
        """Send one command and return its result (within ``wait`` s); a failure raises."""
        if self._ws is None:
            raise HassApiError("not connected")
        async with self._lock:
            message_id = next(self._ids)
            await self._ws.send_json({"id": message_id, "type": message_type, **data})
            async with asyncio.timeout(wait):
                while True:
                    answer = await self._ws.receive_json()
                    if answer.get("id") == message_id and answer.get("type") == "result":
                        break
        if not answer.get("success"):
            raise HassApiError(f"{message_type}: {answer.get('error')}")
        return answer.get("result")
