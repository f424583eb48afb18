"""One camera entity per selected channel: live video, snapshots, control target.

Live video goes through the entry's :class:`StreamRelay`: ``stream_source``
is its loopback MPEG-TS URL, which Home Assistant's stream component turns
into HLS (and go2rtc into WebRTC). Snapshots come from the recorder's JPEG
stream. The entity is also what the ``ipro_nvr.*`` control actions target.
"""

from __future__ import annotations

from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .camera_control import CameraControlEntity
from .coordinator import NvrStatusCoordinator
from .data import IproNvrConfigEntry
from .entity import async_add_channel_entities

# Commands are paced by the client's scheduler, not by Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a camera per selected channel."""
    coordinator = entry.runtime_data.coordinator
    async_add_channel_entities(
        entry, async_add_entities, lambda channel: [NvrCamera(coordinator, channel)]
    )


class NvrCamera(CameraControlEntity, Camera):
    """The camera of one channel; unavailable while the recorder cannot reach it."""

    _attr_name = None  # the device's name, "Camera N"
    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(self, coordinator: NvrStatusCoordinator, channel: int) -> None:
        """Initialise for ``channel``."""
        # The coordinator entity does not chain to Camera.__init__ (access
        # tokens, stream state): call both.
        CameraControlEntity.__init__(self, coordinator, channel, "camera")
        Camera.__init__(self)
        self._relay = coordinator.config_entry.runtime_data.relay

    async def stream_source(self) -> str:
        """The relay's loopback URL of this camera's live video."""
        return await self._relay.async_url(self.channel)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The latest picture of the recorder's JPEG stream of this camera."""
        return await self._relay.async_snapshot(self.channel)
