"""Helpers of the simulator's tests, written independently of the simulator's code."""

from __future__ import annotations

import hashlib
import re

import aiohttp

USERNAME = "admin"
PASSWORD = "s3cret-Pa55"


async def get(session: aiohttp.ClientSession, target: str) -> tuple[int, str]:
    """GET ``target`` (e.g. ``/cgi-bin/dlogin.cgi?UID=-1``); return status and text."""
    async with session.get(target) as response:
        return response.status, (await response.read()).decode("ascii", errors="replace")


async def login(session: aiohttp.ClientSession) -> str:
    """Log in and return the UID from the body."""
    status, body = await get(session, "/cgi-bin/dlogin.cgi?UID=-1")
    assert status == 200, body
    match = re.search(r"UID=(\d+)", body)
    assert match is not None, body
    return match[1]


def challenge_params(header: str) -> dict[str, str]:
    """Parse the parameters of a ``WWW-Authenticate: Digest ...`` header."""
    assert header.startswith("Digest "), header
    return {
        key: quoted or token
        for key, quoted, token in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', header[7:])
    }


def digest_header(
    challenge: dict[str, str],
    *,
    uri: str,
    nc: int = 1,
    method: str = "GET",
    username: str = USERNAME,
    password: str = PASSWORD,
    realm: str | None = None,
    algorithm: str = "MD5",
) -> str:
    """Build an Authorization header answering ``challenge`` (RFC 7616, qop=auth)."""
    hash_name = {"MD5": "md5", "SHA-256": "sha256"}[algorithm]

    def h(text: str) -> str:
        return hashlib.new(hash_name, text.encode()).hexdigest()

    realm = challenge["realm"] if realm is None else realm
    cnonce = "0a4f113b"
    ncvalue = f"{nc:08x}"
    ha1 = h(f"{username}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    response = h(f"{ha1}:{challenge['nonce']}:{ncvalue}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{challenge["nonce"]}", '
        f'uri="{uri}", response="{response}", algorithm={algorithm}, qop=auth, '
        f'nc={ncvalue}, cnonce="{cnonce}", opaque="{challenge["opaque"]}"'
    )


def split_log_fields(body: str, prefix: str) -> list[str]:
    """Return the quoted fields of a log list, the lines of the list joined first."""
    lines = body.split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{prefix}="))
    joined = "".join(lines[start:])[len(prefix) + 1 :]
    return re.findall(r'"([^"]*)"', joined)
