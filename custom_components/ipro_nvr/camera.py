"""One camera entity per selected channel: the target of the camera-control actions.

No picture yet (live video comes with a later feature): the entity exists so
that ``ipro_nvr.ptz_move`` and the other actions have a camera to target.
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
    _attr_supported_features = CameraEntityFeature(0)

    def __init__(self, coordinator: NvrStatusCoordinator, channel: int) -> None:
        """Initialise for ``channel``."""
        # The coordinator entity does not chain to Camera.__init__ (access
        # tokens, stream state): call both.
        CameraControlEntity.__init__(self, coordinator, channel, "camera")
        Camera.__init__(self)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """No still image yet."""
        return None
