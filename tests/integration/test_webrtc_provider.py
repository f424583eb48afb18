"""Every camera is added, with a WebRTC provider registered as go2rtc does under default_config.

With a provider, adding a camera entity awaits more: Home Assistant asks the camera for its
stream source (the relay's URL) and the provider whether it plays it, and registers the
camera with it. A camera whose setup raised there would be missing, and the frame helper
raises rather than logs where it cannot tell which integration called. So: an 8-camera
recorder, all 8 cameras there after setup and after a reload, every one handed to the
provider, and (the autouse guard in conftest) nothing deprecated reported.
"""

from __future__ import annotations

from homeassistant.components.camera import Camera, CameraWebRTCProvider
from homeassistant.components.camera.webrtc import (
    RTCIceCandidateInit,
    WebRTCSendMessage,
    async_register_webrtc_provider,
)
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ipro_nvr.const import DOMAIN
from nvr_simulator import SimulatorConfig

CAMERAS = 8


class _RecordingProvider(CameraWebRTCProvider):
    """A provider that takes every HTTP source and remembers the cameras it was given."""

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.registered: set[str] = set()

    @property
    def domain(self) -> str:
        return "test_webrtc"

    @callback
    def async_is_supported(self, stream_source: str) -> bool:
        self.sources.append(stream_source)
        return stream_source.startswith("http://127.0.0.1:")

    async def async_handle_async_webrtc_offer(
        self, camera: Camera, offer_sdp: str, session_id: str, send_message: WebRTCSendMessage
    ) -> None:
        raise NotImplementedError  # no offer is made here

    async def async_on_webrtc_candidate(
        self, session_id: str, candidate: RTCIceCandidateInit
    ) -> None:
        raise NotImplementedError

    # Called on the newest line only (2026.2 has no such hook); harmless there.
    async def async_register_camera(self, camera: Camera) -> None:
        self.registered.add(camera.entity_id)

    async def async_unregister_camera(self, camera: Camera) -> None:
        self.registered.discard(camera.entity_id)


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """Eight cameras, all connected."""
    sim_config.cameras = CAMERAS
    sim_config.channel_states = dict.fromkeys(range(1, CAMERAS + 1), 1)
    return sim_config


def _cameras(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    entries = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    # The live cameras; the playback cameras are disabled by default.
    return sorted(e.entity_id for e in entries if e.domain == "camera" and not e.disabled_by)


async def test_every_camera_is_added_with_a_webrtc_provider_and_after_a_reload(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Eight cameras on setup and after a reload, each with the provider, none unavailable."""
    assert await async_setup_component(hass, "camera", {})
    provider = _RecordingProvider()
    remove = async_register_webrtc_provider(hass, provider)
    config_entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        for attempt in ("setup", "reload"):
            cameras = _cameras(hass, config_entry)
            assert len(cameras) == CAMERAS, attempt
            for entity_id in cameras:
                state = hass.states.get(entity_id)
                assert state is not None, (attempt, entity_id)
                assert state.state != STATE_UNAVAILABLE, (attempt, entity_id)
            # Home Assistant asked for every camera's source (the relay's URL).
            assert len(provider.sources) >= CAMERAS, attempt
            if hasattr(CameraWebRTCProvider, "async_register_camera"):
                assert provider.registered == set(cameras), attempt
            if attempt == "setup":
                provider.sources.clear()
                assert await hass.config_entries.async_reload(config_entry.entry_id)
                await hass.async_block_till_done()
        assert await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()
    finally:
        remove()
        await hass.async_block_till_done()
    assert config_entry.domain == DOMAIN
