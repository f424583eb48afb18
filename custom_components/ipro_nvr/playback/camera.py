"""The playback view of a camera: what its playback shows, as MJPEG and stills.

A camera entity per channel, disabled by default (a second camera per channel
is clutter for whoever does not use playback), on the channel's device. It
shows the pictures of the channel's playback session: every picture while it
plays (forwards, backwards, fast), the exact picture after a pause, a step or
a jump. Without ``CameraEntityFeature.STREAM`` the frontend shows the MJPEG
stream (``/api/camera_proxy_stream``), which every browser plays, starts with
the first picture at once and shows a paused or stepped picture exactly; HLS
would add segment latency (seconds) to every control and cannot play
backwards (README "Playback").

Watching does not start a playback (an action or the media player does),
but keeps it from stopping as idle.
"""

from __future__ import annotations

from contextlib import aclosing

from aiohttp import web
from homeassistant.components.camera import Camera, async_get_still_stream

from custom_components.ipro_nvr.coordinator import NvrStatusCoordinator
from custom_components.ipro_nvr.entity import NvrChannelEntity
from custom_components.ipro_nvr.live.placeholder_picture import async_placeholder_picture

from .manager import PlaybackManager


class NvrPlaybackCamera(NvrChannelEntity, Camera):
    """What the playback of one channel shows."""

    _attr_translation_key = "playback"
    _attr_entity_registry_enabled_default = False

    def __init__(
        self, coordinator: NvrStatusCoordinator, channel: int, manager: PlaybackManager
    ) -> None:
        """Initialise for ``channel``."""
        NvrChannelEntity.__init__(self, coordinator, channel, "playback_camera")
        Camera.__init__(self)
        self._manager = manager
        # Stills (the frontend's tiles) refresh this often; MJPEG shows every picture.
        self._attr_frame_interval = 0.5

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The picture the playback shows; a neutral picture before the first one."""
        shown = self._manager.session(self.channel).shown
        if shown is not None:
            jpeg = await self._manager.renderer(self.channel).jpeg(shown)
            if jpeg is not None:
                return jpeg
        return await async_placeholder_picture(self.hass)

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse:
        """Every picture the playback shows, as it is shown (a slow viewer skips some)."""
        session = self._manager.session(self.channel)
        renderer = self._manager.renderer(self.channel)
        first = True

        async with aclosing(session.frames()) as frames:

            async def next_picture() -> bytes | None:
                nonlocal first
                if first and session.shown is None:
                    first = False
                    return await async_placeholder_picture(self.hass)
                first = False
                async for frame in frames:
                    jpeg = await renderer.jpeg(frame)
                    if jpeg is not None:
                        return jpeg
                return None

            return await async_get_still_stream(request, next_picture, "image/jpeg", 0)
