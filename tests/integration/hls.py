"""Read Home Assistant's HLS output of a camera like a player does."""

from __future__ import annotations

import asyncio
import re

from homeassistant.components.camera import Camera
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ipro_nvr.camera import async_stop_stream

SEGMENT = re.compile(r"segment/(\d+)\.m4s$", re.MULTILINE)


async def capture_hls(
    hass_client: ClientSessionGenerator, camera: Camera, path: str, segments: int
) -> bytes:
    """The init section and the first ``segments`` segments at ``path``; stops the stream."""
    client = await hass_client()
    try:
        playlist_url = path.replace("master_playlist", "playlist")
        found: list[str] = []
        async with asyncio.timeout(60):
            while len(found) < segments:
                response = await client.get(playlist_url)
                if response.status == 200:
                    found = SEGMENT.findall(await response.text())
                await asyncio.sleep(0.2)
        base = playlist_url.rsplit("/", 1)[0]
        init = await (await client.get(f"{base}/init.mp4")).read()
        media = [
            await (await client.get(f"{base}/segment/{n}.m4s")).read() for n in found[:segments]
        ]
    finally:
        assert camera.stream is not None
        await async_stop_stream(camera)
    return init + b"".join(media)
