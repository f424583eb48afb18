"""Camera entities in Home Assistant: live options, audio over HLS, MJPEG, availability."""

from __future__ import annotations

import asyncio
from contextlib import suppress
import io

import av
from homeassistant.components.camera import Camera, async_get_image, async_request_stream
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ipro_nvr.api.spec import Cgi
from custom_components.ipro_nvr.api.urls import LiveCodec
from custom_components.ipro_nvr.const import CONF_LIVE_AUDIO, CONF_LIVE_CODEC, DOMAIN
from nvr_simulator.server import RunningSimulator
from tests.integration.hls import capture_hls


def _camera(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> tuple[str, Camera]:
    entity_id = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
    )
    assert entity_id is not None
    camera: Camera | None = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert camera is not None
    return entity_id, camera


async def _set_live_options(
    hass: HomeAssistant, entry: MockConfigEntry, codec: str, *, audio: bool
) -> None:
    """Change the live options through the options flow; the entry reloads."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    defaults = {
        key.schema: key.default()
        for key in result["data_schema"].schema  # type: ignore[union-attr]
        if callable(getattr(key, "default", None))
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, CONF_LIVE_CODEC: codec, CONF_LIVE_AUDIO: audio}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()


async def test_options_choose_codec_and_audio_of_the_relay(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """H.264 without audio by default; the options switch the relay's feeds to H.265 + audio."""
    feed = loaded_entry.runtime_data.relay.feed(1)
    assert (feed.codec, feed.audio) == (LiveCodec.H264, False)
    await _set_live_options(hass, loaded_entry, "h265", audio=True)
    assert loaded_entry.options[CONF_LIVE_CODEC] == "h265"
    assert loaded_entry.options[CONF_LIVE_AUDIO] is True
    feed = loaded_entry.runtime_data.relay.feed(1)
    assert (feed.codec, feed.audio) == (LiveCodec.H265, True)


@pytest.mark.parametrize("audio_codec", ["AAC", "G726"])
async def test_hls_stream_has_audio_when_enabled(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
    audio_codec: str,
) -> None:
    """With audio on, Home Assistant's HLS output carries an AAC track beside the video.

    A camera sending G.726 gets there too: the relay transcodes it to AAC.
    """
    simulator.config.live_audio_codec = audio_codec
    await _set_live_options(hass, loaded_entry, "h264", audio=True)
    assert await async_setup_component(hass, "stream", {})
    entity_id, camera = _camera(hass, loaded_entry, 1)
    path = await async_request_stream(hass, entity_id, "hls")
    data = await capture_hls(hass_client, camera, path, segments=1)  # both tracks in one

    def decode() -> tuple[int, int, str, float]:
        with av.open(io.BytesIO(data), format="mp4") as container:
            assert container.streams.audio, "no audio track in the HLS output"
            name = container.streams.audio[0].codec_context.name
            audio = video = 0
            loudest = 0.0
            with suppress(av.FFmpegError):
                for packet in container.demux():
                    for frame in packet.decode():
                        if isinstance(frame, av.AudioFrame):
                            audio += 1
                            loudest = max(loudest, float(abs(frame.to_ndarray()).max()))
                        else:
                            video += 1
        return video, audio, name, loudest

    video, audio, name, loudest = await asyncio.to_thread(decode)
    assert name == "aac"
    assert video >= 5
    assert audio >= 10
    assert loudest > 0.05  # the simulator's tone, not only the silence before it
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert ["COMP=AUDIO" in q for q in starts] == [False, True]


async def test_mjpeg_stream_shares_the_snapshot_stream(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: RunningSimulator,
    loaded_entry: MockConfigEntry,
) -> None:
    """The MJPEG view sends the recorder's pictures; snapshots meanwhile use the same push."""
    entity_id, _camera_entity = _camera(hass, loaded_entry, 2)
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{entity_id}")
    try:
        assert response.status == 200
        assert response.content_type == "multipart/x-mixed-replace"
        body = bytearray()
        async with asyncio.timeout(20):
            while body.count(b"--frameboundary") < 4:
                body += await response.content.readany()
        # A snapshot while the MJPEG viewer watches: no second recorder stream.
        image = await async_get_image(hass, entity_id)
    finally:
        response.close()
    pictures = [
        part.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
        for part in bytes(body).split(b"--frameboundary")[1:-1]
    ]
    assert len(pictures) >= 3
    for picture in [*pictures, image.content]:
        with av.open(io.BytesIO(picture), format="mjpeg") as container:
            frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (320, 180)
    starts = [q for q in simulator.journal.queries(Cgi.PUSH) if "CMD=START" in q]
    assert len(starts) == 1
    assert "COMP=JPEG" in starts[0]


async def test_camera_unavailable_while_its_channel_is_disconnected(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A camera the recorder cannot reach shows unavailable, and returns with it."""
    entity_id, _camera_entity = _camera(hass, loaded_entry, 1)
    coordinator = loaded_entry.runtime_data.coordinator
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    simulator.simulator.live.disconnect_camera(1)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    # The other cameras are not affected.
    other, _ = _camera(hass, loaded_entry, 2)
    assert hass.states.get(other).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    simulator.simulator.channel_states[1] = 1
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
