"""One camera entity per selected channel: live video, snapshots, control target.

Live video goes through the entry's :class:`StreamRelay`: ``stream_source``
is its loopback MPEG-TS URL, which Home Assistant's stream component turns
into HLS (and go2rtc into WebRTC). Snapshots come from the recorder's JPEG
stream, and so does the MJPEG view: one recorder JPEG stream per camera
serves every MJPEG viewer and the snapshots; a snapshot is the last good
picture while a fresh one is on its way. While the recorder reports the camera
disconnected the entity is unavailable and its stream is stopped: nothing is
asked of the recorder for it until a status poll says it is back. The entity
is also what the ``ipro_nvr.*`` control actions target.

Each channel also has a playback camera (disabled by default), showing what
the channel's recorder playback shows (:mod:`.playback.camera`).
A camera whose live codec (its own option, else the recorder-wide one) is
JPEG offers no stream: its view is the MJPEG of the recorder's JPEG pictures.
The attributes show what the latest live picture said (spec 7.1): the
recorder's and the camera's time, the frame rate and how far the camera's
clock is from Home Assistant's.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from aiohttp import web
from homeassistant.components.camera import (
    Camera,
    CameraEntityFeature,
    async_get_still_stream,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import ChannelState
from .compat import entity_id_changed
from .const import LIVE_CODEC_JPEG
from .control.camera_control import CameraControlEntity
from .coordinator import NvrStatusCoordinator
from .data import IproNvrConfigEntry
from .entity import async_add_channel_entities
from .live.camera_codecs import camera_live_codec
from .live.picture_clock import UNRECORDED_ATTRIBUTES, picture_attributes
from .live.placeholder_picture import async_placeholder_picture
from .playback.camera import NvrPlaybackCamera

# Commands are paced by the client's scheduler, not by Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a camera and a playback camera per selected channel."""
    coordinator = entry.runtime_data.coordinator
    playback = entry.runtime_data.playback
    async_add_channel_entities(
        entry,
        async_add_entities,
        lambda channel: [
            NvrCamera(coordinator, channel),
            NvrPlaybackCamera(coordinator, channel, playback),
        ],
    )


async def async_stop_stream(camera: Camera) -> None:
    """Stop the camera's stream with its outputs (HLS, recorder) and their idle timers.

    ``Stream.stop`` alone drops the outputs but leaves their idle timers armed
    (30 s); removing each output clears its timer, and the last one stops the stream.
    """
    if (stream := camera.stream) is None:
        return
    for output in list(stream.outputs().values()):
        await stream.remove_provider(output)
    await stream.stop()
    camera.stream = None


class NvrCamera(CameraControlEntity, Camera):
    """The camera of one channel; unavailable while the recorder cannot reach it."""

    _attr_name = None  # the device's name, "Camera N"
    _unrecorded_attributes = UNRECORDED_ATTRIBUTES

    def __init__(self, coordinator: NvrStatusCoordinator, channel: int) -> None:
        """Initialise for ``channel``."""
        # The coordinator entity does not chain to Camera.__init__ (access
        # tokens, stream state): call both.
        CameraControlEntity.__init__(self, coordinator, channel, "camera")
        Camera.__init__(self)
        self._relay = coordinator.config_entry.runtime_data.relay
        self.live_codec = camera_live_codec(coordinator.config_entry.options, channel)
        # A JPEG camera has no live video stream: Home Assistant shows its MJPEG.
        self._attr_supported_features = (
            CameraEntityFeature(0)
            if self.live_codec == LIVE_CODEC_JPEG
            else CameraEntityFeature.STREAM
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What the latest live picture said: recorder and camera time, frame rate (spec 7.1)."""
        return picture_attributes(self._relay.picture_infos().get(self.channel))

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Renamed in place (2026.11+): nothing here is keyed on the entity ID."""
        entity_id_changed(super(), old_entity_id)

    async def async_will_remove_from_hass(self) -> None:
        """Stop Home Assistant's stream of this camera: its relay URL dies with the entry.

        On a reload (an options change) the relay restarts on a new port and
        token; a stream left running would retry the old URL and log errors
        until it idles out. The new entity starts a fresh stream on demand.
        """
        await super().async_will_remove_from_hass()
        await async_stop_stream(self)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Stop Home Assistant's stream of a camera the recorder cannot reach.

        Its worker would otherwise keep re-reading the relay, which refuses
        the camera until a status poll says it is back; a viewer opening the
        camera later gets a new stream.
        """
        super()._handle_coordinator_update()
        if self.channel_state is not ChannelState.NORMAL and self.stream is not None:
            stream, self.stream = self.stream, None
            self.hass.async_create_task(stream.stop(), eager_start=True)

    async def stream_source(self) -> str | None:
        """The relay's loopback URL of this camera's live video (None: a JPEG camera)."""
        if self.live_codec == LIVE_CODEC_JPEG:
            return None
        return await self._relay.async_url(self.channel)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The latest picture of the recorder's JPEG stream of this camera.

        Served at once when fresh; else within about a second, the last good
        one while a fresh one comes (never an error because the recorder's
        queue is long); only the very first picture is waited for.
        """
        picture = await self._relay.async_snapshot(self.channel)
        if picture is None:
            # No picture yet (its START still queued behind other cameras') or the
            # camera is disconnected: a neutral frame, never a broken tile.
            return await async_placeholder_picture(self.hass)
        return picture

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse:
        """Serve the recorder's JPEG stream as MJPEG, a picture as soon as it arrives.

        Home Assistant's still-stream helper writes the multipart response;
        it asks for the next picture without waiting (interval 0), so the
        pace is the recorder's. It ends the response when the feed closes.
        """
        async with aclosing(self._relay.jpeg_feed(self.channel).jpeg_frames()) as frames:

            async def next_picture() -> bytes | None:
                return await anext(frames, None)

            return await async_get_still_stream(request, next_picture, "image/jpeg", 0)
