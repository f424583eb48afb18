"""Per-camera live codecs, the live pictures' clocks (spec 7.1) as attributes, diagnostics
and a repair, all against the simulator."""

from __future__ import annotations

import asyncio
import datetime as dt

from homeassistant.components.camera import CameraEntityFeature, async_get_image
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.api import LiveCodec
from custom_components.ipro_nvr.const import (
    CONF_CAMERA_LIVE_CODECS,
    CONF_CHANNELS,
    CONF_EVENT_SCAN_INTERVAL,
    CONF_LIVE_CODEC,
    CONF_PER_CAMERA_CODECS,
    CONF_SCAN_INTERVAL,
    DOMAIN,
)
from custom_components.ipro_nvr.diagnostics import async_get_config_entry_diagnostics
from custom_components.ipro_nvr.live.picture_clock import (
    ATTR_CAMERA_CLOCK_OFFSET,
    ATTR_CAMERA_TIME,
    ATTR_FRAME_RATE,
    ATTR_RECORDER_TIME,
)
from nvr_simulator.server import RunningSimulator

CAMERA_AHEAD = dt.timedelta(minutes=10)


def _camera(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{entry.entry_id}_{channel}_camera"
    )
    assert entity_id is not None
    return entity_id


async def test_per_camera_codecs_override_the_recorder_wide_one(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """H.265 for camera 3, JPEG for camera 5; the others keep the recorder-wide H.264."""
    base = {CONF_SCAN_INTERVAL: 60, CONF_EVENT_SCAN_INTERVAL: 15, CONF_LIVE_CODEC: "h264"}
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_PER_CAMERA_CODECS: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "camera_codecs"
    # A camera in two lists is refused.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"h265_channels": ["3"], "jpeg_channels": ["3", "5"]}
    )
    assert result["errors"] == {"base": "camera_in_two_codecs"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"h265_channels": ["3"], "jpeg_channels": ["5"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options[CONF_CAMERA_LIVE_CODECS] == {"3": "h265", "5": "jpeg"}
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload

    relay = loaded_entry.runtime_data.relay
    # Camera 5 has no video feed to ask for: its view is the JPEG stream (MJPEG).
    assert [relay.feed(ch).codec for ch in (1, 3)] == [LiveCodec.H264, LiveCodec.H265]
    features = {
        ch: hass.states.get(_camera(hass, loaded_entry, ch)).attributes["supported_features"]  # type: ignore[union-attr]
        for ch in (1, 3, 5)
    }
    assert features == {1: CameraEntityFeature.STREAM, 3: CameraEntityFeature.STREAM, 5: 0}

    # The step shows the stored choice again; switching it off clears the overrides.
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["data_schema"]({**base})[CONF_PER_CAMERA_CODECS] is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_CHANNELS: ["1", "3", "5"], CONF_PER_CAMERA_CODECS: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_CAMERA_LIVE_CODECS not in loaded_entry.options
    await hass.async_block_till_done(wait_background_tasks=True)


async def _picture_of(hass: HomeAssistant, entry: MockConfigEntry, channel: int) -> None:
    """A snapshot, which starts the camera's JPEG stream (and its picture information)."""
    relay = entry.runtime_data.relay
    await async_get_image(hass, _camera(hass, entry, channel))
    for _ in range(400):
        if relay.picture_infos().get(channel) is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no picture information from camera {channel}")


async def test_picture_clocks_show_and_a_wrong_camera_clock_raises_a_repair(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    simulator.config.camera_clock_offsets[2] = CAMERA_AHEAD
    coordinator = loaded_entry.runtime_data.coordinator
    relay = loaded_entry.runtime_data.relay
    issue_id = f"{loaded_entry.entry_id}_camera_clock_2"
    await _picture_of(hass, loaded_entry, 1)
    await _picture_of(hass, loaded_entry, 2)
    await coordinator.async_refresh()
    await hass.async_block_till_done()

    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    assert issues.async_get_issue(DOMAIN, f"{loaded_entry.entry_id}_camera_clock_1") is None
    state = hass.states.get(_camera(hass, loaded_entry, 2))
    assert state is not None
    assert state.attributes[ATTR_FRAME_RATE] == simulator.config.live_fps
    assert abs(state.attributes[ATTR_CAMERA_CLOCK_OFFSET] - 600) < 30
    assert state.attributes[ATTR_RECORDER_TIME] is not None
    assert state.attributes[ATTR_CAMERA_TIME] is not None

    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_entry)
    pictures = diagnostics["live_pictures"]
    assert set(pictures) >= {"1", "2"}
    assert abs(pictures["2"]["camera_clock_offset_s"] - 600) < 30
    assert abs(pictures["1"]["camera_clock_offset_s"]) < 30
    assert pictures["1"]["recorder_utc_offset_s"] == 9 * 3600

    # The camera's clock is set right: its next pictures clear the repair.
    simulator.config.camera_clock_offsets[2] = dt.timedelta(0)
    async with asyncio.timeout(20):
        while True:
            info = relay.picture_infos().get(2)
            offset = info.camera_clock_offset if info is not None else None
            if offset is not None and abs(offset) < dt.timedelta(seconds=30):
                break
            await async_get_image(hass, _camera(hass, loaded_entry, 2))
            await asyncio.sleep(0.05)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
