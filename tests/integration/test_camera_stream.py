"""Live video through Home Assistant's real stream component, and snapshots."""

from __future__ import annotations

import asyncio
from contextlib import suppress
import io

import av
from homeassistant.components.camera import (
    Camera,
    async_get_image,
    async_request_stream,
)
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.const import DOMAIN
from nvr_simulator.server import RunningSimulator
from tests.integration.hls import capture_hls


def _camera_entity_id(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
    )
    assert entity_id is not None
    return entity_id


def _decode(data: bytes) -> list[av.VideoFrame]:
    frames: list[av.VideoFrame] = []
    with av.open(io.BytesIO(data), format="mp4") as container, suppress(av.FFmpegError):
        frames.extend(container.decode(video=0))
    return frames


async def test_hls_stream_plays_the_simulated_camera(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
) -> None:
    """Request HLS like the frontend does and decode frames from its segments."""
    assert await async_setup_component(hass, "stream", {})
    entity_id = _camera_entity_id(hass, loaded_entry, 1)
    camera: Camera | None = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert camera is not None
    path = await async_request_stream(hass, entity_id, "hls")
    data = await capture_hls(hass_client, camera, path, segments=2)

    frames = await asyncio.to_thread(_decode, data)
    assert len(frames) >= 10
    assert (frames[0].width, frames[0].height) == (320, 180)
    times = [f.time for f in frames]
    assert times == sorted(times)
    # One recorder connection served the stream.
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert len(starts) == 1
    assert "COMP=H264" in starts[0]
    assert simulator.journal.violations == []


async def test_snapshot_is_a_jpeg_of_the_camera(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """The camera's still image is the recorder's JPEG without its vendor blocks."""
    image = await async_get_image(hass, _camera_entity_id(hass, loaded_entry, 2))
    assert image.content_type == "image/jpeg"
    with av.open(io.BytesIO(image.content), format="mjpeg") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)
    # A second picture soon after reuses the open JPEG stream.
    await async_get_image(hass, _camera_entity_id(hass, loaded_entry, 2))
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "COMP=JPEG" in q]
    assert len(starts) == 1


async def test_reload_stops_the_stream_of_the_old_relay(
    hass: HomeAssistant,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An options change reloads the entry: the old stream stops instead of retrying a dead URL."""
    assert await async_setup_component(hass, "stream", {})
    entity_id = _camera_entity_id(hass, loaded_entry, 1)
    old_camera: Camera | None = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert old_camera is not None
    await async_request_stream(hass, entity_id, "hls")
    async with asyncio.timeout(30):
        while not any(  # noqa: ASYNC110 - polling the simulator's journal
            "CMD=START" in q for q in simulator.journal.queries(Cgi.PUSH)
        ):
            await asyncio.sleep(0.1)
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert old_camera.stream is None
    await asyncio.sleep(1.5)  # the worker would notice the relay's end within this
    assert "Error from stream worker" not in caplog.text
    new_camera: Camera | None = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert new_camera is not None
    assert new_camera is not old_camera
