"""A video feed's paced reading: the socket rests after a read that caught up, not after a burst."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import socket

from custom_components.ipro_nvr.api.feeds.feed import paced_chunks


async def _chunks(*sizes: int) -> AsyncIterator[bytes]:
    for size in sizes:
        yield bytes(size)


async def test_the_socket_is_paused_after_a_small_read_and_not_after_a_large_one() -> None:
    """A small read pauses the transport until the next read; a large one leaves it reading."""
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
    try:
        chunks = paced_chunks(_chunks(100, 200_000, 100), transport, 0.2)
        assert len(await anext(chunks)) == 100
        second = loop.create_task(anext(chunks))
        await asyncio.sleep(0)  # the generator pauses the socket and rests
        assert not transport.is_reading()
        assert len(await second) == 200_000
        assert transport.is_reading()  # resumed for the read
        third = loop.create_task(anext(chunks))
        await asyncio.sleep(0)
        assert transport.is_reading()  # a burst: the next read follows at once
        assert len(await third) == 100
        await chunks.aclose()
    finally:
        transport.close()
        theirs.close()
